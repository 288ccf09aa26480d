"""Resumable training state: one atomic ``torch.save`` file, loaded with ``weights_only=True``.

The training state (model and optimiser state dicts, step, config) is separate from the
exported model (``StyleModel.save_pretrained``: config.json + safetensors), so a user
never needs the optimiser to run a model, and a killed run never leaves a half-written
file: the state goes to a temporary file beside the target, then ``os.replace``.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from mmgan.utils import atomic_path, atomic_write_text

__all__ = ["save_state", "load_state", "stop_on_signals", "trim_metrics", "STATE_NAME"]

STATE_NAME = "state.pt"


def save_state(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (tensors, numbers, strings, lists, dicts only) atomically to ``path``."""
    path = Path(path)
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)
    return path


def load_state(path: str | Path) -> dict[str, Any]:
    """Read a state written by :func:`save_state` (no pickled code is executed).

    Raises:
        FileNotFoundError: no checkpoint at ``path`` (say what to do instead).
        ValueError: the file is not a readable training state.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no training checkpoint at {path}; start without --resume to train from scratch"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError) as err:  # torch wraps unpickling errors
        raise ValueError(f"{path}: not a readable training checkpoint ({err})") from err
    if not isinstance(state, dict) or "step" not in state:
        raise ValueError(f"{path}: not a training checkpoint written by mmgan (no 'step')")
    return state


def trim_metrics(path: str | Path, step: int) -> None:
    """Drop the lines of a ``metrics.jsonl`` logged after ``step``: a resumed run logs them
    again, so the file reads as if the run had never stopped."""
    path = Path(path)
    if path.is_file():
        lines = path.read_text().splitlines()
        keep = [ln for ln in lines if json.loads(ln)["step"] <= step]
        atomic_write_text(path, "".join(f"{ln}\n" for ln in keep))


@contextlib.contextmanager
def stop_on_signals(callback: Callable[[], None]) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM call ``callback`` (a training loop then
    checkpoints and stops) instead of killing the process; the previous handlers come back
    after. Outside the main thread (signals cannot be set there) it does nothing."""
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(sig, lambda signum, frame: callback())
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
