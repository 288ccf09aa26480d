"""The independent judge: which genre and which tags a clip sounds like.

``GenreJudge`` scores generated audio. It is trained on real corpus clips only and shares
neither weights nor architecture with the style space's audio encoder (a 2-D CNN over
80-band log-mel in 3 s windows), so a generator that learns to please the style encoder
does not please this judge by construction:

* front end (:mod:`mmgan.eval.judge_features`): 96 log-mel, 12 chroma, 7 spectral-contrast
  rows and one onset-strength row, ``[n_mels + 20, frames]`` at ~43 frames/s;
* network: a 1-D temporal residual conv net (frequency as channels, dilated convs),
  attentive statistics pooling over time (weighted mean + std), a linear embedding
  layer and two linear heads (genre softmax, tag sigmoids);
* ~5 s windows (216 frames); longer clips average the window embeddings (hop = half a
  window), shorter ones are padded and masked out of the pooling.

Example::

    judge = load_judge()                                  # mmgan/pretrained/judge
    out = judge.predict([stereo_44k, mono_44k], 44100)  # [2, T] and [T'] at 44.1 kHz
    out.genre_probs.shape, out.top_genres(2)              # (2, 10), [[("jazz", 0.97), ...], ...]
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmgan.eval.judge_features import (
    EXTRA_CHANNELS,
    check_batch,
    feature_windows,
    judge_features,
    prepare_wave,
)
from mmgan.weights import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    CheckpointError,
    load_checked,
    load_model_folder,
    save_model_folder,
)

__all__ = [
    "GenreJudge",
    "JudgeOutput",
    "CheckpointError",
    "EXTRA_CHANNELS",
    "judge_features",
    "load_judge",
    "embed",
    "PRETRAINED_DIR",
]

KIND = "genre-judge"
PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained" / "judge"


# ---------------------------------------------------------------------- network


class _TemporalBlock(nn.Module):
    """Residual dilated conv: ``[B, W, T] -> [B, W, T]`` (k=3 dilated, then 1x1)."""

    def __init__(self, width: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(width, width, 3, dilation=dilation, padding=dilation, bias=False)
        self.norm1 = nn.BatchNorm1d(width)
        self.mix = nn.Conv1d(width, width, 1, bias=False)
        self.norm2 = nn.BatchNorm1d(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x + self.norm2(self.mix(F.gelu(self.norm1(self.conv(x))))))


@dataclass
class JudgeOutput:
    """Per-clip judgements of N clips over G genres and V tags."""

    genre_probs: np.ndarray  # [N, G] softmax, rows sum to 1
    tag_scores: np.ndarray  # [N, V] independent sigmoid probabilities
    embedding: np.ndarray  # [N, E] float32 penultimate features (for FAD)
    genres: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def top_genres(self, k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` most likely genres of each clip, best first, as ``(genre, prob)``."""
        return _top(self.genre_probs, self.genres, k)

    def top_tags(self, k: int = 5) -> list[list[tuple[str, float]]]:
        """The ``k`` highest-scoring tags of each clip, best first, as ``(tag, score)``."""
        return _top(self.tag_scores, self.tags, k)


def _top(scores: np.ndarray, names: list[str], k: int) -> list[list[tuple[str, float]]]:
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return [
        [(names[j], float(row[j])) for j in idx] for row, idx in zip(scores, order, strict=True)
    ]


