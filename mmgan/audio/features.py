"""Log-mel features and their Griffin-Lim inverse (the baseline renderer).

Parameters (``MelParams`` defaults): 22 050 Hz, n_fft 1024 (46 ms window),
hop 256 (11.6 ms, 86.1 frames/s), 80 mel bands from 0 Hz to 11 025 Hz (Slaney
mel scale and normalisation, as librosa and most vocoders use), magnitude
spectrogram (power 1), ``log(clamp(mel, 1e-5))`` — the HiFi-GAN/Vocos convention,
so a later GAN vocoder can consume these features directly.

``MelParams(chroma=True)`` appends 12 log-chroma rows (C, C#, ..., B; librosa
``chroma_stft`` with a 4096-point window, same hop and frame count, each frame scaled
to max 1, ``log(max(chroma, 1e-3))``) under the mel rows: ``[n_mels + 12, frames]``.
An 80-band mel cannot resolve semitones below ~2 kHz, so pitch class (the key of a
clip) needs these rows; ``params.n_rows`` gives the total.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from mmgan.audio.phase import HANN_GAMMA

LOG_FLOOR = 1e-5
CHROMA_FLOOR = 1e-3
CHROMA_BINS = 12
CHROMA_N_FFT = 4096


@dataclass(frozen=True)
class MelParams:
    sr: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None  # None = sr / 2
    chroma: bool = False  # append 12 log-chroma rows (see module docstring)

    @property
    def n_rows(self) -> int:
        """Rows of a feature frame: ``n_mels`` (+ 12 with ``chroma``)."""
        return self.n_mels + (CHROMA_BINS if self.chroma else 0)

    @property
    def frames_per_second(self) -> float:
        return self.sr / self.hop_length

    def n_frames(self, n_samples: int) -> int:
        """Frames ``log_mel`` returns for ``n_samples`` (centred STFT)."""
        return 1 + n_samples // self.hop_length


DEFAULT_MEL = MelParams()


def _mel_basis(p: MelParams) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=p.sr, n_fft=p.n_fft, n_mels=p.n_mels, fmin=p.fmin, fmax=p.fmax)


def mel_spectrogram(audio: np.ndarray, sr: int, params: MelParams = DEFAULT_MEL) -> np.ndarray:
    """Magnitude mel spectrogram ``[n_mels, frames]`` (``float32``)."""
    import librosa

    if sr != params.sr:
        raise ValueError(
            f"audio is at {sr} Hz but the mel parameters expect {params.sr} Hz; resample first"
        )
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected mono audio [T], got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("audio contains NaN or infinite samples")
    spec = np.abs(librosa.stft(x, n_fft=params.n_fft, hop_length=params.hop_length, center=True))
    return (_mel_basis(params) @ spec).astype(np.float32)


def log_mel(audio: np.ndarray, sr: int, params: MelParams = DEFAULT_MEL) -> np.ndarray:
    """``log(max(mel, 1e-5))`` ``[n_mels, frames]``; silence sits at ``log(1e-5) ≈ -11.5``.

    With ``params.chroma``: ``[n_mels + 12, frames]``, log-chroma rows last.
    """
    out = np.log(np.maximum(mel_spectrogram(audio, sr, params), LOG_FLOOR)).astype(np.float32)
    if params.chroma:
        out = np.concatenate([out, log_chroma(audio, sr, params)[:, : out.shape[1]]])
    return out


def log_chroma(audio: np.ndarray, sr: int, params: MelParams = DEFAULT_MEL) -> np.ndarray:
    """``log(max(chroma, 1e-3))`` ``[12, frames]`` on the mel's frame grid (C first)."""
    import librosa

    x = np.asarray(audio, dtype=np.float32)
    chroma = librosa.feature.chroma_stft(
        y=x, sr=sr, n_fft=CHROMA_N_FFT, hop_length=params.hop_length, center=True, tuning=0.0
    )
    return np.log(np.maximum(chroma, CHROMA_FLOOR)).astype(np.float32)


