"""Music theory the composers share: keys, modes, chords, voicings, swing, humanising.

Pitches are MIDI numbers (60 = middle C). Chords are built from scale degrees of
a key or from Roman numerals (``"ii7"``, ``"V7b9"``, ``"Imaj9"``, ``"bVII"``).
"""

from __future__ import annotations

import re

import numpy as np

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_ALIASES = {"Db": 1, "D#": 3, "Gb": 6, "G#": 8, "A#": 10, "Cb": 11, "E#": 5, "Fb": 4, "B#": 0}

MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor / aeolian
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
}
PENTATONIC = {"major": (0, 2, 4, 7, 9), "minor": (0, 3, 5, 7, 10)}
BLUES = (0, 3, 5, 6, 7, 10)

# Modes whose third is minor count as "minor" in tags and key estimation.
MINOR_MODES = {"minor", "harmonic_minor", "dorian", "phrygian", "locrian"}

CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "5": (0, 7),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "9": (0, 4, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "m9": (0, 3, 7, 10, 14),
    "7b9": (0, 4, 7, 10, 13),
    "13": (0, 4, 7, 10, 14, 21),
    "m11": (0, 3, 7, 10, 14, 17),
    "add9": (0, 4, 7, 14),
    "madd9": (0, 3, 7, 14),
}

_ROMAN = {"i": 0, "ii": 1, "iii": 2, "iv": 3, "v": 4, "vi": 5, "vii": 6}
_ROMAN_RE = re.compile(r"^(b|#)?(vii|iii|ii|iv|vi|v|i|VII|III|II|IV|VI|V|I)(.*)$")


def pitch_class(name: str) -> int:
    """``"F#"`` -> 6. Raises ``ValueError`` for unknown names."""
    if name in NOTE_NAMES:
        return NOTE_NAMES.index(name)
    if name in _ALIASES:
        return _ALIASES[name]
    raise ValueError(f"unknown note name {name!r}; use one of {', '.join(NOTE_NAMES)}")


def key_name(tonic_pc: int) -> str:
    return NOTE_NAMES[tonic_pc % 12]


def scale_pitches(tonic: str | int, mode: str, low: int, high: int) -> list[int]:
    """All MIDI pitches of the scale between ``low`` and ``high`` inclusive."""
    tpc = pitch_class(tonic) if isinstance(tonic, str) else tonic % 12
    steps = MODES[mode] if mode in MODES else PENTATONIC[mode.split("_")[0]]
    pcs = {(tpc + s) % 12 for s in steps}
    return [p for p in range(low, high + 1) if p % 12 in pcs]


def degree_pitch(tonic: str | int, mode: str, degree: int, octave: int = 4) -> int:
    """Pitch of scale ``degree`` (0-based, may exceed 6 or be negative) near ``octave``."""
    tpc = pitch_class(tonic) if isinstance(tonic, str) else tonic % 12
    steps = MODES[mode]
    o, d = divmod(degree, 7)
    return 12 * (octave + 1) + tpc + steps[d] + 12 * o


def chord(root: int, quality: str = "") -> list[int]:
    """Pitches of a chord on MIDI ``root``: ``chord(62, "m7")`` -> D F A C."""
    if quality not in CHORD_QUALITIES:
        raise ValueError(f"unknown chord quality {quality!r}")
    return [root + i for i in CHORD_QUALITIES[quality]]


def diatonic_chord(tonic: str | int, mode: str, degree: int, size: int = 3, octave: int = 3):
    """Stacked thirds on scale ``degree``: size 3 triad, 4 seventh, 5 ninth."""
    return [degree_pitch(tonic, mode, degree + 2 * k, octave) for k in range(size)]


def roman(numeral: str, tonic: str | int, octave: int = 3) -> list[int]:
    """Chord pitches for a Roman numeral relative to a major-scale tonic.

    Upper case = major triad, lower case = minor; ``b``/``#`` alter the root;
    a suffix picks a quality from ``CHORD_QUALITIES`` (``"V7"``, ``"ii7"``
    -> m7, ``"Imaj7"``, ``"viio"`` -> dim, ``"iiø7"`` -> m7b5).
    """
    m = _ROMAN_RE.match(numeral)
    if not m:
        raise ValueError(f"cannot parse Roman numeral {numeral!r}")
    acc, num, suffix = m.groups()
    tpc = pitch_class(tonic) if isinstance(tonic, str) else tonic % 12
    root = 12 * (octave + 1) + tpc + MODES["major"][_ROMAN[num.lower()]]
    root += {"b": -1, "#": 1, None: 0}[acc]
    minor = num.islower()
    suffix = suffix.replace("ø", "m7b5").replace("o7", "dim7")
    if suffix == "o":
        quality = "dim"
    elif suffix.startswith("m7b5") or suffix.startswith("dim"):
        quality = suffix
    elif minor and suffix in ("", "7", "9", "11", "6"):
        quality = {"": "m", "7": "m7", "9": "m9", "11": "m11", "6": "m6"}[suffix]
    else:
        quality = suffix
    return chord(root, quality)


def voice_lead(previous: list[int] | None, target: list[int], low: int = 48, high: int = 76):
    """Re-voice ``target``'s pitch classes to move as little as possible from ``previous``."""
    pcs = [p % 12 for p in target]
    if not previous:
        center = (low + high) // 2
        return sorted({_nearest(pc, center, low, high) for pc in pcs})
    anchors = sorted(previous)
    out = []
    for i, pc in enumerate(pcs):
        ref = anchors[min(i, len(anchors) - 1)]
        out.append(_nearest(pc, ref, low, high))
    return sorted(set(out))


def _nearest(pc: int, ref: int, low: int, high: int) -> int:
    cands = [p for p in range(low, high + 1) if p % 12 == pc]
    return min(cands, key=lambda p: abs(p - ref)) if cands else low + (pc - low) % 12


def swing(beat_pos: float, amount: float, grid: float = 0.5) -> float:
    """Delay off-beat subdivisions: amount 0 = straight, 1/3 ≈ triplet swing (2:1)."""
    k, frac = divmod(beat_pos, grid)
    if abs(frac) < 1e-6 and int(k) % 2 == 1:
        return beat_pos + amount * grid
    return beat_pos


def humanize(
    rng: np.random.Generator, t: float, vel: float, timing: float = 0.01, dyn: float = 0.06
):
    """Small random timing (beats) and velocity variation."""
    return t + float(rng.normal(0, timing)), float(np.clip(vel + rng.normal(0, dyn), 0.05, 1.0))


def tempo_class(bpm: float) -> str:
    """Tag for a tempo: slow / moderate / fast / very fast."""
    if bpm < 85:
        return "slow"
    if bpm < 115:
        return "moderate"
    if bpm < 150:
        return "fast"
    return "very fast"


def mode_family(mode: str) -> str:
    """``"minor"`` or ``"major"`` — the mode tag and the key estimator's vocabulary."""
    return "minor" if mode in MINOR_MODES else "major"
