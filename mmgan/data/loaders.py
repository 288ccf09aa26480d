"""Real data sets in their own layouts, mapped to one record type.

``load_records(root)`` detects the layout (or takes ``layout=``) and returns
``(records, summary)``: one :class:`AudioRecord` per usable clip and a
:class:`LoadSummary` that counts what was loaded and what was skipped, and why.

Layouts (``root`` is the folder you pass):

- ``gtzan``: ``genres/<genre>/<genre>.000NN.wav`` (also ``genres_original/``, ``.au``)
- ``fma``: ``fma_metadata/tracks.csv`` (+ ``genres.csv``) and ``fma_<subset>/NNN/NNNNNN.mp3``
- ``mtg_jamendo``: ``[data/]autotagging*.tsv``, optional ``[data/]splits/split-0/*-train.tsv``
  etc., audio under ``audio/`` (or ``raw_30s/audio/``) at each row's ``PATH``
- ``musiccaps``: ``musiccaps-public.csv``, audio ``audio/<ytid>.wav`` (or .mp3/.flac)
- ``folder``: audio plus ``metadata.jsonl`` / ``metadata.csv`` (``file_name``, ``tags``,
  optional ``caption``, ``genre``, ``split``) — Hugging Face's *audiofolder* layout

A missing, corrupt or unsupported audio file, or a malformed metadata row, is skipped
with a :class:`DataWarning` and counted in the summary; it never aborts the load.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile as sf

LAYOUTS: tuple[str, ...] = ("gtzan", "fma", "mtg_jamendo", "musiccaps", "folder")
SPLITS: tuple[str, ...] = ("train", "val", "test")
AUDIO_EXTENSIONS: tuple[str, ...] = (
    ".wav",
    ".flac",
    ".mp3",
    ".ogg",
    ".opus",
    ".aiff",
    ".aif",
    ".au",
)
MISSING, CORRUPT, UNSUPPORTED, BAD_ROW = (
    "missing audio file",
    "unreadable audio",
    "unsupported audio format",
    "malformed metadata row",
)
_ALIASES = {"audiofolder": "folder", "mtg": "mtg_jamendo", "jamendo": "mtg_jamendo"}
_SPLIT_NAMES = {
    "train": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val", "dev": "val",
    "test": "test", "testing": "test", "eval": "test",
}  # fmt: skip
_WARN_PER_REASON = 5


class DataWarning(UserWarning):
    """A clip or metadata row was skipped while loading a data set."""


@dataclass
class AudioRecord:
    """One clip: where its audio is and how it is described.

    ``tags`` are lower-case vocabulary strings ("rock", "dark", "piano"); ``split`` is
    one of ``SPLITS``; ``source`` the layout name; ``extra`` layout-specific fields.
    """

    path: Path
    tags: list[str]
    caption: str
    split: str
    genre: str | None
    source: str
    id: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadSummary:
    """What one ``load_records`` call found: counts, skip reasons, a few examples."""

    layout: str
    root: Path
    loaded: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    excluded: int = 0  # rows outside the chosen subset (FMA), not errors
    splits: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)  # reason -> first few

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    def skip(self, reason: str, what: str, detail: str = "") -> None:
        """Count a skipped item; warn for the first few of each reason."""
        self.skipped[reason] += 1
        seen = self.examples.setdefault(reason, [])
        if len(seen) < _WARN_PER_REASON:
            seen.append(what)
            msg = f"{self.layout}: skipped {what}: {reason}" + (f" ({detail})" if detail else "")
            warnings.warn(msg, DataWarning, stacklevel=3)

    def add(self, record: AudioRecord) -> None:
        self.loaded += 1
        self.splits[record.split] += 1

    def __str__(self) -> str:
        lines = [f"{self.layout} at {self.root}: {self.loaded} loaded, {self.n_skipped} skipped"]
        if self.splits:
            lines.append(
                "  splits: " + ", ".join(f"{s}={self.splits[s]}" for s in sorted(self.splits))
            )
        for reason, n in self.skipped.most_common():
            lines.append(f"  skipped {n} ({reason}), e.g. {', '.join(self.examples[reason][:3])}")
        if self.excluded:
            lines.append(f"  excluded {self.excluded} rows outside the audio subset")
        return "\n".join(lines)


# ---------------------------------------------------------------- helpers


def normalise_tag(tag: str) -> str:
    """Lower-case vocabulary tag: ``"genre---Rock"`` -> ``"rock"``, ``"Hip_Hop"`` -> ``"hip hop"``.

    The MTG-Jamendo category prefix (``genre---``, ``mood/theme---``, ``instrument---``)
    is dropped; the category is kept in ``AudioRecord.extra["categories"]``.
    """
    tag = tag.split("---")[-1].replace("_", " ")
    return re.sub(r"\s+", " ", tag).strip().lower()


def _tags(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t for t in (normalise_tag(str(i)) for i in items) if t))


def hash_split(key: str) -> str:
    """Deterministic 80/10/10 train/val/test split from a SHA-256 of ``key``."""
    u = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2.0**64
    return "train" if u < 0.8 else "val" if u < 0.9 else "test"


def normalise_split(value: Any) -> str | None:
    """``"training"`` -> ``"train"``, ``"validation"`` -> ``"val"``; unknown/empty -> None."""
    return _SPLIT_NAMES.get(str(value or "").strip().lower())


_INSTRUMENT_WORDS = set(
    "guitar acousticguitar electricguitar bass bassguitar drums drum drummachine percussion "
    "piano electricpiano keyboard rhodes organ synthesizer synth pad sampler strings violin "
    "viola cello orchestra harp flute clarinet saxophone sax trumpet brass horn accordion "
    "harmonica ukulele banjo mandolin bell bells choir voice vocal vocals beat computer".split()
)
_MOOD_WORDS = set(
    "dark calm happy sad relaxing relaxed energetic melancholic uplifting aggressive dreamy "
    "epic romantic emotional hopeful mellow soft soulful upbeat chill warm bright tense "
    "mysterious nostalgic hypnotic gritty ethereal joyful playful peaceful meditative groovy "
    "powerful heavy deep inspiring fun funny sexy angry".split()
)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def plain_caption(
    tags: list[str],
    genre: str | None = None,
    *,
    moods: list[str] | None = None,
    instruments: list[str] | None = None,
) -> str:
    """A plain, deterministic caption from tags: ``"dark rock music with guitar and drums"``.

    Moods and instruments are told apart by a small word list unless given.
    """
    if instruments is None:
        words = _INSTRUMENT_WORDS
        instruments = [t for t in tags if {t.split()[-1], t.replace(" ", "")} & words]
    if moods is None:
        moods = [t for t in tags if t in _MOOD_WORDS]
    styles = [t for t in tags if t not in instruments and t not in moods and t != genre]
    if genre is None and styles:
        genre, styles = styles[0], styles[1:]
    text = " ".join([", ".join(moods[:2]), genre or "", "music"]).strip()
    text = re.sub(r"\s+", " ", text)
    if styles:
        text += f" with {_join(styles[:3])} influences"
    if instruments:
        text += (", featuring " if styles else " with ") + _join(instruments[:4])
    return text


def check_audio(path: Path) -> str | None:
    """``None`` when ``path`` is a readable audio file, else the skip reason."""
    if not path.is_file():
        return MISSING
    if path.suffix.lower() not in AUDIO_EXTENSIONS:
        return UNSUPPORTED
    try:
        info = sf.info(str(path))
        with sf.SoundFile(str(path)) as f:
            f.read(1024, dtype="float32")
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError):
        return CORRUPT
    return None if info.frames > 0 and info.samplerate > 0 else CORRUPT


class _Builder:
    """Checks audio, fills defaults and collects records into a summary."""

    def __init__(self, summary: LoadSummary, validate: bool) -> None:
        self.summary, self.validate, self.records = summary, validate, []

    def add(
        self,
        path: Path,
        id: str,
        tags: list[str],
        *,
        genre: str | None = None,
        caption: str = "",
        split: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        reason = check_audio(path) if self.validate else (None if path.is_file() else MISSING)
        if reason is not None:
            self.summary.skip(reason, str(path))
            return
        genre = normalise_tag(str(genre)) if genre else None
        tags = _tags(([genre] if genre else []) + tags)
        extra = dict(extra or {})
        if split is None:
            split, extra["split_source"] = hash_split(id), "hash"
        record = AudioRecord(
            path=path,
            tags=tags,
            caption=caption.strip() or plain_caption(tags, genre),
            split=split,
            genre=genre,
            source=self.summary.layout,
            id=id,
            extra=extra,
        )
        self.records.append(record)
        self.summary.add(record)


def _first(paths: Iterable[Path]) -> Path | None:
    return next((p for p in paths if p.exists()), None)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _list_field(value: Any) -> list[str]:
    """A list, a Python/JSON list literal or a comma-separated string -> list of str."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    text = str(value or "").strip()
    if text.startswith("["):
        try:
            return [str(v) for v in ast.literal_eval(text)]
        except (ValueError, SyntaxError):
            text = text.strip("[]")
    return [t.strip().strip("'\"") for t in text.split(",") if t.strip()]