def mel_to_linear(mel: np.ndarray, params: MelParams = DEFAULT_MEL, iters: int = 10) -> np.ndarray:
    """Magnitude mel ``[n_mels, frames]`` -> non-negative linear spectrogram ``[n_fft/2+1, frames]``
    by multiplicative-update NNLS (Lee & Seung) from the clipped pseudo-inverse.

    Measured on a 6 s jazz clip: mel fit (mean |log error|) 0.006 against 0.013 for librosa's
    L-BFGS NNLS (``mel_to_stft``), and ~8x faster on 30 s of frames.
    """
    import torch

    basis = torch.from_numpy(_mel_basis(params).astype(np.float32))  # [n_mels, bins]
    m = torch.from_numpy(np.ascontiguousarray(mel, dtype=np.float32))
    return nnls_mel_inverse(m, basis, torch.linalg.pinv(basis), iters).numpy()


@functools.lru_cache(maxsize=8)
def _band_of(key: bytes, n_mels: int) -> tuple[np.ndarray, ...]:
    from mmgan.audio._mel_kernel import band_structure

    return band_structure(np.frombuffer(key, dtype=np.float32).reshape(n_mels, -1))


def _band_structure(basis) -> tuple[np.ndarray, ...]:
    """:func:`mmgan.audio._mel_kernel.band_structure` of a torch basis, kept per basis."""
    b = basis.detach().cpu().contiguous().numpy()
    return _band_of(b.tobytes(), b.shape[0])


def nnls_mel_inverse(mel, basis, pinv, iters: int = 10, start=None):
    """The torch core of :func:`mel_to_linear`: magnitude mel ``[..., n_mels, frames]`` ->
    linear magnitudes ``[..., bins, frames]``, given the mel ``basis [n_mels, bins]`` and its
    pseudo-inverse (callers that invert many mels keep both; the vocoder's starting point).
    ``start``: the linear magnitudes to refine instead of ``pinv @ mel`` (``pinv`` unused).

    On the CPU without autograd (float32) the iterations run frame by frame over the
    basis' band (:mod:`mmgan.audio._mel_kernel`: ~4x faster; the result is the same to
    float32 rounding) and come back as a ``[..., bins, frames]`` view of a
    ``[..., frames, bins]`` tensor."""
    import torch

    if (
        mel.device.type == "cpu"
        and mel.dtype == basis.dtype == torch.float32
        and not (torch.is_grad_enabled() and (mel.requires_grad or basis.requires_grad))
    ):
        from mmgan.audio._mel_kernel import nnls_frames_threaded

        n_mels, frames = mel.shape[-2:]
        rows = mel.detach().transpose(-1, -2).reshape(-1, n_mels).contiguous()  # [N, n_mels]
        if start is None:
            spec = (rows @ pinv.T).clamp_min(1e-8)
        else:
            spec = start.detach().transpose(-1, -2).reshape(rows.shape[0], -1).clamp_min(1e-8)
        spec = spec.contiguous()
        band = _band_structure(basis)
        nnls_frames_threaded(rows.numpy(), spec.numpy(), band, iters, torch.get_num_threads())
        return spec.reshape(*mel.shape[:-2], frames, -1).transpose(-1, -2)
    spec = (pinv @ mel if start is None else start).clamp_min(1e-8)
    numer = basis.T @ mel
    for _ in range(iters):
        spec = spec * numer / (basis.T @ (basis @ spec) + 1e-10)
    return spec


# Semitone lobes of the chroma-guided inverse: a Hann window's main lobe is close to a
# Gaussian of this many bins (sigma^2 = n_fft^2 / (2 pi gamma), gamma = HANN_GAMMA n_fft^2
# as in PGHI); MIDI 24-108 covers the corpus' pitches.
SEMITONE_SIGMA_BINS = (2 * np.pi * HANN_GAMMA) ** -0.5
GUIDE_MIDI = (24, 109)


