"""Latent tools: spherical interpolation, truncation, per-style mean codes, morph curves.

Style vectors are L2-normalised ``[..., D]``; a generator's modulation codes are
``w [B, w_dim, T0]`` (see :mod:`mmgan.models.specgan`).

    >>> a, b = torch.nn.functional.normalize(torch.randn(2, 8), dim=-1)
    >>> slerp(a, b, 0.0).allclose(a, atol=1e-6)
    True
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["morph_curve", "slerp", "style_track", "truncate", "w_mean"]


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of unit vectors ``a``, ``b`` ``[..., D]`` at ``t`` (0 = a,
    1 = b; a tensor ``t [K]`` gives ``[K, D]`` for 1-D inputs). Falls back to normalised
    linear interpolation when ``a`` and ``b`` are (anti)parallel."""
    a, b = F.normalize(a.float(), dim=-1), F.normalize(b.float(), dim=-1)
    t = torch.as_tensor(t, dtype=a.dtype)
    if t.ndim == 1 and a.ndim == 1:
        a, b, t = a[None], b[None], t[:, None]
    elif t.ndim == 0:
        t = t.view(*([1] * a.ndim))
    cos = (a * b).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    so = torch.sin(omega)
    safe = so.abs() > 1e-4
    wa = torch.where(safe, torch.sin((1 - t) * omega) / so.where(safe, torch.ones_like(so)), 1 - t)
    wb = torch.where(safe, torch.sin(t * omega) / so.where(safe, torch.ones_like(so)), t)
    return F.normalize(wa * a + wb * b, dim=-1)


def truncate(w: torch.Tensor, mean: torch.Tensor, psi: float) -> torch.Tensor:
    """``mean + psi * (w - mean)``: ``psi = 1`` leaves codes alone, ``0`` gives the mean."""
    if not 0.0 <= psi <= 1.0:
        raise ValueError(f"truncation must lie in [0, 1], got {psi}")
    return mean + psi * (w - mean)


@torch.no_grad()
def w_mean(g, style: torch.Tensor, n: int = 256, seed: int = 0) -> torch.Tensor:
    """The generator's average modulation code for each style: ``E_z[map(z, s)]``.

    ``style [B, D]`` -> ``[B, w_dim, 1]`` (``n`` latent draws); ``style [B, D, T0]`` ->
    ``[B, w_dim, T0]`` (``max(8, n // 16)`` draws per step, so long tracks stay cheap).
    """
    varying = style.ndim == 3
    steps = style.shape[-1] if varying else 1
    draws = max(8, n // 16) if varying else n
    gen = torch.Generator().manual_seed(int(seed) + 911)
    out = []
    for row in style:
        lat = g.sample_latents(draws, steps, generator=gen).to(style.device)
        s = row[None].expand(draws, *row.shape)
        w = g.map(s, lat).mean(dim=0, keepdim=True)  # [1, w_dim, steps]
        out.append(w if varying else w.mean(dim=-1, keepdim=True))
    res = torch.cat(out)
    return res  # [B, w_dim, 1] or [B, w_dim, T0]


def morph_curve(steps: int, start: float = 0.0, end: float = 1.0, shape: str = "smooth"):
    """Mixing weight of the second style at each of ``steps`` positions (``[steps]``):
    ``"linear"``, or ``"smooth"`` (smoothstep: lingers at both ends, turns in the middle)."""
    x = np.linspace(0.0, 1.0, max(1, steps))
    if shape == "smooth":
        x = x * x * (3 - 2 * x)
    elif shape != "linear":
        raise ValueError(f"morph shape must be 'linear' or 'smooth', got {shape!r}")
    return start + (end - start) * x


def style_track(a: torch.Tensor, b: torch.Tensor, weights: np.ndarray) -> torch.Tensor:
    """A style per position: ``slerp(a, b, weights[t])`` -> ``[D, len(weights)]``."""
    return slerp(a, b, torch.as_tensor(np.asarray(weights), dtype=torch.float32)).T
