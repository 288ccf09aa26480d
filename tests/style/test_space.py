"""StyleSpace with the shipped default model: the public API of issue #3."""

import numpy as np
import pytest
import torch
from PIL import Image

from mmgan import StyleSpace
from mmgan.audio.io import AudioError
from mmgan.data.clip import make_clip
from mmgan.data.composers import GENRES
from mmgan.style.space import resolve_model_dir

HELD_OUT_SEED = 987_654  # never used by any corpus preset


@pytest.fixture(scope="module")
def space():
    return StyleSpace.from_pretrained()


def unit(x):
    return torch.allclose(x.norm(dim=-1), torch.ones(x.shape[0]), atol=1e-4)


def test_encode_text_shapes_and_errors(space):
    s = space.encode_text(["dreamy folk", "jazz metal with blast beats"])
    assert s.shape == (2, space.dim) and s.dtype == torch.float32 and unit(s)
    assert torch.equal(s, space.encode_text(["dreamy folk", "jazz metal with blast beats"]))
    assert space.encode_text("dreamy folk").shape == (1, space.dim)
    assert space.encode_text([]).shape == (0, space.dim)
    with pytest.raises(ValueError, match="empty prompt"):
        space.encode_text(["  "])
    with pytest.raises(TypeError, match="must be strings"):
        space.encode_text([3])
    with pytest.warns(UserWarning, match="were dropped"):
        long = space.encode_text(["techno " * 2000])
    assert unit(long)


def test_zero_shot_hears_the_genre_of_unseen_clips(space):
    clips = [make_clip(g, HELD_OUT_SEED, seconds=6.0) for g in GENRES]
    a = torch.cat([space.encode_audio(c.audio, c.sr) for c in clips])
    assert a.shape == (len(GENRES), space.dim) and unit(a)
    p = space.zero_shot(a, list(GENRES))
    assert torch.allclose(p.sum(dim=1), torch.ones(len(GENRES)), atol=1e-5)
    correct = (p.argmax(dim=1) == torch.arange(len(GENRES))).sum().item()
    assert correct >= 8, f"zero-shot got {correct}/10 held-out clips right"


def test_encode_audio_any_rate_channels_and_bad_audio(space):
    c = make_clip("techno", HELD_OUT_SEED, seconds=6.0)
    import soxr

    stereo44 = np.stack([soxr.resample(c.audio, c.sr, 44100)] * 2)
    a = space.encode_audio(c.audio, c.sr)
    b = space.encode_audio(stereo44, 44100)
    assert b.shape == (1, space.dim) and float(a @ b.T) > 0.9
    assert space.encode_audio(torch.from_numpy(c.audio), c.sr).shape == (1, space.dim)
    with pytest.raises(AudioError):
        space.encode_audio(np.zeros(22050, np.float32), 22050)
    bad = c.audio.copy()
    bad[100] = np.nan
    with pytest.raises(AudioError):
        space.encode_audio(bad, c.sr)


def test_seed_arithmetic_example(space):
    v, normal = space.parse("techno - monotonous + jazz harmony")
    assert v.shape == (1, space.dim) and unit(v)
    assert "techno" in normal and "monotonous" in normal and "jazz harmony" in normal
    top = [name for name, _ in space.describe(v, k=5)]
    assert any("techno" in n for n in top), top
    assert any("jazz" in n for n in top), top
    assert "monotonous" not in top


def test_describe_and_slider(space):
    top = space.describe(space.encode_text(["heavy metal"]), k=5)
    assert len(top) == 5 and [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    v = space.slider({"ambient": 1.0, "dark": 0.5})
    assert v.shape == (1, space.dim) and unit(v)
    assert "ambient" in [n for n, _ in space.describe(v, k=3)]
    with pytest.raises(ValueError):
        space.slider({"ambient": 0.0})


def test_encode_image_fallback_moves_in_the_expected_direction(space):
    dark = Image.new("RGB", (64, 64), (20, 22, 25))
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[::2] = (255, 40, 0)
    rgb[1::2] = (255, 230, 0)
    bright = Image.fromarray(rgb)
    vd, info_d = space.encode_image(dark, return_info=True)
    vb, info_b = space.encode_image(bright, return_info=True)
    assert vd.shape == (1, space.dim) and unit(vd)
    assert info_d["path"] == "fallback" and info_d["weights"]
    assert float(vd @ vb.T) < 0.95
    d_words = set(info_d["weights"])
    b_words = set(info_b["weights"])
    assert d_words != b_words


def test_from_pretrained_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="mmgan train style"):
        resolve_model_dir(tmp_path / "nothing")
    assert resolve_model_dir(None) == resolve_model_dir("style")
