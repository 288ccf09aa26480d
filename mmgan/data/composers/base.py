"""What a genre composer is: a seeded function from randomness to a :class:`Composition`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from mmgan.data.score import Score

ENERGIES = ("low", "medium", "high")
TEXTURES = ("sparse", "medium", "dense")


@dataclass
class Composition:
    """A composed clip before rendering.

    Args:
        score: the notes, instruments and effects.
        moods: 1-3 mood words from ``mmgan.data.tags.MOODS``.
        energy: one of ``ENERGIES``.
        texture: one of ``TEXTURES``.
        descriptors: genre-specific musical features a listener would name,
            from ``mmgan.data.tags.DESCRIPTORS`` ("walking bass", "blast beats").
    """

    score: Score
    moods: list[str]
    energy: str
    texture: str
    descriptors: list[str] = field(default_factory=list)


class Composer(ABC):
    """One genre. Subclasses set the class attributes and implement :meth:`compose`.

    ``compose`` must be deterministic given ``rng`` and must cover at least
    ``seconds`` of music (the renderer crops to exactly ``seconds``).
    """

    genre: ClassVar[str]  # tag, e.g. "hiphop"
    label: ClassVar[str]  # caption name, e.g. "boom-bap hip-hop"
    bpm_range: ClassVar[tuple[float, float]]
    tonal: ClassVar[bool] = True  # False when the key is not audible (e.g. mostly noise)

    @abstractmethod
    def compose(self, rng: np.random.Generator, seconds: float) -> Composition: ...

    # helpers shared by composers -------------------------------------------------------

    def bars_for(self, seconds: float, bpm: float, beats_per_bar: int) -> int:
        """Whole bars that cover ``seconds`` plus one spare bar."""
        return int(np.ceil(seconds * bpm / 60.0 / beats_per_bar)) + 1


COMPOSERS: dict[str, type[Composer]] = {}


def register_composer(cls: type[Composer]) -> type[Composer]:
    if cls.genre in COMPOSERS:
        raise ValueError(f"composer for genre {cls.genre!r} registered twice")
    COMPOSERS[cls.genre] = cls
    return cls
