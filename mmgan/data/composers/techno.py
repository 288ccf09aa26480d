"""Techno: four-on-the-floor 909/808 kick, off-beat hats, claps, a looping acid line.

Dark and hypnotic: a 1-2 bar resonant acid pattern (tonic-heavy, minor/phrygian, with
accents and slides) repeats while its filter cutoff drifts; an optional minor stab
chord and a high delayed bleep riff sit on top. 122-140 BPM.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mmgan.data.score import GM_DRUMS, Part, Score
from mmgan.data.theory import MODES, key_name

from .base import Composer, Composition, register_composer

STEP = 0.25  # one 16th note, in beats

# Scale degrees (semitones above the tonic) an acid line leans on, with weights.
_ACID_WEIGHTS = {0: 5.0, 12: 1.6, 3: 1.2, 7: 1.4, 10: 1.0, 5: 0.6, 1: 1.2, 8: 0.5}


def _acid_pattern(rng: np.random.Generator, mode: str, steps: int) -> list[tuple]:
    """One acid loop as ``(step, semitones, accent, slide)`` tuples over ``steps`` 16ths.

    Notes on 8th-note positions are likelier and carry the accents, so the squelch
    reinforces the kick's pulse instead of implying a dotted (3/16) meter.
    """
    scale = set(MODES[mode]) | {12}
    degrees = [d for d in _ACID_WEIGHTS if d % 12 in scale or d == 12]
    w = np.array([_ACID_WEIGHTS[d] for d in degrees])
    density = rng.uniform(0.45, 0.8)
    out = []
    for s in range(steps):
        on_eighth = s % 2 == 0
        if s != 0 and rng.random() > (min(1.0, density * 1.3) if on_eighth else density * 0.5):
            continue
        if s == 0 or (s % 4 == 0 and rng.random() < 0.6):  # the loop starts on the tonic
            semis = 0
        else:
            semis = int(rng.choice(degrees, p=w / w.sum()))
        if rng.random() < 0.15:
            semis += 12
        accent = s % 8 == 0 or (on_eighth and rng.random() < 0.35)
        slide = rng.random() < 0.22
        out.append((s, semis, accent, slide))
    return out


def _acid_part(rng, score: Score, root: int, mode: str, bars: int) -> tuple[Part, int]:
    """The acid line (role bass) looping a 1- or 2-bar pattern; returns (part, loop bars)."""
    loop_bars = int(rng.choice([1, 2], p=[0.55, 0.45]))
    steps = 16 * loop_bars
    pattern = _acid_pattern(rng, mode, steps)
    params = dict(
        wave=str(rng.choice(["saw", "square"], p=[0.65, 0.35])),
        cutoff=float(rng.uniform(180, 500)),
        env_mod=float(rng.uniform(1200, 3800)),
        resonance=float(rng.uniform(0.55, 0.85)),
        decay=float(rng.uniform(0.08, 0.25)),
        sweep_depth=float(rng.uniform(0.3, 0.8)),
        sweep_rate=float(rng.uniform(0.05, 0.15)),
        drive=float(rng.uniform(1.5, 3.5)),
    )
    fx = [("highpass", {"cutoff_frequency_hz": 35.0})]
    if rng.random() < 0.4:
        fx.append(("distortion", {"drive_db": float(rng.uniform(4, 12))}))
    if rng.random() < 0.4:
        fx.append(
            (
                "delay",
                {"delay_seconds": 0.5 * score.seconds_per_beat, "feedback": 0.25, "mix": 0.18},
            )
        )
    part = score.part("acid line", "bass", "acid_bass", params=params, effects=fx, gain_db=-6.0)
    on_steps = [p[0] for p in pattern]
    for bar in range(0, bars, loop_bars):
        for j, (s, semis, accent, slide) in enumerate(pattern):
            nxt = on_steps[j + 1] if j + 1 < len(on_steps) else steps
            if slide and nxt == s + 1:
                dur = STEP * 1.05  # touches the next note -> glide
            else:
                dur = STEP * float(rng.uniform(0.45, 0.8))
            vel = 0.95 if accent else float(rng.uniform(0.6, 0.75))
            part.add(bar * 4 + s * STEP, dur, root + semis, vel)
    return part, loop_bars


def _drums(rng, score: Score, bars: int, kit: str, tonic_pc: int) -> dict[str, bool]:
    """Kick on every beat, off-beat open hats, optional 16th hats, claps and rim loop."""
    d = GM_DRUMS
    drums = score.part(
        "drum machine",
        "drums",
        kit,
        effects=[("compressor", {"threshold_db": -14.0, "ratio": 3.0})],
        gain_db=3.0,
        params={"kick_pc": tonic_pc},
    )
    feats = dict(
        sixteenths=bool(rng.random() < 0.55),
        clap=bool(rng.random() < 0.75),
        rim=bool(rng.random() < 0.35),
        ride=bool(rng.random() < 0.25),
    )
    clap_key = d["clap"] if rng.random() < 0.7 else d["snare"]
    rim_steps = [3, 6, 11, 14] if rng.random() < 0.5 else [2, 7, 10, 13]
    for bar in range(bars):
        for beat in range(4):
            t = bar * 4 + beat
            drums.add(t, STEP, d["kick"], 0.95 if beat % 2 == 0 else 0.9)
            drums.add(t + 0.5, STEP, d["hat_open"], float(rng.uniform(0.55, 0.7)))
            if feats["clap"] and beat in (1, 3):
                drums.add(t, STEP, clap_key, float(rng.uniform(0.7, 0.85)))
            if feats["ride"]:
                drums.add(t + 0.5, STEP, d["ride"], 0.35)
            if feats["sixteenths"]:
                for k in (0, 1, 3):  # rolling 16ths (the open hat takes the "and")
                    vel = 0.55 if k == 0 else float(rng.uniform(0.3, 0.45))
                    drums.add(t + k * STEP, STEP, d["hat_closed"], vel)
        if feats["rim"]:
            for s in rim_steps:
                drums.add(bar * 4 + s * STEP, STEP, d["rim"], float(rng.uniform(0.4, 0.6)))
    return feats


def _stab(rng, score: Score, tonic_pc: int, mode: str, bars: int) -> None:
    """A dark minor stab chord (role harmony) on a syncopated 16th position, delayed."""
    root = 60 + tonic_pc if tonic_pc < 7 else 48 + tonic_pc
    chord = [root, root + 3, root + 7] + ([root + 10] if rng.random() < 0.5 else [])
    alt_root = root + (1 if mode == "phrygian" else -2)  # bII (phrygian) or bVII
    alt = [alt_root, alt_root + 4, alt_root + 7]  # major triad on bII or bVII
    steps = [[2, 10], [3, 11], [6, 14], [3, 6, 11]][int(rng.integers(4))]
    spb = score.seconds_per_beat
    fx = [
        ("delay", {"delay_seconds": 0.5 * spb, "feedback": 0.35, "mix": 0.25}),
        ("reverb", {"room_size": 0.6, "wet_level": 0.25, "dry_level": 0.8}),
    ]
    part = score.part(
        "dark stab",
        "harmony",
        "synth_stab",
        effects=fx,
        gain_db=-9.0,
        params={"brightness": float(rng.uniform(0.3, 0.7))},
    )
    use_alt = rng.random() < 0.4
    for bar in range(bars):
        notes = alt if use_alt and bar % 2 == 1 else chord
        for s in steps:
            for p in notes:
                part.add(bar * 4 + s * STEP, STEP, p, 0.75)


def _bleep(rng, score: Score, tonic_pc: int, mode: str, bars: int) -> None:
    """A short high riff (role lead) repeated every bar through a dotted-8th delay."""
    top = 72 + tonic_pc
    degrees = [0, MODES[mode][2], 7, 12, MODES[mode][6]]
    steps = sorted(rng.choice(np.arange(16), size=int(rng.integers(3, 6)), replace=False))
    pitches = [top + (0 if k == 0 else int(rng.choice(degrees))) for k in range(len(steps))]
    echo = float(rng.choice([0.5, 0.75])) * score.seconds_per_beat
    fx = [
        ("delay", {"delay_seconds": echo, "feedback": 0.4, "mix": 0.3}),
        ("reverb", {"room_size": 0.5, "wet_level": 0.2}),
    ]
    part = score.part(
        "bleeps",
        "lead",
        "arp_pluck",
        effects=fx,
        gain_db=-7.0,
        params={"brightness": float(rng.uniform(0.4, 0.8))},
    )
    for bar in range(bars):
        for s, p in zip(steps, pitches, strict=True):
            part.add(bar * 4 + int(s) * STEP, STEP, p, 0.7)


@register_composer
class TechnoComposer(Composer):
    genre = "techno"
    label = "acid techno"
    bpm_range = (122.0, 140.0)
    descriptors: ClassVar[tuple[str, ...]] = (
        "four-on-the-floor kick",
        "off-beat open hi-hats",
        "rolling 16th hi-hats",
        "claps on 2 and 4",
        "resonant acid bassline",
        "filter sweep",
        "hypnotic loop",
        "dark synth stabs",
        "delayed bleeps",
        "909 drum machine",
        "808 drum machine",
        "syncopated rimshots",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        bpm = round(float(rng.uniform(*self.bpm_range)), 1)
        mode = str(rng.choice(["minor", "phrygian", "minor", "dorian"]))
        tonic_pc = int(rng.integers(12))
        bars = self.bars_for(seconds, bpm, 4)
        score = Score(
            bpm=bpm, beats_per_bar=4, key=key_name(tonic_pc), mode=mode, length_beats=bars * 4.0
        )
        score.master = [("compressor", {"threshold_db": -10.0, "ratio": 2.0, "attack_ms": 10.0})]
        kit = "kit.909" if rng.random() < 0.75 else "kit.808"
        feats = _drums(rng, score, bars, kit, tonic_pc)
        _acid_part(rng, score, 36 + tonic_pc, mode, bars)
        has_stab = rng.random() < 0.6
        has_bleep = rng.random() < 0.5
        if has_stab:
            _stab(rng, score, tonic_pc, mode, bars)
        if has_bleep:
            _bleep(rng, score, tonic_pc, mode, bars)

        desc = [
            "four-on-the-floor kick",
            "off-beat open hi-hats",
            "resonant acid bassline",
            "filter sweep",
            "hypnotic loop",
            "909 drum machine" if kit == "kit.909" else "808 drum machine",
        ]
        desc += ["rolling 16th hi-hats"] * feats["sixteenths"] + ["claps on 2 and 4"] * feats[
            "clap"
        ]
        desc += ["syncopated rimshots"] * feats["rim"]
        desc += ["dark synth stabs"] * has_stab + ["delayed bleeps"] * has_bleep
        moods = ["dark", "hypnotic"] if rng.random() < 0.6 else ["hypnotic", "energetic"]
        moods.append(str(rng.choice(["tense", "gritty", "mysterious", "aggressive", "energetic"])))
        energy = "high" if bpm >= 130 or feats["sixteenths"] else "medium"
        layers = feats["sixteenths"] + has_stab + has_bleep + feats["rim"]
        texture = "dense" if layers >= 3 else "medium"
        return Composition(score, moods[:3], energy, texture, desc)
