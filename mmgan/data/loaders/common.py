"""What every layout shares: the record and summary types, audio checks, and the
tag, caption, split and metadata-field helpers the layout modules build records with."""

from __future__ import annotations

import ast
import csv
import hashlib
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile as sf

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


# ---------------------------------------------------------------- tags, splits, captions


def normalise_tag(tag: str) -> str:
    """Lower-case vocabulary tag: ``"genre---Rock"`` -> ``"rock"``, ``"Hip_Hop"`` -> ``"hip hop"``.

    The MTG-Jamendo category prefix (``genre---``, ``mood/theme---``, ``instrument---``)
    is dropped; the category is kept in ``AudioRecord.extra["categories"]``.
    """
    tag = tag.split("---")[-1].replace("_", " ")
    return re.sub(r"\s+", " ", tag).strip().lower()


def tag_list(items: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated, non-empty tags in first-seen order."""
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


# ---------------------------------------------------------------- audio and records


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


class Builder:
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
        tags = tag_list(([genre] if genre else []) + tags)
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


@dataclass(frozen=True)
class Layout:
    """One data set layout: ``detect(root)`` says whether ``root`` looks like it,
    ``load(root, builder)`` adds its records; ``expects`` describes it for error messages."""

    name: str
    detect: Callable[[Path], bool]
    load: Callable[[Path, Builder], None]
    expects: str


# ---------------------------------------------------------------- metadata fields


def first_existing(paths: Iterable[Path]) -> Path | None:
    return next((p for p in paths if p.exists()), None)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def to_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def list_field(value: Any) -> list[str]:
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