def _semitone_comb(params: MelParams) -> np.ndarray:
    """``[bins, 12]``: how much each STFT bin belongs to each pitch class (C first), as
    Gaussian lobes of :data:`SEMITONE_SIGMA_BINS` centred on every semitone (A4 = 440 Hz)."""
    midi = np.arange(*GUIDE_MIDI)
    centre = 440.0 * 2.0 ** ((midi - 69) / 12.0) * params.n_fft / params.sr  # fractional bins
    bins = np.arange(params.n_fft // 2 + 1)[:, None]
    lobes = np.exp(-0.5 * ((bins - centre[None, :]) / SEMITONE_SIGMA_BINS) ** 2)
    to_class = np.zeros((len(midi), CHROMA_BINS))
    to_class[np.arange(len(midi)), midi % 12] = 1.0
    return lobes @ to_class


def chroma_guided_linear(
    mel: np.ndarray,
    log_chroma_rows: np.ndarray,
    params: MelParams = DEFAULT_MEL,
    iters: int = 10,
    gamma: float = 1.0,
    sharpness: float = 2.0,
    floor: float = 0.2,
    full_below_hz: float = 1000.0,
) -> np.ndarray:
    """Magnitude mel ``[n_mels, frames]`` + its 12 log-chroma rows -> linear magnitude
    ``[n_fft/2+1, frames]`` whose peaks sit on the semitones the chroma names.

    An 80-band mel cannot say which semitone sounds below ~2 kHz: :func:`mel_to_linear`
    spreads each band's energy smoothly, and the rendered audio loses its pitch classes
    (on the `small` test split the log-chroma of renders is 0.64 mean log units from the
    original's after 32 Griffin-Lim iterations, 0.56 after PGHI + 4; 0.36 with this). Here
    the NNLS start is weighted by semitone lobes (:func:`_semitone_comb`) scaled by
    ``chroma ** sharpness``, ``(floor + w / max w) ** gamma`` per frame, then refitted to
    the mel by the same multiplicative updates (:func:`nnls_mel_inverse`), so the mel is
    kept and, within each band, the energy moves onto the named pitch classes (PGHI then
    turns a lobe's shape into the partial's exact frequency). The weighting is full
    below ``full_below_hz`` and fades out over the octave above it (higher up the mel bands
    are about a semitone wide, and a comb there only colours cymbals and noise).

    Chosen on the `small` val split (60 clips, PGHI + 4 renders against the originals):
    ``floor`` 0.05 put the chroma back best (log-chroma L1 0.334 vs 0.535 without guidance)
    but pitched the kicks and noise — FAD in the independent judge's embedding rose 4.06 ->
    5.63; ``floor`` 0.2 with the fade above 1 kHz keeps most of the gain (chroma L1 0.354,
    FAD style 0.159 -> 0.076, style diversity kept min 0.51 -> 0.69) with FAD judge 3.91.
    """
    import torch

    mel = np.asarray(mel, dtype=np.float32)
    rows = np.asarray(log_chroma_rows, dtype=np.float32)
    if mel.ndim != 2 or mel.shape[0] != params.n_mels:
        raise ValueError(f"expected a mel [{params.n_mels}, frames], got {mel.shape}")
    if rows.shape != (CHROMA_BINS, mel.shape[1]):
        raise ValueError(
            f"expected log-chroma rows [{CHROMA_BINS}, {mel.shape[1]}] (one per mel frame), "
            f"got {rows.shape}"
        )
    if not (np.isfinite(mel).all() and np.isfinite(rows).all()):
        raise ValueError("the mel or chroma contains NaN or infinite values")
    weight = _semitone_comb(params) @ np.exp(np.minimum(rows, 0.0)) ** sharpness
    weight /= np.maximum(weight.max(axis=0, keepdims=True), 1e-12)
    hz = np.maximum(np.arange(params.n_fft // 2 + 1) * params.sr / params.n_fft, 1.0)
    fade = np.clip(1.0 - np.log2(hz / full_below_hz), 0.0, 1.0)[:, None]  # 1 below, 0 an octave up
    start = mel_to_linear(mel, params) * (floor + weight) ** (gamma * fade)
    basis = torch.from_numpy(_mel_basis(params).astype(np.float32))
    start = torch.from_numpy(start.astype(np.float32))
    return nnls_mel_inverse(torch.from_numpy(mel), basis, None, iters, start=start).numpy()


def griffin_lim(
    logmel: np.ndarray,
    params: MelParams = DEFAULT_MEL,
    n_iter: int = 32,
    length: int | None = None,
    seed: int = 0,
    inverse: str = "nnls",
    init: str = "random",
    chroma: np.ndarray | None = None,
) -> np.ndarray:
    """Invert a log-mel ``[n_mels, frames]`` to audio: mel -> linear magnitude (``inverse``:
    ``"nnls"`` = librosa ``mel_to_stft``, ``"fast"`` = :func:`mel_to_linear`), then
    ``n_iter`` iterations of fast Griffin-Lim (momentum 0.99) starting from ``init``:
    ``"random"`` phase (seeded; librosa's ``griffinlim``, the 32-iteration baseline the
    benchmarks compare against), or ``"pghi"``, the phase integrated from the magnitude's
    gradients (:func:`mmgan.audio.phase.pghi`, then :func:`_fast_griffin_lim`; ``n_iter=0``
    is PGHI alone). ``chroma``: the features' 12 log-chroma rows ``[12, frames]``; given,
    the magnitude comes from :func:`chroma_guided_linear` (``inverse`` is then unused)."""
    import librosa

    mel = np.exp(np.asarray(logmel, dtype=np.float32))
    if mel.ndim != 2 or mel.shape[0] != params.n_mels:
        raise ValueError(f"expected log-mel [{params.n_mels}, frames], got {mel.shape}")
    if inverse not in ("fast", "nnls"):
        raise ValueError(f"inverse must be 'nnls' or 'fast', got {inverse!r}")
    if chroma is not None:
        spec = chroma_guided_linear(mel, chroma, params)
    elif inverse == "fast":
        spec = mel_to_linear(mel, params)
    else:
        spec = librosa.feature.inverse.mel_to_stft(
            mel, sr=params.sr, n_fft=params.n_fft, power=1.0, fmin=params.fmin, fmax=params.fmax
        )
    if init == "pghi":
        from mmgan.audio.phase import pghi

        if n_iter < 0:
            raise ValueError(f"n_iter must be >= 0 with init='pghi', got {n_iter}")
        phase = pghi(spec, params.n_fft, params.hop_length, seed=seed)
        return _fast_griffin_lim(spec, phase, n_iter, params, length)
    if init != "random":
        raise ValueError(f"init must be 'random' or 'pghi', got {init!r}")
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1 from random phase, got {n_iter}")
    y = librosa.griffinlim(
        spec,
        n_iter=n_iter,
        hop_length=params.hop_length,
        n_fft=params.n_fft,
        length=length,
        random_state=seed,
    )
    return y.astype(np.float32)


def _fast_griffin_lim(
    magnitude: np.ndarray,
    phase: np.ndarray,
    n_iter: int,
    params: MelParams,
    length: int | None,
    momentum: float = 0.99,
) -> np.ndarray:
    """Fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013) from a given phase:
    :func:`fast_griffin_lim` on numpy arrays (librosa's ``griffinlim`` can only start from
    random or zero phase)."""
    import torch

    mag = torch.from_numpy(np.asarray(magnitude, dtype=np.float32))
    start = torch.from_numpy(np.asarray(phase, dtype=np.float32))
    n = length if length is not None else (mag.shape[1] - 1) * params.hop_length
    y = fast_griffin_lim(mag, start, n_iter, params.n_fft, params.hop_length, n, momentum)
    return y.numpy().astype(np.float32)


def istft(spec, n_fft: int, hop_length: int, window, length: int):
    """``torch.istft(spec, n_fft, hop_length, window=window, center=True, length=length)``
    for complex ``spec [..., n_fft/2+1, frames]``, ~2x faster when the hop divides
    ``n_fft`` (the project's STFTs): each frame's inverse FFT (over a frame-major view: the
    layout ``torch.stft`` and the vocoder keep) is cut into ``n_fft / hop`` blocks of one
    hop, and the overlap-add is that many shifted block sums instead of a ``fold``; the
    window envelope it divides by is constant inside and only its ``n_fft / hop - 1`` edge
    blocks are summed. Same result to float rounding, differentiable."""
    import torch

    bins, frames = spec.shape[-2:]
    lead = spec.shape[:-2]
    r = n_fft // hop_length
    if n_fft % hop_length or frames < r or window.shape[-1] != n_fft:
        flat = spec.reshape(-1, bins, frames)
        y = torch.istft(flat, n_fft, hop_length, window=window, center=True, length=length)
        return y.reshape(*lead, length)
    x = torch.fft.irfft(spec.transpose(-1, -2), n=n_fft, dim=-1) * window  # [..., F, n_fft]
    x = x.reshape(-1, frames, r, hop_length)
    blocks = x.new_zeros(x.shape[0], frames + r - 1, hop_length)
    for j in range(r):  # frame f's j-th block lands in output block f + j
        blocks[:, j : j + frames] += x[:, :, j]
    ww = (window * window).reshape(r, hop_length)
    env = ww.new_empty(frames + r - 1, hop_length)
    env[r - 1 : frames] = ww.sum(0)  # inside: every block gets all r window pieces
    head, tail = torch.cumsum(ww, 0), torch.cumsum(ww.flip(0), 0).flip(0)
    env[: r - 1] = head[: r - 1]  # block b < r - 1: pieces 0..b
    env[frames:] = tail[1:]  # block frames + i: pieces i + 1..r - 1
    y = (blocks / env.clamp_min(1e-11)).reshape(x.shape[0], -1)
    start = n_fft // 2
    y = y[:, start : start + length]
    if y.shape[-1] < length:  # as torch.istft: zeros past the last frame
        y = torch.nn.functional.pad(y, (0, length - y.shape[-1]))
    return y.reshape(*lead, length)


def fast_griffin_lim(mag, phase, n_iter: int, n_fft: int, hop_length: int, length: int,
                     momentum: float = 0.99, window=None):  # fmt: skip
    """Torch core of :func:`_fast_griffin_lim`: magnitude and starting phase
    ``[..., n_fft/2+1, frames]`` -> audio ``[..., length]`` after ``n_iter`` projections onto
    consistent spectrograms with the magnitude held, each extrapolated by ``momentum``.
    Differentiable in ``mag`` (the GAN vocoder's ``phase="pghi"`` mode trains through it)."""
    import torch

    if window is None:
        window = torch.hann_window(n_fft, device=mag.device)
    lead = mag.shape[:-2]
    mag = mag.reshape(-1, *mag.shape[-2:])
    if n_iter:  # the projections multiply it with each STFT: in torch.stft's frame-major layout
        mag = mag.transpose(-1, -2).contiguous().transpose(-1, -2)

    def inverse(x):
        return istft(x, n_fft, hop_length, window, length)

    y, previous = inverse(torch.polar(mag, phase.reshape(mag.shape))), None
    for _ in range(n_iter):
        rebuilt = torch.stft(y, n_fft, hop_length, window=window, center=True,
                             pad_mode="constant", return_complex=True)  # fmt: skip
        target = (
            rebuilt if previous is None else torch.add(rebuilt, rebuilt - previous, alpha=momentum)
        )
        previous = rebuilt
        # the magnitude with the target's phase: scaling the complex value is ~10x cheaper
        # than mag * exp(1j * angle) (a complex exp of every bin; a bin at exactly 0 gets 0)
        y = inverse(target * (mag / target.abs().clamp_min(1e-30)))
    return y.reshape(*lead, length)
