"""Effect chains through pedalboard (reverb, distortion, compression, chorus, delay, filters).

A chain is a list of ``(name, kwargs)`` pairs, e.g.
``[("distortion", {"drive_db": 25}), ("lowpass", {"cutoff_frequency_hz": 5000})]``;
the kwargs are pedalboard's own parameter names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pedalboard

EFFECTS: dict[str, type] = {
    "reverb": pedalboard.Reverb,
    "distortion": pedalboard.Distortion,
    "compressor": pedalboard.Compressor,
    "chorus": pedalboard.Chorus,
    "delay": pedalboard.Delay,
    "phaser": pedalboard.Phaser,
    "lowpass": pedalboard.LowpassFilter,
    "highpass": pedalboard.HighpassFilter,
    "ladder": pedalboard.LadderFilter,
    "lowshelf": pedalboard.LowShelfFilter,
    "highshelf": pedalboard.HighShelfFilter,
    "peak": pedalboard.PeakFilter,
    "gain": pedalboard.Gain,
    "limiter": pedalboard.Limiter,
    "bitcrush": pedalboard.Bitcrush,
    "clipping": pedalboard.Clipping,
    "noisegate": pedalboard.NoiseGate,
}


def build_chain(chain: list[tuple[str, dict[str, Any]]]) -> pedalboard.Pedalboard:
    plugins = []
    for name, kwargs in chain:
        if name not in EFFECTS:
            raise ValueError(f"unknown effect {name!r}; available: {', '.join(sorted(EFFECTS))}")
        try:
            plugins.append(EFFECTS[name](**kwargs))
        except TypeError as err:
            raise ValueError(f"bad parameters for effect {name!r}: {err}") from err
    return pedalboard.Pedalboard(plugins)


def apply_chain(x: np.ndarray, chain: list[tuple[str, dict[str, Any]]], sr: int) -> np.ndarray:
    """Run mono ``x`` through the chain; returns an array of the same length."""
    if not chain:
        return x
    board = build_chain(chain)
    y = board(np.asarray(x, dtype=np.float32)[None, :], sr, reset=True)[0]
    return y.astype(np.float64)