# ---------------------------------------------------------------- layouts


def _gtzan_dir(root: Path) -> Path | None:
    names = ("genres", "genres_original", "Data/genres_original")
    return _first(root / n for n in names)


def load_gtzan(root: Path, b: _Builder) -> None:
    """``genres/<genre>/<genre>.000NN.wav``: the folder is the genre; split by hash."""
    for genre_dir in sorted(p for p in _gtzan_dir(root).iterdir() if p.is_dir()):
        for path in sorted(genre_dir.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                b.add(path, path.stem, [], genre=genre_dir.name)


_FMA_SUBSETS = ("small", "medium", "large", "full")


def load_fma(root: Path, b: _Builder) -> None:
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
        titles = {r["genre_id"]: r["title"] for r in _read_csv(meta / "genres.csv")}
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
            genre_ids = _list_field(v["genres"])
            b.add(
                root / f"fma_{subset}" / tid[:3] / f"{tid}.mp3",
                tid,
                [titles.get(g, "") for g in genre_ids],
                genre=v["genre_top"] or None,
                split=normalise_split(v["split"]),
                extra={"title": v["title"], "artist": v["name"], "genre_ids": genre_ids},
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


def load_mtg_jamendo(root: Path, b: _Builder) -> None:
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
    split_dir = _first(d / "splits" / "split-0" for d in _mtg_dirs(root))
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
        tags = _tags(row[5:])
        b.add(
            _first(options) or audio_dirs[0] / rel,
            tid,
            tags,
            genre=(genres or [None])[0],
            caption=plain_caption(tags, (genres or [None])[0], moods=moods, instruments=instr),
            split=splits.get(tid),
            extra={"artist_id": row[1], "album_id": row[2], "duration": _float(row[4])}
            | {"categories": cats},
        )


def load_musiccaps(root: Path, b: _Builder) -> None:
    """MusicCaps: ``aspect_list`` -> tags, ``caption`` -> caption, ``<ytid>.wav`` audio.

    ``is_audioset_eval`` True -> ``test``; other rows -> ``train``, or ``val`` for the
    ~10% whose id hashes there (MusicCaps has no validation split of its own).
    """
    audio_dirs = [
        d for d in (root / "audio", root / "wav", root / "music_data", root) if d.is_dir()
    ]
    for line, row in enumerate(_read_csv(root / "musiccaps-public.csv"), start=2):
        ytid = (row.get("ytid") or "").strip()
        if not ytid or row.get("caption") is None:
            b.summary.skip(BAD_ROW, f"musiccaps-public.csv line {line}")
            continue
        exts = (".wav", ".mp3", ".flac", ".ogg")
        path = _first(d / f"{ytid}{e}" for d in audio_dirs for e in exts)
        is_eval = str(row.get("is_audioset_eval", "")).strip().lower() == "true"
        split = "test" if is_eval else ("val" if hash_split(ytid) == "val" else "train")
        b.add(
            path or audio_dirs[0] / f"{ytid}.wav",
            ytid,
            _list_field(row.get("aspect_list")),
            caption=row["caption"],
            split=split,
            extra={
                "start_s": _float(row.get("start_s")),
                "end_s": _float(row.get("end_s")),
                "author_id": row.get("author_id", ""),
                "audioset_labels": _list_field(row.get("audioset_positive_labels")),
                "is_balanced_subset": str(row.get("is_balanced_subset")).lower() == "true",
            },
        )


_META_NAMES = ("metadata.jsonl", "metadata.csv")
_FOLDER_FIELDS = ("file_name", "tags", "genre", "caption", "split", "id")


def _folder_meta_files(root: Path) -> list[Path]:
    return sorted(p for n in _META_NAMES for p in root.rglob(n) if ".cache" not in p.parts)


def _folder_rows(path: Path, b: _Builder) -> Iterable[tuple[int, dict[str, Any]]]:
    if path.suffix == ".csv":
        yield from enumerate(_read_csv(path), start=2)
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


def load_folder(root: Path, b: _Builder) -> None:
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
                _list_field(row.get("tags")),
                genre=row.get("genre") or None,
                caption=str(row.get("caption") or ""),
                split=normalise_split(row.get("split")) or folder_split,
                extra={k: v for k, v in row.items() if k not in _FOLDER_FIELDS},
            )


LOADERS: dict[str, Callable[[Path, _Builder], None]] = {
    "gtzan": load_gtzan,
    "fma": load_fma,
    "mtg_jamendo": load_mtg_jamendo,
    "musiccaps": load_musiccaps,
    "folder": load_folder,
}
_DETECT: dict[str, Callable[[Path], bool]] = {
    "fma": lambda r: (r / "fma_metadata" / "tracks.csv").is_file(),
    "mtg_jamendo": lambda r: bool(_mtg_tag_files(r)),
    "musiccaps": lambda r: (r / "musiccaps-public.csv").is_file(),
    "gtzan": lambda r: (d := _gtzan_dir(r)) is not None and any(p.is_dir() for p in d.iterdir()),
    "folder": lambda r: any((r / n).is_file() for n in _META_NAMES) or bool(_folder_meta_files(r)),
}
_EXPECTS = (
    "gtzan (genres/<genre>/*.wav), fma (fma_metadata/tracks.csv + fma_small/NNN/*.mp3), "
    "mtg_jamendo (autotagging*.tsv), musiccaps (musiccaps-public.csv + audio/<ytid>.wav), "
    "folder (audio + metadata.jsonl or metadata.csv with file_name and tags)"
)


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
    for name, matches in _DETECT.items():
        if matches(path):
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
        root: the data set folder (see the module docstring for each layout).
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
    if name not in LOADERS:
        raise ValueError(f"unknown data set layout {layout!r}; known layouts: {', '.join(LAYOUTS)}")
    if not _DETECT[name](path):
        raise ValueError(f"{path} does not look like the {name} layout. Known layouts: {_EXPECTS}")
    builder = _Builder(LoadSummary(layout=name, root=path), validate)
    LOADERS[name](path, builder)
    summary = builder.summary
    hidden = summary.n_skipped - sum(len(v) for v in summary.examples.values())
    if hidden > 0:
        warnings.warn(
            f"{name}: {hidden} more skipped items not shown; {summary}", DataWarning, stacklevel=2
        )
    return builder.records, summary
