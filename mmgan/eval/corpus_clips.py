"""A corpus' clips loaded on demand, and their style-space embeddings cached on disk.

:class:`CorpusClips` lists the clips of some splits (and genres) of a corpus folder
(``metadata.jsonl`` beside the audio), sorted by id, and loads each one when asked.
:func:`corpus_style_embeddings` embeds every clip with a style space's audio encoder and
caches each row under ``<corpus>/.cache/style-emb-v1-<model key>/``, keyed by the clip's
path, size and mtime and by :func:`weights_key` of the encoder, so a second pass over a
corpus (another report, the real-data baseline) reads them back instead.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from mmgan.utils import atomic_path

if TYPE_CHECKING:
    from mmgan.style.space import StyleSpace

__all__ = ["CorpusClips", "corpus_genres", "corpus_style_embeddings", "weights_key"]

EMB_CACHE_VERSION = 1


class CorpusClips:
    """The clips of one or more splits of a corpus (sorted by id), loaded on demand.

    Args:
        data: corpus folder (``metadata.jsonl`` beside the audio).
        split: ``"train"``, ``"val"``, ``"test"``, several of them, or ``None`` for all.
        genres: keep only these genres (``None``: all).
    """

    def __init__(
        self,
        data: str | Path,
        split: str | Sequence[str] | None = "train",
        genres: Sequence[str] | None = None,
    ) -> None:
        from mmgan.data.corpus import read_metadata

        self.root = Path(data)
        splits = None if split is None else [split] if isinstance(split, str) else list(split)
        rows = [r for r in read_metadata(self.root) if splits is None or r.get("split") in splits]
        if genres is not None:
            rows = [r for r in rows if r.get("genre") in set(genres)]
        if not rows:
            raise ValueError(
                f"{self.root}: no clips in split {split!r}"
                + (f" for genres {list(genres)}" if genres else "")
                + "; build a corpus with `mmgan dataset build` or pick another split"
            )
        self.rows = sorted(rows, key=lambda r: str(r.get("id", r["file_name"])))
        self.split = "all" if splits is None else "+".join(splits)
        self.sample_rate = int(self.rows[0].get("sample_rate", 22050))

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def seconds(self) -> float:
        """The longest clip's duration (metadata ``duration``, else clip 0's length)."""
        durations = [float(r["duration"]) for r in self.rows if r.get("duration")]
        return max(durations) if durations else len(self.load(0)) / self.sample_rate

    def take(self, per_genre: int | None) -> CorpusClips:
        """The first ``per_genre`` clips (by id) of each genre; ``None``: every clip."""
        if per_genre is None:
            return self
        if int(per_genre) < 1:
            raise ValueError(f"per_genre must be >= 1 or None, got {per_genre}")
        taken: dict[str, int] = {}
        rows = []
        for r in self.rows:
            g = str(r.get("genre"))
            if taken.get(g, 0) < int(per_genre):
                taken[g] = taken.get(g, 0) + 1
                rows.append(r)
        sub = object.__new__(CorpusClips)
        sub.root, sub.rows, sub.split, sub.sample_rate = (
            self.root,
            rows,
            self.split,
            self.sample_rate,
        )
        return sub

    @property
    def ids(self) -> list[str]:
        return [str(r.get("id", r["file_name"])) for r in self.rows]

    @property
    def genres(self) -> list[str]:
        return [str(r.get("genre")) for r in self.rows]

    def path(self, i: int) -> Path:
        return self.root / self.rows[i]["file_name"]

    def load(self, i: int) -> np.ndarray:
        """Clip ``i`` as float32 ``[T]`` at :attr:`sample_rate`."""
        from mmgan.audio.io import load_audio

        wave, _ = load_audio(self.path(i), sr=self.sample_rate, mono=True)
        return wave

    def entry_name(self, i: int) -> str:
        """``<h[:2]>/<h>-<state>.npy``: ``h`` hashes clip ``i``'s path, ``state`` its size
        and mtime, so an edited file gets a new cache entry."""
        path = self.path(i)
        st = path.stat()
        h = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
        state = hashlib.sha1(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:8]
        return f"{h[:2]}/{h}-{state}.npy"


def weights_key(module: torch.nn.Module, name: str = "") -> str:
    """10 hex digits hashing ``name`` and every tensor of ``module.state_dict()``: which
    weights produced a number (or a cache entry)."""
    h = hashlib.sha1(str(name).encode())
    for k, v in sorted(module.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()[:10]


def corpus_style_embeddings(
    clips: CorpusClips, space: StyleSpace, *, cache: bool = True, progress: bool = False
) -> np.ndarray:
    """Style-space audio embeddings ``[len(clips), D]`` float32 of every clip.

    Cached per clip as ``<root>/.cache/style-emb-v1-<model key>/<entry_name>`` (the key
    hashes the style space's id and audio-encoder weights; atomic writes; an unreadable
    entry is recomputed, a read-only disk only warns). ~0.1-0.2 s a 6 s clip on one core.
    """
    from tqdm.auto import tqdm

    folder = (
        clips.root
        / ".cache"
        / f"style-emb-v{EMB_CACHE_VERSION}-{weights_key(space.model.audio_encoder, space.name)}"
    )
    emb = np.zeros((len(clips), space.dim), dtype=np.float32)
    warned = False
    for i in tqdm(range(len(clips)), desc="style embeddings", disable=not progress):
        entry = folder / clips.entry_name(i)
        if cache and entry.is_file():
            try:
                row = np.load(entry, allow_pickle=False)
                if row.shape == (space.dim,) and np.all(np.isfinite(row)):
                    emb[i] = row
                    continue
            except (ValueError, OSError, EOFError):
                pass  # unreadable entry: recompute and overwrite it
        emb[i] = space.encode_audio(clips.load(i), clips.sample_rate)[0].numpy()
        if cache:
            try:
                with atomic_path(entry, suffix=".npy") as tmp:
                    np.save(tmp, emb[i], allow_pickle=False)
                for stale in entry.parent.glob(f"{entry.name.split('-')[0]}-*.npy"):
                    if stale != entry:
                        stale.unlink(missing_ok=True)
            except OSError as err:
                if not warned:
                    warnings.warn(
                        f"cannot cache style embeddings in {folder} ({err})", stacklevel=2
                    )
                    warned = True
    return emb


def corpus_genres(root: str | Path) -> list[str]:
    """A corpus' genres: the ``genres`` list of its ``corpus.json``, else every genre in
    ``metadata.jsonl`` (sorted)."""
    from mmgan.data.corpus import read_metadata

    root = Path(root)
    info = root / "corpus.json"
    listed = json.loads(info.read_text()).get("genres") if info.is_file() else None
    return [str(g) for g in listed] if listed else sorted({r["genre"] for r in read_metadata(root)})
