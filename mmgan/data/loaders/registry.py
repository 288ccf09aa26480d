"""Layout name -> :class:`Layout` (detector + loader), and the two entry points that
dispatch through it: :func:`detect_layout` and :func:`load_records`."""

from __future__ import annotations

import warnings
from pathlib import Path

from mmgan.data.loaders.common import AudioRecord, Builder, DataWarning, Layout, LoadSummary
from mmgan.data.loaders.fma import FMA
from mmgan.data.loaders.folder import FOLDER
from mmgan.data.loaders.gtzan import GTZAN
from mmgan.data.loaders.mtg_jamendo import MTG_JAMENDO
from mmgan.data.loaders.musiccaps import MUSICCAPS

REGISTRY: dict[str, Layout] = {x.name: x for x in (GTZAN, FMA, MTG_JAMENDO, MUSICCAPS, FOLDER)}
LAYOUTS: tuple[str, ...] = tuple(REGISTRY)
# Tried in this order: layouts named by a metadata file first, then GTZAN's bare genre
# folders, then the generic audiofolder (any metadata.jsonl/csv below root).
DETECT_ORDER: tuple[str, ...] = ("fma", "mtg_jamendo", "musiccaps", "gtzan", "folder")
_ALIASES = {"audiofolder": "folder", "mtg": "mtg_jamendo", "jamendo": "mtg_jamendo"}
_EXPECTS = ", ".join(f"{name} ({REGISTRY[name].expects})" for name in LAYOUTS)


def _check_root(root: str | Path) -> Path:
    path = Path(root).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"data set folder {path} does not exist (or is not a folder)")
    return path


def detect_layout(root: str | Path) -> str:
    """The layout name of ``root`` (one of ``LAYOUTS``).

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: no known layout matches; the message lists what each expects.
    """
    path = _check_root(root)
    for name in DETECT_ORDER:
        if REGISTRY[name].detect(path):
            return name
    raise ValueError(
        f"{path} matches no known data set layout. Known layouts: {_EXPECTS}. "
        f"Pass layout=... if the folder is one of them."
    )


def load_records(
    root: str | Path, layout: str | None = None, *, validate: bool = True
) -> tuple[list[AudioRecord], LoadSummary]:
    """Records of the data set at ``root`` and a summary of what was loaded or skipped.

    Args:
        root: the data set folder (see the package docstring for each layout).
        layout: one of ``LAYOUTS`` (``"audiofolder"`` and ``"mtg"`` are accepted too);
            ``None`` detects it.
        validate: open and briefly decode every audio file (skip corrupt ones); ``False``
            only checks that each file exists — faster on large sets.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: unknown ``layout``, or none detected.

    Example::

        records, summary = load_records("datasets/fixtures/gtzan")
        print(summary)
    """
    path = _check_root(root)
    if layout is None:
        layout = detect_layout(path)
    key = layout.strip().lower().replace("-", "_")
    name = _ALIASES.get(key, key)
    if name not in REGISTRY:
        raise ValueError(f"unknown data set layout {layout!r}; known layouts: {', '.join(LAYOUTS)}")
    chosen = REGISTRY[name]
    if not chosen.detect(path):
        raise ValueError(f"{path} does not look like the {name} layout. Known layouts: {_EXPECTS}")
    builder = Builder(LoadSummary(layout=name, root=path), validate)
    chosen.load(path, builder)
    summary = builder.summary
    hidden = summary.n_skipped - sum(len(v) for v in summary.examples.values())
    if hidden > 0:
        warnings.warn(
            f"{name}: {hidden} more skipped items not shown; {summary}", DataWarning, stacklevel=2
        )
    return builder.records, summary
