"""Electronic instruments: acid bass, leads, plucks, sub/reese bass, FM bells, pads, drones.

Voices follow ``fn(pitch, duration_s, velocity, sr, rng, **params) -> [T]`` (the note
plus its release tail); the acid bass is a *line* instrument
``fn(notes, n, sr, rng, **params) -> [n]`` because its glides and filter envelope span
notes. Filter envelopes on voices are done cheaply by cross-fading a dark and a bright
static low-pass of the same oscillator (``_swept``), not with a per-sample filter.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import resample_poly

from .core import (
    adsr,
    bandpass,
    fade,
    fm,
    lowpass,
    midi_to_hz,
    n_samples,
    noise,
    perc_env,
    resonant_lowpass,
    saw,
    sine,
    square,
)
from .registry import instrument

# --- helpers ---------------------------------------------------------------------------


def _detuned_saws(freq: float, n: int, sr: int, rng: np.random.Generator, cents: list[float]):
    """Sum of saws at ``freq`` detuned by ``cents`` with random phases, ``[n]``, ~unit peak."""
    out = np.zeros(n)
    for c in cents:
        out += saw(freq * 2.0 ** (c / 1200.0), n, sr, phase0=float(rng.uniform(0, 2 * np.pi)))
    return out / max(1, len(cents))


def _swept(x: np.ndarray, dark_hz: float, bright_hz: float, amount: np.ndarray, sr: int):
    """Cross-fade a dark and a bright low-pass of ``x`` by ``amount`` (0 dark .. 1 bright)."""
    dark = lowpass(x, dark_hz, sr)
    bright = lowpass(x, bright_hz, sr)
    return dark + (bright - dark) * np.clip(amount, 0.0, 1.0)


def _lfo(n: int, sr: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Slow sine LFO in 0..1 with a random phase, ``[n]``; ``rate`` in Hz."""
    t = np.arange(n) / sr
    return 0.5 + 0.5 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))


def _memo_voice(render):
    """Turn ``render(pitch, duration, sr, rng, **params)`` (velocity 1) into a cached voice.

    Percussive voices (plucks, stabs, bells) repeat the same notes all clip long, so each
    distinct ``(pitch, duration, params)`` is synthesised once (its noise/phase seeded by
    the pitch) and scaled by velocity. The returned voice has the registry signature.
    """

    @lru_cache(maxsize=160)
    def cached(pitch: int, duration: float, sr: int, items: tuple) -> np.ndarray:
        rng = np.random.default_rng(pitch)
        return np.asarray(render(pitch, duration, sr, rng, **dict(items)), dtype=np.float32)

    def voice(pitch, duration, velocity, sr, rng, **params):
        items = tuple(
            sorted((k, round(v, 3) if isinstance(v, float) else v) for k, v in params.items())
        )
        return cached(int(pitch), round(float(duration), 2), sr, items) * velocity

    voice.__name__ = render.__name__.lstrip("_")
    voice.__doc__ = render.__doc__
    return voice


# --- acid bass (line) ------------------------------------------------------------------


def _acid_phrases(notes, tol: float = 1e-3) -> list[list[int]]:
    """Group note indices into legato phrases: a note slides into the next when they touch."""
    phrases: list[list[int]] = []
    for i, (start, _dur, _p, _v) in enumerate(notes):
        if phrases:
            ps, pd = notes[phrases[-1][-1]][:2]
            if ps + pd >= start - tol:
                phrases[-1].append(i)
                continue
        phrases.append([i])
    return phrases


