"""Ambient: a tonic drone, slowly evolving pads under long reverb, sparse bell tones.

No drums. The tempo is still perceptible: pads swell in again on every bar and the
sparse bell (or soft pluck) notes fall on beats, echoed by a one-beat delay. Keys are
major, lydian or dorian; the drone holds tonic and fifth so the key is audible.
60-90 BPM.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mmgan.data.score import Score
from mmgan.data.theory import MODES, diatonic_chord, key_name, voice_lead

from .base import Composer, Composition, register_composer

# Two-chord (or static) progressions as scale degrees (0-based), one chord per bar.
_PROGRESSIONS = {
    "major": ([0, 3], [0, 5], [0, 4], [0, 0]),
    "lydian": ([0, 1], [0, 1], [0, 4]),  # I - II is the lydian colour
    # dorian's colour (the major 6th) comes from the bells: a major IV chord under a
    # static drone makes the key read as major
    "dorian": ([0, 6], [0, 0], [0, 4]),
}


def _drone(rng, score: Score, tonic_pc: int, length: float) -> None:
    """Tonic + fifth held for the whole clip (role bass), with a slow swell."""
    root = 36 + tonic_pc if tonic_pc <= 8 else 24 + tonic_pc
    part = score.part(
        "drone",
        "bass",
        "drone",
        gain_db=-1.0,
        effects=[("reverb", {"room_size": 0.9, "wet_level": 0.3, "dry_level": 0.8})],
        params={"attack": float(rng.uniform(0.3, 1.0)), "beat_hz": float(rng.uniform(0.15, 0.5))},
    )
    part.add(0.0, length, root, 0.9)
    part.add(0.0, length, root + 7, 0.55)
    if rng.random() < 0.5:
        part.add(0.0, length, root + 12, 0.45)


def _pads(rng, score: Score, chords: list[list[int]], bars: int, end: float) -> None:
    """Warm pad chords re-attacked on every bar (role harmony) under a long reverb.

    Notes stop at ``end`` beats (the clip's end) so no unheard audio is synthesised.
    """
    spb = score.seconds_per_beat
    part = score.part(
        "pad",
        "harmony",
        "warm_pad",
        gain_db=-2.0,
        effects=[
            ("chorus", {"rate_hz": 0.3, "depth": 0.3, "mix": 0.4}),
            ("reverb", {"room_size": 0.95, "wet_level": 0.5, "dry_level": 0.6, "damping": 0.4}),
        ],
        params={
            "attack": float(rng.uniform(0.25, 0.5)) * spb,
            "release": 1.5,
            "rate": float(rng.uniform(0.08, 0.25)),
            "brightness": float(rng.uniform(0.2, 0.5)),
            "movement": float(rng.uniform(0.4, 0.9)),
        },
    )
    for bar in range(bars):
        start = bar * 4.0
        if start >= end:
            break
        for p in chords[bar % len(chords)]:
            part.add(start, min(4.0, end - start), p, 0.7)


def _bells(rng, score: Score, tonic_pc: int, mode: str, bars: int) -> tuple[str, int]:
    """Sparse high notes on beats (role lead), echoed by a one-beat delay."""
    inst = str(rng.choice(["fm_bell", "fm_bell", "glass_pluck"]))
    spb = score.seconds_per_beat
    fx = [
        ("delay", {"delay_seconds": spb, "feedback": 0.35, "mix": 0.3}),
        ("reverb", {"room_size": 0.9, "wet_level": 0.45, "dry_level": 0.7}),
    ]
    if inst == "fm_bell":
        params = {"ratio": float(rng.choice([1.0, 2.0, 3.5])), "index": 1.2, "decay": 1.2}
    else:
        params = {"ratio": 1.0, "index": 1.5, "decay": 0.5}
    part = score.part("bells", "lead", inst, effects=fx, gain_db=-3.0, params=params)
    steps = MODES[mode]
    colour = {"lydian": steps[3], "dorian": steps[5]}.get(mode, 7)  # #4 / major 6th
    pool = [0, steps[2], steps[4], 12, 12 + steps[1], colour]
    top = 72 + tonic_pc if tonic_pc <= 6 else 60 + tonic_pc
    density = float(rng.uniform(0.55, 0.85))
    played = 0
    for beat in range(bars * 4):
        if beat % 4 != 0 and rng.random() > density:
            continue
        if beat % 8 == 0:
            semis = 0
        elif beat % 8 == 4:  # the third on the next bar's downbeat makes the mode audible
            semis = steps[2]
        else:
            semis = int(rng.choice(pool))
        part.add(float(beat), 1.0, top + semis, 0.75 if beat % 4 == 0 else 0.55)
        played += 1
    return inst, played


@register_composer
class AmbientComposer(Composer):
    genre = "ambient"
    label = "ambient"
    bpm_range = (60.0, 90.0)
    descriptors: ClassVar[tuple[str, ...]] = (
        "tonic drone",
        "evolving pads",
        "slow swells",
        "long reverb tails",
        "sparse bell tones",
        "glassy tones",
        "no drums",
        "wind texture",
        "lydian shimmer",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        bpm = round(float(rng.uniform(*self.bpm_range)), 1)
        mode = str(rng.choice(["major", "lydian", "dorian", "major", "lydian"]))
        tonic_pc = int(rng.integers(12))
        bars = self.bars_for(seconds, bpm, 4)
        length = bars * 4.0
        score = Score(
            bpm=bpm, beats_per_bar=4, key=key_name(tonic_pc), mode=mode, length_beats=length
        )
        score.master = [("highshelf", {"cutoff_frequency_hz": 6000.0, "gain_db": -4.0})]
        options = _PROGRESSIONS[mode]
        prog = options[int(rng.integers(len(options)))]
        chords: list[list[int]] = []
        for deg in prog:
            size = int(rng.choice([3, 4]))
            target = diatonic_chord(tonic_pc, mode, deg, size=size, octave=4)
            chords.append(voice_lead(chords[-1] if chords else None, target, low=55, high=76))

        clip_beats = min(length, seconds / score.seconds_per_beat)
        _drone(rng, score, tonic_pc, clip_beats)
        _pads(rng, score, chords, bars, clip_beats)
        inst, _played = _bells(rng, score, tonic_pc, mode, bars)
        wind = rng.random() < 0.35
        if wind:
            tex = score.part(
                "wind",
                "harmony",
                "wind_texture",
                gain_db=-14.0,
                effects=[("reverb", {"room_size": 0.9, "wet_level": 0.4})],
            )
            tex.add(0.0, clip_beats, 72 + tonic_pc, 0.6)

        desc = ["tonic drone", "evolving pads", "slow swells", "long reverb tails", "no drums"]
        desc.append("sparse bell tones" if inst == "fm_bell" else "glassy tones")
        desc += ["wind texture"] * wind + ["lydian shimmer"] * (mode == "lydian")
        pool = {
            "major": ["calm", "warm", "uplifting", "relaxed"],
            "lydian": ["dreamy", "ethereal", "mysterious"],
            "dorian": ["melancholic", "nostalgic", "mysterious"],
        }[mode]
        moods = [str(rng.choice(pool)), str(rng.choice(["calm", "dreamy", "ethereal"]))]
        return Composition(score, list(dict.fromkeys(moods)), "low", "sparse", desc)
