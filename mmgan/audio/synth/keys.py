"""Keyboards, basses and horns for jazz, hip-hop and reggae.

All instruments are *voices* (see :mod:`mmgan.audio.synth.registry`): one note in,
a 1-D float array out (the note plus its release tail). The tuned percussive
voices (pianos, organ, basses, vibraphone) are deterministic given their
arguments, so their samples are memoised on a quantised (pitch, duration,
velocity, params) key: a comping pattern or a looped chord costs one synthesis
per distinct note. The horns use ``rng`` for breath noise and are not cached.

Sounds follow the classic recipes: piano = inharmonic additive partials whose
upper partials die faster (velocity adds partials), electric piano = 2-operator
FM plus a short tine "bark", organ = drawbar additive with key click, basses =
plucked additive strings through a body low-pass, vibraphone = bar modes 1:4:10
with motor tremolo, sax/horns = band-limited saws through formant filters.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .core import TWO_PI, bandpass, lowpass, midi_to_hz, n_samples, noise, saw
from .registry import instrument

_CACHE = 160  # notes kept per instrument (float32, mostly < 1 s each)


def _quant(duration: float, velocity: float) -> tuple[float, float]:
    """Cache key resolution: 10 ms of duration, 1/20 of velocity."""
    return round(float(duration), 2), round(float(velocity) * 20.0) / 20.0


def _frozen(x: np.ndarray) -> np.ndarray:
    y = np.asarray(x, dtype=np.float32)
    y.flags.writeable = False
    return y


def _release(n_on: int, n_rel: int, tau: float, sr: int) -> np.ndarray:
    """Gate of length ``n_on + n_rel``: 1 while held, then exp(-t/tau)."""
    rel = np.exp(-np.arange(n_rel) / sr / max(tau, 1e-4))
    return np.concatenate([np.ones(n_on), rel])


def _attack(n: int, sr: int, seconds: float) -> np.ndarray:
    a = max(2, int(seconds * sr))
    env = np.ones(n)
    env[: min(a, n)] = np.linspace(0.0, 1.0, a)[: min(a, n)]
    return env


def _partials(
    freqs: np.ndarray, amps: np.ndarray, rates: np.ndarray, n: int, sr: int
) -> np.ndarray:
    """Sum_k amps[k] * sin(2π freqs[k] t) * exp(-rates[k] t) over ``n`` samples, shape [n]."""
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    out = np.zeros(n, dtype=np.float32)
    for f, a, r in zip(freqs, amps, rates, strict=True):
        if a < 1e-4 or f >= sr * 0.45:
            continue
        # float32 sin/exp vectorise ~10x faster; phase error stays < 1e-3 rad for notes < 3 s
        partial = np.sin(np.float32(TWO_PI * f) * t)
        out += np.float32(a) * partial * (np.exp(np.float32(-r) * t) if r else np.float32(1.0))
    return out.astype(np.float64)


# --- acoustic piano -------------------------------------------------------------------


@lru_cache(maxsize=_CACHE)
def _piano(pitch: int, dur: float, vel: float, sr: int, brightness: float) -> np.ndarray:
    f0 = midi_to_hz(pitch)
    n_on = n_samples(dur, sr)
    n_rel = n_samples(0.25, sr)
    n = n_on + n_rel
    k = np.arange(1, 15)
    b = 1.2e-4 * 2.0 ** ((pitch - 40) / 16.0)  # string stiffness -> stretched partials
    freqs = k * f0 * np.sqrt(1.0 + b * k**2)
    tilt = 2.6 - 1.4 * np.clip(0.5 * brightness + 0.7 * vel, 0.0, 1.2)  # velocity -> brightness
    amps = k**-tilt * (0.25 + np.abs(np.sin(np.pi * k / 7.3)))  # hammer at ~1/7 of the string
    t_fund = 4.0 * 2.0 ** (-(pitch - 48) / 18.0)  # low strings ring longer
    rates = (1.0 + 0.45 * (k - 1) ** 1.3) / t_fund
    x = _partials(freqs, amps, rates, n, sr)
    hammer = lowpass(
        noise(n_samples(0.02, sr), np.random.default_rng(pitch)), 1500 + 3000 * vel, sr
    )
    hammer *= np.exp(-np.arange(len(hammer)) / sr / 0.004)
    x[: len(hammer)] += 0.08 * vel * hammer
    x *= _attack(n, sr, 0.002) * _release(n_on, n_rel, 0.07, sr)
    return _frozen(0.5 * vel * x)


@instrument("piano", program=0, label="acoustic piano")
def piano(pitch, duration, velocity, sr, rng, brightness: float = 0.5, **_):
    """Acoustic piano note: ``brightness`` 0..1 tilts the spectrum on top of velocity."""
    d, v = _quant(duration, velocity)
    return _piano(int(pitch), d, v, int(sr), round(float(brightness), 2))


# --- electric piano -------------------------------------------------------------------


@lru_cache(maxsize=_CACHE)
def _epiano(pitch: int, dur: float, vel: float, sr: int, bark: float) -> np.ndarray:
    f0 = midi_to_hz(pitch)
    n_on = n_samples(dur, sr)
    n_rel = n_samples(0.3, sr)
    n = n_on + n_rel
    t = np.arange(n, dtype=np.float32) / np.float32(sr)
    w = np.float32(TWO_PI * f0) * t
    index = np.float32(0.4 + 2.2 * bark * vel) * np.exp(t / np.float32(-0.35)) + np.float32(0.25)
    body = np.sin(w + index * np.sin(w))  # velocity raises the FM index: the Rhodes "bark"
    tine = np.sin(np.float32(7.02) * w) * np.exp(t / np.float32(-0.025)) * np.float32(0.25 * vel)
    decay = np.exp(t / np.float32(-2.2 * 2.0 ** (-(pitch - 60) / 24.0)))
    second = np.float32(0.15) * np.sin(np.float32(2.0) * w) * np.exp(t / np.float32(-0.4))
    x = ((body + tine + second) * decay).astype(np.float64)
    x *= _attack(n, sr, 0.003) * _release(n_on, n_rel, 0.08, sr)
    return _frozen(0.45 * vel * x)


@instrument("epiano", program=4, label="electric piano")
def epiano(pitch, duration, velocity, sr, rng, bark: float = 0.5, **_):
    """Rhodes-like FM electric piano; ``bark`` 0..1 scales how much velocity adds growl."""
    d, v = _quant(duration, velocity)
    return _epiano(int(pitch), d, v, int(sr), round(float(bark), 2))


# --- drawbar organ --------------------------------------------------------------------

_DRAWBAR_RATIOS = np.array([0.5, 1.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0])
REGISTRATIONS: dict[str, str] = {
    "jazz": "888000000",
    "gospel": "888800008",
    "bubble": "808000000",  # reggae bubble: round, hollow, short
    "full": "888888888",
    "soft": "006600000",
}


@lru_cache(maxsize=_CACHE)
def _organ(pitch: int, dur: float, vel: float, sr: int, registration: str) -> np.ndarray:
    f0 = midi_to_hz(pitch)
    n_on = n_samples(dur, sr)
    n_rel = n_samples(0.06, sr)
    n = n_on + n_rel
    levels = np.array([int(c) for c in registration], dtype=float) / 8.0
    amps = levels * 0.6 ** np.arange(9) ** 0.5
    x = _partials(f0 * _DRAWBAR_RATIOS, amps, np.zeros(9), n, sr)
    click = bandpass(noise(n_samples(0.006, sr), np.random.default_rng(pitch)), 1500, 6000, sr)
    x[: len(click)] += 0.15 * click
    x *= _attack(n, sr, 0.004) * _release(n_on, n_rel, 0.012, sr)
    return _frozen(0.3 * (0.6 + 0.4 * vel) * x / max(amps.sum(), 1e-6) * 2.0)


@instrument("organ", program=16, label="organ")
def organ(pitch, duration, velocity, sr, rng, registration: str = "jazz", **_):
    """Tonewheel organ; ``registration`` is a key of ``REGISTRATIONS`` or nine drawbar digits."""
    reg = REGISTRATIONS.get(registration, registration)
    if len(reg) != 9 or not reg.isdigit():
        raise ValueError(
            f"organ registration must be one of {sorted(REGISTRATIONS)} or 9 digits, got {reg!r}"
        )
    d, v = _quant(duration, velocity)
    return _organ(int(pitch), d, v, int(sr), reg)


# --- basses ---------------------------------------------------------------------------


@lru_cache(maxsize=_CACHE)
def _upright(pitch: int, dur: float, vel: float, sr: int) -> np.ndarray:
    f0 = midi_to_hz(pitch)
    n_on = n_samples(dur, sr)
    n_rel = n_samples(0.12, sr)
    n = n_on + n_rel
    k = np.arange(1, 11)
    amps = k**-1.4 * np.abs(np.sin(np.pi * k * 0.2)) / np.sin(np.pi * 0.2)  # plucked near 1/5
    rates = (1.2 + 1.1 * (k - 1) ** 1.2) / 0.9
    x = _partials(k * f0, amps, rates, n, sr)
    thump = lowpass(noise(n_samples(0.03, sr), np.random.default_rng(pitch)), 400, sr)
    thump *= np.exp(-np.arange(len(thump)) / sr / 0.008)
    x[: len(thump)] += 0.5 * vel * thump
    x = lowpass(x, 900 + 900 * vel, sr)  # woody body
    x *= _attack(n, sr, 0.004) * _release(n_on, n_rel, 0.04, sr)
    return _frozen(0.6 * vel * x)


@instrument("upright_bass", program=32, label="upright bass")
def upright_bass(pitch, duration, velocity, sr, rng, **_):
    """Plucked double bass: woody, thumpy attack, ~1 s decay."""
    d, v = _quant(duration, velocity)
    return _upright(int(pitch), d, v, int(sr))


@lru_cache(maxsize=_CACHE)
def _electric_bass(pitch: int, dur: float, vel: float, sr: int, weight: float) -> np.ndarray:
    f0 = midi_to_hz(pitch)
    n_on = n_samples(dur, sr)
    n_rel = n_samples(0.1, sr)
    n = n_on + n_rel
    k = np.arange(1, 9)
    # plucked near 1/5 of the string: no 5th harmonic, whose major third would make minor
    # keys sound major; weight darkens the tone and lengthens the sustain
    amps = k**-1.2 * np.abs(np.sin(np.pi * k / 5.0)) / np.sin(np.pi / 5.0)
    amps *= (1.0 - 0.55 * weight) ** (k - 1)
    rates = (0.5 + 0.9 * (k - 1)) / (1.0 + 1.5 * weight)
    x = _partials(k * f0, amps, rates, n, sr)
    x = lowpass(x, 2000 - 1200 * weight, sr)
    x *= _attack(n, sr, 0.006) * _release(n_on, n_rel, 0.03, sr)
    return _frozen(0.7 * (0.5 + 0.5 * vel) * x)


@instrument("electric_bass", program=33, label="electric bass")
def electric_bass(pitch, duration, velocity, sr, rng, weight: float = 0.4, **_):
    """Round finger bass; ``weight`` 0..1 darker, longer and more saturated (dub/reggae)."""
    d, v = _quant(duration, velocity)
    return _electric_bass(int(pitch), d, v, int(sr), round(float(np.clip(weight, 0, 1)), 2))


# --- vibraphone -----------------------------------------------------------------------


@lru_cache(maxsize=_CACHE)
def _vibes(pitch: int, dur: float, vel: float, sr: int, motor: float) -> np.ndarray:
    f0 = midi_to_hz(pitch)
    n_on = n_samples(dur, sr)
    n_rel = n_samples(0.5, sr)
    n = n_on + n_rel
    x = _partials(
        f0 * np.array([1.0, 3.98, 9.9]),
        np.array([1.0, 0.3 * vel, 0.08 * vel]),
        np.array([0.5, 3.0, 12.0]),
        n,
        sr,
    )
    t = np.arange(n) / sr
    x *= 1.0 - motor * 0.5 * (1.0 - np.cos(TWO_PI * 5.5 * t))  # motor tremolo
    x *= _attack(n, sr, 0.002) * _release(n_on, n_rel, 0.2, sr)
    return _frozen(0.5 * vel * x)


@instrument("vibraphone", program=11, label="vibraphone")
def vibraphone(pitch, duration, velocity, sr, rng, motor: float = 0.3, **_):
    """Vibraphone bar (modes 1 : 4 : 10) with motor tremolo depth ``motor`` 0..1."""
    d, v = _quant(duration, velocity)
    return _vibes(int(pitch), d, v, int(sr), round(float(motor), 2))


# --- horns ----------------------------------------------------------------------------


def _horn_pitch(f0: float, n: int, sr: int, scoop: float, vibrato: float) -> np.ndarray:
    """Instantaneous frequency [n]: a scoop up into the note, then delayed vibrato."""
    t = np.arange(n) / sr
    cents = -scoop * np.exp(-t / 0.035)
    cents += vibrato * np.clip((t - 0.18) / 0.25, 0.0, 1.0) * np.sin(TWO_PI * 5.2 * t)
    return f0 * 2.0 ** (cents / 1200.0)


@instrument("sax", program=65, label="saxophone")
def sax(pitch, duration, velocity, sr, rng, breath: float = 0.5, **_):
    """Saxophone-like reed lead: scooped, vibrato saw through formant band-passes + breath."""
    f0 = midi_to_hz(pitch)
    n_on = n_samples(duration, sr)
    n_rel = n_samples(0.08, sr)
    n = n_on + n_rel
    freq = _horn_pitch(f0, n, sr, scoop=40.0, vibrato=14.0 if duration > 0.35 else 0.0)
    src = saw(freq, n, sr)
    bright = 1800 + 3200 * velocity
    x = 0.5 * lowpass(src, bright, sr) + 0.7 * bandpass(src, 450, 900, sr)
    x += 0.45 * bandpass(src, 1300, 2200, sr)
    x += breath * 0.06 * bandpass(noise(n, rng), 1500, 5000, sr)
    env = np.minimum(1.0, np.arange(n) / sr / 0.035) * _release(n_on, n_rel, 0.025, sr)
    env[:n_on] *= 0.85 + 0.15 * np.exp(-np.arange(n_on) / sr / 0.1)
    return 0.5 * velocity * x * env


@instrument("horn_section", program=61, label="horn section")
def horn_section(pitch, duration, velocity, sr, rng, **_):
    """Trumpet + trombone-ish brass stab (octave below), filter opening on the attack."""
    f0 = midi_to_hz(pitch)
    n_on = n_samples(duration, sr)
    n_rel = n_samples(0.1, sr)
    n = n_on + n_rel
    freq = _horn_pitch(f0, n, sr, scoop=25.0, vibrato=0.0)
    src = saw(freq * 1.003, n, sr) + 0.8 * saw(freq * 0.5, n, sr)
    dark = lowpass(src, 2.0 * f0 + 300, sr)
    bright = lowpass(src, 1500 + 3000 * velocity, sr)
    t = np.arange(n) / sr
    open_ = np.clip(t / 0.03, 0, 1) * (0.55 + 0.45 * np.exp(-t / 0.15))  # brass "blat"
    x = (1 - open_) * dark + open_ * bright
    x += 0.03 * bandpass(noise(n, rng), 2000, 6000, sr)
    env = np.minimum(1.0, t / 0.015) * _release(n_on, n_rel, 0.03, sr)
    return 0.3 * velocity * x * env
