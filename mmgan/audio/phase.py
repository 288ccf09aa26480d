"""Phase from the magnitude alone: Phase Gradient Heap Integration (PGHI).

Průša, Balazs & Søndergaard (2017), *A noniterative method for reconstruction of phase from
STFT magnitude*; the phase retrieval of TiFGAN (Marafioti et al. 2019), a GAN that, like
mmgan's spectrogram family, generates magnitudes. For a Gaussian window the STFT's phase
derivatives follow from the log-magnitude ``s``:

- along time (instantaneous frequency): each hop a bin's phase advances by its centre
  frequency ``2 pi m hop / n_fft`` plus ``hop n_fft / gamma * ds/dm`` (a bin on the upper
  flank of a partial, where ``s`` falls, runs slower);
- along frequency (local group delay): neighbouring bins differ by
  ``-gamma / (hop n_fft) * ds/dn`` (an onset late in the frame turns the phase across bins),
  minus ``pi`` in ``torch.stft``'s convention (the phase is referred to the frame's start,
  half a window before its centre).

A Hann window of ``n_fft`` samples behaves like the Gaussian ``exp(-pi t^2 / gamma)`` with
``gamma = 0.25645 n_fft^2``. Measured on three `small` test clips by least squares over
their bins within 40 dB of the peak: the time constant came out 0.93–0.99 (formula 0.975),
the frequency constant 0.87–1.38 (formula 1.026).

The phase is integrated outward from the loudest bin through a max-heap, so each bin takes
its phase from an already-set, louder neighbour (trapezoidal rule); bins more than
``tol_db`` below the loudest get random phase. The heap loop is compiled with numba (a
librosa dependency). PGHI takes about 0.16 s for 30 s of a 513-bin spectrogram on this
2-core CPU (0.29 s when the start order sorted every bin rather than the loud ones: a real
clip's NNLS magnitude has 28 % of its bins within 60 dB of the peak).

``method="frames"`` (the default) integrates frame by frame instead (RTPGHI, Průša &
Holighaus 2017, *Phase vocoder done right*): a bin of the previous frame continues its own
bin in time, a bin of the current frame spreads across frequency, the loudest first, through
a bucket queue over one frame's bins (loudness quantised to 1,024 steps over the tolerance).
Nothing is integrated backwards in time, so an onset is phased from its first frame on.
Measured: 30 s of a real clip's vocoder magnitude phased in 0.049 s instead of the heap's
0.117 s, and of the GAN's — whose floor puts 86 % of the bins within 60 dB of the peak — in
0.079 s instead of 0.45 s; the GAN vocoder's renders of 30 test clips score the same (log-mel
L1 0.0910 vs 0.0909, MR-STFT 1.041 vs 1.039). :func:`pghi_frames` runs it on natural-log
magnitudes laid out ``[frames, bins]`` (a vocoder's own layout) in one compiled pass that
computes each frame's phase steps as it reaches the frame, and draws the quiet bins' random
phase from an inline xorshift generator: 30 s of the vocoder's magnitude in ~0.021 s (was
0.031 s with the steps precomputed in numpy, 0.05 s through ``pghi``'s float64 magnitude).

Used as the initial phase of :func:`mmgan.audio.features.griffin_lim` (``init="pghi"``), the
spectrogram engine's renderer without a vocoder. ``benchmarks/phase.py`` on the 200 `small`
test clips (mel -> NNLS magnitude -> phase -> audio, against the originals): 4 fast
Griffin-Lim iterations from PGHI against 32 from random phase — FAD style 0.135 vs 0.165,
FAD judge 2.53 vs 2.61, MR-STFT 1.186 vs 1.221, log-mel L1 0.123 vs 0.098 (worse: fewer
iterations leave the spectrogram less consistent), 30 s rendered in 0.45 vs 1.74 s. With the
chroma guide (``pghi+4+chroma``, the ``pghi`` renderer), heap / frames: MR-STFT 1.117 /
1.105, log-mel L1 0.119 / 0.114, key agreement 0.665 / 0.695, FAD style 0.057 / 0.056, FAD
judge 3.25 / 3.38 (the one reading frames made worse).

Example::

    phase = pghi(magnitude, n_fft=1024, hop_length=256)    # [bins, frames] -> radians
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["HANN_GAMMA", "pghi", "pghi_frames", "phase_gradients"]

PGHI_METHODS = ("heap", "frames")
HANN_GAMMA = 0.25645  # gamma / n_fft^2 of the Gaussian closest to a Hann window


def _step_constants(n_fft: int, hop_length: int) -> tuple[float, float, float]:
    """``(centre advance per bin, time scale, frequency scale)`` of the phase steps: a bin
    ``m`` advances ``m * centre + t_scale * ds/dm`` a hop, and neighbouring bins differ by
    ``f_scale * ds/dn - pi`` (the module docstring's formulas, Hann as Gaussian)."""
    gamma = HANN_GAMMA * n_fft**2
    return (
        2.0 * math.pi * hop_length / n_fft,
        hop_length * n_fft / gamma,
        -gamma / (hop_length * n_fft),
    )


def phase_gradients(
    log_mag: np.ndarray, n_fft: int, hop_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(time step, frequency step)``, each ``[bins, frames]`` radians: the phase advance
    from one frame to the next and from one bin to the next (``torch.stft`` convention,
    centred Hann window), predicted from the natural-log magnitude ``log_mag``."""
    advance, t_scale, f_scale = _step_constants(n_fft, hop_length)
    centre = advance * np.arange(log_mag.shape[0])[:, None]
    t_step = centre + t_scale * np.gradient(log_mag, axis=0)
    f_step = f_scale * np.gradient(log_mag, axis=1) - math.pi
    return t_step, f_step


def pghi(
    magnitude: np.ndarray,
    n_fft: int = 1024,
    hop_length: int = 256,
    tol_db: float = 60.0,
    seed: int = 0,
    known: np.ndarray | None = None,
    method: str = "frames",
) -> np.ndarray:
    """Phase ``[bins, frames]`` (radians) for an STFT magnitude ``[n_fft // 2 + 1, frames]``.

    Args:
        magnitude: linear magnitude (not power, not log), finite and >= 0.
        n_fft, hop_length: the STFT it belongs to (Hann window of ``n_fft``, centred frames).
        tol_db: bins this far below the loudest one get random phase (they are too quiet
            for their gradients to mean anything).
        seed: seeds that random phase; the integrated phase does not depend on it.
        known: the phase of the first ``k`` frames ``[bins, k]``, kept as it is; the rest is
            integrated from it (and from its own loudest bins where it cannot be reached),
            so a long spectrogram can be phased in chunks that continue each other.
        method: ``"frames"`` (frame by frame, RTPGHI; see the module docstring) or
            ``"heap"`` (one heap over the whole spectrogram, PGHI as published).

    Raises:
        ValueError: a magnitude of the wrong shape, negative or not finite; a ``known``
            phase of the wrong shape or not finite.
    """
    if method not in PGHI_METHODS:
        raise ValueError(f"method must be one of {PGHI_METHODS}, got {method!r}")
    mag = np.asarray(magnitude, dtype=np.float64)
    if mag.ndim != 2 or mag.shape[0] != n_fft // 2 + 1 or mag.shape[1] < 1:
        raise ValueError(f"expected a magnitude [{n_fft // 2 + 1}, frames], got {mag.shape}")
    if not np.isfinite(mag).all() or (mag < 0).any():
        raise ValueError("the magnitude must be finite and non-negative")
    if not tol_db > 0:
        raise ValueError(f"tol_db must be > 0, got {tol_db}")
    if known is not None:
        bins, frames = mag.shape
        known = _checked_known(
            known, lambda s: s[0] == bins and s[1] <= frames, f"[{bins}, k <= {frames}]"
        )
    peak = mag.max()
    if peak <= 0:  # silence: nothing to integrate
        phase = np.random.default_rng(seed).uniform(0.0, 2.0 * math.pi, size=mag.shape)
        if known is not None:
            phase[:, : known.shape[1]] = known
        return phase
    log_mag = np.log(np.maximum(mag, peak * 1e-12))
    if method == "frames":
        k = None if known is None else known.T
        return pghi_frames(log_mag.T, n_fft, hop_length, tol_db, seed, k).T
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0.0, 2.0 * math.pi, size=mag.shape)
    seeds = np.zeros(0, dtype=np.int64)
    if known is not None:  # the heap starts from these bins
        k = known.shape[1]
        phase[:, :k] = known
        seeds = (np.arange(mag.shape[0])[:, None] * mag.shape[1] + np.arange(k)).ravel()
    floor = math.log(peak) - tol_db / 20.0 * math.log(10.0)
    loud = log_mag > floor
    if mag.shape[1] < 2:  # one frame: no time gradient; integrate across bins only
        log_mag = np.repeat(log_mag, 2, axis=1)
        t_step, f_step = phase_gradients(log_mag, n_fft, hop_length)
        t_step, f_step, log_mag = t_step[:, :1], f_step[:, :1], log_mag[:, :1]
    else:
        t_step, f_step = phase_gradients(log_mag, n_fft, hop_length)
    loud_at = np.flatnonzero(loud)  # sorting only these: ~4x less work than every bin
    order = loud_at[np.argsort(-log_mag.ravel()[loud_at], kind="stable")].astype(np.int64)
    _integrate(log_mag.astype(np.float32), t_step, f_step, order, loud, phase, seeds)
    return phase


def pghi_frames(
    log_mag: np.ndarray,
    n_fft: int = 1024,
    hop_length: int = 256,
    tol_db: float = 60.0,
    seed: int = 0,
    known: np.ndarray | None = None,
) -> np.ndarray:
    """RTPGHI on natural-log magnitudes laid out ``[frames, n_fft // 2 + 1]`` (one frame
    contiguous: a vocoder's own layout) -> phase ``[frames, bins]`` float64 radians;
    :func:`pghi` with ``method="frames"`` in the other layout. One compiled pass: each
    frame's phase steps (:func:`phase_gradients`) and loudness are computed as the frame is
    reached, no ``[frames, bins]`` intermediate is made. ``known``: the phase of the first
    ``k`` frames ``[k, bins]``, kept. Bins more than ``tol_db`` below the loudest get a random
    phase seeded by ``seed`` (a xorshift generator: not the heap's draws)."""
    from mmgan.audio._pghi_kernel import integrate_log_frames

    x = np.ascontiguousarray(log_mag, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != n_fft // 2 + 1 or x.shape[0] < 1:
        raise ValueError(f"expected a log-magnitude [frames, {n_fft // 2 + 1}], got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("the log-magnitude must be finite")
    if not tol_db > 0:
        raise ValueError(f"tol_db must be > 0, got {tol_db}")
    phase = np.empty(x.shape, dtype=np.float64)
    first = 0
    if known is not None:
        frames, bins = x.shape
        known = _checked_known(
            known, lambda s: s[1] == bins and s[0] <= frames, f"[k <= {frames}, {bins}]"
        )
        first = known.shape[0]
        phase[:first] = known
    tol = tol_db / 20.0 * math.log(10.0)
    levels = 1024  # loudness steps over the tolerance: ~0.06 dB at 60 dB
    steps = _step_constants(n_fft, hop_length)
    integrate_log_frames(x, phase, first, tol, *steps, levels, seed)
    return phase


def _checked_known(known, fits, expected: str) -> np.ndarray:
    """``known`` as float64, or a ValueError: not 2-D, ``fits(shape)`` False, not finite."""
    known = np.asarray(known, dtype=np.float64)
    if known.ndim != 2 or not fits(known.shape):
        raise ValueError(f"known phase must be {expected}, got {known.shape}")
    if not np.isfinite(known).all():
        raise ValueError("the known phase must be finite")
    return known


def _integrate(log_mag, t_step, f_step, order, loud, phase, seeds) -> None:
    from mmgan.audio._pghi_kernel import integrate  # numba: compiled once, cached on disk

    integrate(log_mag, t_step, f_step, order, loud, phase, seeds.astype(np.int64))
