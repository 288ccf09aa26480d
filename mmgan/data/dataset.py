"""Training-ready log-mel segments with tags, captions and genres (a torch ``Dataset``).

One item (a dict; ``torch.utils.data.default_collate`` batches it, captions and ids
become lists)::

    mel      FloatTensor [1, n_mels, segment_frames]   log-mel, floor log(1e-5) ≈ -11.5
    tags     FloatTensor [len(vocabulary)]             multi-hot
    caption  str
    genre    LongTensor  []                             index into ``genres``; -1 if unknown
    id       str

A batch of B: ``mel [B, 1, n_mels, segment_frames]``, ``tags [B, V]``, ``genre [B]``,
``caption`` and ``id`` lists of B strings.

Crops: ``random_crop=True`` draws a crop from ``numpy.random.default_rng((seed, epoch,
index, draw))``, so the same seed, epoch and access order give the same crops whatever
the worker layout; call ``set_epoch(e)`` each epoch (as with ``DistributedSampler``) for
crops independent of worker reuse. ``random_crop=False`` takes the centre. Clips shorter
than a segment are padded at the end with the log floor, not zeros.

Cache: one full-clip log-mel per audio file in a :class:`mmgan.data.melcache.MelCache`
(``float16`` ``.npy``, keyed by path, size and mtime; see that module). Default
``cache_dir``: ``<root>/.cache/mel-<hash of MelParams>``. ``precompute()`` fills the cache
up front.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import Dataset

from mmgan.audio.features import DEFAULT_MEL, LOG_FLOOR, MelParams
from mmgan.data.corpus import SPLITS, read_metadata
from mmgan.data.melcache import (
    AUDIO_ERRORS,
    MelCache,
    PrecomputeReport,
    compute_mel,
    default_cache_dir,
    mel_cache_dir,
)

__all__ = ["MelDataset", "PrecomputeReport", "mel_cache_dir"]

LOG_PAD = math.log(LOG_FLOOR)
_MAX_FALLBACK = 8  # neighbours tried when a clip breaks mid-epoch


@dataclass(frozen=True)
class _Item:
    path: Path
    id: str
    tag_idx: tuple[int, ...]
    caption: str
    genre_idx: int


class MelDataset(Dataset):
    """Log-mel segments of tag-annotated audio; see the module docstring for shapes.

    Args:
        records: objects with ``.path``, ``.tags``, ``.caption``, ``.genre``, ``.split``,
            ``.id`` (e.g. ``mmgan.data.loaders.AudioRecord``), all splits together.
        genres, vocabulary: fixed orders for the genre index and the multi-hot; ``None``
            derives them (sorted) from all ``records``, so every split agrees.
        split: keep records of this split; ``None`` keeps all.
        segment_frames: frames per crop; ``None`` returns whole clips (batch size 1).
        cache_dir: where cached mels go (see module docstring); ``cache=False`` disables it.
        check_audio: probe every uncached file at construction and skip broken ones.
        lru_size: memory-mapped cache entries kept open per process.

    Raises:
        ValueError: unknown split (the message lists valid ones) or no usable clip in it.

    Example::

        ds = MelDataset.from_folder("data/small", split="train", segment_frames=128)
        ds.precompute(workers=2)
        loader = DataLoader(ds, batch_size=16, shuffle=True, num_workers=2)
    """

    def __init__(
        self,
        records: Iterable[Any],
        *,
        split: str | None = "train",
        genres: Sequence[str] | None = None,
        vocabulary: Sequence[str] | None = None,
        segment_frames: int | None = 128,
        params: MelParams = DEFAULT_MEL,
        random_crop: bool = True,
        cache_dir: str | Path | None = None,
        cache: bool = True,
        cache_dtype: str = "float16",
        seed: int = 0,
        check_audio: bool = True,
        lru_size: int = 32,
        root: str | Path | None = None,
    ) -> None:
        records = list(records)
        if segment_frames is not None and segment_frames < 1:
            raise ValueError(f"segment_frames must be >= 1 or None, got {segment_frames}")
        present = sorted({str(getattr(r, "split", None) or "train") for r in records})
        valid = sorted(set(present) | set(SPLITS))
        if split is not None and split not in valid:
            raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(valid)}")
        self.genres = (
            list(genres)
            if genres is not None
            else sorted({r.genre for r in records if getattr(r, "genre", None)})
        )
        self.vocabulary = (
            list(vocabulary)
            if vocabulary is not None
            else sorted({t for r in records for t in (getattr(r, "tags", None) or [])})
        )
        self.split, self.params, self.segment_frames = split, params, segment_frames
        self.random_crop, self.seed, self.epoch = random_crop, seed, 0
        self.mel_cache: MelCache | None = None
        self.cache_dir: Path | None = None
        if cache:
            default = mel_cache_dir(root, params) if root is not None else default_cache_dir(params)
            self.cache_dir = Path(cache_dir) if cache_dir else default
            self.mel_cache = MelCache(self.cache_dir, params, cache_dtype, lru_size)
        self._draws: Counter[int] = Counter()
        self._warned: set[str] = set()

        genre_pos = {g: i for i, g in enumerate(self.genres)}
        tag_pos = {t: i for i, t in enumerate(self.vocabulary)}
        chosen = [
            r for r in records if split is None or (getattr(r, "split", None) or "train") == split
        ]
        unknown_tags: Counter[str] = Counter()
        self.skipped: dict[str, str] = {}
        self.items: list[_Item] = []
        for r in chosen:
            path, rid = Path(r.path), str(getattr(r, "id", None) or Path(r.path).stem)
            tags = list(getattr(r, "tags", None) or [])
            unknown_tags.update(t for t in tags if t not in tag_pos)
            item = _Item(
                path=path,
                id=rid,
                tag_idx=tuple(sorted({tag_pos[t] for t in tags if t in tag_pos})),
                caption=str(getattr(r, "caption", None) or ""),
                genre_idx=genre_pos.get(getattr(r, "genre", None), -1),
            )
            problem = self._probe(item) if check_audio else None
            if problem:
                self.skipped[rid] = problem
            else:
                self.items.append(item)
        if self.skipped:
            first = "; ".join(f"{k}: {v}" for k, v in list(self.skipped.items())[:3])
            warnings.warn(
                f"skipped {len(self.skipped)} of {len(chosen)} clips in split {split!r} "
                f"with missing or unreadable audio ({first}); see .skipped",
                stacklevel=2,
            )
        if unknown_tags:
            warnings.warn(
                f"{len(unknown_tags)} tags are not in the vocabulary and are ignored: "
                f"{', '.join(sorted(unknown_tags)[:8])}",
                stacklevel=2,
            )
        if not self.items:
            where = f" ({len(self.skipped)} skipped for bad audio)" if self.skipped else ""
            raise ValueError(
                f"split {split!r} has no usable clips{where}; splits with clips: "
                f"{', '.join(present) or 'none'}"
            )

    @classmethod
    def from_folder(
        cls, root: str | Path, split: str | None = "train", **kwargs: Any
    ) -> MelDataset:
        """A corpus in the audiofolder layout: ``root/metadata.jsonl`` (+ optional ``corpus.json``).

        ``genres``/``vocabulary`` default to ``corpus.json``'s lists, else to the sorted
        values over every row. Rows without ``split`` take it from a leading
        ``train/``, ``val/``, ``validation/`` or ``test/`` folder, else ``"train"``.
        """
        root = Path(root)
        if not (root / "metadata.jsonl").is_file():
            raise FileNotFoundError(
                f"{root} has no metadata.jsonl. Expected the audiofolder layout: ROOT/metadata.jsonl "
                "with one JSON object per line holding at least file_name (audio path relative "
                "to ROOT), genre, tags, caption and split; build one with "
                "`mmgan dataset build --preset tiny --out DIR`."
            )
        info_file = root / "corpus.json"
        info = json.loads(info_file.read_text()) if info_file.is_file() else {}
        for key in ("genres", "vocabulary"):
            if kwargs.get(key) is None and info.get(key) is not None:
                kwargs[key] = info[key]
        records = [_row_record(root, row, n) for n, row in enumerate(read_metadata(root), start=1)]
        kwargs.setdefault("root", root)
        return cls(records, split=split, **kwargs)

    # ------------------------------------------------------------------ items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        n = len(self.items)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} clips")
        index %= n
        for step in range(min(n, _MAX_FALLBACK)):
            i = (index + step) % n
            try:
                mel = self.load_mel(i)
            except AUDIO_ERRORS as err:  # the file broke after construction: warn, use a neighbour
                self._warn_once(
                    self.items[i].id,
                    f"clip {self.items[i].id} unreadable ({err}); "
                    f"returning a neighbouring clip instead",
                )
                continue
            return self._make_item(i, mel)
        raise RuntimeError(
            f"{_MAX_FALLBACK} clips in a row from index {index} are unreadable; "
            "is the corpus folder still mounted?"
        )

    def set_epoch(self, epoch: int) -> None:
        """Seed the next epoch's random crops (call before each epoch for exact reproducibility)."""
        self.epoch = int(epoch)
        self._draws.clear()

    def _make_item(self, i: int, mel: np.ndarray) -> dict[str, Any]:
        item, frames, seg = self.items[i], mel.shape[1], self.segment_frames
        if seg is None:
            crop = np.asarray(mel, dtype=np.float32)
        elif frames >= seg:
            if self.random_crop:
                rng = np.random.default_rng((self.seed, self.epoch, i, self._draws[i]))
                self._draws[i] += 1
                start = int(rng.integers(0, frames - seg + 1))
            else:
                start = (frames - seg) // 2
            crop = np.asarray(mel[:, start : start + seg], dtype=np.float32)
        else:
            crop = np.full((mel.shape[0], seg), LOG_PAD, dtype=np.float32)
            crop[:, :frames] = mel
        tags = torch.zeros(len(self.vocabulary), dtype=torch.float32)
        tags[list(item.tag_idx)] = 1.0
        return {
            "mel": torch.from_numpy(np.ascontiguousarray(crop))[None],
            "tags": tags,
            "caption": item.caption,
            "genre": torch.tensor(item.genre_idx, dtype=torch.long),
            "id": item.id,
        }

    def genre_weights(self) -> torch.Tensor:
        """Per-item weights ``[N]`` (float64) inverse to genre frequency, for
        ``WeightedRandomSampler``; unknown genres form one class."""
        counts = Counter(it.genre_idx for it in self.items)
        return torch.tensor([1.0 / counts[it.genre_idx] for it in self.items], dtype=torch.float64)

    # ------------------------------------------------------------------ cache

    def load_mel(self, i: int) -> np.ndarray:
        """Full-clip log-mel ``[n_mels, frames]`` of item ``i`` (cache dtype; may be memory-mapped)."""
        path = self.items[i].path
        if self.mel_cache is None:
            return compute_mel(path, self.params)
        return self.mel_cache.get(path)

    def _probe(self, item: _Item) -> str | None:
        """Why ``item`` cannot be used, or ``None``. Decodes only what libsndfile cannot read."""
        try:
            if self.mel_cache is not None and self.mel_cache.has(item.path):
                return None
            info = sf.info(str(item.path))
            return None if info.frames > 0 else "no audio samples"
        except FileNotFoundError:
            return f"audio file not found: {item.path}"
        except (sf.LibsndfileError, RuntimeError, OSError):
            pass
        try:  # MP3 etc. on old libsndfile: full decode, and keep the result
            if self.mel_cache is None:
                compute_mel(item.path, self.params)
            else:
                self.mel_cache.store(item.path)
        except AUDIO_ERRORS as err:
            return f"{type(err).__name__}: {err}"
        return None

    def precompute(self, workers: int | None = None, progress: bool = True) -> PrecomputeReport:
        """Fill the disk cache for every item (threads; librosa/soxr/BLAS release the GIL)."""
        if self.mel_cache is None:
            raise RuntimeError("precompute() needs a disk cache; build the dataset with cache=True")
        pairs = [(item.id, item.path) for item in self.items]
        report = self.mel_cache.precompute(pairs, workers=workers, progress=progress)
        if report.failed:
            warnings.warn(
                f"{len(report.failed)} clips could not be cached; they will be replaced "
                "by neighbours when drawn",
                stacklevel=2,
            )
        return report

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, stacklevel=3)


@dataclass(frozen=True)
class _Row:
    path: Path
    id: str
    tags: list[str]
    caption: str
    genre: str | None
    split: str


def _row_record(root: Path, row: dict[str, Any], line: int) -> _Row:
    name = row.get("file_name")
    if not name:
        raise ValueError(f"{root / 'metadata.jsonl'}:{line}: row has no 'file_name'")
    first = Path(name).parts[0] if Path(name).parts else ""
    folder_split = {"validation": "val"}.get(first, first)
    split = row.get("split") or (folder_split if folder_split in SPLITS else "train")
    tags = row.get("tags") or []
    return _Row(
        path=root / name,
        id=str(row.get("id") or Path(name).with_suffix("").as_posix()),
        tags=[tags] if isinstance(tags, str) else list(tags),
        caption=str(row.get("caption") or ""),
        genre=row.get("genre"),
        split=str(split),
    )
