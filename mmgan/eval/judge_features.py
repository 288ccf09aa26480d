"""The genre judge's feature front end: audio -> a ``[C, frames]`` matrix, and its disk cache.

:func:`judge_features` turns RMS-normalised mono audio ``[T]`` at ``sample_rate`` (22.05 kHz
by default) into ``C = n_mels + EXTRA_CHANNELS`` float32 rows over
``frames = 1 + T // hop_length`` STFT frames (n_fft 2048, hop 512: ~43 frames/s)::

    rows [0, n_mels)              log-power mel bands, fmin..fmax (30 Hz - 10 kHz)   # 96
    rows [n_mels, n_mels + 12)    chroma: per-frame distribution over 12 pitch classes
    rows [n_mels + 12, +7)        spectral contrast, 7 bands (dB)
    row  n_mels + 19              onset strength (mean positive log-mel flux)
                                  # defaults: [116, frames]

Everything is computed from the STFT bins up to ``fmax`` only, so a resampling round trip
(which rolls off the last few hundred Hz below Nyquist) does not change what the judge hears.

Around it:

* :func:`check_batch` / :func:`prepare_wave`: the input checks, mix-down and resampling that
  :meth:`GenreJudge.features <mmgan.eval.classifier.GenreJudge.features>` applies first;
* :func:`feature_windows`: whole clips' features -> ``window``-frame crops ``[C, window]``
  (hop half a window, short clips zero-padded) with valid-frame masks ``[window]``;
* :func:`clip_features` / :func:`feature_cache_dir`: features of audio files through a
  ``float16`` ``.npy`` cache under ``<corpus>/.cache/judge-<hash of the settings>/``.

Example::

    feat = judge_features(mono_22k)                  # [116, 1 + T // 512] float32
    crops, masks, owner = feature_windows([feat], 216)  # n x [116, 216], n x [216], n
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmgan.audio.io import AudioError, load_audio, resample, to_mono
from mmgan.utils import atomic_path

__all__ = [
    "EXTRA_CHANNELS",
    "FEATURE_VERSION",
    "check_batch",
    "clip_features",
    "feature_cache_dir",
    "feature_windows",
    "judge_features",
    "mix_features",
    "prepare_wave",
    "window_starts",
]

EXTRA_CHANNELS = 12 + 7 + 1  # chroma, spectral contrast, onset strength
FEATURE_VERSION = 1  # part of the cache key: bump it whenever judge_features' output changes
_TARGET_RMS = 0.1
_POWER_FLOOR = 1e-8


# ---------------------------------------------------------------------- features


@functools.lru_cache(maxsize=8)
def _bases(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float):
    """Mel ``[n_mels, K]`` and chroma ``[12, K]`` filters over the ``K`` STFT bins up to
    ``fmax``, and those bins' frequencies ``[K]``."""
    import librosa

    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    k = int(np.searchsorted(freqs, fmax, side="right"))
    mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)[:, :k]
    chroma = librosa.filters.chroma(sr=sr, n_fft=n_fft)[:, :k]
    return mel.astype(np.float32), chroma.astype(np.float32), freqs[:k]


def judge_features(
    wave: np.ndarray,
    *,
    sample_rate: int = 22050,
    n_mels: int = 96,
    n_fft: int = 2048,
    hop_length: int = 512,
    fmin: float = 30.0,
    fmax: float = 10000.0,
) -> np.ndarray:
    """Mono audio ``[T]`` at ``sample_rate`` -> features ``[n_mels + 20, 1 + T // hop_length]``.

    Rows: log mel power (RMS-normalised input, so the level of a clip does not matter),
    chroma (per-frame distribution over 12 pitch classes), spectral contrast (7 bands,
    dB) and onset strength (mean positive log-mel flux), all from ``fmin``/0 Hz to
    ``fmax`` only: resamplers roll off the last few hundred Hz below Nyquist, and a judge
    that listened there would change its mind after a 22.05 -> 44.1 -> 22.05 kHz trip.
    ``float32``.
    """
    import librosa

    x = np.asarray(wave, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise AudioError(f"expected non-empty mono audio [T], got shape {x.shape}")
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    if not np.isfinite(rms) or rms <= 0:
        raise AudioError("audio is silent or non-finite; the judge needs audible sound")
    x = x * (_TARGET_RMS / rms)
    mel_basis, chroma_basis, freqs = _bases(
        int(sample_rate), int(n_fft), int(n_mels), float(fmin), float(fmax)
    )
    frames = 1 + x.size // hop_length
    if x.size < n_fft:  # very short clip: zero-pad so the STFT has a full window
        x = np.pad(x, (0, n_fft - x.size))
    spec = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop_length, center=True))
    spec = np.ascontiguousarray(spec[: len(freqs), :frames])  # [K, F], bins up to fmax
    power = spec**2
    mel = np.log(np.maximum(mel_basis @ power, _POWER_FLOOR))  # [n_mels, F]
    chroma = chroma_basis @ power
    chroma /= np.maximum(chroma.sum(axis=0, keepdims=True), _POWER_FLOOR)  # [12, F]
    contrast = librosa.feature.spectral_contrast(S=spec, sr=sample_rate, freq=freqs)  # [7, F]
    onset = np.maximum(0.0, np.diff(mel, axis=1, prepend=mel[:, :1])).mean(0, keepdims=True)
    return np.concatenate([mel, chroma, contrast, onset]).astype(np.float32)


