"""Loading exported weights into a module, with one clear error when they do not fit.

Every mmgan model folder is ``config.json`` + ``model.safetensors`` (see ARCHITECTURE.md);
weights may be stored float16 and are loaded as float32.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mmgan.utils import atomic_path, atomic_write_text

__all__ = [
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "CheckpointError",
    "load_checked",
    "read_model_folder",
    "save_model_folder",
]


class CheckpointError(ValueError):
    """A model folder is missing, foreign, or does not fit the model it describes."""


def load_checked(module: nn.Module, state: dict[str, torch.Tensor], where: str) -> None:
    """``module.load_state_dict(state)`` with floating tensors cast to float32.

    Raises:
        CheckpointError: one message listing missing, unexpected and misshapen keys (the
            first five of each), naming ``where`` the state came from and the module class.
    """
    own = module.state_dict()
    missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    shapes = [
        f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and state[k].shape != own[k].shape
    ]
    if missing or extra or shapes:
        parts = [
            f"missing {missing[:5]}" if missing else "",
            f"unexpected {extra[:5]}" if extra else "",
            f"shape mismatch {shapes[:5]}" if shapes else "",
        ]
        raise CheckpointError(
            f"{where} does not fit this {type(module).__name__} "
            f"({'; '.join(p for p in parts if p)}); was it saved by another model or with "
            "other constructor arguments?"
        )
    module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})


CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


def run_model_dir(path: str | Path) -> Path:
    """``RUN/model`` when ``path`` is a training run folder (its exported model), else ``path``."""
    path = Path(path).expanduser()
    return path / "model" if (path / "model" / CONFIG_NAME).is_file() else path


def save_model_folder(
    directory: str | Path,
    module: nn.Module,
    config: dict[str, Any],
    *,
    dtype: torch.dtype = torch.float32,
    keep_float32: tuple[str, ...] = (),
) -> Path:
    """Write ``config.json`` (``config`` + mmgan version + dtype) and ``model.safetensors``.

    Floating tensors are cast to ``dtype`` except keys starting with a ``keep_float32``
    prefix (e.g. feature statistics). Both files are written atomically.
    """
    from safetensors.torch import save_file

    import mmgan

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {}
    for key, value in module.state_dict().items():
        cast = value.is_floating_point() and not (keep_float32 and key.startswith(keep_float32))
        state[key] = (value.to(dtype) if cast else value).detach().cpu().contiguous()
    with atomic_path(directory / WEIGHTS_NAME) as tmp:
        save_file(state, str(tmp), metadata={"format": "pt", "mmgan": type(module).__name__})
    full = {
        **config,
        "mmgan_version": mmgan.__version__,
        "dtype": str(dtype).removeprefix("torch."),
    }
    atomic_write_text(directory / CONFIG_NAME, json.dumps(full, indent=2) + "\n")
    return directory


def read_model_folder(
    directory: str | Path, *, kind: str, hint: str
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``(config, state)`` of a folder written by :func:`save_model_folder`.

    ``kind`` is the expected ``model_type`` (or ``kind``) in ``config.json``; ``hint`` says
    how to make such a folder and ends each error.

    Raises:
        CheckpointError: a missing file, invalid JSON, another kind of model, or an
            unreadable safetensors file — each message names the file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    cfg_file, weights = directory / CONFIG_NAME, directory / WEIGHTS_NAME
    if not cfg_file.is_file() or not weights.is_file():
        raise CheckpointError(
            f"{directory} is not a {kind} model folder: it needs {CONFIG_NAME} and "
            f"{WEIGHTS_NAME} ({hint})"
        )
    try:
        config = json.loads(cfg_file.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{cfg_file}: not valid JSON ({err})") from err
    found = config.get("model_type", config.get("kind")) if isinstance(config, dict) else None
    if found != kind:
        raise CheckpointError(
            f"{cfg_file}: model type is {found!r}, expected {kind!r}; this folder holds "
            f"another kind of model ({hint})"
        )
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{weights}: unreadable safetensors file ({err})") from err
    return config, state


def load_model_folder(cls, directory: str | Path, *, kind: str, hint: str):
    """``(model in eval mode, config)``: :func:`read_model_folder`, then ``cls`` built from
    the config keys its ``__init__`` takes, then :func:`load_checked` weights.

    Raises:
        CheckpointError: what :func:`read_model_folder` raises, a config the class cannot be
            built from, or weights of other shapes.
    """
    import inspect

    directory = Path(directory)
    config, state = read_model_folder(directory, kind=kind, hint=hint)
    names = tuple(inspect.signature(cls.__init__).parameters)[1:]
    try:
        model = cls(**{k: config[k] for k in names if k in config})
    except (TypeError, ValueError) as err:
        raise CheckpointError(
            f"{directory / CONFIG_NAME}: cannot build a {kind} model from it ({err})"
        ) from err
    load_checked(model, state, str(directory / WEIGHTS_NAME))
    return model.eval(), config
