"""The instrument registry: name -> how to render notes, and its General MIDI program.

Two kinds of instrument:

* a **voice** renders one note: ``fn(pitch, duration, velocity, sr, rng, **params)``
  returns a 1-D array (the note including its release tail; any length);
* a **line** renders a whole monophonic part at once (glides, filter sweeps that
  span notes): ``fn(notes, n, sr, rng, **params)`` where ``notes`` is a list of
  ``(start_s, duration_s, pitch, velocity)`` and the result has length ``n``.

Drum kits are voices whose ``pitch`` is a General MIDI percussion key.

Register with the decorator::

    @instrument("harpsichord", program=6, label="harpsichord")
    def harpsichord(pitch, duration, velocity, sr, rng, **params): ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class InstrumentSpec:
    name: str
    fn: Callable
    program: int  # General MIDI program (0-127) used for MIDI export / SoundFont rendering
    label: str  # human name used in tags and captions ("upright bass")
    is_drum: bool = False
    line: bool = False


INSTRUMENTS: dict[str, InstrumentSpec] = {}


def instrument(
    name: str, *, program: int, label: str | None = None, is_drum: bool = False, line: bool = False
) -> Callable[[Callable], Callable]:
    """Register ``fn`` under ``name``; see the module docstring for the signatures."""

    def deco(fn: Callable) -> Callable:
        if name in INSTRUMENTS:
            raise ValueError(f"instrument {name!r} registered twice")
        if not 0 <= program <= 127:
            raise ValueError(f"GM program must be in 0..127, got {program}")
        INSTRUMENTS[name] = InstrumentSpec(
            name=name,
            fn=fn,
            program=program,
            label=label or name.replace("_", " "),
            is_drum=is_drum,
            line=line,
        )
        return fn

    return deco


def get_instrument(name: str) -> InstrumentSpec:
    try:
        return INSTRUMENTS[name]
    except KeyError:
        raise KeyError(
            f"unknown instrument {name!r}; registered: {', '.join(sorted(INSTRUMENTS))}"
        ) from None
