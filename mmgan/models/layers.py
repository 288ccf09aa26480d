"""Building blocks of the conditional GANs (1-D over time; feature rows are channels).

Shapes: features ``[B, C, T]`` (``C`` channels at ``T`` time steps), modulation
``[B, W, T]`` (a style/noise code per time step, so the style may change along a track).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = [
    "FiLM",
    "MinibatchStd",
    "NoiseInjection",
    "ModulatedBlock",
    "coordinate_latent",
    "sn_conv1d",
    "sn_linear",
]


def sn_conv1d(c_in: int, c_out: int, k: int, stride: int = 1, dilation: int = 1) -> nn.Module:
    """Spectrally normalised 1-D conv with "same" padding for stride 1."""
    pad = dilation * (k - 1) // 2 if stride == 1 else (k - stride) // 2
    return spectral_norm(nn.Conv1d(c_in, c_out, k, stride, pad, dilation=dilation))


def sn_linear(d_in: int, d_out: int, bias: bool = True) -> nn.Module:
    return spectral_norm(nn.Linear(d_in, d_out, bias=bias))


class FiLM(nn.Module):
    """Feature-wise modulation ``x * (1 + gamma(w)) + beta(w)`` after a per-channel
    normalisation over the channel axis only (no statistics over time, so a long track
    generated in chunks equals one generated in a single pass).

    x ``[B, C, T]``, w ``[B, W, T]`` (``T`` equal, or ``w`` at a coarser rate: it is
    linearly upsampled to ``T``).
    """

    def __init__(self, channels: int, w_dim: int) -> None:
        super().__init__()
        self.to_gb = nn.Conv1d(w_dim, 2 * channels, 1)
        nn.init.zeros_(self.to_gb.weight)
        nn.init.zeros_(self.to_gb.bias)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        gb = self.to_gb(w)
        if gb.shape[-1] != x.shape[-1]:
            gb = F.interpolate(gb, size=x.shape[-1], mode="linear", align_corners=False)
        gamma, beta = gb.chunk(2, dim=1)
        x = x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)  # pixel norm [B, C, T]
        return x * (1 + gamma) + beta


class NoiseInjection(nn.Module):
    """Adds ``scale_c * noise[B, 1, T]``: per-time-step noise, learned per-channel gain."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(1, channels, 1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return x + self.scale * noise


class ModulatedBlock(nn.Module):
    """Upsample ×``up`` in time, then two (conv k3 → noise → FiLM → LeakyReLU) layers.

    ``subpixel=False``: nearest-neighbour upsampling (spectrograms: smooth in time).
    ``subpixel=True``: each of the ``up`` new positions gets its own weights (a 1x1 conv to
    ``c_in * up`` channels, then interleaved: sub-pixel convolution). Piano-rolls need it: a
    nearest-upsampled signal is the same at every step inside a beat, so the layers after it
    cannot tell the downbeat from the "and" and can only hold notes for whole beats
    (measured: held clusters and no rhythm after 200 steps on ``small``)."""

    def __init__(
        self, c_in: int, c_out: int, w_dim: int, up: int = 2, subpixel: bool = False
    ) -> None:
        super().__init__()
        self.up = up
        self.expand = nn.Conv1d(c_in, c_in * up, 1) if subpixel and up > 1 else None
        self.conv1 = nn.Conv1d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv1d(c_out, c_out, 3, padding=1)
        self.noise1, self.noise2 = NoiseInjection(c_out), NoiseInjection(c_out)
        self.film1, self.film2 = FiLM(c_out, w_dim), FiLM(c_out, w_dim)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x ``[B, c_in, T]`` -> ``[B, c_out, T * up]``; noise ``[B, 2, T * up]``."""
        if self.expand is not None:
            b, c, t = x.shape
            x = self.expand(x).view(b, c, self.up, t).transpose(2, 3).reshape(b, c, t * self.up)
        elif self.up > 1:
            x = F.interpolate(x, scale_factor=self.up, mode="nearest")
        x = F.leaky_relu(self.film1(self.noise1(self.conv1(x), noise[:, :1]), w), 0.2)
        return F.leaky_relu(self.film2(self.noise2(self.conv2(x), noise[:, 1:2]), w), 0.2)


class MinibatchStd(nn.Module):
    """Appends one channel: the mean over channels of the std over groups of the batch
    (StyleGAN), per time step, so the discriminator can see a batch that lacks variety."""

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t = x.shape
        g = min(self.group, b)
        while b % g:
            g -= 1
        y = x.reshape(g, b // g, c, t)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=1, keepdim=True)  # [b/g, 1, t]
        return torch.cat([x, y.repeat(g, 1, 1)], dim=1)


def coordinate_latent(
    anchors: torch.Tensor, steps: int, every: int, preserve_variance: bool = False
) -> torch.Tensor:
    """Musika-style coordinate latent: anchors ``[B, Z, K]`` placed every ``every`` steps,
    linearly interpolated to ``[B, Z, steps]`` (``K >= steps // every + 2``; position ``t``
    lies between anchors ``t // every`` and ``t // every + 1``).

    Plain linear interpolation of independent N(0, 1) anchors has variance
    ``(1 - f)^2 + f^2``: 1 on an anchor, 0.5 halfway. A generator fed that hears a pulse
    once per anchor spacing whatever the music's tempo (measured on the shipped spectrogram
    GAN, hiphop: mel change within an anchor spacing 1.3x the median on the anchors, 0.84x
    halfway). ``preserve_variance`` divides by ``sqrt((1 - f)^2 + f^2)``, so every step is
    N(0, 1) and the path has no special points."""
    t = torch.arange(steps, device=anchors.device, dtype=anchors.dtype)
    left = torch.div(t, every, rounding_mode="floor").long()
    frac = (t / every - left).view(1, 1, -1)
    out = anchors[..., left] * (1 - frac) + anchors[..., left + 1] * frac
    if preserve_variance:
        out = out / torch.sqrt((1 - frac) ** 2 + frac**2)
    return out
