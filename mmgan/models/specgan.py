"""Conditional log-mel GAN: a fully convolutional-in-time generator and a projection
discriminator, both 1-D over time with the feature rows (80 log-mel + 12 log-chroma) as
channels.

Generator ``(s, z) -> features [B, rows, T]`` (normalised per row; ``denormalise`` gives
log-mel/log-chroma):

- a **coordinate latent** (Musika): local noise anchors every ``z_every`` coarse steps,
  linearly interpolated in time (``latent_interp="vp"``: rescaled to unit variance at
  every step, see :func:`~mmgan.models.layers.coordinate_latent`), plus one global code
  per track;
- a **mapping network** (1x1 convs) from (global z, local z, style) to a modulation code
  ``w [B, w_dim, T0]`` at every coarse step (``T0 = T / 8``), so the style reaches every
  scale through FiLM and may change along a track (morphs, sections);
- **synthesis**: upsampling blocks with FiLM and per-step noise injection; no operation
  looks at statistics over time, so the output at a frame depends only on the codes near
  it and a 5-minute track computed in overlapping chunks equals one computed in a single
  pass — there are no segments to stitch, hence no seams (``generate_features``).

Discriminator ``(features, s) -> patch logits [B, T / 4]``: spectral norm, minibatch
standard deviation, dilated context (~2.5 s), and a projection term ``<embed(s), h_t>``
(Miyato & Koyama 2018).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmgan.models.layers import (
    MinibatchStd,
    ModulatedBlock,
    coordinate_latent,
    sn_conv1d,
)
from mmgan.weights import load_model_folder, save_model_folder

__all__ = ["MODEL_TYPE", "Latents", "SpecDiscriminator", "SpecGenerator", "row_generator"]

MODEL_TYPE = "mmgan-specgan"


def row_generator(seed: int, row: int) -> torch.Generator:
    """The torch RNG of output row ``row`` for ``seed`` (independent streams per row)."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(row)]).generate_state(2)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


class Latents:
    """The random inputs of a batch: ``z_global [B, Zg]``, ``anchors [B, Zl, K]`` and one
    noise tensor ``[B, 2, T_level]`` per synthesis block, for ``steps`` coarse steps."""

    def __init__(self, z_global, anchors, noise, steps: int) -> None:
        self.z_global, self.anchors, self.noise, self.steps = z_global, anchors, noise, steps

    def to(self, device: torch.device | str) -> Latents:
        return Latents(
            self.z_global.to(device),
            self.anchors.to(device),
            [n.to(device) for n in self.noise],
            self.steps,
        )