@instrument("acid_bass", program=38, label="acid bass", line=True)
def acid_bass(
    notes,
    n: int,
    sr: int,
    rng: np.random.Generator,
    *,
    wave: str = "saw",
    cutoff: float = 350.0,
    env_mod: float = 2500.0,
    resonance: float = 0.8,
    decay: float = 0.18,
    accent: float = 0.8,
    glide: float = 0.05,
    sweep_depth: float = 0.0,
    sweep_rate: float = 0.1,
    drive: float = 2.0,
) -> np.ndarray:
    """TB-303-style line: saw/square -> resonant low-pass with a per-note cutoff envelope.

    Notes that overlap or touch the next one *slide* (pitch glide over ``glide`` s, no
    envelope re-trigger). Velocity >= 0.85 is an *accent*: louder, brighter, snappier.
    ``sweep_depth``/``sweep_rate`` move the base cutoff with a slow LFO (0..1, Hz).

    Returns ``[n]`` samples.
    """
    if not notes:
        return np.zeros(n)
    pitch = np.full(n, float(notes[0][2]))
    amp = np.zeros(n)
    fenv = np.zeros(n)
    g = max(glide, 1e-3)
    for phrase in _acid_phrases(notes):
        for k, i in enumerate(phrase):
            start, dur, p, vel = notes[i]
            a = min(n, int(round(start * sr)))
            b = n if i + 1 >= len(notes) else min(n, int(round(notes[i + 1][0] * sr)))
            if b <= a:
                continue
            t = np.arange(b - a) / sr
            prev = pitch[a - 1] if (k > 0 and a > 0) else float(p)
            pitch[a:b] = p + (prev - p) * np.exp(-t / (g / 3.0))
            if k == 0:  # re-trigger the filter envelope on the first note of a phrase
                acc = 1.0 if vel >= 0.85 else 0.0
                d = decay * (0.6 if acc else 1.0)
                nxt = phrase[-1] + 1
                end = n if nxt >= len(notes) else min(n, int(round(notes[nxt][0] * sr)))
                tt = np.arange(end - a) / sr
                fenv[a:end] = (1.0 + accent * acc) * np.exp(-tt / d)
        first, last = notes[phrase[0]], notes[phrase[-1]]
        a = min(n, int(round(first[0] * sr)))
        b = min(n, int(round((last[0] + last[1]) * sr)))
        if b <= a:
            continue
        level = np.interp(np.arange(a, b), [a, b], [first[3], last[3]])
        amp[a:b] = np.maximum(amp[a:b], level)
        rel = min(n - b, int(0.015 * sr))
        if rel > 0:
            amp[b : b + rel] = np.maximum(amp[b : b + rel], level[-1] * np.linspace(1, 0, rel))
    amp = lowpass(amp, 300.0, sr, order=1)  # ~1 ms de-click on gate edges
    freq = 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)
    osc = square(freq, n, sr) if wave == "square" else saw(freq, n, sr)
    t = np.arange(n) / sr
    sweep = 1.0 + sweep_depth * np.sin(2 * np.pi * sweep_rate * t + rng.uniform(0, 2 * np.pi))
    fc = np.clip(cutoff * sweep + env_mod * fenv, 60.0, 9000.0)
    y = resonant_lowpass(osc, fc, resonance, sr) * amp
    return np.tanh(drive * y) / np.tanh(drive) * 0.8


# --- leads, plucks, stabs --------------------------------------------------------------


@instrument("synth_lead", program=81, label="synth lead")
def synth_lead(
    pitch, duration, velocity, sr, rng, *, brightness=0.6, detune=10.0, release=0.12, vibrato=0.0
):
    """Two detuned saws + a square an octave down, filter envelope, optional vibrato. ``[T]``."""
    f = midi_to_hz(pitch)
    env = adsr(duration, sr, attack=0.006, decay=0.25, sustain=0.75, release=release)
    n = len(env)
    t = np.arange(n) / sr
    freq = f * (1.0 + vibrato * 0.006 * np.sin(2 * np.pi * 5.5 * t) * np.clip(t / 0.3, 0, 1))
    x = saw(freq * 2 ** (detune / 1200), n, sr) + saw(freq * 2 ** (-detune / 1200), n, sr)
    x += 0.5 * square(freq / 2.0, n, sr)
    bright = f * (3 + 10 * brightness)
    y = _swept(x, f * 2.0, bright, np.exp(-t / 0.2) * 0.6 + 0.4 * brightness, sr)
    return fade(y * env * velocity * 0.35, sr)


