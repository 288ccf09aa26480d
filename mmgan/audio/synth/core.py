"""Building blocks for numpy instruments: oscillators, envelopes, filters, noise.

Everything returns mono ``float32``/``float64`` numpy arrays at sample rate ``sr``.
Instruments (``keys.py``, ``orchestral.py``, ...) combine these; effects that a
studio would put on a bus (reverb, distortion, compression, chorus, delay) are
*not* here: they go through pedalboard in ``effects.py``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

TWO_PI = 2.0 * np.pi


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def time_axis(n: int, sr: int) -> np.ndarray:
    return np.arange(n) / sr


def n_samples(seconds: float, sr: int) -> int:
    return max(1, int(round(seconds * sr)))


# --- envelopes -------------------------------------------------------------------------


def adsr(
    duration: float,
    sr: int,
    attack: float = 0.01,
    decay: float = 0.1,
    sustain: float = 0.7,
    release: float = 0.2,
) -> np.ndarray:
    """Linear-attack, exponential decay/release envelope. Length = duration + release."""
    n_on = n_samples(duration, sr)
    n_rel = n_samples(release, sr)
    t = np.arange(n_on) / sr
    a = max(attack, 1.0 / sr)
    env = np.where(
        t < a,
        t / a,
        sustain + (1.0 - sustain) * np.exp(-(t - a) / max(decay, 1e-4) * 4.0),
    )
    last = env[-1] if n_on else 0.0
    rel = last * np.exp(-np.arange(n_rel) / sr / max(release, 1e-4) * 5.0)
    return np.concatenate([env, rel])


def perc_env(seconds: float, sr: int, decay: float, attack: float = 0.001) -> np.ndarray:
    """Percussive envelope: short linear attack then exponential decay (time constant ``decay``)."""
    n = n_samples(seconds, sr)
    t = np.arange(n) / sr
    a = max(attack, 1.0 / sr)
    return np.where(t < a, t / a, np.exp(-(t - a) / max(decay, 1e-5)))


def fade(x: np.ndarray, sr: int, fade_in: float = 0.002, fade_out: float = 0.01) -> np.ndarray:
    """Short raised-cosine fades to avoid clicks (in place on a copy)."""
    y = np.array(x, dtype=np.float64, copy=True)
    ni = min(len(y), int(fade_in * sr))
    no = min(len(y), int(fade_out * sr))
    if ni > 1:
        y[:ni] *= 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ni))
    if no > 1:
        y[-no:] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, no))
    return y


# --- oscillators -----------------------------------------------------------------------


def phase(freq: float | np.ndarray, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    """Running phase (radians) of a constant or time-varying frequency."""
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    return phase0 + TWO_PI * np.cumsum(f) / sr


def sine(freq, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    return np.sin(phase(freq, n, sr, phase0))


def additive(
    freq: float, n: int, sr: int, amps: list[float] | np.ndarray, decays: list[float] | None = None
) -> np.ndarray:
    """Sum of harmonics k*freq with amplitudes ``amps`` and optional per-harmonic decay (s)."""
    t = np.arange(n) / sr
    out = np.zeros(n)
    nyq = sr / 2
    for k, a in enumerate(amps, start=1):
        if a == 0 or k * freq >= nyq:
            continue
        partial = a * np.sin(TWO_PI * k * freq * t)
        if decays is not None:
            partial *= np.exp(-t / decays[k - 1])
        out += partial
    return out


def _poly_blep(t: np.ndarray, dt: float) -> np.ndarray:
    out = np.zeros_like(t)
    m1 = t < dt
    x = t[m1] / dt
    out[m1] = x + x - x * x - 1.0
    m2 = t > 1.0 - dt
    x = (t[m2] - 1.0) / dt
    out[m2] = x * x + x + x + 1.0
    return out


def saw(freq, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    """Band-limited (polyBLEP) sawtooth in -1..1."""
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    ph = (phase0 / TWO_PI + np.cumsum(f) / sr) % 1.0
    dt = np.clip(f / sr, 1e-9, 0.5)
    y = 2.0 * ph - 1.0
    f_mean = float(np.mean(dt))
    return y - _poly_blep(ph, f_mean)


def square(freq, n: int, sr: int, pulse_width: float = 0.5) -> np.ndarray:
    """Band-limited pulse wave built from two saws."""
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    a = saw(f, n, sr)
    b = saw(f, n, sr, phase0=TWO_PI * pulse_width)
    return 0.5 * (a - b)


def triangle(freq, n: int, sr: int) -> np.ndarray:
    return 2.0 / np.pi * np.arcsin(np.sin(phase(freq, n, sr)))


def fm(carrier: float, ratio: float, index: float | np.ndarray, n: int, sr: int) -> np.ndarray:
    """Two-operator FM: sin(2πf t + I(t)·sin(2π·ratio·f t)). ``index`` may be an envelope."""
    t = np.arange(n) / sr
    mod = np.asarray(index) * np.sin(TWO_PI * carrier * ratio * t)
    return np.sin(TWO_PI * carrier * t + mod)


def noise(n: int, rng: np.random.Generator, color: str = "white") -> np.ndarray:
    """White, pink (≈ -3 dB/oct) or brown noise, unit-ish RMS."""
    w = rng.standard_normal(n)
    if color == "white":
        return w
    if color == "pink":
        b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
        a = [1, -2.494956002, 2.017265875, -0.522189400]
        y = signal.lfilter(b, a, w)
        return y / (np.std(y) + 1e-12)
    if color == "brown":
        y = np.cumsum(w)
        y = signal.lfilter([1, -1], [1, -0.995], y)
        return y / (np.std(y) + 1e-12)
    raise ValueError(f"unknown noise colour {color!r}")


# --- filters ---------------------------------------------------------------------------


def _q(freq: float) -> float:
    """Round a cutoff to 3 significant figures (< 0.5 % off) so cached designs get reused."""
    return float(f"{freq:.3g}")


@lru_cache(maxsize=4096)
def _butter(order: int, cutoff: float | tuple[float, float], btype: str, sr: int) -> np.ndarray:
    """Butterworth design, cached: instruments ask for the same few filters thousands of times."""
    return signal.butter(order, cutoff, btype=btype, fs=sr, output="sos")


def lowpass(x: np.ndarray, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    cutoff = _q(float(np.clip(cutoff, 20.0, sr / 2 * 0.95)))
    return signal.sosfilt(_butter(order, cutoff, "low", sr), x)


def highpass(x: np.ndarray, cutoff: float, sr: int, order: int = 2) -> np.ndarray:
    cutoff = _q(float(np.clip(cutoff, 20.0, sr / 2 * 0.95)))
    return signal.sosfilt(_butter(order, cutoff, "high", sr), x)


def bandpass(x: np.ndarray, low: float, high: float, sr: int, order: int = 2) -> np.ndarray:
    low = _q(float(np.clip(low, 20.0, sr / 2 * 0.9)))
    high = _q(float(np.clip(high, low * 1.05, sr / 2 * 0.95)))
    return signal.sosfilt(_butter(order, (low, high), "band", sr), x)


def resonant_lowpass(
    x: np.ndarray, cutoff: np.ndarray | float, resonance: float, sr: int, block: int = 64
) -> np.ndarray:
    """Time-varying 2-pole resonant low-pass (state-variable filter), per-sample cutoff.

    ``resonance`` in 0..1 (→ Q from 0.7 to ~12). Cutoff may be an envelope array,
    which is what makes an acid line "squelch". Coefficients update every ``block``.
    """
    n = len(x)
    fc = np.broadcast_to(np.asarray(cutoff, dtype=np.float64), (n,))
    q = 0.7 + 11.0 * float(np.clip(resonance, 0.0, 1.0))
    y = np.zeros(n)
    zi = np.zeros(2)
    for start in range(0, n, block):
        stop = min(n, start + block)
        f = float(np.clip(fc[start], 30.0, sr * 0.45))
        w0 = TWO_PI * f / sr
        alpha = np.sin(w0) / (2 * q)
        cosw = np.cos(w0)
        b = np.array([(1 - cosw) / 2, 1 - cosw, (1 - cosw) / 2])
        a = np.array([1 + alpha, -2 * cosw, 1 - alpha])
        y[start:stop], zi = signal.lfilter(b / a[0], a / a[0], x[start:stop], zi=zi)
    return y


def karplus_strong(
    freq: float,
    seconds: float,
    sr: int,
    rng: np.random.Generator,
    decay: float = 0.996,
    brightness: float = 0.5,
) -> np.ndarray:
    """Plucked string (Karplus-Strong) via an IIR comb filter; ``brightness`` 0..1."""
    n = n_samples(seconds, sr)
    period = max(2, int(round(sr / freq)))
    burst = rng.uniform(-1, 1, period)
    burst = lowpass(burst, 500 + 9000 * brightness, sr, order=1)
    x = np.zeros(n)
    x[: min(period, n)] = burst[: min(period, n)]
    a = np.zeros(period + 2)
    a[0] = 1.0
    a[period] = -decay * 0.5
    a[period + 1] = -decay * 0.5
    return signal.lfilter([1.0], a, x)


def normalize_peak(x: np.ndarray, peak: float = 1.0) -> np.ndarray:
    m = float(np.max(np.abs(x))) if len(x) else 0.0
    return x * (peak / m) if m > 0 else x
