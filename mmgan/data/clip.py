"""One corpus clip: compose (seeded) -> render -> tags -> caption."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmgan.data.score import Score

DEFAULT_SR = 22050


@dataclass
class Clip:
    genre: str
    seed: int
    audio: np.ndarray  # [T] float32, loudness-normalised
    sr: int
    score: Score
    tags: dict[str, Any]
    caption: str


def clip_rng(genre: str, seed: int, stream: int = 0) -> np.random.Generator:
    """Independent, reproducible random stream per (genre, seed, purpose)."""
    return np.random.default_rng([int(seed), zlib.crc32(genre.encode()), stream])


def make_clip(
    genre: str,
    seed: int,
    seconds: float = 6.0,
    sr: int = DEFAULT_SR,
    soundfont: str | Path | None = None,
) -> Clip:
    """Compose and render one clip of ``genre``; the same arguments give the same samples."""
    from mmgan.audio.synth import render_score
    from mmgan.data.captions import make_caption
    from mmgan.data.composers import COMPOSERS
    from mmgan.data.tags import clip_tags

    if genre not in COMPOSERS:
        raise ValueError(f"unknown genre {genre!r}; valid genres: {', '.join(COMPOSERS)}")
    if seconds <= 0:
        raise ValueError(f"clip length must be positive, got {seconds} s")
    composer = COMPOSERS[genre]()
    comp = composer.compose(clip_rng(genre, seed, 0), seconds)
    audio = render_score(
        comp.score, sr=sr, seconds=seconds, rng=clip_rng(genre, seed, 1), soundfont=soundfont
    )
    tags = clip_tags(genre, comp)
    caption = make_caption(tags, composer.label, clip_rng(genre, seed, 2))
    return Clip(genre, seed, audio, sr, comp.score, tags, caption)
