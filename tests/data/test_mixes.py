"""Real two-genre blends: the mix of two clips and the choice of partners."""

from __future__ import annotations

import numpy as np
import pytest

from mmgan.audio.io import AudioError
from mmgan.data.mixes import check_mix_settings, mix_audio, mix_partners


def test_mix_audio_weights_equal_level_clips_and_keeps_their_level():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(1000).astype(np.float32) * 0.1
    b = rng.standard_normal(800).astype(np.float32) * 0.001  # 40 dB quieter, shorter
    mix = mix_audio(a, b, 0.3)
    assert mix.shape == (800,) and mix.dtype == np.float32
    rms = lambda z: float(np.sqrt(np.mean(np.asarray(z, np.float64) ** 2)))  # noqa: E731
    assert rms(mix) == pytest.approx((rms(a[:800]) + rms(b)) / 2, rel=1e-5)
    # b counts as much as a would at the same level: the mix is 0.3 a' + 0.7 b' (unit RMS)
    unit = 0.3 * a[:800] / rms(a[:800]) + 0.7 * b / rms(b)
    np.testing.assert_allclose(mix / rms(mix), unit / rms(unit), atol=1e-5)
    same = mix_audio(a, 2 * a, 0.5)  # one signal at two levels: itself at the mean level
    np.testing.assert_allclose(same, a * 1.5, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("w", [0.0, 1.0, -0.2, 1.5])
def test_mix_audio_refuses_weights_outside_the_open_interval(w):
    with pytest.raises(ValueError, match=r"mix weight must be in \(0, 1\)"):
        mix_audio(np.ones(10), np.ones(10), w)


def test_mix_audio_names_a_silent_clip():
    with pytest.raises(AudioError, match="quiet.wav is silent"):
        mix_audio(np.ones(10), np.zeros(10), 0.5, names=("loud.wav", "quiet.wav"))


def test_partners_are_of_another_known_genre_and_seeded():
    genre = np.array([0, 1, 1, 2, -1, 0])
    a = mix_partners(genre, np.random.default_rng(3))
    assert a.tolist() == mix_partners(genre, np.random.default_rng(3)).tolist()
    assert a[4] == -1
    assert all(genre[j] >= 0 and genre[j] != genre[i] for i, j in enumerate(a) if i != 4)


def test_mix_settings_are_checked_with_their_names():
    assert check_mix_settings(0.3, [0.25, 0.75]) == (0.25, 0.75)
    assert check_mix_settings(0.0, (0.5, 0.5)) == (0.5, 0.5)
    with pytest.raises(ValueError, match="mix_p must be in"):
        check_mix_settings(-0.1, [0.25, 0.75])
    for bad in ([0.0, 0.5], [0.6, 0.4], [0.5, 1.0], [0.5], 0.5):
        with pytest.raises(ValueError, match=r"mix_weight must be \[lo, hi\]"):
            check_mix_settings(0.3, bad)
