"""What a listener would check: tempo and key estimated from audio (librosa).

Used by the corpus checks (``benchmarks/corpus_audio_checks.py``) and tests to
verify that a clip *sounds* like its tags, not only that the code says so.
"""

from __future__ import annotations

import warnings

import numpy as np

from mmgan.data.theory import NOTE_NAMES

# Krumhansl-Kessler key profiles (probe-tone ratings), C major / C minor.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_tempo(audio: np.ndarray, sr: int) -> float:
    """Global tempo (BPM) from librosa's beat tracker."""
    import librosa

    tempo, _ = librosa.beat.beat_track(y=np.asarray(audio, dtype=np.float32), sr=sr)
    return float(np.atleast_1d(tempo)[0])


def tempo_agrees(estimated: float, tagged: float, tol: float = 0.05) -> bool:
    """Within ``tol`` of the tag, or of half/double/two-thirds/three-halves of it (metric levels)."""
    for factor in (1.0, 2.0, 0.5, 1.5, 2.0 / 3.0):
        if abs(estimated - tagged * factor) <= tol * tagged * factor:
            return True
    return False


def chroma_profile(audio: np.ndarray, sr: int, fast: bool = False) -> np.ndarray:
    """Mean CQT chroma (12,), harmonic part only; ``fast``: mean STFT chroma of the whole
    signal (no harmonic/percussive separation, ~10x quicker)."""
    import librosa

    if fast:
        x = np.asarray(audio, dtype=np.float32)
        with warnings.catch_warnings():
            # a track with no pitched content (drums only) leaves librosa no peaks to estimate
            # the tuning from; it then assumes A440, which is what we want
            warnings.filterwarnings("ignore", message="Trying to estimate tuning from empty")
            chroma = librosa.feature.chroma_stft(y=x, sr=sr, n_fft=4096, hop_length=1024)
        return chroma.mean(axis=1)
    y = librosa.effects.harmonic(np.asarray(audio, dtype=np.float32))
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr)
    return chroma.mean(axis=1)


def key_of_profile(profile) -> tuple[int, str, float]:
    """``(tonic pitch class, "major" or "minor", correlation)`` of a 12-bin pitch-class
    profile (C first) by Krumhansl-Schmuckler matching; ValueError for a profile without a
    contour (all bins equal: silence or all twelve alike)."""
    prof = np.asarray(profile, dtype=np.float64).reshape(-1)
    if prof.shape != (12,) or not np.isfinite(prof).all():
        raise ValueError(f"expected a finite 12-bin pitch-class profile, got {prof.shape}")
    if np.ptp(prof) == 0:
        raise ValueError("a pitch-class profile with all bins equal has no key")
    best, best_r = (0, "major"), -2.0
    for tonic in range(12):
        for name, ref in (("major", _MAJOR), ("minor", _MINOR)):
            r = float(np.corrcoef(prof, np.roll(ref, tonic))[0, 1])
            if r > best_r:
                best, best_r = (tonic, name), r
    return best[0], best[1], best_r


def estimate_key(audio: np.ndarray, sr: int, fast: bool = False) -> tuple[str, float]:
    """``("D minor", correlation)`` by Krumhansl-Schmuckler matching of mean chroma
    (``fast``: see :func:`chroma_profile`; :func:`key_of_profile`)."""
    prof = chroma_profile(audio, sr, fast=fast)
    if np.ptp(prof) == 0:
        return "C major", -2.0
    tonic, mode, r = key_of_profile(prof)
    return f"{NOTE_NAMES[tonic]} {mode}", r


def key_agrees(estimated: str, tagged: str, relative_ok: bool = False) -> bool:
    """Same tonic and mode (enharmonics equal); optionally accept the relative key."""
    from mmgan.data.theory import pitch_class

    et, em = estimated.split()
    tt, tm = tagged.split()
    if pitch_class(et) == pitch_class(tt) and em == tm:
        return True
    if relative_ok and em != tm:
        shift = 9 if tm == "major" else 3  # relative minor is 9 semitones above the major tonic
        return (pitch_class(tt) + shift) % 12 == pitch_class(et)
    return False
