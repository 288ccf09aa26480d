"""The piano-roll generator: row layout round trip, shapes, binarisation with gradients,
MuseGAN's latents, determinism, conditioning, files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mmgan.models.pianoroll import (
    STEPS_PER_BEAT,
    PianoRollGenerator,
    RollLayout,
    straight_through,
)
from mmgan.weights import CheckpointError


def small(**kw) -> PianoRollGenerator:
    """A small generator whose FiLM layers are no longer zero (as after some training: at
    initialisation FiLM is the identity, so codes reach the output only through the stem)."""
    torch.manual_seed(0)
    args = dict(style_dim=16, z_shared=4, z_shared_local=4, z_private=3, z_private_local=3)
    args |= dict(w_dim=16, mapping_layers=1, channels=(16, 12), track_channels=8)
    g = PianoRollGenerator(**(args | kw))
    with torch.no_grad():
        for name, p in g.named_parameters():
            if "to_gb" in name:
                p.normal_(0, 0.3)
    return g


def test_layout_round_trips_every_corpus_roll(tiny_corpus):
    from mmgan.audio.midi import load_pianoroll
    from mmgan.data.corpus import read_metadata

    layout = RollLayout()
    assert layout.rows == 19 + 3 * 48 and layout.row_counts == [19, 48, 48, 48]
    for row in read_metadata(tiny_corpus):
        z = load_pianoroll(tiny_corpus / row["pianoroll_file"])
        roles = [str(r) for r in z["roles"]]
        back = layout.from_rows(layout.to_rows(z["pianoroll"], roles))
        assert np.array_equal(back, z["pianoroll"] > 0), row["id"]  # no note lost or moved


def test_layout_folds_out_of_range_pitches_and_rejects_bad_input():
    layout = RollLayout()
    roll = np.zeros((4, 8, 128), dtype=np.uint8)
    roll[1, 0, 12] = 100  # a bass note an octave under the range -> folds up to 24
    roll[3, 1, 110] = 100  # a lead note above it -> folds down to 86
    rows = layout.to_rows(roll)
    assert rows[layout.slices["bass"]][24 - 24, 0] and rows[layout.slices["lead"]][86 - 48, 1]
    assert rows.sum() == 2
    from mmgan.models.pianoroll import DRUM_KEYS

    for key, into in ((41, 45), (43, 45), (48, 47)):  # the timpani's toms fold into the kit's
        toms = np.zeros((4, 8, 128), dtype=np.uint8)
        toms[0, 2, key] = 90
        drums = layout.to_rows(toms)[layout.slices["drums"]]
        assert drums.sum() == 1 and drums[DRUM_KEYS.index(into), 2], key
    unknown = np.zeros((4, 8, 128), dtype=np.uint8)
    unknown[0, 0, 80] = 90  # a key no kit plays is dropped
    assert not layout.to_rows(unknown).any()
    with pytest.raises(ValueError, match="tracks, T, 128"):
        layout.to_rows(np.zeros((4, 8)))
    with pytest.raises(ValueError, match="unknown track"):
        layout.to_rows(roll, ["drums", "bass", "strings", "lead"])
    with pytest.raises(ValueError, match="rows"):
        layout.from_rows(np.zeros((10, 8)))


def test_shapes_binary_output_and_gradients():
    g = small()
    lat = g.sample_latents(3, 8, seed=0)
    style = torch.nn.functional.normalize(torch.randn(3, 16), dim=1)
    x = g(style, lat)
    assert x.shape == (3, g.rows, 8 * STEPS_PER_BEAT)
    assert set(x.unique().tolist()) <= {-1.0, 1.0}
    assert set(g.denormalise(x).unique().tolist()) <= {0.0, 1.0}
    (x * torch.randn_like(x)).sum().backward()  # straight-through: gradients reach every layer
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())
    soft = small(binarize=False)(style, lat)
    assert soft.abs().max() < 1 and not set(soft.unique().tolist()) <= {-1.0, 1.0}


def test_straight_through_is_sign_forward_identity_backward():
    x = torch.tensor([-0.3, 0.2, 0.0], requires_grad=True)
    y = straight_through(x)
    assert y.tolist() == [-1.0, 1.0, -1.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_seeded_rows_style_and_private_latents_matter():
    g = small(binarize=False).eval()
    s = torch.nn.functional.normalize(torch.randn(2, 16), dim=1)
    a = g(s, g.sample_latents(2, 8, seed=5))
    assert torch.equal(a, g(s, g.sample_latents(2, 8, seed=5)))
    one = g(s[:1], g.sample_latents(1, 8, seed=5))
    assert torch.allclose(a[:1], one, atol=1e-6)  # row i depends on (seed, i) only
    assert not torch.equal(a, g(s.flip(0), g.sample_latents(2, 8, seed=5)))  # style matters
    lat = g.sample_latents(2, 8, seed=5)
    lat.z_private[:, 3] += 3.0  # only the lead's private latent moves ...
    b = g(s, lat)
    lead, drums = g.layout.slices["lead"], g.layout.slices["drums"]
    assert not torch.equal(a[:, lead], b[:, lead])
    assert torch.equal(a[:, drums], b[:, drums])  # ... and only the lead changes


def test_save_and_load(tmp_path):
    g = small()
    g.save_pretrained(tmp_path / "m", extra={"family": "symbolic"})
    loaded, config = PianoRollGenerator.from_pretrained(tmp_path / "m")
    assert config["family"] == "symbolic" and config["model_type"] == "mmgan-pianoroll"
    lat = g.sample_latents(1, 4, seed=0)
    s = torch.randn(1, 16)
    assert torch.equal(g.eval()(s, lat), loaded(s, lat))
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    (tmp_path / "m" / "config.json").write_text(json.dumps({**cfg, "track_channels": 4}))
    with pytest.raises(CheckpointError):
        PianoRollGenerator.from_pretrained(tmp_path / "m")


def test_roll_features_views_standardised_and_differentiable():
    from mmgan.models.pianoroll import RollFeatures

    front = RollFeatures()
    layout = front.layout
    x = -torch.ones(2, layout.rows, 24)
    c4 = layout.slices["harmony"].start + 60 - 36
    x[0, c4, 4:10] = 1.0  # middle C held for half a beat
    x[0, c4 + 12, 4:10] = 1.0  # and the C above: one chroma row
    views = front.views(x)
    assert views.shape == (2, front.out_rows, 24)
    onset = views[0, layout.rows + c4]
    assert onset[4] == 1.0 and (onset[5:] == -1.0).all() and (onset[:4] == -1.0).all()
    harmony_c = 2 * layout.rows + 12 * 1 + 0  # bass, harmony, lead chroma blocks; C = 0
    assert views[0, harmony_c, 4:10].eq(1.0).all() and views[1, harmony_c].eq(-1.0).all()
    real = torch.where(torch.rand(16, layout.rows, 24) < 0.05, 1.0, -1.0)
    front.fit_stats(real)
    z = front(real)
    rows = layout.rows  # one scale per view: each view block has unit variance as a whole
    assert z.mean().abs() < 0.05 and abs(float(z[:, :rows].pow(2).mean()) - 1) < 0.05
    y = x.clone().requires_grad_(True)
    front(y).sum().backward()
    assert y.grad is not None and y.grad.abs().sum() > 0
    assert "mean" in dict(front.named_buffers()) and "mean" in front.state_dict()  # resumes


def test_feature_stats_start_the_generator_at_the_data_density():
    g = small()
    s = torch.nn.functional.normalize(torch.randn(8, 16), dim=1)
    with torch.no_grad():
        fresh = float(g.denormalise(g(s, g.sample_latents(8, 8, seed=1))).mean())
        g.set_feature_stats(torch.full((g.rows,), 0.03), torch.ones(g.rows))
        x = float(g.denormalise(g(s, g.sample_latents(8, 8, seed=1))).mean())
    assert 0.3 < fresh < 0.7 and 0.01 < x < 0.06  # ~3 % on, not the ~50 % of a fresh network


def test_subpixel_upsampling_tells_the_steps_of_a_beat_apart():
    """A nearest-upsampled signal is the same at every step inside a beat, so the layers
    after it cannot place a note on the "and"; sub-pixel upsampling gives each step its own
    weights (the piano-roll generator uses it at every stage)."""
    from mmgan.models.layers import ModulatedBlock

    torch.manual_seed(0)
    x, w, noise = torch.randn(1, 8, 4), torch.zeros(1, 16, 1), torch.zeros(1, 2, 12)
    plain = ModulatedBlock(8, 8, 16, up=3)
    sub = ModulatedBlock(8, 8, 16, up=3, subpixel=True)
    for block in (plain, sub):
        block.conv1 = torch.nn.Conv1d(8, 8, 1)  # no temporal mixing: only the upsampling
        block.conv2 = torch.nn.Conv1d(8, 8, 1)
    inside = lambda y: y.view(1, 8, 4, 3)  # noqa: E731  [beat, step in beat]
    assert torch.allclose(inside(plain(x, w, noise)).std(dim=-1), torch.zeros(1, 8, 4))
    assert inside(sub(x, w, noise)).std(dim=-1).mean() > 0.05
    assert "expand.weight" in dict(sub.named_parameters())
    assert "expand.weight" not in dict(plain.named_parameters())  # spectrogram weights stay


def test_roll_features_pool_one_scale_per_view():
    """A rare pitch's row is not blown up by its own tiny std: one scale for all rows."""
    from mmgan.models.pianoroll import RollFeatures

    front = RollFeatures()
    rows = front.layout.rows
    real = torch.where(torch.rand(16, rows, 24) < 0.05, 1.0, -1.0)
    real[:, 5] = -1.0
    real[0, 5, 3] = 1.0  # one note in an otherwise silent row
    front.fit_stats(real)
    assert torch.allclose(front.std[0, :rows], front.std[0, 0].expand(rows))
    assert torch.allclose(front.std[0, rows : 2 * rows], front.std[0, rows].expand(rows))
    per_row = RollFeatures(pooled=False)
    per_row.fit_stats(real)
    assert per_row(real)[0, 5, 3] > 3 * front(real)[0, 5, 3]
