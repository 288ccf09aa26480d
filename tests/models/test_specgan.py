"""The conditional spectrogram GAN networks: shapes, conditioning, determinism, seamless
long outputs, and self-describing checkpoints that refuse foreign or damaged files."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from mmgan.models.layers import FiLM, MinibatchStd, coordinate_latent
from mmgan.models.specgan import SpecDiscriminator, SpecGenerator
from mmgan.weights import CheckpointError

STYLE = 16


def tiny_g(**kw) -> SpecGenerator:
    torch.manual_seed(0)
    args = dict(style_dim=STYLE, z_global=4, z_local=4, w_dim=16, channels=(24, 16, 16, 8))
    g = SpecGenerator(**{**args, **kw}).eval()
    with torch.no_grad():  # FiLM and noise gains start at zero; give them a value
        for p in g.parameters():
            if p.abs().sum() == 0:
                p.normal_(0, 0.3)
    return g


def styles(n: int, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(n, STYLE, generator=torch.Generator().manual_seed(seed)), dim=1)


def test_shapes_generator_and_discriminator():
    g = tiny_g()
    lat = g.sample_latents(3, 10, seed=0)
    x = g(styles(3), lat)
    assert x.shape == (3, 92, 10 * 8)  # [B, 80 mel + 12 chroma rows, steps * 8 frames]
    d = SpecDiscriminator(style_dim=STYLE, rows=92, channels=(16, 16, 24, 24))
    assert d(x, styles(3)).shape == (3, 20)  # patch logits [B, T / 4] (two stride-2 convs)


def test_style_changes_output_and_noise_changes_output():
    g = tiny_g()
    lat = g.sample_latents(2, 8, seed=1)
    s = styles(2)
    base = g(s, lat)
    other_style = g(styles(2, seed=5), lat)
    other_noise = g(s, g.sample_latents(2, 8, seed=2))
    assert (base - other_style).abs().mean() > 1e-3
    assert (base - other_noise).abs().mean() > 1e-3


def test_seeded_rows_do_not_depend_on_batch_size():
    g = tiny_g()
    s = styles(1).expand(3, -1)
    three = g(s, g.sample_latents(3, 8, seed=7))
    one = g(s[:1], g.sample_latents(1, 8, seed=7))
    assert torch.allclose(three[:1], one, atol=1e-5)
    assert torch.equal(g(s, g.sample_latents(3, 8, seed=7)), three)  # deterministic


def test_chunked_long_output_equals_one_pass():
    g = tiny_g()
    lat = g.sample_latents(1, 300, seed=3)
    track = F.normalize(torch.randn(1, STYLE, 300), dim=1)  # a style per coarse step
    with torch.no_grad():
        whole = g(track, lat)
        chunked = g.generate_features(track, lat, chunk_steps=37)
    assert chunked.shape == whole.shape == (1, 92, 2400)
    assert torch.allclose(chunked, whole, atol=1e-4)


def test_truncation_pulls_toward_mean():
    g = tiny_g()
    for block in g.blocks:  # per-step noise is not truncated; look at the codes alone
        block.noise1.scale.data.zero_()
        block.noise2.scale.data.zero_()
    s = styles(1).expand(4, -1)
    lat = g.sample_latents(4, 8, seed=0)
    w_mean = g.map(s, lat).mean(dim=(0, 2), keepdim=True)
    spread = [g(s, lat, psi=psi, w_mean=w_mean).std(dim=0).mean().item() for psi in (1, 0.5, 0)]
    assert spread[0] > spread[1] > spread[2]


def test_latent_interp_is_saved_and_checked(tmp_path):
    g = SpecGenerator(style_dim=STYLE, channels=(32, 16), latent_interp="vp")
    g.save_pretrained(tmp_path / "m")
    back, _ = SpecGenerator.from_pretrained(tmp_path / "m")
    assert back.latent_interp == "vp"
    lat = g.sample_latents(1, 16, seed=0)
    s = torch.randn(1, STYLE)
    lin = SpecGenerator(style_dim=STYLE, channels=(32, 16))
    lin.load_state_dict(g.state_dict())
    assert not torch.allclose(g.map(s, lat), lin.map(s, lat))  # between anchors
    with pytest.raises(ValueError, match="latent_interp"):
        SpecGenerator(style_dim=STYLE, latent_interp="cubic")


def test_wrong_style_shape_is_a_clear_error():
    g = tiny_g()
    with pytest.raises(ValueError, match="style must be"):
        g(torch.randn(2, STYLE + 1), g.sample_latents(2, 4, seed=0))


def test_layers():
    anchors = torch.randn(2, 3, 4)
    z = coordinate_latent(anchors, steps=16, every=8)
    assert z.shape == (2, 3, 16)
    assert torch.allclose(z[..., 0], anchors[..., 0]) and torch.allclose(z[..., 8], anchors[..., 1])
    assert torch.allclose(z[..., 4], (anchors[..., 0] + anchors[..., 1]) / 2)
    many = torch.randn(4000, 1, 4)
    lin = coordinate_latent(many, steps=16, every=8).var(dim=0)[0]
    vp = coordinate_latent(many, steps=16, every=8, preserve_variance=True)
    assert lin[4] < 0.6 and lin[0] > 0.9  # linear: half the variance halfway
    assert torch.allclose(vp.var(dim=0)[0], torch.ones(16), atol=0.1)  # vp: 1 everywhere
    assert torch.equal(vp[..., ::8], many[..., :2])  # and still through the anchors
    x = torch.randn(8, 5, 7)
    out = MinibatchStd(4)(x)
    assert out.shape == (8, 6, 7)
    same = MinibatchStd(4)(torch.ones(8, 5, 7))
    assert same[:, -1].abs().max() < 1e-3  # no variety in the batch -> zero std channel
    film = FiLM(5, 3)
    assert torch.allclose(
        film(x, torch.randn(8, 3, 2)).norm(dim=1) ** 2 / 5, torch.ones(8, 7), atol=1e-3
    )


def test_discriminator_uses_the_style():
    torch.manual_seed(0)
    d = SpecDiscriminator(style_dim=STYLE, rows=92, channels=(16, 16, 24, 24)).eval()
    x = torch.randn(2, 92, 64)
    assert (d(x, styles(2)) - d(x, styles(2, seed=9))).abs().max() > 1e-4


def test_checkpoint_round_trip(tmp_path):
    g = tiny_g()
    g.set_feature_stats(torch.linspace(-5, 0, 92), torch.linspace(0.5, 2, 92))
    g.save_pretrained(tmp_path / "m", extra={"style_space_id": "x"})
    loaded, config = SpecGenerator.from_pretrained(tmp_path / "m")
    assert config["style_space_id"] == "x" and config["channels"] == [24, 16, 16, 8]
    lat = g.sample_latents(2, 6, seed=0)
    assert torch.equal(loaded(styles(2), lat), g(styles(2), lat))
    assert torch.equal(loaded.feat_mean, g.feat_mean)
    g.save_pretrained(tmp_path / "h", dtype=torch.float16)
    half, _ = SpecGenerator.from_pretrained(tmp_path / "h")
    assert torch.equal(half.feat_std, g.feat_std)  # statistics stay float32
    assert (half(styles(2), lat) - g(styles(2), lat)).abs().max() < 0.05


def test_foreign_wrong_shape_and_corrupt_checkpoints(tmp_path):
    g = tiny_g()
    g.save_pretrained(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    with pytest.raises(CheckpointError, match="model type"):
        (tmp_path / "m" / "config.json").write_text(json.dumps({**cfg, "model_type": "x"}))
        SpecGenerator.from_pretrained(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text(json.dumps({**cfg, "w_dim": 32}))
    with pytest.raises(CheckpointError):
        SpecGenerator.from_pretrained(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "m" / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="safetensors"):
        SpecGenerator.from_pretrained(tmp_path / "m")
    with pytest.raises(CheckpointError, match="config.json"):
        SpecGenerator.from_pretrained(tmp_path / "empty")