def _pluck(pitch, duration, sr, rng, *, brightness=0.7, decay=0.12, pulse=0.3):
    """Short bright pluck (saw + narrow pulse) whose filter closes fast. ``[T]``."""
    f = midi_to_hz(pitch)
    dur = min(duration, 0.6) + decay * 4
    n = n_samples(dur, sr)
    t = np.arange(n) / sr
    x = saw(f * 1.003, n, sr) + 0.7 * square(f * 0.997, n, sr, pulse_width=pulse)
    y = _swept(x, f * 1.5, min(9000.0, f * (4 + 16 * brightness)), np.exp(-t / (decay * 0.5)), sr)
    return fade(y * perc_env(dur, sr, decay, attack=0.002) * 0.35, sr)


def _stab(pitch, duration, sr, rng, *, brightness=0.5, decay=0.18):
    """Chord-stab voice: two detuned saws with a snappy filter envelope. ``[T]``."""
    f = midi_to_hz(pitch)
    dur = min(duration, 0.4) + decay * 3
    n = n_samples(dur, sr)
    t = np.arange(n) / sr
    x = _detuned_saws(f, n, sr, rng, [-12.0, 9.0])
    y = _swept(x, f * 1.2, f * (3 + 12 * brightness), np.exp(-t / (decay * 0.4)), sr)
    return fade(y * perc_env(dur, sr, decay, attack=0.003) * 0.4, sr)


instrument("arp_pluck", program=80, label="synth pluck")(_memo_voice(_pluck))
instrument("synth_stab", program=90, label="synth stab")(_memo_voice(_stab))


# --- basses ----------------------------------------------------------------------------


@instrument("sub_bass", program=39, label="sub bass")
def sub_bass(pitch, duration, velocity, sr, rng, *, warmth=0.25, release=0.08):
    """Sine sub with a little 2nd harmonic and soft saturation. ``[T]``."""
    f = midi_to_hz(pitch)
    env = adsr(duration, sr, attack=0.006, decay=0.3, sustain=0.85, release=release)
    n = len(env)
    x = sine(f, n, sr) + warmth * sine(2 * f, n, sr)
    return np.tanh(1.6 * x) * env * velocity * 0.6


@instrument("reese_bass", program=87, label="reese bass")
def reese_bass(pitch, duration, velocity, sr, rng, *, detune=18.0, cutoff=700.0, release=0.1):
    """Two detuned saws beating slowly (the 'reese') low-passed, plus a sine sub. ``[T]``."""
    f = midi_to_hz(pitch)
    env = adsr(duration, sr, attack=0.01, decay=0.4, sustain=0.8, release=release)
    n = len(env)
    x = _detuned_saws(f, n, sr, rng, [-detune, detune])
    y = lowpass(x, cutoff, sr, order=2) + 0.6 * sine(f, n, sr)
    return np.tanh(1.4 * y) * env * velocity * 0.5


# --- FM bells and glassy plucks --------------------------------------------------------


def _bell(pitch, duration, sr, rng, *, ratio=3.5, index=2.5, decay=0.9, ring=2.5):
    """Two-operator FM bell: inharmonic ``ratio``, decaying index; rings ``ring`` s max. ``[T]``."""
    f = midi_to_hz(pitch)
    dur = min(duration + decay * 3, ring)
    n = n_samples(dur, sr)
    t = np.arange(n) / sr
    x = fm(f, ratio, index * np.exp(-t / (decay * 0.5)), n, sr)
    x += 0.25 * sine(2 * f, n, sr) * np.exp(-t / (decay * 0.4))
    return fade(x * perc_env(dur, sr, decay, attack=0.002) * 0.4, sr)


