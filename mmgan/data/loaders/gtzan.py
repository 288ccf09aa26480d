"""GTZAN: ``genres/<genre>/<genre>.000NN.wav`` (also ``genres_original/``, ``.au``).

The folder name is the genre; GTZAN has no official split, so it comes from a hash.
"""

from __future__ import annotations

from pathlib import Path

from mmgan.data.loaders.common import Builder, Layout, first_existing


def _gtzan_dir(root: Path) -> Path | None:
    names = ("genres", "genres_original", "Data/genres_original")
    return first_existing(root / n for n in names)


def detect_gtzan(root: Path) -> bool:
    return (d := _gtzan_dir(root)) is not None and any(p.is_dir() for p in d.iterdir())


def load_gtzan(root: Path, b: Builder) -> None:
    """``genres/<genre>/<genre>.000NN.wav``: the folder is the genre; split by hash."""
    for genre_dir in sorted(p for p in _gtzan_dir(root).iterdir() if p.is_dir()):
        for path in sorted(genre_dir.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                b.add(path, path.stem, [], genre=genre_dir.name)


GTZAN = Layout("gtzan", detect_gtzan, load_gtzan, "genres/<genre>/*.wav")
