"""MusicCaps: ``musiccaps-public.csv``, audio ``audio/<ytid>.wav`` (or .mp3/.flac)."""

from __future__ import annotations

from pathlib import Path

from mmgan.data.loaders.common import (
    BAD_ROW,
    Builder,
    Layout,
    first_existing,
    hash_split,
    list_field,
    read_csv,
    to_float,
)


def detect_musiccaps(root: Path) -> bool:
    return (root / "musiccaps-public.csv").is_file()


def load_musiccaps(root: Path, b: Builder) -> None:
    """MusicCaps: ``aspect_list`` -> tags, ``caption`` -> caption, ``<ytid>.wav`` audio.

    ``is_audioset_eval`` True -> ``test``; other rows -> ``train``, or ``val`` for the
    ~10% whose id hashes there (MusicCaps has no validation split of its own).
    """
    audio_dirs = [
        d for d in (root / "audio", root / "wav", root / "music_data", root) if d.is_dir()
    ]
    for line, row in enumerate(read_csv(root / "musiccaps-public.csv"), start=2):
        ytid = (row.get("ytid") or "").strip()
        if not ytid or row.get("caption") is None:
            b.summary.skip(BAD_ROW, f"musiccaps-public.csv line {line}")
            continue
        exts = (".wav", ".mp3", ".flac", ".ogg")
        path = first_existing(d / f"{ytid}{e}" for d in audio_dirs for e in exts)
        is_eval = str(row.get("is_audioset_eval", "")).strip().lower() == "true"
        split = "test" if is_eval else ("val" if hash_split(ytid) == "val" else "train")
        b.add(
            path or audio_dirs[0] / f"{ytid}.wav",
            ytid,
            list_field(row.get("aspect_list")),
            caption=row["caption"],
            split=split,
            extra={
                "start_s": to_float(row.get("start_s")),
                "end_s": to_float(row.get("end_s")),
                "author_id": row.get("author_id", ""),
                "audioset_labels": list_field(row.get("audioset_positive_labels")),
                "is_balanced_subset": str(row.get("is_balanced_subset")).lower() == "true",
            },
        )


MUSICCAPS = Layout(
    "musiccaps", detect_musiccaps, load_musiccaps, "musiccaps-public.csv + audio/<ytid>.wav"
)
