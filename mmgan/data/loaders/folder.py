"""Your own tagged folder: audio plus ``metadata.jsonl`` / ``metadata.csv`` (``file_name``,
``tags``, optional ``caption``, ``genre``, ``split``) — Hugging Face's *audiofolder* layout."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mmgan.data.loaders.common import (
    BAD_ROW,
    Builder,
    Layout,
    list_field,
    normalise_split,
    read_csv,
)

_META_NAMES = ("metadata.jsonl", "metadata.csv")
_FOLDER_FIELDS = ("file_name", "tags", "genre", "caption", "split", "id")


def _folder_meta_files(root: Path) -> list[Path]:
    return sorted(p for n in _META_NAMES for p in root.rglob(n) if ".cache" not in p.parts)


def _folder_rows(path: Path, b: Builder) -> Iterable[tuple[int, dict[str, Any]]]:
    if path.suffix == ".csv":
        yield from enumerate(read_csv(path), start=2)
        return
    with path.open(encoding="utf-8") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as err:
                b.summary.skip(BAD_ROW, f"{path.name} line {line}", str(err))
                continue
            yield line, row


def detect_folder(root: Path) -> bool:
    return any((root / n).is_file() for n in _META_NAMES) or bool(_folder_meta_files(root))


def load_folder(root: Path, b: Builder) -> None:
    """Audio + ``metadata.jsonl``/``.csv`` (audiofolder); ``file_name`` is relative to it.

    Split: the row's ``split``, else a ``train/``/``val(idation)/``/``test/`` folder
    above the metadata file, else a hash of the id.
    """
    for meta in _folder_meta_files(root):
        folder_split = next(
            (s for p in meta.relative_to(root).parts[:-1] if (s := normalise_split(p))), None
        )
        for line, row in _folder_rows(meta, b):
            name = row.get("file_name") if isinstance(row, dict) else None
            if not name:
                b.summary.skip(BAD_ROW, f"{meta.name} line {line}", "no file_name")
                continue
            b.add(
                meta.parent / name,
                str(row.get("id") or Path(name).with_suffix("").as_posix()),
                list_field(row.get("tags")),
                genre=row.get("genre") or None,
                caption=str(row.get("caption") or ""),
                split=normalise_split(row.get("split")) or folder_split,
                extra={k: v for k, v in row.items() if k not in _FOLDER_FIELDS},
            )


FOLDER = Layout(
    "folder",
    detect_folder,
    load_folder,
    "audio + metadata.jsonl or metadata.csv with file_name and tags",
)
