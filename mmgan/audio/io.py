"""Audio in and out: load any common format, resample, mono, peak/loudness normalise, atomic WAV.

``load_audio`` reads WAV/FLAC/OGG (libsndfile) and MP3 (libsndfile ≥ 1.1, falling back
to audioread/ffmpeg), returns ``float32`` ``[T]`` (mono) or ``[C, T]``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

from mmgan.utils import atomic_path

__all__ = [
    "AudioError",
    "load_audio",
    "save_wav",
    "resample",
    "to_mono",
    "peak_normalize",
    "loudness",
    "loudness_normalize",
]


class AudioError(ValueError):
    """An audio file or buffer cannot be used (unreadable, empty, silent, NaN, ...)."""


def load_audio(
    path: str | Path,
    sr: int | None = 22050,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
) -> tuple[np.ndarray, int]:
    """Read an audio file. Returns ``(audio, sample_rate)``.

    Args:
        sr: resample to this rate; ``None`` keeps the file's rate.
        mono: mix channels down to ``[T]``; otherwise ``[C, T]``.
        offset, duration: seconds to skip / keep.

    Raises:
        FileNotFoundError: no such file.
        AudioError: the file is not decodable audio, is empty, or holds NaN/inf.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {path}")
    try:
        info = sf.info(str(path))
        native = info.samplerate
        start = int(offset * native)
        frames = -1 if duration is None else int(duration * native)
        data, native = sf.read(
            str(path), start=start, frames=frames, dtype="float32", always_2d=True
        )
        audio = data.T  # [C, T]
    except (sf.LibsndfileError, RuntimeError, TypeError) as sf_err:
        audio, native = _load_with_audioread(path, offset, duration, sf_err)
    if audio.size == 0:
        raise AudioError(f"{path}: contains no audio samples")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path}: contains NaN or infinite samples")
    if mono:
        audio = to_mono(audio)
    if sr is not None and sr != native:
        audio = resample(audio, native, sr)
        native = sr
    return np.ascontiguousarray(audio, dtype=np.float32), int(native)


def _load_with_audioread(path: Path, offset: float, duration: float | None, first_err: Exception):
    try:
        import librosa

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y, native = librosa.load(
                str(path), sr=None, mono=False, offset=offset, duration=duration
            )
    except Exception as err:  # audioread raises many unrelated types; report both causes
        raise AudioError(
            f"{path}: cannot decode audio ({first_err}; fallback decoder: {err}). "
            "Is it a WAV/FLAC/OGG/MP3 file? For MP3 on old systems install ffmpeg."
        ) from err
    y = np.atleast_2d(np.asarray(y, dtype=np.float32))
    return y, int(native)


def to_mono(audio: np.ndarray) -> np.ndarray:
    """``[C, T]`` or ``[T]`` -> ``[T]`` by averaging channels."""
    audio = np.asarray(audio)
    if audio.ndim == 1:
        return audio
    if audio.ndim != 2:
        raise AudioError(f"expected audio of shape [T] or [C, T], got {audio.shape}")
    return audio.mean(axis=0)


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """High-quality resampling (soxr) along the last axis."""
    if orig_sr == target_sr:
        return audio
    import soxr

    if audio.ndim == 1:
        return soxr.resample(audio, orig_sr, target_sr).astype(np.float32)
    return soxr.resample(audio.T, orig_sr, target_sr).T.astype(np.float32)


def peak_normalize(audio: np.ndarray, peak_db: float = -1.0) -> np.ndarray:
    """Scale so the largest absolute sample is ``peak_db`` dBFS. Silent input -> AudioError."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 1e-9:
        raise AudioError("cannot normalise silent audio (all samples are zero)")
    return audio * (10 ** (peak_db / 20) / peak)


def loudness(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4, pyloudnorm); ``-inf`` for silence."""
    import pyloudnorm

    x = np.asarray(audio, dtype=np.float64)
    x = x.T if x.ndim == 2 else x
    min_len = int(0.4 * sr) + 1  # one gating block
    if x.shape[0] < min_len:
        x = np.concatenate([x, np.zeros((min_len - x.shape[0],) + x.shape[1:])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(pyloudnorm.Meter(sr).integrated_loudness(x))


def loudness_normalize(
    audio: np.ndarray, sr: int, target_lufs: float = -16.0, peak_ceiling: float = 0.89
) -> np.ndarray:
    """Scale to ``target_lufs``, then down if needed so ``|peak| <= peak_ceiling``.

    Raises ``AudioError`` for silent input, which has no loudness to match.
    """
    level = loudness(audio, sr)
    if not np.isfinite(level):
        peak = float(np.max(np.abs(audio))) if np.size(audio) else 0.0
        if peak <= 1e-9:
            raise AudioError("cannot loudness-normalise silent audio")
        return peak_normalize(audio, 20 * np.log10(peak_ceiling))
    y = audio * 10 ** ((target_lufs - level) / 20)
    peak = float(np.max(np.abs(y)))
    if peak > peak_ceiling:
        y = y * (peak_ceiling / peak)
    return y


def save_wav(path: str | Path, audio: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write a WAV atomically (temp file + rename). ``audio`` is ``[T]`` or ``[C, T]``.

    Raises ``AudioError`` for NaN/inf samples rather than writing garbage.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"refusing to write {path}: audio contains NaN or infinite samples")
    data = audio.T if audio.ndim == 2 else audio
    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(str(tmp), np.clip(data, -1.0, 1.0), sr, subtype=subtype, format="WAV")
    return Path(path)
