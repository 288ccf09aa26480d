"""The procedural cover engine: deterministic, fast to draw, and different per genre, key and
audio — never a flat gradient."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmgan.art.procedural import MOTIFS, CoverInputs, audio_features, palette, render_cover


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float32)


def detail(img: Image.Image) -> float:
    """Mean absolute difference between neighbouring pixels (0 for a flat image)."""
    x = pixels(img)
    return float(np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())


def test_every_genre_draws_a_detailed_deterministic_cover():
    covers = {}
    for genre in MOTIFS:
        inputs = CoverInputs({genre: 1.0}, seed=4)
        a, b = render_cover(inputs, size=256), render_cover(inputs, size=256)
        assert a.size == (256, 256) and a.mode == "RGB"
        assert np.array_equal(pixels(a), pixels(b)), genre  # same seed, same image
        assert detail(a) > 1.0, genre  # shapes, not a flat gradient
        assert len(np.unique(pixels(a).reshape(-1, 3), axis=0)) > 200, genre
        covers[genre] = pixels(a)
    names = list(covers)
    for i, g in enumerate(names):
        for h in names[i + 1 :]:
            assert np.abs(covers[g] - covers[h]).mean() > 15, (g, h)


def test_seed_key_audio_and_hybrids_change_the_cover():
    base = CoverInputs({"jazz": 1.0}, seed=1, key="C major")
    ref = pixels(render_cover(base, size=192))
    other_seed = CoverInputs({"jazz": 1.0}, seed=2, key="C major")
    minor = CoverInputs({"jazz": 1.0}, seed=1, key="C minor")
    busy = CoverInputs({"jazz": 1.0}, seed=1, key="C major", onset_density=12.0)
    hybrid = CoverInputs({"jazz": 0.6, "metal": 0.4}, seed=1, key="C major")
    for changed in (other_seed, minor, busy, hybrid):
        assert np.abs(pixels(render_cover(changed, size=192)) - ref).mean() > 2
    assert np.mean(palette(minor)) < np.mean(palette(base))  # minor is darker
    loud = CoverInputs({"techno": 1.0}, envelope=np.linspace(0, 1, 64))
    quiet = CoverInputs({"techno": 1.0}, envelope=np.zeros(64))
    assert not np.array_equal(pixels(render_cover(loud, 128)), pixels(render_cover(quiet, 128)))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="genre_weights"):
        render_cover(CoverInputs({"polka": 1.0}))
    with pytest.raises(ValueError, match="genre_weights"):
        render_cover(CoverInputs({}))
    with pytest.raises(ValueError, match="size"):
        render_cover(CoverInputs({"jazz": 1.0}), size=10)


def test_audio_features_read_tempo_key_and_envelope():
    sr = 22050
    t = np.arange(8 * sr) / sr
    clicks = (np.sin(2 * np.pi * 440 * t) * (np.mod(t, 0.5) < 0.05)).astype(np.float32)  # 120 BPM
    f = audio_features(clicks, sr)
    assert abs(f["tempo"] - 120) < 6 or abs(f["tempo"] - 240) < 12
    assert 1.0 < f["onset_density"] < 4.0 and f["envelope"].shape == (64,)
    assert f["key"].split()[0] == "A"
    silent = audio_features(np.zeros(sr * 2, np.float32), sr)
    assert silent["onset_density"] == 0 and silent["key"] is None  # neutral, not an error


def test_genre_weights_keep_the_second_genre_of_a_hybrid_prompt():
    from mmgan.art.procedural import genre_weights
    from mmgan.style.space import StyleSpace

    space = StyleSpace.from_pretrained()
    hybrid = genre_weights(space.parse("jazz metal with blast beats")[0], space)
    assert list(hybrid) == ["jazz", "metal"] and 0.2 < hybrid["metal"] < 0.5
    assert abs(sum(hybrid.values()) - 1) < 1e-6
    assert genre_weights(space.parse("a jazz track")[0], space) == {"jazz": 1.0}
