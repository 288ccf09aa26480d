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


def test_banded_nnls_kernel_is_the_dense_update():
    # on the CPU without autograd the NNLS runs frame by frame over the basis' band
    # (mmgan.audio._mel_kernel); it must give the dense torch iterations' result, for
    # batched mels and a given start, in the [..., bins, frames] shape
    import torch

    from mmgan.audio._mel_kernel import band_structure
    from mmgan.audio.features import _mel_basis, nnls_mel_inverse

    basis_np = _mel_basis(DEFAULT_MEL).astype(np.float32)
    lo, width, weights, bin_mels, bin_weights = band_structure(basis_np)
    rebuilt = np.zeros_like(basis_np)
    for m in range(len(lo)):
        rebuilt[m, lo[m] : lo[m] + width[m]] = weights[m, : width[m]]
    assert np.array_equal(rebuilt, basis_np)  # the band holds the whole basis
    basis = torch.from_numpy(basis_np)
    pinv = torch.linalg.pinv(basis)
    mel = torch.from_numpy(
        np.exp(np.stack([log_mel(chirp(1.0), SR), log_mel(chirp(1.0)[::-1].copy(), SR)]))
    )
    fast = nnls_mel_inverse(mel, basis, pinv, 10)
    with torch.enable_grad():  # autograd asked for: the dense torch path
        dense = nnls_mel_inverse(mel.requires_grad_(True), basis, pinv, 10).detach()
    mel = mel.detach()
    assert fast.shape == dense.shape == (2, 513, mel.shape[-1])
    np.testing.assert_allclose(
        fast.numpy(), dense.numpy(), rtol=1e-3, atol=1e-6 * dense.max().item()
    )
    start = dense * 1.5
    np.testing.assert_allclose(
        nnls_mel_inverse(mel, basis, None, 3, start=start).numpy(),
        _dense_nnls(mel, basis, start, 3).numpy(),
        rtol=1e-3,
        atol=1e-6 * dense.max().item(),
    )


def test_banded_nnls_kernel_passes_nan_through_as_the_dense_update_does():
    # a NaN in the mel must come out as NaN in the same places (callers check for it and
    # name it), not as a ZeroDivisionError from inside the compiled kernel
    import torch

    from mmgan.audio.features import _mel_basis, nnls_mel_inverse

    basis = torch.from_numpy(_mel_basis(DEFAULT_MEL).astype(np.float32))
    pinv = torch.linalg.pinv(basis)
    mel = torch.rand(1, 80, 300, generator=torch.Generator().manual_seed(0)) + 0.01
    mel[0, 5, 7] = float("nan")
    fast = nnls_mel_inverse(mel, basis, pinv)
    with torch.enable_grad():
        dense = nnls_mel_inverse(mel.clone().requires_grad_(True), basis, pinv).detach()
    assert torch.isnan(fast[0, :, 7]).any()
    assert torch.equal(torch.isnan(fast), torch.isnan(dense))
    assert torch.isfinite(fast[0, :, 8:]).all()


def _dense_nnls(mel, basis, start, iters):
    spec = start.clamp_min(1e-8)
    for _ in range(iters):
        spec = spec * (basis.T @ mel) / (basis.T @ (basis @ spec) + 1e-10)
    return spec


@pytest.mark.filterwarnings("ignore:The length of signal is shorter")  # torch.istft's, on purpose
@pytest.mark.parametrize(
    ("shape", "length"),
    [
        ((1, 513, 40), None),
        ((3, 2, 513, 9), None),
        ((1, 513, 50), 50 * 256 + 999),
        ((1, 513, 3), 700),
    ],
)
def test_block_overlap_add_istft_is_torch_istft(shape, length):
    # the project's inverse STFT (block sums instead of fold; the edge envelope only) must
    # be torch.istft's, padded with zeros past the last frame as torch.istft pads
    import torch

    from mmgan.audio.features import istft

    window = torch.hann_window(1024)
    spec = torch.randn(*shape, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    n = length if length is not None else (shape[-1] - 1) * 256
    ref = torch.istft(spec.reshape(-1, *shape[-2:]), 1024, 256, window=window, length=n)
    out = istft(spec, 1024, 256, window, n)
    assert out.shape == (*shape[:-2], n)
    torch.testing.assert_close(out.reshape(-1, n), ref, atol=1e-6, rtol=1e-5)
    frame_major = spec.transpose(-1, -2).contiguous().transpose(-1, -2)  # torch.stft's layout
    torch.testing.assert_close(istft(frame_major, 1024, 256, window, n), out)
    odd = istft(spec, 1024, 300, torch.hann_window(1024), 2000)  # hop not dividing: torch's own
    assert odd.shape == (*shape[:-2], 2000)


def test_griffin_lim_projection_keeps_the_magnitude_and_takes_the_rebuilt_phase():
    # one iteration of fast_griffin_lim against the textbook projection
    # mag * exp(1j * angle(STFT(istft(...)))), computed here the slow way
    import torch

    from mmgan.audio.features import fast_griffin_lim

    window = torch.hann_window(1024)
    y0 = torch.from_numpy(chirp(1.0))
    spec = torch.stft(y0, 1024, 256, window=window, return_complex=True)
    mag = spec.abs()
    phase = torch.rand(mag.shape, generator=torch.Generator().manual_seed(1)) * 6.283
    n = len(y0)
    first = torch.istft(torch.polar(mag, phase), 1024, 256, window=window, length=n)
    rebuilt = torch.stft(first, 1024, 256, window=window, pad_mode="constant", return_complex=True)
    ref = torch.istft(
        mag * torch.exp(1j * torch.angle(rebuilt)), 1024, 256, window=window, length=n
    )
    out = fast_griffin_lim(mag, phase, 1, 1024, 256, n, window=window)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)
