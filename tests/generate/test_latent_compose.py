"""Latent tools (slerp, truncation, morph curves) and long-form planning (sections, energy
shaping, morphs, fades)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmgan.generate.compose import energy_curve, fade, plan_sections, shaped_style
from mmgan.generate.latent import morph_curve, slerp, style_track, truncate, w_mean


def unit(n=8, seed=0):
    return F.normalize(torch.randn(n, generator=torch.Generator().manual_seed(seed)), dim=0)


def test_slerp_endpoints_norm_and_equal_angles():
    a, b = unit(seed=1), unit(seed=2)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-6)
    assert torch.allclose(slerp(a, b, 1.0), b, atol=1e-6)
    path = slerp(a, b, torch.linspace(0, 1, 5))
    assert path.shape == (5, 8) and torch.allclose(path.norm(dim=1), torch.ones(5))
    angles = torch.arccos((path[:-1] * path[1:]).sum(1).clamp(-1, 1))
    assert torch.allclose(angles, angles[0].expand(4), atol=1e-4)  # constant speed
    assert torch.allclose(slerp(a, a, 0.3), a, atol=1e-6)  # parallel: no NaN


def test_truncate():
    w, m = torch.ones(3), torch.zeros(3)
    assert torch.equal(truncate(w, m, 1.0), w) and torch.equal(truncate(w, m, 0.0), m)
    with pytest.raises(ValueError, match="truncation"):
        truncate(w, m, 1.2)


def test_morph_curve_and_style_track():
    c = morph_curve(11)
    assert c[0] == 0 and c[-1] == 1 and np.all(np.diff(c) >= 0)
    assert np.allclose(morph_curve(3, shape="linear"), [0, 0.5, 1])
    with pytest.raises(ValueError):
        morph_curve(3, shape="wobbly")
    track = style_track(unit(seed=1), unit(seed=2), c)
    assert track.shape == (8, 11)


def test_w_mean_shapes():
    from mmgan.models.specgan import SpecGenerator

    g = SpecGenerator(style_dim=8, z_global=4, z_local=4, w_dim=12, channels=(8, 8))
    assert w_mean(g, F.normalize(torch.randn(2, 8), dim=1), n=16).shape == (2, 12, 1)
    assert w_mean(g, F.normalize(torch.randn(1, 8, 5), dim=1), n=16).shape == (1, 12, 5)


def test_sections_cover_the_track():
    plan = plan_sections(60.0)
    assert [s.name for s in plan] == ["intro", "development", "climax", "outro"]
    assert plan[0].start_s == 0 and plan[-1].end_s == 60.0
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(plan, plan[1:], strict=False))
    assert [s.name for s in plan_sections(8.0)] == ["main"]
    assert [s.name for s in plan_sections(60.0, sections=False)] == ["main"]
    with pytest.raises(ValueError):
        plan_sections(0)


def test_energy_rises_to_the_climax_and_falls():
    plan = plan_sections(100.0)
    t = np.arange(0, 100, 0.5)
    e = energy_curve(plan, t)
    assert e[(t > 55) & (t < 75)].mean() > e[t < 10].mean() + 0.5
    assert e[-1] < e[(t > 55) & (t < 75)].mean() - 0.8
    assert np.max(np.abs(np.diff(e))) < 0.2  # eased: no jumps


def test_shaped_style_and_morph():
    s, axis, b = unit(seed=1), unit(seed=3), unit(seed=4)
    plan = plan_sections(30.0)
    flat = shaped_style(s, 40, 0.75, plan_sections(30.0, False), energy_axis=axis)
    assert torch.allclose(flat, s[:, None].expand(-1, 40))
    shaped = shaped_style(s, 40, 0.75, plan, energy_axis=axis, depth=0.3)
    assert torch.allclose(shaped.norm(dim=0), torch.ones(40), atol=1e-5)
    proj = (shaped * axis[:, None]).sum(0)
    assert proj[20:30].mean() > proj[:4].mean()  # climax leans toward "high energy"
    morph = shaped_style(s, 40, 0.75, plan_sections(30.0, False), morph_to=b)
    assert torch.allclose(morph[:, 0], s, atol=1e-5) and torch.allclose(morph[:, -1], b, atol=1e-5)


def test_fade():
    x = np.ones(22050 * 20, dtype=np.float32)
    y = fade(x, 22050, plan_sections(20.0))
    assert y[0] == 0 and y[-1] == 0 and y[len(y) // 2] == 1
    assert fade(x, 22050, plan_sections(5.0))[-1] == 1  # no outro, no fade-out