def _glass(pitch, duration, sr, rng, *, ratio=2.0, index=3.0, decay=0.22):
    """Short, glassy FM pluck (harmonic ratio, fast index decay). ``[T]``."""
    f = midi_to_hz(pitch)
    dur = min(duration, 0.4) + decay * 4
    n = n_samples(dur, sr)
    t = np.arange(n) / sr
    x = fm(f, ratio, index * np.exp(-t / 0.04), n, sr)
    return fade(x * perc_env(dur, sr, decay, attack=0.001) * 0.4, sr)


instrument("fm_bell", program=98, label="FM bell")(_memo_voice(_bell))
instrument("glass_pluck", program=11, label="glassy FM pluck")(_memo_voice(_glass))


# --- pads, drones, textures ------------------------------------------------------------


@instrument("warm_pad", program=89, label="warm pad")
def warm_pad(
    pitch,
    duration,
    velocity,
    sr,
    rng,
    *,
    attack=0.8,
    release=1.5,
    detune=12.0,
    movement=0.6,
    rate=0.15,
    brightness=0.4,
):
    """Detuned saws + sine, slow attack, filter slowly opened/closed by an LFO. ``[T]``.

    The pad never has content above a few kHz, so it is synthesised at half rate and
    up-sampled (polyphase) — half the cost for the longest notes in the corpus.
    """
    f = midi_to_hz(pitch)
    lo_sr = sr // 2
    env = adsr(duration, lo_sr, attack=attack, decay=1.0, sustain=0.85, release=release)
    n = len(env)
    x = _detuned_saws(f, n, lo_sr, rng, [-detune, detune]) + 0.5 * sine(f, n, lo_sr)
    lfo = (1 - movement) * 0.5 + movement * _lfo(n, lo_sr, rate, rng)
    bright = min(f * (2 + 8 * brightness) + 800, 0.4 * lo_sr)
    y = _swept(x, min(f * 1.5 + 200, bright), bright, lfo, lo_sr)
    y = resample_poly(y * env, sr, lo_sr)
    return y * velocity * 0.3


@instrument("drone", program=94, label="drone pad")
def drone(pitch, duration, velocity, sr, rng, *, attack=1.5, release=2.0, beat_hz=0.3):
    """Sustained drone: four soft harmonics plus a detuned sine beating slowly. ``[T]``.

    Synthesised at half rate (its partials stay below ~2 kHz) and up-sampled.
    """
    f = midi_to_hz(pitch)
    lo_sr = sr // 2
    env = adsr(duration, lo_sr, attack=attack, decay=2.0, sustain=0.9, release=release)
    n = len(env)
    t = np.arange(n) / lo_sr
    x = np.zeros(n)
    # harmonics 1-4 only: a 5th harmonic (a major third) would colour minor keys major
    for k, amp in enumerate((1.0, 0.55, 0.3, 0.15), start=1):
        if k * f < 0.45 * lo_sr:
            x += amp * np.sin(2 * np.pi * k * f * t + rng.uniform(0, 2 * np.pi))
    x += 0.8 * np.sin(2 * np.pi * (f + beat_hz) * t)  # slow beating against the root
    swell = 0.8 + 0.2 * _lfo(n, lo_sr, 0.07, rng)
    return resample_poly(x * env * swell, sr, lo_sr) * velocity * 0.25


@instrument("wind_texture", program=122, label="wind texture")
def wind_texture(pitch, duration, velocity, sr, rng, *, attack=1.0, release=1.5, rate=0.2):
    """Band-passed noise whose band drifts slowly (wind); centred a few octaves above pitch."""
    centre = float(np.clip(midi_to_hz(pitch) * 4, 300.0, 6000.0))
    env = adsr(duration, sr, attack=attack, decay=1.0, sustain=0.9, release=release)
    n = len(env)
    nz = noise(n, rng, "pink")
    low = bandpass(nz, centre * 0.5, centre * 0.9, sr)
    high = bandpass(nz, centre * 1.1, centre * 2.0, sr)
    mix = _lfo(n, sr, rate, rng)
    return (low + (high - low) * mix) * env * velocity * 0.5
