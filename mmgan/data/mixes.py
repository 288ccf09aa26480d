"""Real blends of two genres: audio mixes of two corpus clips of different genres.

No corpus clip is both jazz and metal; a mix of a jazz clip and a metal clip is the
plainest real audio that is. The judge learns from such mixes that a blend is heard as
both genres (:mod:`mmgan.training.judge`, ``mix_p``), and the GAN learns from them what a
style between two genres sounds like (:mod:`mmgan.training.gan_trainer`, ``mix_p``).

Example::

    partner = mix_partners(genre, np.random.default_rng(0))  # a clip of another genre each
    audio = mix_audio(jazz_clip, metal_clip, 0.5)            # equal parts, same level
"""

from __future__ import annotations

import numpy as np

from mmgan.audio.io import AudioError

__all__ = ["check_mix_settings", "check_mix_weight", "mix_audio", "mix_partners"]


def check_mix_weight(w: float, a: object = "a", b: object = "b") -> float:
    """``w`` as a float if ``0 < w < 1``; else a ValueError naming the two clips."""
    if not 0.0 < float(w) < 1.0:
        raise ValueError(f"mix weight must be in (0, 1), got {w} for {a} + {b}")
    return float(w)


def check_mix_settings(mix_p: float, mix_weight) -> tuple[float, float]:
    """A trainer's ``mix_p`` (chance a row is a mix, in [0, 1]) and ``mix_weight``
    (``[lo, hi]``, ``0 < lo <= hi < 1``): the weight range, or a ValueError naming both."""
    weights = list(mix_weight) if isinstance(mix_weight, list | tuple) else [mix_weight]
    if not 0.0 <= float(mix_p) <= 1.0:
        raise ValueError(f"mix_p must be in [0, 1], got {mix_p}")
    if len(weights) != 2 or not 0.0 < float(weights[0]) <= float(weights[1]) < 1.0:
        raise ValueError(f"mix_weight must be [lo, hi] with 0 < lo <= hi < 1, got {mix_weight}")
    return float(weights[0]), float(weights[1])


def mix_partners(genre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each clip, a random clip of another known genre (``-1`` where the clip's own
    genre is unknown, ``< 0``, or no other genre exists)."""
    genre = np.asarray(genre)
    out = np.full(len(genre), -1, dtype=np.int64)
    for i, g in enumerate(genre):
        others = np.flatnonzero((genre >= 0) & (genre != g))
        if g >= 0 and len(others):
            out[i] = others[rng.integers(len(others))]
    return out


def mix_audio(a: np.ndarray, b: np.ndarray, w: float, *, names=("a", "b")) -> np.ndarray:
    """``w * a + (1 - w) * b`` of two mono clips each scaled to the same RMS first, over the
    shorter one's length, at the mean of the two clips' RMS: float32 ``[min(len)]``.

    Raises:
        ValueError: ``w`` outside (0, 1).
        AudioError: a clip that is silent (it has no level to match), named by ``names``.
    """
    w = check_mix_weight(w, *names)
    n = min(len(a), len(b))
    x, y = np.asarray(a[:n], np.float64), np.asarray(b[:n], np.float64)
    rms = [float(np.sqrt(np.mean(z**2))) if n else 0.0 for z in (x, y)]
    for name, level in zip(names, rms, strict=True):
        if level <= 1e-8:
            raise AudioError(f"{name} is silent (RMS {level:.1e}); cannot mix it at a level")
    mix = w * x / rms[0] + (1.0 - w) * y / rms[1]
    return (mix * (0.5 * (rms[0] + rms[1])) / np.sqrt(np.mean(mix**2))).astype(np.float32)
