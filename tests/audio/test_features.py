import numpy as np
import pytest

from mmgan.audio.features import DEFAULT_MEL, LOG_FLOOR, MelParams, griffin_lim, log_mel

SR = 22050


def chirp(seconds=2.0):
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * (200 + 400 * t) * t)).astype(np.float32)


def test_log_mel_shape_and_floor():
    x = chirp()
    m = log_mel(x, SR)
    assert m.shape == (80, DEFAULT_MEL.n_frames(len(x))) and m.dtype == np.float32
    assert np.isclose(log_mel(np.zeros(SR, np.float32), SR).min(), np.log(LOG_FLOOR))
    assert DEFAULT_MEL.frames_per_second == pytest.approx(86.13, abs=0.01)


def test_energy_lands_in_the_right_band():
    t = np.arange(SR) / SR
    low = log_mel(np.sin(2 * np.pi * 200 * t).astype(np.float32), SR).mean(axis=1)
    high = log_mel(np.sin(2 * np.pi * 5000 * t).astype(np.float32), SR).mean(axis=1)
    assert np.argmax(low) < np.argmax(high)


def test_griffin_lim_inverts_to_similar_mel():
    x = chirp()
    m = log_mel(x, SR)
    y = griffin_lim(m, n_iter=16, length=len(x))
    assert y.shape == x.shape
    err = np.mean(np.abs(log_mel(y, SR) - m))
    silence_err = np.mean(np.abs(log_mel(np.zeros_like(x), SR) - m))
    assert err < 0.25 * silence_err


def test_bad_inputs():
    with pytest.raises(ValueError, match="resample first"):
        log_mel(chirp(), 44100)
    with pytest.raises(ValueError, match="mono"):
        log_mel(np.zeros((2, SR), np.float32), SR)
    bad = chirp()
    bad[3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        log_mel(bad, SR)
    with pytest.raises(ValueError, match="expected log-mel"):
        griffin_lim(np.zeros((64, 10)), MelParams())


def test_chroma_rows_name_the_pitch_class():
    t = np.arange(2 * SR) / SR
    a440 = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    params = MelParams(chroma=True)
    feats = log_mel(a440, SR, params)
    assert params.n_rows == 92 and feats.shape == (92, params.n_frames(len(a440)))
    assert np.array_equal(feats[:80], log_mel(a440, SR))  # mel rows unchanged
    chroma = feats[80:].mean(axis=1)
    assert int(np.argmax(chroma)) == 9  # C=0 ... A=9
    assert chroma.max() - np.sort(chroma)[-2] > 1.0  # clearly above the next class


def test_chroma_changes_the_cache_folder_but_not_the_default_one():
    from mmgan.data.melcache import mel_cache_dir

    default = mel_cache_dir("root", MelParams())
    assert mel_cache_dir("root", MelParams(chroma=False)) == default
    assert mel_cache_dir("root", MelParams(chroma=True)) != default


def test_fast_mel_inversion_fits_and_renders():
    """The multiplicative-update NNLS fits the mel at least as well as librosa's and
    Griffin-Lim from it reproduces the clip's log-mel as closely."""
    from mmgan.audio.features import _mel_basis, griffin_lim, log_mel, mel_to_linear

    sr = 22050
    t = np.arange(2 * sr) / sr
    x = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 1375 * t)).astype(np.float32)
    x *= np.exp(-((t % 0.5) * 4)).astype(np.float32)  # plucked notes
    lm = log_mel(x, sr)
    spec = mel_to_linear(np.exp(lm))
    assert spec.shape == (513, lm.shape[1]) and (spec >= 0).all()
    fit = np.abs(np.log(np.maximum(_mel_basis(DEFAULT_MEL) @ spec, 1e-5)) - lm).mean()
    assert fit < 0.05
    errs = {}
    for how in ("nnls", "fast"):
        y = griffin_lim(lm, length=len(x), inverse=how)
        errs[how] = np.abs(log_mel(y, sr) - lm).mean()
    assert errs["fast"] < 1.2 * errs["nnls"] + 0.02
    with pytest.raises(ValueError, match="inverse"):
        griffin_lim(lm, inverse="magic")
