"""Synthesised drum kits. Each kit is a voice keyed by General MIDI percussion pitch.

Kits: ``kit.acoustic`` (jazz/folk/reggae), ``kit.brush`` (brushes, soft jazz),
``kit.rock`` (tight metal/rock kit with china), ``kit.909`` and ``kit.808``
(drum machines), ``kit.boombap`` (dusty sampled-break character), ``kit.glitch``
(short, clicky IDM sounds). Sounds follow the classic analogue recipes: a kick is
a pitch-swept sine plus a beater click, a snare a tone plus band-passed noise,
hats a cluster of detuned square waves (the 808's six oscillators) through a
high-pass, a clap three noise bursts and a tail.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .core import bandpass, highpass, lowpass, n_samples, noise, perc_env, square
from .registry import instrument

# Six inharmonic square-wave frequencies of the TR-808 cymbal/hat circuit.
_METAL_FREQS = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)

KITS: dict[str, dict[str, float]] = {
    # kick: start/end Hz, sweep time, decay; snare: tone Hz, tone/noise decay, noise level;
    # hat: decay closed/open, hp cutoff; tone: overall low-pass (brightness)
    "acoustic": dict(
        k0=110,
        k1=55,
        ksw=0.04,
        kdec=0.25,
        kclick=0.35,
        sn=190,
        sdec=0.09,
        snd=0.16,
        snl=0.9,
        hc=0.05,
        ho=0.35,
        hhp=6500,
        lp=12000,
        metal=0.6,
    ),
    "brush": dict(
        k0=90,
        k1=52,
        ksw=0.05,
        kdec=0.2,
        kclick=0.1,
        sn=180,
        sdec=0.05,
        snd=0.25,
        snl=1.0,
        hc=0.06,
        ho=0.4,
        hhp=5000,
        lp=8000,
        metal=0.4,
    ),
    "rock": dict(
        k0=140,
        k1=58,
        ksw=0.025,
        kdec=0.14,
        kclick=0.9,
        sn=210,
        sdec=0.1,
        snd=0.18,
        snl=1.0,
        hc=0.04,
        ho=0.3,
        hhp=7000,
        lp=14000,
        metal=0.8,
    ),
    "909": dict(
        k0=180,
        k1=50,
        ksw=0.035,
        kdec=0.3,
        kclick=0.6,
        sn=200,
        sdec=0.07,
        snd=0.14,
        snl=0.8,
        hc=0.035,
        ho=0.25,
        hhp=8000,
        lp=15000,
        metal=1.0,
    ),
    "808": dict(
        k0=95,
        k1=44,
        ksw=0.06,
        kdec=0.7,
        kclick=0.15,
        sn=240,
        sdec=0.1,
        snd=0.12,
        snl=0.7,
        hc=0.03,
        ho=0.4,
        hhp=7500,
        lp=14000,
        metal=1.0,
    ),
    "boombap": dict(
        k0=100,
        k1=50,
        ksw=0.05,
        kdec=0.28,
        kclick=0.3,
        sn=185,
        sdec=0.12,
        snd=0.2,
        snl=1.0,
        hc=0.05,
        ho=0.3,
        hhp=5500,
        lp=6500,
        metal=0.5,
    ),
    "glitch": dict(
        k0=160,
        k1=48,
        ksw=0.02,
        kdec=0.12,
        kclick=1.0,
        sn=330,
        sdec=0.03,
        snd=0.05,
        snl=1.0,
        hc=0.015,
        ho=0.08,
        hhp=9000,
        lp=16000,
        metal=1.0,
    ),
}


def _kick(p, vel, sr, rng):
    dur = p["kdec"] * 4 + 0.05
    n = n_samples(dur, sr)
    t = np.arange(n) / sr
    f = p["k1"] + (p["k0"] - p["k1"]) * np.exp(-t / p["ksw"])
    body = np.sin(2 * np.pi * np.cumsum(f) / sr) * perc_env(dur, sr, p["kdec"])
    click = highpass(noise(n, rng), 1500, sr) * perc_env(dur, sr, 0.004) * p["kclick"] * 0.5
    return np.tanh(1.5 * (body + click)) * vel


def _snare(p, vel, sr, rng):
    dur = max(p["snd"] * 4, 0.2)
    n = n_samples(dur, sr)
    t = np.arange(n) / sr
    tone = np.sin(2 * np.pi * p["sn"] * t) + 0.5 * np.sin(2 * np.pi * p["sn"] * 1.6 * t)
    tone *= perc_env(dur, sr, p["sdec"])
    nz = bandpass(noise(n, rng), 1200, 9000, sr) * perc_env(dur, sr, p["snd"]) * p["snl"]
    return (0.6 * tone + nz) * vel * 0.8


def _metal(p, dur, decay, hp, sr, rng, bell=0.0):
    n = n_samples(dur, sr)
    det = 1.0 + rng.normal(0, 0.003)
    cluster = sum(square(f * det * 1.7, n, sr) for f in _METAL_FREQS) / 6.0
    mix = p["metal"] * cluster + (1 - p["metal"]) * noise(n, rng)
    out = highpass(mix, hp, sr, order=4) * perc_env(dur, sr, decay)
    if bell:
        t = np.arange(n) / sr
        out += bell * np.sin(2 * np.pi * 2400 * t) * np.exp(-t / (decay * 1.5)) * 0.3
    return out


def _clap(p, vel, sr, rng):
    dur = 0.35
    n = n_samples(dur, sr)
    env = np.zeros(n)
    for k in range(3):
        s = int((0.011 * k) * sr)
        env[s:] += perc_env(dur - 0.011 * k, sr, 0.008)[: n - s]
    env += 0.6 * np.concatenate([np.zeros(int(0.03 * sr)), perc_env(dur, sr, 0.08)])[:n]
    return bandpass(noise(n, rng), 900, 2500, sr) * env * vel


def _tom(freq, vel, sr, rng):
    dur = 0.5
    n = n_samples(dur, sr)
    t = np.arange(n) / sr
    f = freq * (1 + 0.5 * np.exp(-t / 0.03))
    body = np.sin(2 * np.pi * np.cumsum(f) / sr) * perc_env(dur, sr, 0.15)
    return (body + 0.2 * lowpass(noise(n, rng), 3000, sr) * perc_env(dur, sr, 0.02)) * vel


def _rim(p, vel, sr, rng):
    dur = 0.08
    n = n_samples(dur, sr)
    t = np.arange(n) / sr
    return (
        (np.sin(2 * np.pi * 1700 * t) + bandpass(noise(n, rng), 2000, 6000, sr))
        * perc_env(dur, sr, 0.01)
        * vel
        * 0.7
    )


def _shaker(p, vel, sr, rng, decay=0.04):
    dur = 0.15
    n = n_samples(dur, sr)
    return highpass(noise(n, rng), 5000, sr) * perc_env(dur, sr, decay, attack=0.01) * vel * 0.5


def _cowbell(p, vel, sr, rng):
    dur = 0.3
    n = n_samples(dur, sr)
    x = square(540, n, sr) + square(800, n, sr)
    return bandpass(x, 400, 3000, sr) * perc_env(dur, sr, 0.08) * vel * 0.4


def _hit(kit: str, pitch: int, velocity: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    p = KITS[kit]
    v = velocity
    if pitch in (35, 36):
        x = _kick(p, v, sr, rng)
    elif pitch in (38, 40):
        x = _snare(p, v, sr, rng)
    elif pitch == 37:
        x = _rim(p, v, sr, rng)
    elif pitch == 39:
        x = _clap(p, v, sr, rng)
    elif pitch in (42, 44):
        x = _metal(p, p["hc"] * 5, p["hc"], p["hhp"], sr, rng) * v * 0.5
    elif pitch == 46:
        x = _metal(p, p["ho"] * 4, p["ho"], p["hhp"], sr, rng) * v * 0.45
    elif pitch in (49, 57, 55):
        x = _metal(p, 2.0, 0.7 if pitch != 55 else 0.3, 4000, sr, rng) * v * 0.5
    elif pitch == 52:
        x = np.tanh(3 * _metal(p, 1.5, 0.5, 2500, sr, rng)) * v * 0.4
    elif pitch in (51, 59):
        x = _metal(p, 1.2, 0.45, 5000, sr, rng, bell=0.5) * v * 0.35
    elif pitch == 53:
        x = _metal(p, 1.0, 0.4, 3000, sr, rng, bell=1.5) * v * 0.4
    elif pitch in (41, 43, 45, 47, 48, 50):
        x = _tom({41: 80, 43: 95, 45: 110, 47: 130, 48: 150, 50: 175}[pitch], v, sr, rng)
    elif pitch in (54, 69, 70):
        x = _shaker(p, v, sr, rng, decay=0.06 if pitch == 54 else 0.03)
    elif pitch == 56:
        x = _cowbell(p, v, sr, rng)
    else:  # any other GM key: a short filtered click so nothing is silently dropped
        x = _rim(p, v * 0.5, sr, rng)
    if p["lp"] < 15000:
        x = lowpass(x, p["lp"], sr)
    return x


ROUND_ROBIN = 4  # sample variants per drum sound, like a sampler's round-robin layers


@lru_cache(maxsize=512)
def _sample(kit: str, pitch: int, sr: int, variant: int, shift: float) -> np.ndarray:
    """One hit at velocity 1, synthesised once and reused (hits are velocity-linear).

    ``shift`` re-pitches the sample by that many semitones (tape-style resampling).
    """
    rng = np.random.default_rng([pitch, variant, sr])
    hit = _hit(kit, pitch, 1.0, sr, rng)
    if shift:
        pos = np.arange(0.0, len(hit) - 1, 2.0 ** (shift / 12.0))
        hit = np.interp(pos, np.arange(len(hit)), hit)
    hit = hit.astype(np.float32)
    hit.setflags(write=False)
    return hit


def kick_shift(kit: str, kick_pc: int | None) -> float:
    """Semitones (-6..+5) that move the kick's pitched tail onto pitch class ``kick_pc``.

    Every synthesised kick settles on a pitch (the 909 near G1, the acoustic kit on
    A1); left alone that note pulls the heard key towards itself, so producers tune
    the kick to the song's key. ``None`` keeps the kit's own pitch.
    """
    if kick_pc is None:
        return 0.0
    tail = 69.0 + 12.0 * np.log2(KITS[kit]["k1"] / 440.0)
    return float((int(kick_pc) - tail + 6.0) % 12.0 - 6.0)


def _register(kit: str, label: str) -> None:
    def voice(pitch, duration, velocity, sr, rng, *, kick_pc=None):
        """Drum hit; param ``kick_pc`` (0-11) tunes the kick to the key's tonic."""
        pitch = int(pitch)
        shift = kick_shift(kit, kick_pc) if pitch in (35, 36) else 0.0
        variant = int(rng.integers(ROUND_ROBIN))
        return _sample(kit, pitch, sr, variant, shift) * velocity

    voice.__name__ = f"kit_{kit}"
    instrument(f"kit.{kit}", program=0, label=label, is_drum=True)(voice)


for _kit, _label in (
    ("acoustic", "acoustic drums"),
    ("brush", "brushed drums"),
    ("rock", "rock drum kit"),
    ("909", "909 drum machine"),
    ("808", "808 drum machine"),
    ("boombap", "sampled breakbeat drums"),
    ("glitch", "glitchy electronic percussion"),
):
    _register(_kit, _label)
