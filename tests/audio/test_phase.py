"""PGHI phase reconstruction and the Griffin-Lim it starts (mmgan.audio.phase, features)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmgan.audio.features import DEFAULT_MEL, griffin_lim, log_mel
from mmgan.audio.phase import pghi, phase_gradients

SR, N_FFT, HOP = 22050, 1024, 256
WINDOW = torch.hann_window(N_FFT, dtype=torch.float64)


def stft(y: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(np.asarray(y, dtype=np.float64))
    return torch.stft(x, N_FFT, HOP, window=WINDOW, center=True, pad_mode="constant",
                      return_complex=True).numpy()  # fmt: skip


def istft(spec: np.ndarray, n: int) -> np.ndarray:
    return torch.istft(torch.from_numpy(spec), N_FFT, HOP, window=WINDOW, length=n).numpy()


def spectral_convergence(y: np.ndarray, target_mag: np.ndarray) -> float:
    """||  |STFT(y)| - target || / || target ||: 0 when y's magnitude is the target's."""
    mag = np.abs(stft(y))
    return float(np.linalg.norm(mag - target_mag) / np.linalg.norm(target_mag))


def music(seconds: float = 2.0) -> np.ndarray:
    """Two held harmonic tones between bins and four clicks: partials and onsets."""
    t = np.arange(int(seconds * SR)) / SR
    y = sum(0.3 / k * np.sin(2 * np.pi * 220.7 * k * t) for k in range(1, 6))
    y += sum(0.2 / k * np.sin(2 * np.pi * 331.3 * k * t + 1.0) for k in range(1, 4))
    for onset in (0.25, 0.75, 1.25, 1.75):
        i = int(onset * seconds / 2.0 * SR)
        y[i : i + 200] += np.hanning(400)[200:] * np.random.default_rng(i).normal(0, 0.5, 200)
    return y.astype(np.float64)


def test_time_step_is_the_partials_frequency():
    # a steady sinusoid between bins: the predicted advance per hop, read at its peak bin
    # and the bin above, is its true frequency's, not the bins' centre frequencies'
    f = 100.3 * SR / N_FFT
    y = np.sin(2 * np.pi * f * np.arange(SR) / SR)
    mag = np.abs(stft(y))
    t_step, _ = phase_gradients(np.log(mag + 1e-12), N_FFT, HOP)
    true = 2 * np.pi * f * HOP / SR
    for b, tol in ((100, 0.05), (101, 0.15)):  # 0.7 bins off the peak: Hann is not Gaussian
        err = np.angle(np.exp(1j * (t_step[b, 10:-10] - true)))
        assert np.abs(err).max() < tol, (b, np.abs(err).max())
    centre_error = abs(np.angle(np.exp(1j * (2 * np.pi * 101 * HOP / N_FFT - true))))
    assert centre_error > 0.5  # so the test would fail without the gradient term


METHODS = pytest.mark.parametrize("method", ["heap", "frames"])


@METHODS
def test_pghi_phase_is_nearly_consistent_with_the_true_magnitude(method):
    y = music()
    mag = np.abs(stft(y))
    rng = np.random.default_rng(0)
    phase = pghi(mag, method=method)
    sc_pghi = spectral_convergence(istft(mag * np.exp(1j * phase), len(y)), mag)
    sc_zero = spectral_convergence(istft(mag.astype(complex), len(y)), mag)
    sc_rand = spectral_convergence(
        istft(mag * np.exp(1j * rng.uniform(0, 2 * np.pi, mag.shape)), len(y)), mag
    )
    assert sc_pghi < 0.5 * min(sc_zero, sc_rand), (sc_pghi, sc_zero, sc_rand)


@METHODS
def test_pghi_places_a_click_at_its_time(method):
    # group delay: a click late in a frame must come back at its time, not the frame centre
    n = SR
    y = np.zeros(n)
    y[11025 + 77] = 1.0
    mag = np.abs(stft(y))
    out = istft(mag * np.exp(1j * pghi(mag, tol_db=40, method=method)), n)
    assert abs(int(np.argmax(np.abs(out))) - (11025 + 77)) <= 12  # heap 8, frames 9 here


@METHODS
def test_pghi_is_deterministic_and_seed_only_touches_quiet_bins(method):
    mag = np.abs(stft(music(1.0)))
    a, b, c = (pghi(mag, seed=s, method=method) for s in (0, 0, 1))
    assert np.array_equal(a, b)
    loud = mag > mag.max() * 10 ** (-60 / 20)
    assert np.array_equal(a[loud], c[loud]) and not np.array_equal(a[~loud], c[~loud])


@METHODS
def test_pghi_edge_cases_and_bad_input(method):
    bins = N_FFT // 2 + 1
    silent = pghi(np.zeros((bins, 20)), method=method)
    assert silent.shape == (bins, 20) and np.isfinite(silent).all()
    one = pghi(np.abs(stft(music(0.2)))[:, :1], method=method)  # one frame: across bins only
    assert one.shape == (bins, 1) and np.isfinite(one).all()
    with pytest.raises(ValueError, match="method must be one of"):
        pghi(np.ones((bins, 4)), method="fast")
    with pytest.raises(ValueError, match="expected a magnitude"):
        pghi(np.ones((100, 20)))
    with pytest.raises(ValueError, match="finite and non-negative"):
        pghi(np.full((bins, 4), np.nan))
    with pytest.raises(ValueError, match="finite and non-negative"):
        pghi(-np.ones((bins, 4)))
    with pytest.raises(ValueError, match="tol_db"):
        pghi(np.ones((bins, 4)), tol_db=0)


@METHODS
def test_pghi_continues_a_known_phase(method):
    # phasing a spectrogram in two overlapping chunks, the second seeded with the first's
    # phase over the overlap, gives the loud bins the phase one pass gives them
    mag = np.abs(stft(music(2.0)))
    whole = pghi(mag, method=method)
    part = pghi(mag[:, 60:], known=whole[:, 60:80], method=method)
    assert np.array_equal(part[:, :20], whole[:, 60:80])  # the known frames are kept
    loud = mag[:, 80:] > mag.max() * 10 ** (-30 / 20)
    err = np.abs(np.angle(np.exp(1j * (part[:, 20:] - whole[:, 80:]))))[loud]
    assert np.median(err) < 0.05, np.median(err)
    fresh = pghi(mag[:, 60:], method=method)  # without the seed: its own starting phases
    err_fresh = np.abs(np.angle(np.exp(1j * (fresh[:, 20:] - whole[:, 80:]))))[loud]
    assert np.median(err_fresh) > 0.5, np.median(err_fresh)
    with pytest.raises(ValueError, match="known phase must be"):
        pghi(mag, known=np.zeros((mag.shape[0], mag.shape[1] + 1)))
    with pytest.raises(ValueError, match="known phase must be finite"):
        pghi(mag, known=np.full((mag.shape[0], 2), np.nan))


def test_frame_by_frame_pghi_matches_the_heap_on_a_real_spectrogram():
    # the frame-by-frame bucket-queue integration (RTPGHI) against the global heap: as
    # consistent with the magnitude (within 10 %), and both far better than random phase
    y = music(3.0)
    mag = np.abs(stft(y))
    sc = {
        m: spectral_convergence(istft(mag * np.exp(1j * pghi(mag, method=m)), len(y)), mag)
        for m in ("heap", "frames")
    }
    assert sc["frames"] < 1.1 * sc["heap"], sc
    assert sc["frames"] < 0.5, sc


def test_griffin_lim_from_pghi_beats_random_phase_at_equal_iterations():
    y = music()
    mel = log_mel(y.astype(np.float32), SR)
    target = np.abs(stft(y))
    sc = {
        (init, k): spectral_convergence(
            griffin_lim(mel, n_iter=k, length=len(y), inverse="fast", init=init), target
        )
        for init in ("pghi", "random")
        for k in (4, 8)
    }
    assert sc[("pghi", 4)] < sc[("random", 4)] and sc[("pghi", 8)] < sc[("random", 8)], sc
    assert sc[("pghi", 8)] < sc[("random", 8)] * 0.9 or sc[("pghi", 4)] < sc[("random", 8)], sc


def test_griffin_lim_init_arguments():
    mel = log_mel(music(0.5).astype(np.float32), SR)
    alone = griffin_lim(mel, n_iter=0, init="pghi", inverse="fast", length=11025)
    assert alone.shape == (11025,) and alone.dtype == np.float32 and np.isfinite(alone).all()
    a = griffin_lim(mel, n_iter=4, init="pghi", inverse="fast", seed=3)
    assert np.array_equal(a, griffin_lim(mel, n_iter=4, init="pghi", inverse="fast", seed=3))
    assert len(a) == (mel.shape[1] - 1) * DEFAULT_MEL.hop_length
    with pytest.raises(ValueError, match="init must be"):
        griffin_lim(mel, init="zeros")
    with pytest.raises(ValueError, match="n_iter must be >= 1 from random"):
        griffin_lim(mel, n_iter=0)
    with pytest.raises(ValueError, match="n_iter must be >= 0"):
        griffin_lim(mel, n_iter=-1, init="pghi")
    assert math.isfinite(float(np.abs(a).max()))


# -- chroma-guided magnitudes ------------------------------------------------------------


def bass_line(seconds: float = 2.0) -> np.ndarray:
    """Low notes an 80-band mel cannot tell apart: A2 (110 Hz) then C3 (130.8 Hz), with
    harmonics; one second each."""
    t = np.arange(int(seconds * SR)) / SR
    f = np.where(t < seconds / 2, 110.0, 130.81)
    phase = 2 * np.pi * np.cumsum(f) / SR
    return sum(0.4 / k * np.sin(k * phase) for k in range(1, 5)).astype(np.float32)


def test_chroma_guided_magnitude_keeps_the_mel_and_moves_energy_to_the_named_notes():
    from mmgan.audio.features import _mel_basis, chroma_guided_linear, log_chroma, mel_to_linear

    y = bass_line()
    mel = np.exp(log_mel(y, SR))
    chroma = log_chroma(y, SR)[:, : mel.shape[1]]
    plain, guided = mel_to_linear(mel), chroma_guided_linear(mel, chroma)
    basis = _mel_basis(DEFAULT_MEL)

    def mel_error(spec):
        return float(np.abs(np.log(basis @ spec + 1e-5) - np.log(mel + 1e-5)).mean())

    assert mel_error(guided) < 1.5 * mel_error(plain) + 0.01, (mel_error(guided), mel_error(plain))
    # the rendered audio carries the clip's pitch classes better with the guide
    errs = {}
    for name, guide in (("plain", None), ("guided", chroma)):
        out = griffin_lim(np.log(mel), n_iter=4, init="pghi", inverse="fast", chroma=guide,
                          length=len(y))  # fmt: skip
        got = log_chroma(out, SR)[:, : chroma.shape[1]]
        errs[name] = float(np.abs(got - chroma).mean())
    assert errs["guided"] < 0.5 * errs["plain"], errs  # measured 0.17 vs 0.62
    assert guided.shape == plain.shape and (guided >= 0).all()


def test_chroma_guided_bad_input():
    from mmgan.audio.features import chroma_guided_linear

    mel = np.ones((80, 10), dtype=np.float32)
    with pytest.raises(ValueError, match=r"log-chroma rows \[12, 10\]"):
        chroma_guided_linear(mel, np.zeros((12, 9)))
    with pytest.raises(ValueError, match="NaN"):
        chroma_guided_linear(mel, np.full((12, 10), np.nan))
    with pytest.raises(ValueError, match="expected a mel"):
        chroma_guided_linear(np.ones((40, 10)), np.zeros((12, 10)))


def test_frame_major_pghi_is_pghi_in_the_other_layout():
    # pghi_frames reads natural-log magnitudes [frames, bins] (the vocoder's layout) and is
    # what pghi(method="frames") runs: the same phase, known frames included
    from mmgan.audio.phase import pghi_frames

    mag = np.abs(stft(music(1.0)))
    log_mag = np.log(np.maximum(mag, mag.max() * 1e-12))
    whole = pghi(mag)
    assert np.array_equal(pghi_frames(log_mag.T), whole.T)
    part = pghi_frames(log_mag.T[20:], known=whole.T[20:30])
    assert np.array_equal(part, pghi(mag[:, 20:], known=whole[:, 20:30]).T)
    with pytest.raises(ValueError, match="expected a log-magnitude"):
        pghi_frames(log_mag)  # [bins, frames]: the wrong layout
    with pytest.raises(ValueError, match="must be finite"):
        pghi_frames(np.full((4, N_FFT // 2 + 1), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="known phase must be"):
        pghi_frames(log_mag.T, known=np.zeros((3, 7)))


@pytest.mark.parametrize("frames", [1, 2, 40])
def test_the_compiled_frame_steps_are_phase_gradients(frames):
    # the kernel computes each frame's phase steps as it reaches the frame: they must be
    # phase_gradients' (np.gradient: central differences, one-sided at the edges)
    from mmgan.audio._pghi_kernel import _frame_gradients

    mag = np.abs(stft(music(1.0)))[:, 10 : 10 + frames]
    low = math.log(mag.max()) - 12 * math.log(10)
    log_mag = np.log(np.maximum(mag, mag.max() * 1e-12))
    if frames > 1:
        t_ref, f_ref = phase_gradients(log_mag, N_FFT, HOP)
    else:  # pghi's one-frame rule: no time gradient
        t_ref, f_ref = (x[:, :1] for x in phase_gradients(np.repeat(log_mag, 2, 1), N_FFT, HOP))
    gamma = 0.25645 * N_FFT**2
    bins = N_FFT // 2 + 1
    x = np.ascontiguousarray(log_mag.T, dtype=np.float32)
    row, t, f = np.empty(bins), np.empty(bins), np.empty(bins)
    level, loud = np.empty(bins, np.int64), np.empty(bins, np.bool_)
    floor = math.log(mag.max()) - 3 * math.log(10)
    for n in {0, frames // 2, frames - 1}:
        _frame_gradients(x, n, low, 2 * math.pi * HOP / N_FFT, HOP * N_FFT / gamma,
                         -gamma / (HOP * N_FFT), floor, 1023 / (math.log(mag.max()) - floor),
                         1024, row, t, f, level, loud)  # fmt: skip
        np.testing.assert_allclose(t, t_ref[:, n], atol=2e-3)
        np.testing.assert_allclose(f, f_ref[:, n], atol=2e-3)
        assert np.array_equal(loud, log_mag[:, n] > floor)
        assert level.min() >= 0 and level.max() <= 1023
