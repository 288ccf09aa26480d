"""Guitars, basses and folk instruments (numpy voices; see ``registry`` for the signature).

* ``guitar.distorted`` — a saw-based electric string for power chords. Notes whose
  velocity is below ``mute_below`` are *palm-muted* (short decay, dark low-pass);
  accents ring open. The heavy distortion and cabinet tone are not here: composers
  put pedalboard ``distortion`` + filters in ``Part.effects``.
* ``guitar.clean`` — Karplus-Strong electric with a softer, rounder pluck.
* ``bass.picked`` — picked electric bass (metal, rock): bright saw/pulse with a pick click.
* ``guitar.steel`` / ``guitar.nylon`` — acoustic guitars (Karplus-Strong with pick
  position and a body resonance). Strums are written in the score as one note per
  string with staggered onsets.
* ``fiddle`` (bowed saw with delayed vibrato and body formants), ``tin_whistle``
  (sine + breath), ``banjo`` and ``mandolin`` (bright, short Karplus-Strong).

All voices return ``duration + release`` seconds of mono float64 audio.
"""

from __future__ import annotations

import numpy as np

from .core import bandpass, highpass, lowpass, midi_to_hz, n_samples, noise
from .registry import instrument

# --- shared building blocks --------------------------------------------------------------


def naive_saw(freq, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    """Naive sawtooth ``[n]`` in -1..1 from a constant or per-sample frequency (Hz).

    Cheaper than ``core.saw``; the aliasing is negligible for the low, filtered and
    then distorted notes it is used for here.
    """
    if np.ndim(freq) == 0:
        ph = phase0 / (2 * np.pi) + np.arange(n) * (float(freq) / sr)
    else:
        ph = phase0 / (2 * np.pi) + np.cumsum(freq) / sr
    return 2.0 * (ph % 1.0) - 1.0


def naive_square(freq: float, n: int, sr: int, pulse_width: float = 0.5) -> np.ndarray:
    """Naive pulse wave ``[n]`` in -1..1 with duty cycle ``pulse_width``."""
    ph = np.arange(n) * (float(freq) / sr)
    return np.where(ph % 1.0 < pulse_width, 1.0, -1.0)


def ks_string(
    freq: float,
    n: int,
    sr: int,
    rng: np.random.Generator,
    t60: float = 3.0,
    brightness: float = 0.6,
    pick_position: float = 0.15,
) -> np.ndarray:
    """Tuned Karplus-Strong string, vectorised one period at a time. Returns ``[n]``.

    The loop filter is a two-tap average (the classic KS low-pass) convolved with a
    linear-interpolation fractional delay, so the pitch is exact; ``t60`` is the time
    (s) for the fundamental to fall 60 dB, ``brightness`` 0..1 colours the pluck and
    ``pick_position`` (0..0.5 of the string length) notches the excitation like a pick.
    """
    total = sr / freq - 0.5  # the 2-tap average delays half a sample
    period = max(2, int(np.floor(total)))
    frac = total - period
    taps = np.array([0.5 * (1 - frac), 0.5, 0.5 * frac])  # lags period, +1, +2
    gain = 10.0 ** (-3.0 / (max(t60, 0.01) * freq))
    burst = rng.uniform(-1.0, 1.0, period)
    burst = lowpass(burst, 400 + 9000 * brightness**2, sr, order=1)
    lag = int(round(pick_position * period))
    if lag > 0:
        burst = burst - np.concatenate([np.zeros(lag), burst[:-lag]])
    burst -= burst.mean()
    off = period + 2  # y[off + i] is output sample i; leading zeros are the empty delay line
    y = np.zeros(off + n)
    y[off : off + min(period, n)] = burst[: min(period, n)]
    for start in range(off + period, off + n, period):
        stop = min(start + period, off + n)
        m = stop - start
        prev = (
            taps[0] * y[start - period : start - period + m]
            + taps[1] * y[start - period - 1 : start - period - 1 + m]
            + taps[2] * y[start - period - 2 : start - period - 2 + m]
        )
        y[start:stop] = gain * prev
    return y[off:]


def _transient(n: int, cutoff: float, tau: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """High-passed noise burst ``[n]`` decaying with time constant ``tau`` s (pick, chiff).

    Only the first ``8 * tau`` seconds are synthesised; the rest is silence.
    """
    m = min(n, n_samples(8 * tau, sr))
    out = np.zeros(n)
    out[:m] = highpass(noise(m, rng), cutoff, sr) * np.exp(-np.arange(m) / sr / tau)
    return out


def _release(x: np.ndarray, on_s: float, release_s: float, sr: int) -> np.ndarray:
    """Damp ``x`` after ``on_s`` seconds with an exponential of time constant ``release_s/5``."""
    i = min(len(x), n_samples(on_s, sr))
    out = x.copy()
    k = np.arange(len(x) - i) / sr
    out[i:] *= np.exp(-k * 5.0 / max(release_s, 1e-3))
    return out


def _body(x: np.ndarray, sr: int, formants: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    """Add band-passed copies (centre Hz, bandwidth Hz, gain) — a cheap instrument body."""
    out = x.copy()
    for fc, bw, g in formants:
        out += g * bandpass(x, fc - bw / 2, fc + bw / 2, sr, order=1)
    return out


def _vibrato(freq: float, n: int, sr: int, rate: float, depth_cents: float, delay: float):
    """Frequency track ``[n]`` (Hz) with vibrato that fades in after ``delay`` seconds."""
    t = np.arange(n) / sr
    ramp = np.clip((t - delay) / 0.25, 0.0, 1.0)
    cents = depth_cents * ramp * np.sin(2 * np.pi * rate * t)
    return freq * 2.0 ** (cents / 1200.0)


# --- electric ------------------------------------------------------------------------------


@instrument("guitar.distorted", program=30, label="distorted electric guitar")
def distorted_guitar(
    pitch, duration, velocity, sr, rng, mute_below: float = 0.8, tone: float = 0.5, **_
):
    """Dry electric string for high-gain chains: detuned saws, pick attack, palm mute.

    ``velocity < mute_below`` → palm-muted (~90 ms decay, low-pass ≈ 700-1000 Hz);
    otherwise an open, sustaining note. ``tone`` 0..1 brightens the open sound.
    """
    f = midi_to_hz(pitch)
    muted = velocity < mute_below
    release = 0.03 if muted else 0.12
    length = (min(duration, 0.25) if muted else duration) + release
    n = n_samples(length, sr)
    det = 2.0 ** (rng.normal(0, 4.0) / 1200.0)
    x = naive_saw(f, n, sr) + 0.7 * naive_saw(f * det * 1.003, n, sr, phase0=rng.uniform(0, 6.28))
    x += 0.4 * naive_square(f * 0.5 * det, n, sr) if pitch < 52 else 0.0
    t = np.arange(n) / sr
    if muted:
        env = np.exp(-t / 0.09)
        x = lowpass(x, 650 + 500 * velocity, sr, order=2)
    else:
        env = np.minimum(1.0, t / 0.003) * (0.55 + 0.45 * np.exp(-t / 0.25))
        x = lowpass(x, 2500 + 4000 * tone, sr, order=1)
    out = (x * env + _transient(n, 2000.0, 0.006, sr, rng) * 0.4) * velocity
    return _release(out, length - release, release, sr)


@instrument("guitar.clean", program=27, label="clean electric guitar")
def clean_guitar(pitch, duration, velocity, sr, rng, t60: float = 2.5, **_):
    """Clean electric (neck pickup): Karplus-Strong, mellow pluck, short release."""
    f = midi_to_hz(pitch)
    rel = 0.15
    n = n_samples(min(duration, 3.0) + rel, sr)
    x = ks_string(f, n, sr, rng, t60=t60, brightness=0.35 + 0.3 * velocity, pick_position=0.25)
    x = lowpass(x, 3500, sr)
    return _release(x * velocity, min(duration, 3.0), rel, sr)


@instrument("bass.picked", program=34, label="picked electric bass")
def picked_bass(pitch, duration, velocity, sr, rng, brightness: float = 0.5, **_):
    """Picked electric bass: saw + pulse, low-pass sweep and a pick click."""
    f = midi_to_hz(pitch)
    rel = 0.05
    n = n_samples(duration + rel, sr)
    t = np.arange(n) / sr
    x = (
        0.7 * naive_saw(f, n, sr)
        + 0.5 * naive_square(f, n, sr, pulse_width=0.3)
        + 0.6 * np.sin(2 * np.pi * f * t)
    )
    bright = lowpass(x, 1200 + 2500 * brightness, sr)
    dark = lowpass(x, 400, sr)
    fast = np.exp(-t / 0.12)
    x = bright * fast + dark * (1 - fast)
    env = np.minimum(1.0, t / 0.002) * (0.6 + 0.4 * np.exp(-t / 0.4))
    click = _transient(n, 1500.0, 0.004, sr, rng) * 0.3
    return _release((x * env + click) * velocity, duration, rel, sr)


# --- acoustic ------------------------------------------------------------------------------

_STEEL_BODY = ((110.0, 60.0, 1.2), (220.0, 120.0, 0.6), (2800.0, 2000.0, 0.25))
_NYLON_BODY = ((100.0, 60.0, 1.4), (200.0, 120.0, 0.8))


@instrument("guitar.steel", program=25, label="steel-string acoustic guitar")
def steel_guitar(pitch, duration, velocity, sr, rng, t60: float = 3.5, **_):
    """Steel-string acoustic: bright Karplus-Strong, pick position, body resonances."""
    f = midi_to_hz(pitch)
    rel = 0.12
    on = min(duration, 2.5)
    n = n_samples(on + rel, sr)
    x = ks_string(f, n, sr, rng, t60=t60, brightness=0.3 + 0.35 * velocity, pick_position=0.12)
    x = _body(x, sr, _STEEL_BODY)
    return _release(x * velocity, on, rel, sr)


@instrument("guitar.nylon", program=24, label="nylon-string guitar")
def nylon_guitar(pitch, duration, velocity, sr, rng, t60: float = 2.5, **_):
    """Nylon-string (classical / finger-picked): darker pluck, warm body."""
    f = midi_to_hz(pitch)
    rel = 0.15
    on = min(duration, 2.5)
    n = n_samples(on + rel, sr)
    x = ks_string(f, n, sr, rng, t60=t60, brightness=0.2 + 0.3 * velocity, pick_position=0.3)
    x = lowpass(_body(x, sr, _NYLON_BODY), 4000, sr)
    return _release(x * velocity, on, rel, sr)


@instrument("banjo", program=105, label="banjo")
def banjo(pitch, duration, velocity, sr, rng, **_):
    """Five-string banjo: very bright, fast-decaying pluck with a drum-head twang."""
    f = midi_to_hz(pitch)
    rel = 0.05
    on = min(duration, 0.8)
    n = n_samples(on + rel, sr)
    x = ks_string(f, n, sr, rng, t60=0.7, brightness=0.95, pick_position=0.08)
    x = _body(highpass(x, 250, sr), sr, ((900.0, 500.0, 0.8), (2500.0, 1500.0, 0.5)))
    return _release(x * velocity, on, rel, sr)


@instrument("mandolin", program=25, label="mandolin")
def mandolin(pitch, duration, velocity, sr, rng, **_):
    """Mandolin: paired, slightly detuned bright courses with a short sustain."""
    f = midi_to_hz(pitch)
    rel = 0.06
    on = min(duration, 1.2)
    n = n_samples(on + rel, sr)
    a = ks_string(f, n, sr, rng, t60=1.2, brightness=0.85, pick_position=0.1)
    b = ks_string(f * 1.0025, n, sr, rng, t60=1.2, brightness=0.85, pick_position=0.1)
    x = _body(highpass(a + b, 180, sr), sr, ((600.0, 300.0, 0.6),))
    return _release(0.6 * x * velocity, on, rel, sr)


# --- folk leads --------------------------------------------------------------------------

_FIDDLE_BODY = (
    (290.0, 120.0, 1.0),
    (550.0, 250.0, 0.8),
    (1200.0, 500.0, 0.5),
    (2900.0, 1400.0, 0.6),
)


@instrument("fiddle", program=110, label="fiddle")
def fiddle(pitch, duration, velocity, sr, rng, vibrato: float = 1.0, **_):
    """Bowed fiddle: saw with bow noise, delayed vibrato and violin-body formants."""
    f = midi_to_hz(pitch)
    rel = 0.08
    n = n_samples(duration + rel, sr)
    t = np.arange(n) / sr
    track = _vibrato(f, n, sr, rate=5.5 + rng.normal(0, 0.3), depth_cents=18 * vibrato, delay=0.18)
    x = naive_saw(track, n, sr)
    x = _body(lowpass(x, 5000, sr), sr, _FIDDLE_BODY)
    bow = bandpass(noise(n, rng), 2000, 7000, sr) * 0.08
    attack = min(0.04, duration * 0.3)
    env = np.minimum(1.0, t / max(attack, 1e-3)) * (0.85 + 0.15 * np.exp(-t / 0.1))
    return _release((0.35 * x + bow) * env * velocity, duration, rel, sr)


@instrument("tin_whistle", program=72, label="tin whistle")
def tin_whistle(pitch, duration, velocity, sr, rng, breath: float = 0.5, **_):
    """Tin whistle / flute-like lead: near-sine with a little 2nd/3rd harmonic and breath."""
    f = midi_to_hz(pitch)
    rel = 0.05
    n = n_samples(duration + rel, sr)
    t = np.arange(n) / sr
    track = _vibrato(f, n, sr, rate=5.0, depth_cents=10, delay=0.25)
    ph = 2 * np.pi * np.cumsum(track) / sr
    x = np.sin(ph) + 0.18 * np.sin(2 * ph) + 0.06 * np.sin(3 * ph)
    air = bandpass(noise(n, rng), f * 0.8, min(f * 4, sr * 0.45), sr) * 0.12 * breath
    chiff = _transient(n, 3000.0, 0.015, sr, rng) * 0.15
    env = np.minimum(1.0, t / 0.02)
    return _release(((x + air) * env + chiff) * 0.5 * velocity, duration, rel, sr)
