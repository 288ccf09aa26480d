"""Score -> mono audio: instruments, per-part effects, mix bus, loudness normalisation."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from mmgan.data.score import Part, Score

from .core import db_to_gain, fade
from .effects import apply_chain
from .registry import get_instrument

# The corpus is mixed to this integrated loudness, then kept below this true-ish peak.
TARGET_LUFS = -16.0
PEAK_CEILING = 0.89  # -1 dBFS


def _notes_in_seconds(part: Part, spb: float, limit_s: float):
    """Notes as ``(start_s, dur_s, pitch, velocity)`` inside ``[0, limit_s)``.

    A note nudged slightly before 0 by humanising starts at 0 instead of vanishing;
    a note that runs past the end is shortened to it (its release tail still rings).
    """
    out = []
    for n in sorted(part.notes, key=lambda n: n.start):
        start = max(0.0, n.start * spb)
        if start >= limit_s or (n.start + n.duration) * spb <= 0:
            continue
        out.append((start, min(n.duration * spb, limit_s - start), n.pitch, n.velocity))
    return out


def render_part(
    part: Part, spb: float, n: int, sr: int, rng: np.random.Generator, soundfont=None
) -> np.ndarray:
    """Render one part (dry, then its own effect chain) into a buffer of ``n`` samples."""
    spec = get_instrument(part.instrument)
    notes = _notes_in_seconds(part, spb, n / sr)
    if soundfont is not None:
        buf = soundfont.render_notes(notes, n, program=spec.program, is_drum=spec.is_drum)
    elif spec.line:
        buf = np.asarray(spec.fn(notes, n, sr, rng, **part.params), dtype=np.float64)
        if buf.shape != (n,):
            raise ValueError(
                f"line instrument {spec.name!r} returned shape {buf.shape}, want ({n},)"
            )
    else:
        buf = np.zeros(n)
        for start_s, dur_s, pitch, vel in notes:
            voice = np.asarray(spec.fn(pitch, dur_s, vel, sr, rng, **part.params), dtype=np.float64)
            i = int(round(start_s * sr))
            j = min(n, i + len(voice))
            if j > i:
                buf[i:j] += voice[: j - i]
    if not np.all(np.isfinite(buf)):
        raise FloatingPointError(f"instrument {spec.name!r} produced NaN/inf in part {part.name!r}")
    buf = apply_chain(buf, part.effects, sr)
    return buf * db_to_gain(part.gain_db)


@lru_cache(maxsize=2)
def _soundfont(path: str, sr: int):
    """One loaded SoundFont per (file, rate) and process: loading FluidR3 takes ~0.3 s."""
    from .soundfont import SoundFontRenderer

    return SoundFontRenderer(path, sr)


def render_score(
    score: Score,
    sr: int = 22050,
    seconds: float | None = None,
    rng: np.random.Generator | None = None,
    soundfont: str | Path | None = None,
    target_lufs: float | None = TARGET_LUFS,
) -> np.ndarray:
    """Render ``score`` to a mono float32 array of ``seconds`` (default: the score's length).

    With ``soundfont`` (a .sf2 path) the notes are played by that General MIDI
    SoundFont instead of the built-in synths; effects and mixing stay the same.
    Loudness is normalised to ``target_lufs`` (ITU-R BS.1770 via pyloudnorm) and
    the peak is kept at or below -1 dBFS.
    """
    from mmgan.audio.io import loudness_normalize

    rng = rng if rng is not None else np.random.default_rng(0)
    seconds = score.duration_seconds if seconds is None else seconds
    n = int(round(seconds * sr))
    sf = None if soundfont is None else _soundfont(str(soundfont), sr)
    mix = np.zeros(n)
    for part in score.parts:
        mix += render_part(part, score.seconds_per_beat, n, sr, rng, soundfont=sf)
    mix = apply_chain(mix, score.master, sr)
    mix = fade(mix, sr, fade_in=0.003, fade_out=0.05)
    if target_lufs is not None:
        mix = loudness_normalize(mix, sr, target_lufs, peak_ceiling=PEAK_CEILING)
    return mix.astype(np.float32)