# ---------------------------------------------------------------------- waveforms in


def check_batch(waves: Sequence[np.ndarray] | np.ndarray, sample_rate: int) -> list[np.ndarray]:
    """A batch of clips as a list: ``[N, T]`` arrays split into rows, ``[T]`` wrapped.

    Raises:
        ValueError: an array of another rank, no clips, or a sample rate below 1.
    """
    if isinstance(waves, np.ndarray):
        if waves.ndim not in (1, 2):
            raise ValueError(f"waves array must be [T] or [N, T], got shape {waves.shape}")
        waves = [waves] if waves.ndim == 1 else list(waves)
    if len(waves) == 0:
        raise ValueError("waves is empty; pass at least one clip")
    if int(sample_rate) <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    return list(waves)


def prepare_wave(
    wave: np.ndarray, sample_rate: int, target_rate: int, *, name: str = "wave"
) -> np.ndarray:
    """Check one clip ``[T]`` or channels-first ``[C, T]``, mix it down and resample it from
    ``sample_rate`` to ``target_rate``: mono float32 ``[T']``.

    Raises:
        AudioError: a clip of another shape, or one that is empty, non-finite or silent;
            the message names it by ``name``.
    """
    x = np.asarray(wave, dtype=np.float32)
    if x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[0] > 8):
        raise AudioError(
            f"{name} has shape {x.shape}; expected [T] or channels-first [C, T] "
            "with C <= 8 (transpose soundfile's [T, C] arrays)"
        )
    if x.size == 0:
        raise AudioError(f"{name} is empty (no samples); pass audible audio")
    if not np.all(np.isfinite(x)):
        raise AudioError(f"{name} contains NaN or infinite samples; clean or drop it")
    x = to_mono(x)
    if float(np.max(np.abs(x))) <= 1e-6:
        raise AudioError(f"{name} is silent (peak below 1e-6); the judge needs sound")
    return resample(x, int(sample_rate), int(target_rate))


# ---------------------------------------------------------------------- windows


