"""MuseGAN's symbolic metrics (Dong et al. 2018) of one multi-track piano-roll.

:func:`pianoroll_metrics` scores a ``[4, steps, 128]`` roll with the tracks of ``ROLES``
(drums, bass, harmony, lead). Exact definitions:

- bars: ``steps_per_beat * beats_per_bar`` steps; a trailing part-bar counts as a bar when
  it spans at least half a bar (a 6 s clip is rarely a whole number of bars).
- ``EB/<track>``: share of bars in which the track plays nothing (every track).
- ``UPC/<track>``: distinct pitch classes per bar, averaged over the bars where the track
  sounds (empty bars are EB's business); pitched tracks only.
- ``QN/<track>``: share of notes lasting at least 1/8 beat. MuseGAN's threshold is 3 steps
  at its 24 steps per beat (a 32nd note); at 12 steps per beat that is >= 2 steps. A note
  is a run of active steps at one pitch (the corpus's rolls leave a one-step gap before a
  re-struck note, :mod:`mmgan.audio.midi`, so repeated notes count one by one).
- ``DP``: share of drum onsets on the 16th-note grid. MuseGAN counts active drum cells with
  0.1 credit one step (1/24 beat) off the grid; a 12-steps-per-beat roll has no positions
  that close, so the grid is strict, and onsets are counted so a long crash counts once.
  In compound meters (12/8) the beat is a dotted quarter of six 16ths, so the grid is
  every 2 steps; in simple meters every 3 steps.
- ``TD/<a>-<b>``: tonal distance (Harte et al. 2006): per beat, each track's chroma
  (duration-weighted, L1-normalised) is mapped to the 6-D tonal centroid (circles of
  fifths, minor and major thirds, radii 1, 1, 0.5); TD is the mean Euclidean distance over
  the beats where both tracks sound, for bass-harmony, bass-lead and harmony-lead.

A metric undefined for a clip (no notes in a track, fewer than two bars, ...) is NaN, never
an error. :mod:`mmgan.eval.symbolic` runs these beside muspy's metrics over a corpus.
"""

from __future__ import annotations

import math

import numpy as np

from mmgan.data.score import ROLES

__all__ = [
    "MUSEGAN_DESCRIPTIONS",
    "PITCHED",
    "TD_PAIRS",
    "check_roll",
    "pianoroll_metrics",
    "tonal_centroid",
]

PITCHED: tuple[str, ...] = ("bass", "harmony", "lead")
TD_PAIRS: tuple[tuple[str, str], ...] = (("bass", "harmony"), ("bass", "lead"), ("harmony", "lead"))
QN_MIN_BEATS = 3 / 24  # MuseGAN: >= 3 steps at 24 steps per beat, a 32nd note
TONNETZ_RADII = (1.0, 1.0, 0.5)  # fifths, minor thirds, major thirds (Harte et al. 2006)

MUSEGAN_DESCRIPTIONS: dict[str, str] = {
    **{f"EB/{r}": f"MuseGAN: share of empty bars in the {r} track" for r in ROLES},
    **{f"UPC/{r}": f"MuseGAN: pitch classes per sounding bar, {r}" for r in PITCHED},
    **{f"QN/{r}": f"MuseGAN: share of {r} notes lasting >= 1/8 beat" for r in PITCHED},
    "DP": "MuseGAN: share of drum onsets on the 16th-note grid",
    **{f"TD/{a}-{b}": f"MuseGAN: tonal distance {a} vs {b}, per beat" for a, b in TD_PAIRS},
}


def tonal_centroid(chroma: np.ndarray) -> np.ndarray:
    """``[..., 12]`` chroma (any non-negative weights) -> ``[..., 6]`` tonal centroid.

    Harte et al. (2006): the L1-normalised chroma projected on the circles of fifths, minor
    thirds and major thirds. Rows of an all-zero chroma come out NaN.
    """
    chroma = np.asarray(chroma, dtype=np.float64)
    if chroma.shape[-1:] != (12,) or (chroma < 0).any():
        raise ValueError(f"chroma must be non-negative with last axis 12, got {chroma.shape}")
    k = np.pi * np.arange(12)
    circles = zip((7 / 6, 3 / 2, 2 / 3), TONNETZ_RADII, strict=True)  # fifths, m3, M3
    phi = np.stack([r * f(k * step) for step, r in circles for f in (np.sin, np.cos)])  # [6, 12]
    total = chroma.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (chroma / total) @ phi.T