class SpecGenerator(nn.Module):
    """Style ``[B, style_dim]`` (or ``[B, style_dim, T0]``) + latents -> features.

    Example::

        g = SpecGenerator(style_dim=384, channels=(64, 48, 32, 32))
        lat = g.sample_latents(batch=2, steps=16)         # 16 coarse steps = 128 frames
        x = g(torch.randn(2, 384), lat)                   # [2, 92, 128]
    """

    def __init__(
        self,
        style_dim: int = 384,
        n_mels: int = 80,
        n_chroma: int = 12,
        z_global: int = 32,
        z_local: int = 32,
        z_every: int = 8,
        w_dim: int = 256,
        mapping_layers: int = 3,
        channels: Sequence[int] = (384, 256, 192, 128),
        latent_interp: str = "linear",
    ) -> None:
        super().__init__()
        if latent_interp not in ("linear", "vp"):
            raise ValueError(f"latent_interp must be 'linear' or 'vp', got {latent_interp!r}")
        self.latent_interp = latent_interp
        self.config = {
            "style_dim": style_dim,
            "n_mels": n_mels,
            "n_chroma": n_chroma,
            "z_global": z_global,
            "z_local": z_local,
            "z_every": z_every,
            "w_dim": w_dim,
            "mapping_layers": mapping_layers,
            "channels": [int(c) for c in channels],
            "latent_interp": latent_interp,
        }
        self.style_dim, self.rows, self.z_every = style_dim, n_mels + n_chroma, z_every
        self.n_mels, self.zg, self.zl = n_mels, z_global, z_local
        self.upsample = 2 ** (len(channels) - 1)  # frames per coarse step
        layers: list[nn.Module] = []
        d_in = z_global + z_local + style_dim
        for _ in range(mapping_layers):  # per-coarse-step MLP as 1x1 convs [B, *, T0]
            layers += [nn.Conv1d(d_in, w_dim, 1), nn.LeakyReLU(0.2)]
            d_in = w_dim
        self.mapping = nn.Sequential(*layers)
        self.style_skip = nn.Conv1d(style_dim, w_dim, 1)  # the style also bypasses the MLP
        self.stem = nn.Conv1d(w_dim, channels[0], 3, padding=1)
        ups = [1] + [2] * (len(channels) - 1)
        c_in = [channels[0]] + list(channels[:-1])
        self.blocks = nn.ModuleList(
            ModulatedBlock(a, b, w_dim, up) for a, b, up in zip(c_in, channels, ups, strict=True)
        )
        self.to_features = nn.Conv1d(channels[-1], self.rows, 3, padding=1)
        # per-row statistics of the training features (normalised <-> log units)
        self.register_buffer("feat_mean", torch.zeros(self.rows))
        self.register_buffer("feat_std", torch.ones(self.rows))

    # -- latents and mapping -----------------------------------------------------------

    def sample_latents(
        self, batch: int, steps: int, *, seed: int | None = None, generator=None
    ) -> Latents:
        """Random inputs for ``steps`` coarse steps; with ``seed``, row ``i`` is drawn from
        :func:`row_generator` ``(seed, i)`` (so a row does not depend on the batch size)."""
        k = steps // self.z_every + 2
        lengths = [steps * self.blocks[0].up * 2**i for i in range(len(self.blocks))]

        def draw(g: torch.Generator | None) -> tuple[torch.Tensor, ...]:
            zg = torch.randn(1, self.zg, generator=g)
            anchors = torch.randn(1, self.zl, k, generator=g)
            noise = tuple(torch.randn(1, 2, n, generator=g) for n in lengths)
            return (zg, anchors, *noise)

        rows = [
            draw(row_generator(seed, i) if seed is not None else generator) for i in range(batch)
        ]
        cols = [torch.cat(parts) for parts in zip(*rows, strict=True)]
        return Latents(cols[0], cols[1], cols[2:], steps)

    def map(self, style: torch.Tensor, lat: Latents) -> torch.Tensor:
        """Modulation codes ``w [B, w_dim, T0]`` from style ``[B, D]`` or ``[B, D, T0]``."""
        steps = lat.steps
        if style.ndim == 2:
            style = style[:, :, None].expand(-1, -1, steps)
        if style.shape[1] != self.style_dim or style.shape[-1] != steps:
            raise ValueError(
                f"style must be [B, {self.style_dim}] or [B, {self.style_dim}, {steps}], "
                f"got {tuple(style.shape)}"
            )
        vp = self.latent_interp == "vp"
        zl = coordinate_latent(lat.anchors, steps, self.z_every, vp)  # [B, Zl, T0]
        zg = lat.z_global[:, :, None].expand(-1, -1, steps)
        return self.mapping(torch.cat([zg, zl, style], dim=1)) + self.style_skip(style)

    def synthesize(self, w: torch.Tensor, noise: Sequence[torch.Tensor]) -> torch.Tensor:
        """``w [B, w_dim, T0]`` -> normalised features ``[B, rows, T0 * upsample]``."""
        x = self.stem(w)
        for block, n in zip(self.blocks, noise, strict=True):
            x = block(x, w, n)
        return self.to_features(x)

    def codes(self, style: torch.Tensor, lat: Latents, psi: float = 1.0, w_mean=None):
        """:meth:`map`, then with ``psi < 1`` pulled toward ``w_mean`` (truncation trick)."""
        w = self.map(style, lat)
        return w if psi == 1.0 or w_mean is None else w_mean + psi * (w - w_mean)

    def forward(self, style: torch.Tensor, lat: Latents, psi: float = 1.0, w_mean=None):
        """Normalised features ``[B, rows, lat.steps * upsample]`` (see :meth:`codes`)."""
        return self.synthesize(self.codes(style, lat, psi, w_mean), lat.noise)

    # -- units ---------------------------------------------------------------------------

    def normalise(self, feats: torch.Tensor) -> torch.Tensor:
        return (feats - self.feat_mean[:, None]) / self.feat_std[:, None]

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.feat_std[:, None] + self.feat_mean[:, None]

    @torch.no_grad()
    def set_feature_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.feat_mean.copy_(mean)
        self.feat_std.copy_(std.clamp_min(1e-3))

    # -- long outputs --------------------------------------------------------------------

    @property
    def context_steps(self) -> int:
        """Coarse steps of context either side that a chunk needs to equal a single pass."""
        return 4 + 2 * len(self.blocks)  # stem + two k3 convs a block + FiLM interpolation

    def generate_features(
        self,
        style: torch.Tensor,
        lat: Latents,
        *,
        psi: float = 1.0,
        w_mean: torch.Tensor | None = None,
        chunk_steps: int = 256,
    ) -> torch.Tensor:
        """Like ``forward`` but in overlapping chunks of ``chunk_steps`` coarse steps (memory
        stays flat for long tracks); the result equals a single pass to float rounding."""
        w = self.codes(style, lat, psi, w_mean)
        steps, ctx, up = lat.steps, self.context_steps, self.upsample
        if steps <= chunk_steps + 2 * ctx:
            return self.synthesize(w, lat.noise)
        out = []
        for a in range(0, steps, chunk_steps):
            b = min(steps, a + chunk_steps)
            lo, hi = max(0, a - ctx), min(steps, b + ctx)
            noise = [
                n[..., lo * n.shape[-1] // steps : hi * n.shape[-1] // steps] for n in lat.noise
            ]
            x = self.synthesize(w[..., lo:hi], noise)
            out.append(x[..., (a - lo) * up : (b - lo) * up])
        return torch.cat(out, dim=-1)

    # -- files -----------------------------------------------------------------------------

    def save_pretrained(
        self, directory: str | Path, extra: dict[str, Any] | None = None, dtype=torch.float32
    ) -> Path:
        """``config.json`` (constructor args + ``extra``) and ``model.safetensors``."""
        config = {"model_type": MODEL_TYPE, **self.config, **(extra or {})}
        return save_model_folder(directory, self, config, dtype=dtype, keep_float32=("feat_",))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> tuple[SpecGenerator, dict[str, Any]]:
        """``(generator in eval mode, its config.json)``; CheckpointError when it is not one."""
        hint = "train one with `mmgan train gan`"
        return load_model_folder(cls, directory, kind=MODEL_TYPE, hint=hint)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class SpecDiscriminator(nn.Module):
    """Features ``[B, rows, T]`` + style ``[B, D]`` -> patch logits ``[B, T // 2^(len(channels) - 2)]``
    (``T // 4`` with the default four widths)."""

    def __init__(
        self,
        style_dim: int = 384,
        rows: int = 92,
        channels: Sequence[int] = (256, 256, 384, 512),
        mbstd_group: int = 4,
    ) -> None:
        super().__init__()
        c = list(channels)
        self.inp = sn_conv1d(rows, c[0], 3)  # [B, c0, T]
        self.down = nn.ModuleList(
            sn_conv1d(a, b, 4, stride=2) for a, b in zip(c[:-2], c[1:-1], strict=True)
        )  # each halves T: [B, c_i, T / 2^i]
        self.mbstd = MinibatchStd(mbstd_group)
        self.mid = sn_conv1d(c[-2] + 1, c[-1], 3)
        self.context = nn.ModuleList(sn_conv1d(c[-1], c[-1], 3, dilation=d) for d in (2, 4, 8))
        self.out = sn_conv1d(c[-1], 1, 1)
        # not spectrally normalised and not scaled down: a first version (sn_linear and
        # / sqrt(C)) left the style term too small for D to use — real audio with a
        # mismatched style scored like matched audio for 500 steps
        self.embed = nn.Linear(style_dim, c[-1], bias=False)
        self.frames_per_logit = 2 ** len(self.down)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.inp(x), 0.2)
        for conv in self.down:
            h = F.leaky_relu(conv(h), 0.2)
        h = F.leaky_relu(self.mid(self.mbstd(h)), 0.2)
        for conv in self.context:
            h = h + F.leaky_relu(conv(h), 0.2)  # [B, C, T']
        projection = (self.embed(style)[:, :, None] * h).sum(dim=1)
        return self.out(h)[:, 0] + projection  # [B, T']
