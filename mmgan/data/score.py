"""The symbolic form of a clip: a tempo-stamped score of parts made of notes.

Composers write a :class:`Score`; :mod:`mmgan.audio.synth.render` turns it into
audio, :mod:`mmgan.audio.midi` into a multi-track MIDI file and a piano-roll.
Times are in *beats* (quarter notes) from the start of the clip, so a score can
be re-rendered at any tempo.

Every part folds into one of four piano-roll tracks (``ROLES``), as in MuseGAN:
drums, bass, harmony (chords, pads, comping, inner voices) and lead (melody,
solo, top line). Drum parts use General MIDI percussion keys as pitches
(36 kick, 38 snare, 42 closed hat, ...; see ``GM_DRUMS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES: tuple[str, ...] = ("drums", "bass", "harmony", "lead")

# General MIDI percussion keys used by the built-in kits.
GM_DRUMS: dict[str, int] = {
    "kick": 36,
    "rim": 37,
    "snare": 38,
    "clap": 39,
    "snare2": 40,
    "tom_low": 45,
    "hat_closed": 42,
    "hat_pedal": 44,
    "hat_open": 46,
    "tom_mid": 47,
    "crash": 49,
    "tom_high": 50,
    "ride": 51,
    "china": 52,
    "ride_bell": 53,
    "tambourine": 54,
    "splash": 55,
    "cowbell": 56,
    "shaker": 70,
    "timpani": 47,  # orchestral parts use pitched timpani instead (see synth/orchestral)
}

# (effect name, keyword arguments) — names are keys of mmgan.audio.synth.effects.EFFECTS
EffectSpec = tuple[str, dict[str, Any]]


@dataclass
class Note:
    """One note. ``start`` and ``duration`` in beats; ``velocity`` in 0..1."""

    start: float
    duration: float
    pitch: int
    velocity: float = 0.8

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise ValueError(f"note duration must be > 0 beats, got {self.duration}")
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"MIDI pitch must be in 0..127, got {self.pitch}")
        self.velocity = float(min(max(self.velocity, 0.0), 1.0))


@dataclass
class Part:
    """A line played by one instrument.

    Args:
        name: human name ("walking bass", "harpsichord right hand").
        role: which piano-roll track it folds into (one of ``ROLES``).
        instrument: a key of the synth instrument registry
            (``mmgan.audio.synth.INSTRUMENTS``), e.g. ``"harpsichord"``, ``"kit.909"``.
        notes: the notes, times in beats.
        gain_db: level of this part in the mix.
        effects: pedalboard effect chain applied to this part, in order.
        params: extra keyword arguments for the instrument (brightness, cutoff, ...).
    """

    name: str
    role: str
    instrument: str
    notes: list[Note] = field(default_factory=list)
    gain_db: float = 0.0
    effects: list[EffectSpec] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"part role must be one of {ROLES}, got {self.role!r}")

    def add(self, start: float, duration: float, pitch: int, velocity: float = 0.8) -> None:
        self.notes.append(Note(start, duration, int(pitch), velocity))


@dataclass
class Score:
    """A whole clip: tempo, meter, key and parts.

    Args:
        bpm: tempo in quarter-note beats per minute.
        beats_per_bar: 4 for 4/4, 3 for 3/4, 6 for 6/8 counted in eighths, ...
        key: tonic name, e.g. ``"D"``, ``"F#"``, ``"Bb"``.
        mode: ``"major"``, ``"minor"``, ``"dorian"``, ...
        length_beats: how long the music runs (the render may crop it).
        master: effect chain on the mix bus (before loudness normalisation).
        meter: time signature as written, e.g. ``"12/8"`` for a jig counted in dotted
            quarters; ``None`` means ``"<beats_per_bar>/4"``.
    """

    bpm: float
    beats_per_bar: int
    key: str
    mode: str
    length_beats: float
    parts: list[Part] = field(default_factory=list)
    master: list[EffectSpec] = field(default_factory=list)
    meter: str | None = None

    @property
    def time_signature(self) -> tuple[int, int]:
        """(numerator, denominator) of the written meter."""
        if self.meter is None:
            return self.beats_per_bar, 4
        num, den = self.meter.split("/")
        return int(num), int(den)

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.bpm

    @property
    def duration_seconds(self) -> float:
        return self.length_beats * self.seconds_per_beat

    def part(self, name: str, role: str, instrument: str, **kwargs: Any) -> Part:
        """Create, attach and return a new part."""
        p = Part(name=name, role=role, instrument=instrument, **kwargs)
        self.parts.append(p)
        return p

    def notes_in_role(self, role: str) -> list[Note]:
        return [n for p in self.parts if p.role == role for n in p.notes]
