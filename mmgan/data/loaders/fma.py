"""FMA: ``fma_metadata/tracks.csv`` (+ ``genres.csv``) and ``fma_<subset>/NNN/NNNNNN.mp3``."""

from __future__ import annotations

import csv
from pathlib import Path

from mmgan.data.loaders.common import (
    BAD_ROW,
    Builder,
    Layout,
    list_field,
    normalise_split,
    read_csv,
)

_FMA_SUBSETS = ("small", "medium", "large", "full")


def detect_fma(root: Path) -> bool:
    return (root / "fma_metadata" / "tracks.csv").is_file()


def load_fma(root: Path, b: Builder) -> None:
    """FMA: ``tracks.csv`` (3-line multi-index header) + ``genres.csv`` + ``fma_<subset>/``.

    The largest ``fma_<subset>`` folder present is used; rows whose ``set/subset`` is
    not part of it are counted as excluded. ``set/split`` gives the split.
    """
    meta = root / "fma_metadata"
    subset = next((s for s in reversed(_FMA_SUBSETS) if (root / f"fma_{s}").is_dir()), None)
    if subset is None:
        raise FileNotFoundError(
            f"{root} has fma_metadata/ but no fma_small/ (or medium/large/full)"
        )
    allowed = set(_FMA_SUBSETS[: _FMA_SUBSETS.index(subset) + 1])
    titles = {}
    if (meta / "genres.csv").is_file():
        titles = {r["genre_id"]: r["title"] for r in read_csv(meta / "genres.csv")}
    with (meta / "tracks.csv").open(newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        top, sub, _ = next(rows), next(rows), next(rows)  # ("set", "split") ...; "track_id"
        col = {(a, c): i for i, (a, c) in enumerate(zip(top, sub, strict=True))}
        want = {
            k: col.get(k)
            for k in [
                ("set", "split"),
                ("set", "subset"),
                ("track", "genre_top"),
                ("track", "genres"),
                ("track", "title"),
                ("artist", "name"),
            ]
        }
        if None in list(want.values())[:4]:
            raise ValueError(
                f"{meta / 'tracks.csv'}: not an FMA tracks.csv (3-line header with "
                f"set/split, set/subset, track/genre_top, track/genres)"
            )
        get = {k[1]: v for k, v in want.items()}
        for line, row in enumerate(rows, start=4):
            try:
                tid = f"{int(row[0]):06d}"
                v = {k: row[i] if i is not None else "" for k, i in get.items()}
            except (ValueError, IndexError):
                b.summary.skip(BAD_ROW, f"tracks.csv line {line}")
                continue
            if v["subset"] not in allowed:
                b.summary.excluded += 1
                continue
            genre_ids = list_field(v["genres"])
            b.add(
                root / f"fma_{subset}" / tid[:3] / f"{tid}.mp3",
                tid,
                [titles.get(g, "") for g in genre_ids],
                genre=v["genre_top"] or None,
                split=normalise_split(v["split"]),
                extra={"title": v["title"], "artist": v["name"], "genre_ids": genre_ids},
            )


FMA = Layout("fma", detect_fma, load_fma, "fma_metadata/tracks.csv + fma_small/NNN/*.mp3")
