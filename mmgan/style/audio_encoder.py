"""The audio tower of the style space and the trained model that ships it.

``AudioEncoder``: a compact CNN over log-mel ``[B, 1, n_mels, T] -> [B, embed_dim]``
(L2-normalised). ``StyleModel`` holds the audio encoder, the linear text projection
that sits on top of the frozen text encoder (LiT-style, initialised to identity) and
the learnable temperature ``logit_scale``; it embeds mels and raw waveforms and saves
itself as ``config.json`` + ``model.safetensors`` (never pickle).

Example::

    model = StyleModel(channels=(16, 32, 64, 128))
    s = model.embed_waveform(np.random.randn(2, 44100).astype("float32"), 44100)  # [1, 384]
    model.save_pretrained("run/model")
    same = StyleModel.from_pretrained("run/model")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmgan.audio.features import CHROMA_BINS, CHROMA_FLOOR, LOG_FLOOR, MelParams, log_mel
from mmgan.audio.io import AudioError, resample, to_mono
from mmgan.style.music_terms import NO_KEY, music_terms
from mmgan.weights import (
    CheckpointError,
    load_checked,
    load_model_folder,
    save_model_folder,
)

__all__ = ["AudioEncoder", "StyleModel", "CheckpointError", "window_starts"]

MODEL_TYPE = "mmgan-style"
LOG_PAD = math.log(LOG_FLOOR)
MAX_LOGIT_SCALE = math.log(100.0)
TEMPO_FREQS = 16  # sinusoidal tempo features: 16 periods, sin + cos


def _conv_block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.GELU(),
    )


class AudioEncoder(nn.Module):
    """Compact CNN: log-mel ``[B, 1, n_mels, T]`` -> L2-normalised ``[B, embed_dim]``.

    Layer stack (defaults, ``n_mels=80``, ``T=256``)::

        input BatchNorm                       # [B, 1, 80, 256]
        conv3x3 stride 2, 1 -> c0             # [B, c0, 40, 128]
        per next c: maxpool 2, conv3x3 (x2)   # [B, 256, 5, 16] after three stages
        flatten frequency, linear -> width    # [B, 16, width]   (keeps pitch position)
        mean + max over time                  # [B, 2 * width]
        (+ chroma branch, + rhythm branch)    # [B, 2 * width (+ 2 * width // 2) (+ width // 2)]
        linear                                # [B, embed_dim]

    Optional branches for what an 80-band mel CNN on 3 s hears poorly:

    - ``chroma=True``: the input carries 12 log-chroma rows under the mel rows
      (``[B, 1, n_mels + 12, T]``, see :mod:`mmgan.audio.features`); two 1-D convs over
      time, mean + max pooled -> the key / harmony of the clip.
    - ``rhythm=True``: an onset envelope (positive log-mel flux, mean over bands), its
      normalised autocorrelation at lags 1..``rhythm_lags`` frames (a tempogram summary;
      128 lags ≈ 1.5 s ≈ 40 BPM at hop 256) -> MLP -> tempo and groove.
    """

    def __init__(
        self,
        *,
        n_mels: int = 80,
        channels: Sequence[int] = (32, 64, 128, 256),
        width: int = 512,
        embed_dim: int = 384,
        chroma: bool = False,
        rhythm: bool = False,
        rhythm_lags: int = 128,
    ) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if len(channels) < 2:
            raise ValueError(f"channels needs at least two stages, got {channels}")
        self.n_mels, self.channels, self.width, self.embed_dim = n_mels, channels, width, embed_dim
        self.chroma, self.rhythm, self.rhythm_lags = bool(chroma), bool(rhythm), int(rhythm_lags)
        self.n_rows = n_mels + (CHROMA_BINS if chroma else 0)
        self.input_norm = nn.BatchNorm2d(1)
        layers: list[nn.Module] = [_conv_block(1, channels[0], stride=2)]
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [nn.MaxPool2d(2, ceil_mode=True), _conv_block(c_in, c_out)]
            layers += [_conv_block(c_out, c_out)]
        self.features = nn.Sequential(*layers)
        freq = math.ceil(n_mels / 2)
        for _ in channels[1:]:
            freq = math.ceil(freq / 2)
        self.freq_proj = nn.Linear(channels[-1] * freq, width)
        pooled = 2 * width
        half = max(16, width // 2)
        if self.chroma:
            self.chroma_net = nn.Sequential(  # [B, 12, T] -> [B, half, T / 2]
                nn.BatchNorm1d(CHROMA_BINS),
                nn.Conv1d(CHROMA_BINS, half, 9, padding=4),
                nn.GELU(),
                nn.Conv1d(half, half, 9, stride=2, padding=4),
                nn.GELU(),
            )
            pooled += 2 * half
        if self.rhythm:
            self.rhythm_net = nn.Sequential(  # [B, lags] -> [B, half]
                nn.Linear(self.rhythm_lags, half), nn.GELU(), nn.Linear(half, half), nn.GELU()
            )
            pooled += half
        self.head = nn.Sequential(nn.GELU(), nn.Linear(pooled, embed_dim))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """``mel [B, 1, n_rows, T]`` (log-mel, + log-chroma rows) -> ``[B, embed_dim]``, unit norm."""
        if mel.ndim != 4 or mel.shape[1] != 1 or mel.shape[2] != self.n_rows:
            what = f"{self.n_mels} mel" + (f" + {CHROMA_BINS} chroma" if self.chroma else "")
            raise ValueError(
                f"expected [B, 1, {self.n_rows}, T] ({what} rows), got {tuple(mel.shape)}"
            )
        spec = mel[:, :, : self.n_mels]
        x = self.features(self.input_norm(spec))  # [B, C, F', T']
        b, c, f, t = x.shape
        x = self.freq_proj(x.permute(0, 3, 1, 2).reshape(b, t, c * f))  # [B, T', width]
        parts = [x.mean(dim=1), x.amax(dim=1)]  # 2 x [B, width]
        if self.chroma:
            chroma = mel[:, 0, self.n_mels :].clamp(min=math.log(CHROMA_FLOOR))  # [B, 12, T]
            h = self.chroma_net(chroma)  # [B, half, T / 2]
            parts += [h.mean(dim=2), h.amax(dim=2)]
        if self.rhythm:
            parts.append(self.rhythm_net(onset_autocorrelation(spec[:, 0], self.rhythm_lags)))
        return F.normalize(self.head(torch.cat(parts, dim=-1)), dim=-1)


def onset_autocorrelation(logmel: torch.Tensor, lags: int) -> torch.Tensor:
    """Tempogram summary: ``logmel [B, F, T]`` -> ``[B, lags]``.

    Onset envelope = mean over bands of the positive frame-to-frame log-mel increase,
    mean removed; its autocorrelation at lags ``1..lags`` divided by lag 0 (so in
    [-1, 1]); lags past the crop length are 0.
    """
    env = F.relu(logmel[:, :, 1:] - logmel[:, :, :-1]).mean(dim=1)  # [B, T - 1]
    env = env - env.mean(dim=1, keepdim=True)
    n = env.shape[1]
    size = 1 << (2 * n - 1).bit_length()
    spec = torch.fft.rfft(env, n=size)
    ac = torch.fft.irfft(spec * spec.conj(), n=size)[:, : lags + 1]  # [B, lags + 1]
    if ac.shape[1] < lags + 1:
        ac = F.pad(ac, (0, lags + 1 - ac.shape[1]))
    return ac[:, 1:] / ac[:, :1].clamp(min=1e-6)


def window_starts(frames: int, window: int, hop: int) -> list[int]:
    """Start frames of windows covering ``frames`` (the last one flush with the end)."""
    if frames <= window:
        return [0]
    starts = list(range(0, frames - window + 1, hop))
    if starts[-1] != frames - window:
        starts.append(frames - window)
    return starts


class StyleModel(nn.Module):
    """Audio encoder + text projection + temperature: the trained part of the style space.

    Args:
        n_mels, channels, width, embed_dim: :class:`AudioEncoder` arguments.
        window_frames: frames per embedding window (256 ≈ 3 s at hop 256, 22.05 kHz).
        text_encoder: spec of the frozen text encoder the projection belongs to.
        style_space_id: name of the space (vectors of different ids are not comparable).
        temperature: initial softmax temperature (``logit_scale = log(1/temperature)``).
        text_hidden: 0 = the text projection is one linear map; ``H > 0`` adds a residual
            MLP ``D -> H -> D`` (zero-initialised, so training starts from the linear map).
        chroma, rhythm: the :class:`AudioEncoder` branches (chroma also makes the model's
            ``mel_params`` append log-chroma rows to its features).
        music_terms: add learned terms for a key and a tempo named in the text (parsed by
            :mod:`mmgan.style.music_terms`): a key embedding (24 keys + "none") and a
            linear map of sinusoidal tempo features, both zero-initialised.
    """

    def __init__(
        self,
        *,
        n_mels: int = 80,
        channels: Sequence[int] = (32, 64, 128, 256),
        width: int = 512,
        embed_dim: int = 384,
        window_frames: int = 256,
        text_encoder: str = "minilm",
        style_space_id: str = "mmgan-style-minilm-v2",
        temperature: float = 0.07,
        text_hidden: int = 0,
        chroma: bool = False,
        rhythm: bool = False,
        music_terms: bool = False,
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "n_mels": int(n_mels),
            "channels": [int(c) for c in channels],
            "width": int(width),
            "embed_dim": int(embed_dim),
            "window_frames": int(window_frames),
            "text_encoder": str(text_encoder),
            "style_space_id": str(style_space_id),
            "temperature": float(temperature),
            "text_hidden": int(text_hidden),
            "chroma": bool(chroma),
            "rhythm": bool(rhythm),
            "music_terms": bool(music_terms),
        }
        self.audio_encoder = AudioEncoder(
            n_mels=n_mels,
            channels=channels,
            width=width,
            embed_dim=embed_dim,
            chroma=chroma,
            rhythm=rhythm,
        )
        self.text_projection = nn.Linear(embed_dim, embed_dim)
        with torch.no_grad():
            self.text_projection.weight.copy_(torch.eye(embed_dim))
            self.text_projection.bias.zero_()
        self.text_mlp: nn.Module | None = None
        if text_hidden > 0:
            self.text_mlp = nn.Sequential(
                nn.Linear(embed_dim, text_hidden), nn.GELU(), nn.Linear(text_hidden, embed_dim)
            )
            with torch.no_grad():
                self.text_mlp[2].weight.zero_()
                self.text_mlp[2].bias.zero_()
        self.key_embedding: nn.Embedding | None = None
        self.tempo_proj: nn.Linear | None = None
        if music_terms:
            self.key_embedding = nn.Embedding(NO_KEY + 1, embed_dim)
            self.tempo_proj = nn.Linear(2 * TEMPO_FREQS, embed_dim)
            for p in (self.key_embedding.weight, self.tempo_proj.weight, self.tempo_proj.bias):
                nn.init.zeros_(p)
            # periods from 8 to 400 BPM: fine enough to tell 92 from 96, smooth across them
            periods = torch.exp(torch.linspace(math.log(8.0), math.log(400.0), TEMPO_FREQS))
            self.register_buffer("tempo_freqs", 2 * math.pi / periods, persistent=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature)))
        self.mel_params = MelParams(n_mels=n_mels, chroma=bool(chroma))
        self.window_frames = int(window_frames)

    # ------------------------------------------------------------------ embedding

    def scale(self) -> torch.Tensor:
        """``exp(logit_scale)`` clamped to at most 100 (CLIP's bound)."""
        return self.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()

    def project_text(
        self, text: torch.Tensor, terms: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Frozen text-encoder vectors ``[B, embed_dim]`` -> style vectors ``[B, embed_dim]``.

        ``terms``: ``(key [B], bpm [B])`` from :func:`mmgan.style.music_terms.music_terms`
        of the same texts; required when the model has ``music_terms`` (use
        :meth:`text_terms`), ignored otherwise.
        """
        out = self.text_projection(text)
        if self.text_mlp is not None:
            out = out + self.text_mlp(text)
        if self.key_embedding is not None:
            if terms is None:
                raise ValueError(
                    "this style model reads key and tempo from the words: pass "
                    "terms=model.text_terms(texts) with the texts' vectors"
                )
            key, bpm = (t.to(out.device) for t in terms)
            if key.shape != out.shape[:1] or bpm.shape != out.shape[:1]:
                raise ValueError(f"terms for {key.shape[0]} texts, vectors for {out.shape[0]}")
            phase = bpm[:, None] * self.tempo_freqs
            feats = torch.cat([phase.sin(), phase.cos()], dim=-1) * (bpm[:, None] > 0)
            out = out + self.key_embedding(key) + self.tempo_proj(feats)
        return F.normalize(out, dim=-1)

    def text_terms(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The ``terms`` :meth:`project_text` wants for ``texts`` (``None`` without them)."""
        return music_terms(texts) if self.key_embedding is not None else None

    def embed_mel(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mel crops ``[B, 1, n_mels, T]`` -> ``[B, embed_dim]`` (normalised)."""
        return self.audio_encoder(mel)

    @torch.no_grad()
    def embed_clip_mel(
        self, mel: np.ndarray | torch.Tensor, hop: int | None = None
    ) -> torch.Tensor:
        """A whole clip's features ``[n_rows, frames]`` -> ``[embed_dim]``: the normalised mean
        of window embeddings (windows of ``window_frames``, hop ``window_frames // 2``)."""
        mel = torch.as_tensor(np.asarray(mel, dtype=np.float32))
        w = self.window_frames
        if mel.shape[1] < w:
            mel = F.pad(mel, (0, w - mel.shape[1]), value=LOG_PAD)
        starts = window_starts(mel.shape[1], w, hop or max(1, w // 2))
        device = next(self.parameters()).device
        crops = torch.stack([mel[:, s : s + w] for s in starts])[:, None].to(device)
        return F.normalize(self.embed_mel(crops).mean(dim=0), dim=-1)

    @torch.no_grad()
    def embed_waveform(self, wave: np.ndarray, sr: int) -> torch.Tensor:
        """Audio ``[T]`` or ``[C, T]`` at any rate and length -> ``[1, embed_dim]``.

        Raises:
            AudioError: empty, NaN/inf, or silent audio.
        """
        x = np.asarray(wave, dtype=np.float32)
        if x.ndim not in (1, 2):
            raise AudioError(f"expected audio of shape [T] or [C, T], got {x.shape}")
        if x.size == 0 or x.shape[-1] == 0:
            raise AudioError("audio has no samples; pass at least a few milliseconds")
        if not np.all(np.isfinite(x)):
            raise AudioError("audio contains NaN or infinite samples; clean or replace it")
        x = to_mono(x)
        if float(np.max(np.abs(x))) <= 1e-6:
            raise AudioError("audio is silent (peak below 1e-6); a style needs audible sound")
        if int(sr) != self.mel_params.sr:
            x = resample(x, int(sr), self.mel_params.sr)
        was_training = self.training
        self.eval()
        try:
            emb = self.embed_clip_mel(log_mel(x, self.mel_params.sr, self.mel_params))
        finally:
            self.train(was_training)
        return emb[None].cpu()

    # ------------------------------------------------------------------ save / load

    def save_pretrained(self, directory: str | Path, dtype: torch.dtype = torch.float32) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (``dtype``) into ``directory``."""
        return save_model_folder(
            directory, self, {"model_type": MODEL_TYPE, **self.config}, dtype=dtype
        )

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "cpu") -> StyleModel:
        """Load a folder written by :meth:`save_pretrained` (weights cast to float32, eval mode).

        Raises:
            CheckpointError: missing files, another model type, or weights of other shapes.
        """
        hint = "write one with StyleModel.save_pretrained or `mmgan train style`"
        model, _ = load_model_folder(cls, directory, kind=MODEL_TYPE, hint=hint)
        return model.to(device).eval()

    def load_checked(self, state: dict[str, torch.Tensor], where: str = "state dict") -> None:
        """``load_state_dict`` (float16 cast up); :class:`CheckpointError` if it does not fit."""
        load_checked(self, state, where)

    def num_parameters(self, audio_only: bool = False) -> int:
        """Trainable parameter count (of the audio encoder alone with ``audio_only``)."""
        module = self.audio_encoder if audio_only else self
        return sum(p.numel() for p in module.parameters())