class GenreJudge(nn.Module):
    """Genre + tag classifier over :func:`judge_features`; see the module docstring.

    Layer stack (defaults: C = 96 + 20 = 116, W = 192, E = 256, a 216-frame window)::

        standardise features (train-set mean/std buffers)  # [B, 116, 216]
        conv1d k5 stride 2, BN, GELU                       # [B, 192, 108]
        residual dilated blocks (dilations 1, 2, 4, 8)     # [B, 192, 108]
        attentive statistics pooling (mean ++ std)         # [B, 384]
        linear + LayerNorm + GELU  -> embedding            # [B, 256]
        genre head [B, G] (softmax), tag head [B, V] (sigmoid)

    Args:
        genres, tags: class names of the two heads (the corpus' genre list and vocabulary).
        sample_rate, n_mels, n_fft, hop_length, fmin, fmax: :func:`judge_features` settings.
        width, dilations, attention_dim, embedding_dim: network sizes.
        window_frames: frames per analysis window (216 ≈ 5 s).
    """

    def __init__(
        self,
        *,
        genres: Sequence[str],
        tags: Sequence[str],
        sample_rate: int = 22050,
        n_mels: int = 96,
        n_fft: int = 2048,
        hop_length: int = 512,
        fmin: float = 30.0,
        fmax: float = 10000.0,
        width: int = 192,
        dilations: Sequence[int] = (1, 2, 4, 8),
        attention_dim: int = 64,
        embedding_dim: int = 256,
        window_frames: int = 216,
    ) -> None:
        super().__init__()
        if not genres:
            raise ValueError("genres is empty; the judge needs at least one genre to predict")
        if len(set(genres)) != len(genres) or len(set(tags)) != len(tags):
            raise ValueError("genres and tags must not contain duplicates")
        if window_frames < 8:
            raise ValueError(f"window_frames must be >= 8, got {window_frames}")
        self.genres, self.tags = [str(g) for g in genres], [str(t) for t in tags]
        self.sample_rate, self.embedding_dim = int(sample_rate), int(embedding_dim)
        self.window_frames = int(window_frames)
        self.feature_kwargs: dict[str, Any] = {
            "sample_rate": int(sample_rate),
            "n_mels": int(n_mels),
            "n_fft": int(n_fft),
            "hop_length": int(hop_length),
            "fmin": float(fmin),
            "fmax": float(fmax),
        }
        self.config: dict[str, Any] = {
            "genres": self.genres,
            "tags": self.tags,
            **self.feature_kwargs,
            "width": int(width),
            "dilations": [int(d) for d in dilations],
            "attention_dim": int(attention_dim),
            "embedding_dim": int(embedding_dim),
            "window_frames": int(window_frames),
        }
        channels = int(n_mels) + EXTRA_CHANNELS
        self.register_buffer("feature_mean", torch.zeros(channels))
        self.register_buffer("feature_std", torch.ones(channels))
        self.stem = nn.Sequential(
            nn.Conv1d(channels, width, 5, stride=2, padding=2, bias=False),
            nn.BatchNorm1d(width),
            nn.GELU(),
        )
        self.blocks = nn.Sequential(*[_TemporalBlock(width, int(d)) for d in dilations])
        self.attention = nn.Sequential(
            nn.Conv1d(width, attention_dim, 1), nn.Tanh(), nn.Conv1d(attention_dim, 1, 1)
        )
        self.embed_layer = nn.Sequential(
            nn.Linear(2 * width, embedding_dim), nn.LayerNorm(embedding_dim), nn.GELU()
        )
        self.genre_head = nn.Linear(embedding_dim, len(self.genres))
        self.tag_head = nn.Linear(embedding_dim, len(self.tags))

    @property
    def channels(self) -> int:
        return int(self.feature_mean.shape[0])

    def set_feature_stats(self, features: Sequence[np.ndarray]) -> None:
        """Set the standardisation buffers from clips' features ``[C, frames]`` (train split)."""
        cat = np.concatenate([np.asarray(f, dtype=np.float64) for f in features], axis=1)
        if cat.shape[0] != self.channels:
            raise ValueError(
                f"features have {cat.shape[0]} rows, the judge expects {self.channels}"
            )
        self.feature_mean.copy_(torch.from_numpy(cat.mean(axis=1)).float())
        self.feature_std.copy_(torch.from_numpy(np.maximum(cat.std(axis=1), 1e-3)).float())

    # ------------------------------------------------------------------ tensors

    def forward_embedding(
        self, features: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Raw features ``[B, C, T]`` (+ valid-frame ``mask [B, T]`` bool) -> ``[B, E]``."""
        if features.ndim != 3 or features.shape[1] != self.channels:
            raise ValueError(
                f"expected features [B, {self.channels}, T], got {tuple(features.shape)}"
            )
        x = (features - self.feature_mean[:, None]) / self.feature_std[:, None]
        if mask is not None:
            x = x * mask[:, None].to(x.dtype)
        x = self.blocks(self.stem(x))  # [B, W, T']
        score = self.attention(x)  # [B, 1, T']
        if mask is not None:
            keep = mask[:, ::2][:, None, : x.shape[-1]]  # the stem's stride 2
            score = score.masked_fill(~keep, float("-inf"))
        weight = torch.softmax(score.float(), dim=-1).to(x.dtype)
        mean = (weight * x).sum(-1)  # [B, W]
        std = ((weight * (x - mean[..., None]) ** 2).sum(-1) + 1e-5).sqrt()
        return self.embed_layer(torch.cat([mean, std], dim=-1))  # [B, E]

    def heads(self, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``[B, E]`` -> ``(genre_logits [B, G], tag_logits [B, V])``."""
        return self.genre_head(embedding), self.tag_head(embedding)

    def forward(
        self, features: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``[B, C, T]`` -> ``(genre_logits [B, G], tag_logits [B, V], embedding [B, E])``."""
        emb = self.forward_embedding(features, mask)
        return (*self.heads(emb), emb)

    @torch.no_grad()
    def embed_features(self, features: Sequence[np.ndarray], batch_size: int = 64) -> torch.Tensor:
        """Whole clips' features ``[C, frames_i]`` -> ``[N, E]``: the mean of the embeddings of
        ``window_frames`` windows (hop half a window; short clips padded and masked)."""
        device = self.feature_mean.device
        crops, masks, owner = feature_windows(features, self.window_frames)
        was = self.training
        self.eval()
        try:
            out = [
                self.forward_embedding(
                    torch.from_numpy(np.stack(crops[j : j + batch_size])).to(device),
                    torch.from_numpy(np.stack(masks[j : j + batch_size])).to(device),
                ).float()
                for j in range(0, len(crops), batch_size)
            ]
        finally:
            self.train(was)
        emb = torch.cat(out)  # [windows, E]
        idx = torch.tensor(owner, device=emb.device)
        total = torch.zeros(len(features), emb.shape[1], device=emb.device).index_add_(0, idx, emb)
        return total / torch.bincount(idx, minlength=len(features))[:, None].float()

    # ------------------------------------------------------------------ waveforms

    def features(
        self, waves: Sequence[np.ndarray] | np.ndarray, sample_rate: int
    ) -> list[np.ndarray]:
        """Check, mix down and resample ``waves`` (:func:`check_batch`, :func:`prepare_wave`),
        then :func:`judge_features` ``[C, frames_i]`` of each.

        Raises:
            ValueError: no clips, or a clip that is empty, non-finite or silent (named).
        """
        return [
            judge_features(
                prepare_wave(wave, sample_rate, self.sample_rate, name=f"waves[{i}]"),
                **self.feature_kwargs,
            )
            for i, wave in enumerate(check_batch(waves, sample_rate))
        ]

    @torch.no_grad()
    def predict(self, waves: Sequence[np.ndarray] | np.ndarray, sample_rate: int) -> JudgeOutput:
        """Judge clips: a list of ``[T]`` (or stereo ``[C, T]``) arrays of any lengths, or a
        ``[N, T]`` array, at ``sample_rate`` (resampled to :attr:`sample_rate`)."""
        emb = self.embed_features(self.features(waves, sample_rate))
        genre_logits, tag_logits = self.heads(emb)
        return JudgeOutput(
            genre_probs=torch.softmax(genre_logits.double(), dim=-1).cpu().numpy(),
            tag_scores=torch.sigmoid(tag_logits.double()).cpu().numpy(),
            embedding=emb.cpu().numpy().astype(np.float32),
            genres=list(self.genres),
            tags=list(self.tags),
        )

    def embed(self, waves: Sequence[np.ndarray] | np.ndarray, sample_rate: int) -> np.ndarray:
        """``[N, E]`` float32 embeddings (``predict(...).embedding``)."""
        return self.predict(waves, sample_rate).embedding

    # ------------------------------------------------------------------ save / load

    def save_pretrained(self, path: str | Path, dtype: torch.dtype = torch.float32) -> Path:
        """Write ``config.json`` + ``model.safetensors`` (``dtype``; the feature statistics stay
        float32) into the folder ``path``, atomically. Returns the folder."""
        return save_model_folder(
            path, self, {"kind": KIND, **self.config}, dtype=dtype, keep_float32=("feature_",)
        )

    @classmethod
    def from_pretrained(
        cls, path_or_name: str | Path | None = None, device: str = "cpu"
    ) -> GenreJudge:
        """Load a judge: ``None`` or ``"judge"`` (the shipped one), a model folder, or a run
        folder holding ``model/``. Weights come back as float32, in eval mode.

        Raises:
            CheckpointError: missing files, another kind of model, or weights of other shapes.
        """
        folder = _resolve(path_or_name)
        hint = "train a judge with `mmgan train judge`"
        model, _ = load_model_folder(cls, folder, kind=KIND, hint=hint)
        return model.to(device).eval()

    def load_checked(self, state: dict[str, torch.Tensor], where: str = "state dict") -> None:
        """``load_state_dict`` (float16 cast up); :class:`CheckpointError` if it does not fit."""
        load_checked(self, state, where)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def _resolve(path_or_name: str | Path | None) -> Path:
    """The model folder that ``path_or_name`` names (see :meth:`GenreJudge.from_pretrained`)."""
    if path_or_name is None or str(path_or_name) == "judge":
        folder = PRETRAINED_DIR
    else:
        folder = Path(path_or_name)
        if not (folder / CONFIG_NAME).is_file() and (folder / "model" / CONFIG_NAME).is_file():
            folder = folder / "model"
    if not (folder / CONFIG_NAME).is_file() or not (folder / WEIGHTS_NAME).is_file():
        raise CheckpointError(
            f"{folder} is not a judge folder: it needs {CONFIG_NAME} and {WEIGHTS_NAME} "
            "(pass None or 'judge' for the shipped judge, a folder written by "
            "GenreJudge.save_pretrained, or a `mmgan train judge` run folder)"
        )
    return folder


_CACHE: dict[tuple[str, str], GenreJudge] = {}


def load_judge(path_or_name: str | Path | None = None) -> GenreJudge:
    """:meth:`GenreJudge.from_pretrained` on CPU, cached per folder and weights version.

    The same object is returned to every caller: do not train or move it.
    """
    folder = _resolve(path_or_name).resolve()
    st = (folder / WEIGHTS_NAME).stat()
    version = hashlib.sha1(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()
    key = (str(folder), version)
    if key not in _CACHE:
        _CACHE[key] = GenreJudge.from_pretrained(folder)
    return _CACHE[key]


def embed(
    waves: Sequence[np.ndarray] | np.ndarray, sample_rate: int, judge: str | Path | None = None
) -> np.ndarray:
    """``[N, E]`` judge embeddings of ``waves`` with :func:`load_judge` ``(judge)``."""
    return load_judge(judge).embed(waves, sample_rate)
