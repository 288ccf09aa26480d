"""What the GAN trainer reads: every training clip's features in memory and the style
vectors it may be conditioned on.

- ``feats [N, rows, F]`` float16: 80 log-mel + 12 log-chroma rows of each whole clip
  (from the corpus's mel cache; shorter clips padded with silence), ~0.3 GB for ``small``;
- ``styles [N, 1 + K, D]``: row 0 the clip's own style-space audio embedding, rows 1..K
  the text embeddings of K augmented captions (random tag subsets and templates), so the
  generator learns from both kinds of vector a user will give it (a prompt, a reference
  clip);
- per-row feature mean/std (the generator's normalisation) and the genre of each clip.

Built once per run and cached in ``RUN/gan_bank.pt`` (keyed by the corpus and the style
model), so a resumed run starts in seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mmgan.audio.features import MelParams
from mmgan.data.corpus import read_metadata
from mmgan.data.dataset import LOG_PAD, MelDataset
from mmgan.training.captions import augmented_captions, row_id
from mmgan.training.checkpoint import load_state, save_state

__all__ = ["GANData", "load_gan_data"]


@dataclass
class GANData:
    feats: torch.Tensor  # [N, rows, F] float16, log units
    styles: torch.Tensor  # [N, 1 + K, D] float32, L2-normalised
    genre: torch.Tensor  # [N] long
    genres: list[str]
    mean: torch.Tensor  # [rows]
    std: torch.Tensor  # [rows]

    def __len__(self) -> int:
        return self.feats.shape[0]

    def crops(self, idx: torch.Tensor, frames: int, g: torch.Generator) -> torch.Tensor:
        """Random crops ``[len(idx), rows, frames]`` (float32, log units) of clips ``idx``."""
        total = self.feats.shape[-1]
        starts = torch.randint(0, total - frames + 1, (len(idx),), generator=g)
        return torch.stack(
            [
                self.feats[i, :, s : s + frames]
                for i, s in zip(idx.tolist(), starts.tolist(), strict=True)
            ]
        ).float()


def _features(data: Path, params: MelParams, min_frames: int, progress: bool):
    ds = MelDataset.from_folder(data, "train", segment_frames=None, params=params)
    ds.precompute(workers=2, progress=progress)
    mels = [np.asarray(ds.load_mel(i), dtype=np.float32) for i in range(len(ds))]
    frames = max(min_frames, max(m.shape[1] for m in mels))
    out = np.full((len(mels), params.n_rows, frames), LOG_PAD, dtype=np.float32)
    for i, m in enumerate(mels):
        out[i, :, : m.shape[1]] = m
        if params.chroma and m.shape[1] < frames:  # silent chroma is its floor, not LOG_PAD
            out[i, params.n_mels :, m.shape[1] :] = np.log(1e-3)
    genre = torch.tensor([it.genre_idx for it in ds.items], dtype=torch.long)
    return ds, torch.from_numpy(out), genre


def load_gan_data(
    data: str | Path,
    space,
    *,
    captions_per_clip: int = 8,
    min_frames: int = 256,
    seed: int = 0,
    cache: str | Path | None = None,
    progress: bool = True,
) -> GANData:
    """Features and style vectors of the ``train`` split of corpus ``data``.

    ``space`` is the (frozen) :class:`mmgan.style.StyleSpace` the GAN is conditioned in.
    """
    data = Path(data)
    params = MelParams(chroma=True)
    ds, feats, genre = _features(data, params, min_frames, progress)
    rows = {row_id(r): r for r in read_metadata(data)}
    texts: list[str] = []
    for n, item in enumerate(ds.items):
        row = rows.get(item.id, {"caption": item.caption, "genre": ds.genres[item.genre_idx]})
        texts += augmented_captions(row, captions_per_clip - 1, np.random.default_rng((seed, n)))
    key = hashlib.sha1(
        ("\n".join(texts) + space.name + str(tuple(feats.shape))).encode()
    ).hexdigest()[:16]
    cached = Path(cache) if cache else None
    if cached is not None and cached.is_file():
        state = load_state(cached)
        if state.get("key") == key:
            return _assemble(ds, feats, genre, state["styles"])
    with torch.no_grad():
        text = torch.cat([space.encode_text(texts[i : i + 512]) for i in range(0, len(texts), 512)])
        model = space.model
        audio = torch.stack(
            [model.embed_clip_mel(feats[i]) for i in _bar(range(len(ds)), progress)]
        )
    styles = torch.cat([audio[:, None], text.view(len(ds), captions_per_clip, -1)], dim=1)
    if cached is not None:
        save_state(cached, {"step": 0, "key": key, "styles": styles.float()})
    return _assemble(ds, feats, genre, styles.float())


def _assemble(ds, feats: torch.Tensor, genre: torch.Tensor, styles: torch.Tensor) -> GANData:
    mel_rows = feats.permute(1, 0, 2).reshape(feats.shape[1], -1)
    return GANData(
        feats=feats.half(),
        styles=styles,
        genre=genre,
        genres=list(ds.genres),
        mean=mel_rows.mean(dim=1),
        std=mel_rows.std(dim=1),
    )


def _bar(it, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(it, desc="style vectors of the training clips", disable=not progress)