def check_roll(roll: np.ndarray) -> np.ndarray:
    """Check a piano-roll ``[4, steps, 128]`` (bool, or integer velocities >= 0, tracks in
    ``ROLES`` order) and return its active cells as bool ``[4, steps, 128]``.

    Raises:
        ValueError: a wrong shape, a float roll (binarise it first) or negative velocities.
    """
    roll = np.asarray(roll)
    if roll.ndim != 3 or roll.shape[0] != len(ROLES) or roll.shape[2] != 128:
        raise ValueError(
            f"piano-roll must be [{len(ROLES)} tracks {ROLES}, steps, 128 pitches], "
            f"got shape {roll.shape}"
        )
    if roll.dtype == bool:
        return roll
    if not np.issubdtype(roll.dtype, np.integer):
        raise ValueError(
            f"piano-roll must be bool or integer velocities, got {roll.dtype}; "
            "binarise model outputs first, e.g. roll > 0.5"
        )
    if roll.size and roll.min() < 0:
        raise ValueError("piano-roll velocities must be >= 0")
    return roll > 0


def _bars(active: np.ndarray, steps_per_bar: int) -> np.ndarray:
    """``[tracks, steps, 128]`` -> ``[tracks, bars, steps_per_bar, 128]`` (see module doc)."""
    n_full, rest = divmod(active.shape[1], steps_per_bar)
    n_bars = n_full + (2 * rest >= steps_per_bar)
    pad = n_bars * steps_per_bar - active.shape[1]
    active = active[:, : n_bars * steps_per_bar]
    if pad > 0:
        active = np.pad(active, ((0, 0), (0, pad), (0, 0)))
    return active.reshape(active.shape[0], n_bars, steps_per_bar, 128)


def _runs(track: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[steps, 128]`` bool -> (onset steps, lengths) of every run of active steps."""
    padded = np.pad(track.T.astype(np.int8), ((0, 0), (1, 1)))  # [128, steps + 2]
    diff = np.diff(padded, axis=1)
    _, on = np.nonzero(diff > 0)
    _, off = np.nonzero(diff < 0)
    return on, off - on


def _chroma(active: np.ndarray) -> np.ndarray:
    """``[..., 128]`` -> ``[..., 12]`` counts of active cells per pitch class."""
    padded = np.concatenate([active, np.zeros(active.shape[:-1] + (4,), bool)], axis=-1)
    return padded.reshape(active.shape[:-1] + (11, 12)).sum(axis=-2)


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def pianoroll_metrics(
    roll: np.ndarray,
    *,
    steps_per_beat: int = 12,
    beats_per_bar: int = 4,
    sixteenths_per_beat: int = 4,
) -> dict[str, float]:
    """MuseGAN's EB, UPC, QN, DP and TD of one multi-track roll (definitions: module doc).

    Args:
        roll: ``[4, steps, 128]`` uint8 velocities or bool, tracks in ``ROLES`` order.
        steps_per_beat: time steps per beat (the corpus uses 12).
        beats_per_bar: beats per bar (:func:`mmgan.eval.symbolic.parse_meter` maps a meter
            to it).
        sixteenths_per_beat: 4 in simple meters, 6 when the beat is a dotted quarter.
    """
    for name, value in (("steps_per_beat", steps_per_beat), ("beats_per_bar", beats_per_bar)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if sixteenths_per_beat < 1:
        raise ValueError(f"sixteenths_per_beat must be >= 1, got {sixteenths_per_beat}")
    active = check_roll(roll)
    bars = _bars(active, steps_per_beat * beats_per_bar)  # [4, bars, steps_per_bar, 128]
    sounding = bars.any(axis=(2, 3))  # [4, bars]
    out: dict[str, float] = {}
    for i, role in enumerate(ROLES):
        out[f"EB/{role}"] = float(1 - sounding[i].mean()) if bars.shape[1] else math.nan
    for role in PITCHED:
        i = ROLES.index(role)
        upc = (_chroma(bars[i].any(axis=1)) > 0).sum(axis=-1)  # [bars]
        out[f"UPC/{role}"] = _nanmean(upc[sounding[i]])
        _, lengths = _runs(active[i])
        min_steps = math.ceil(QN_MIN_BEATS * steps_per_beat - 1e-9)
        out[f"QN/{role}"] = float(np.mean(lengths >= min_steps)) if lengths.size else math.nan
    onsets, _ = _runs(active[ROLES.index("drums")])
    on_grid = (onsets * sixteenths_per_beat) % steps_per_beat == 0
    out["DP"] = float(on_grid.mean()) if onsets.size else math.nan
    n_beats = math.ceil(active.shape[1] / steps_per_beat)
    beats = np.pad(active, ((0, 0), (0, n_beats * steps_per_beat - active.shape[1]), (0, 0)))
    beats = beats.reshape(len(ROLES), n_beats, steps_per_beat, 128).sum(axis=2)
    centroids = tonal_centroid(_chroma(beats))  # [4, beats, 6], NaN where silent
    for a, b in TD_PAIRS:
        dist = np.linalg.norm(centroids[ROLES.index(a)] - centroids[ROLES.index(b)], axis=-1)
        out[f"TD/{a}-{b}"] = _nanmean(dist)
    return out