def window_starts(frames: int, window: int) -> list[int]:
    """Window starts every ``window // 2`` frames, the last one flush with the end."""
    if frames <= window:
        return [0]
    starts = list(range(0, frames - window + 1, max(1, window // 2)))
    return starts if starts[-1] == frames - window else [*starts, frames - window]


def feature_windows(
    features: Sequence[np.ndarray], window: int
) -> tuple[list[np.ndarray], list[np.ndarray], list[int]]:
    """Clips' features ``[C, frames_i]`` -> every clip's :func:`window_starts` crops.

    Returns three lists of ``n`` (one entry per crop, clip by clip): ``crops`` float32
    ``[C, window]`` (short clips zero-padded), ``masks`` bool ``[window]`` (True on real
    frames) and ``owner``, the index of the crop's clip. Stack slices of them into batches.
    """
    crops, masks, owner = [], [], []
    for i, feat in enumerate(features):
        feat = np.asarray(feat, dtype=np.float32)
        for s in window_starts(feat.shape[1], window):
            crop = np.zeros((feat.shape[0], window), dtype=np.float32)
            part = feat[:, s : s + window]
            crop[:, : part.shape[1]] = part
            crops.append(crop)
            masks.append(np.arange(window) < part.shape[1])
            owner.append(i)
    return crops, masks, owner


# ---------------------------------------------------------------------- disk cache


def clip_features(
    paths: Sequence[Path],
    feature_kwargs: dict[str, Any],
    *,
    cache_dir: Path | None = None,
    lowpass_hz: Sequence[float | None] | None = None,
    progress: bool = False,
) -> list[np.ndarray]:
    """:func:`judge_features` ``[C, frames]`` of each audio file, through the disk cache
    (``float16`` entries; ``cache_dir=None`` computes float32 and stores nothing).

    ``lowpass_hz[i]`` (optional, per file): band-limit that clip first, by resampling to
    twice the cutoff and back, as audio recorded at a lower rate would be.
    """
    cutoffs = list(lowpass_hz) if lowpass_hz is not None else [None] * len(paths)
    jobs = [
        (
            _cache_entry(Path(path), cache_dir, cutoff) if cache_dir is not None else None,
            functools.partial(_features_of_file, Path(path), feature_kwargs, cutoff),
        )
        for path, cutoff in zip(paths, cutoffs, strict=True)
    ]
    return _through_cache(jobs, feature_kwargs, cache_dir, progress)


def mix_features(
    pairs: Sequence[tuple[Path, Path, float]],
    feature_kwargs: dict[str, Any],
    *,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> list[np.ndarray]:
    """:func:`judge_features` of audio mixes, through the same cache as :func:`clip_features`.

    ``pairs[i] = (a, b, w)``: the files ``a`` and ``b`` mixed by
    :func:`mmgan.data.mixes.mix_audio` (same RMS each, then ``w * a + (1 - w) * b``).
    """
    from mmgan.data.mixes import check_mix_weight

    for a, b, w in pairs:  # fail before any work
        check_mix_weight(w, a, b)
    jobs = [
        (
            _mix_entry(Path(a), Path(b), float(w), cache_dir) if cache_dir is not None else None,
            functools.partial(_features_of_mix, Path(a), Path(b), float(w), feature_kwargs),
        )
        for a, b, w in pairs
    ]
    return _through_cache(jobs, feature_kwargs, cache_dir, progress)


def _through_cache(jobs, feature_kwargs, cache_dir, progress) -> list[np.ndarray]:
    """``jobs``: ``(cache entry or None, compute())`` pairs -> their features, read from the
    entry when it holds a valid matrix, else computed and written there (atomically)."""
    from tqdm.auto import tqdm

    out, warned = [], False
    rows = feature_kwargs["n_mels"] + EXTRA_CHANNELS
    for entry, compute in tqdm(jobs, desc="judge features", disable=not progress):
        if entry is not None and entry.is_file():
            try:
                feat = np.load(entry, allow_pickle=False)
                if feat.shape[:1] == (rows,) and feat.shape[1] > 0 and np.isfinite(feat).all():
                    out.append(feat)
                    continue
            except (ValueError, OSError, EOFError):
                pass  # unreadable entry: recompute and overwrite it
        feat = compute()
        if entry is not None:
            feat = feat.astype(np.float16)
            try:
                with atomic_path(entry, suffix=".npy") as tmp:
                    np.save(tmp, feat, allow_pickle=False)
            except OSError as err:  # read-only or full disk: go on uncached
                if not warned:
                    warnings.warn(
                        f"cannot cache judge features in {cache_dir} ({err})", stacklevel=3
                    )
                    warned = True
        out.append(feat)
    return out


def _file_key(path: Path) -> tuple[str, str]:
    """A path's hash and a hash of its size + mtime (a changed file misses the cache)."""
    st = path.stat()
    h = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
    return h, hashlib.sha1(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:8]


def _cache_entry(path: Path, cache_dir: Path, cutoff: float | None) -> Path:
    """``cache_dir/<h[:2]>/<h>-<size+mtime hash>[-lp<cutoff>].npy``."""
    h, state = _file_key(path)
    return cache_dir / h[:2] / f"{h}-{state}{'' if cutoff is None else f'-lp{int(cutoff)}'}.npy"


def _features_of_file(path: Path, feature_kwargs: dict[str, Any], cutoff: float | None):
    sr = feature_kwargs["sample_rate"]
    audio, _ = load_audio(path, sr=sr, mono=True)
    if cutoff is not None and 2 * cutoff < sr:
        audio = resample(resample(audio, sr, int(2 * cutoff)), int(2 * cutoff), sr)
    return judge_features(audio, **feature_kwargs)


def _mix_entry(a: Path, b: Path, w: float, cache_dir: Path) -> Path:
    """``cache_dir/mix/<h[:2]>/<hash of both files' keys and the weight>.npy``."""
    h = hashlib.sha1(json.dumps([*_file_key(a), *_file_key(b), round(w, 6)]).encode())
    h = h.hexdigest()[:20]
    return cache_dir / "mix" / h[:2] / f"{h}.npy"


def _features_of_mix(a: Path, b: Path, w: float, feature_kwargs: dict[str, Any]):
    from mmgan.data.mixes import mix_audio

    sr = feature_kwargs["sample_rate"]
    x, _ = load_audio(a, sr=sr, mono=True)
    y, _ = load_audio(b, sr=sr, mono=True)
    return judge_features(mix_audio(x, y, w, names=(a, b)), **feature_kwargs)


def feature_cache_dir(root: str | Path, feature_kwargs: dict[str, Any]) -> Path:
    """``<root>/.cache/judge-<10-hex hash of the feature settings>``."""
    blob = json.dumps({"v": FEATURE_VERSION, **feature_kwargs}, sort_keys=True)
    return Path(root) / ".cache" / f"judge-{hashlib.sha1(blob.encode()).hexdigest()[:10]}"
