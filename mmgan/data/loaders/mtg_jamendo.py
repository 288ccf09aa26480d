"""MTG-Jamendo: ``[data/]autotagging*.tsv``, optional ``[data/]splits/split-0/*-train.tsv``
etc., audio under ``audio/`` (or ``raw_30s/audio/``) at each row's ``PATH``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mmgan.data.loaders.common import (
    BAD_ROW,
    Builder,
    Layout,
    first_existing,
    normalise_split,
    normalise_tag,
    plain_caption,
    tag_list,
    to_float,
)


def _mtg_dirs(root: Path) -> list[Path]:
    return [d for d in (root, root / "data") if d.is_dir()]


def _mtg_tag_files(root: Path) -> list[Path]:
    found = [p for d in _mtg_dirs(root) for p in sorted(d.glob("autotagging*.tsv"))]
    full = [p for p in found if p.name == "autotagging.tsv"]
    return full[:1] or found


def _read_mtg(path: Path) -> Iterable[tuple[int, list[str]]]:
    with path.open(encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            if text.strip() and not text.startswith("TRACK_ID"):
                yield line, text.rstrip("\n").split("\t")


def detect_mtg_jamendo(root: Path) -> bool:
    return bool(_mtg_tag_files(root))


def load_mtg_jamendo(root: Path, b: Builder) -> None:
    """MTG-Jamendo: TRACK_ID, ARTIST_ID, ALBUM_ID, PATH, DURATION, TAGS... (tab-separated).

    Tags ``genre---x``, ``mood/theme---x``, ``instrument---x`` become ``x``; the split
    comes from ``splits/split-0/*-{train,validation,test}.tsv`` when present.
    """
    rows: dict[str, list[str]] = {}
    for path in _mtg_tag_files(root):  # category files (genre, moodtheme, ...) are merged
        for line, row in _read_mtg(path):
            if len(row) < 5 or not row[0].startswith("track_"):
                b.summary.skip(BAD_ROW, f"{path.name} line {line}")
            elif row[0] in rows:
                rows[row[0]] += row[5:]
            else:
                rows[row[0]] = row
    splits: dict[str, str] = {}
    split_dir = first_existing(d / "splits" / "split-0" for d in _mtg_dirs(root))
    for path in sorted(split_dir.glob("*.tsv")) if split_dir else []:
        split = normalise_split(path.stem.rsplit("-", 1)[-1])
        splits.update({row[0]: split for _, row in _read_mtg(path) if split})
    audio_dirs = [d for d in (root / "audio", root / "raw_30s" / "audio", root) if d.is_dir()]
    for tid, row in rows.items():
        rel = row[3]
        options = [d / p for d in audio_dirs for p in (rel, rel.replace(".mp3", ".low.mp3"))]
        cats: dict[str, list[str]] = {}
        for tag in row[5:]:
            cat, _, name = tag.partition("---")
            group = cats.setdefault(cat if name else "other", [])
            group += [t for t in [normalise_tag(tag)] if t and t not in group]
        genres, moods, instr = (cats.get(k, []) for k in ("genre", "mood/theme", "instrument"))
        tags = tag_list(row[5:])
        b.add(
            first_existing(options) or audio_dirs[0] / rel,
            tid,
            tags,
            genre=(genres or [None])[0],
            caption=plain_caption(tags, (genres or [None])[0], moods=moods, instruments=instr),
            split=splits.get(tid),
            extra={"artist_id": row[1], "album_id": row[2], "duration": to_float(row[4])}
            | {"categories": cats},
        )


MTG_JAMENDO = Layout("mtg_jamendo", detect_mtg_jamendo, load_mtg_jamendo, "autotagging*.tsv")
