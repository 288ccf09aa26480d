"""IDM: glitchy, irregular drums over a steady tick, FM-bell arpeggios, sub/reese bass.

The pulse stays detectable (a hat/tick on every 8th and a kick on every downbeat) while
the rest is broken up: kicks grouped 3+3+2 or displaced, snares nudged off 2 and 4,
ratchet rolls, odd-length (5/7-step) arpeggio cycles phasing against the bar, and
stutter repeats. Bitcrush and delay come from pedalboard. 90-170 BPM.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mmgan.data.score import GM_DRUMS, Note, Part, Score
from mmgan.data.theory import diatonic_chord, key_name, voice_lead

from .base import Composer, Composition, register_composer

STEP = 0.25  # a 16th note, in beats

# Kick step patterns over one 16-step bar (step 0 is always there: the downbeat anchor).
_KICKS = {
    "3+3+2": [0, 3, 6, 8, 11, 14],
    "displaced": [0, 7, 10],
    "5-step": [0, 5, 10, 15],
    "broken": [0, 3, 9, 12],
}
# Chord loops as scale degrees (0-based), one chord per bar.
_LOOPS = ([0, 5, 3, 4], [0, 3], [0, 5], [0, 2, 5, 3], [0, 6, 5, 6])


def _ticks(rng, drums: Part, bars: int) -> None:
    """The steady pulse: a closed hat on every 8th (or 16th), accented on the beat."""
    sixteenths = rng.random() < 0.5
    for bar in range(bars):
        for s in range(0, 16, 1 if sixteenths else 2):
            vel = 0.8 if s % 4 == 0 else (0.5 if s % 2 == 0 else 0.3)
            drums.add(bar * 4 + s * STEP, STEP, GM_DRUMS["hat_closed"], vel)


def _kicks_snares(rng, drums: Part, bars: int, groove: str) -> None:
    """Kicks from the groove pattern (downbeat anchored), snares on/off 2 and 4, rolls."""
    d = GM_DRUMS
    for bar in range(bars):
        t0 = bar * 4
        for s in sorted(set(_KICKS[groove]) | {0, 8}):
            drums.add(t0 + s * STEP, STEP, d["kick"], 0.95 if s in (0, 8) else 0.6)
        for s in (4, 12):
            drums.add(t0 + s * STEP, STEP, d["snare"], 0.85)
        if rng.random() < 0.5:  # a displaced ghost snare
            drums.add(t0 + int(rng.choice([5, 7, 10, 13, 15])) * STEP, STEP, d["snare"], 0.45)
        if rng.random() < 0.6:  # ratchet roll into the next bar
            div = int(rng.choice([2, 3, 4]))  # 32nds, 32nd triplets, 64ths
            start = t0 + float(rng.choice([3.0, 3.5]))
            hits = int((t0 + 4 - start) * 4 * div)
            key = d["snare"] if rng.random() < 0.6 else d["rim"]
            for k in range(hits):
                drums.add(start + k * STEP / div, STEP / div, key, 0.35 + 0.5 * k / hits)
        for _ in range(int(rng.integers(1, 4))):  # glitch clicks
            s = int(rng.integers(16))
            key = int(rng.choice([d["rim"], d["cowbell"], d["shaker"]]))
            drums.add(t0 + s * STEP + STEP / 2, STEP / 2, key, 0.45)


def _stutter(rng, part: Part, length: float, window: float) -> int:
    """Repeat ``window`` beats from a random in-bar position 2-4 times (within the bar)."""
    start = float(rng.choice([1.0, 2.0, 2.5, 3.0])) + 4.0 * float(rng.integers(int(length // 4)))
    bar_end = 4.0 * (start // 4.0 + 1.0)  # never stutter over the next downbeat
    reps = min(int(rng.integers(2, 5)), int((bar_end - start) / window))
    end = start + window * reps
    src = [n for n in part.notes if start <= n.start < start + window]
    keep = [n for n in part.notes if not start + window <= n.start < end]
    for r in range(1, reps):
        for n in src:
            vel = n.velocity * (1.0 - 0.12 * r)
            keep.append(Note(n.start + r * window, min(n.duration, window), n.pitch, vel))
    part.notes = sorted(keep, key=lambda n: n.start)
    return reps


def _arp(rng, score: Score, chords: list[list[int]], bars: int) -> tuple[str, int]:
    """Odd-length arpeggio cycle (5 or 7 steps of 16ths) over each bar's chord, role lead."""
    inst = str(rng.choice(["fm_bell", "glass_pluck"]))
    cycle = int(rng.choice([5, 7, 6]))
    order = rng.permutation(cycle) if rng.random() < 0.4 else np.arange(cycle)
    spb = score.seconds_per_beat
    fx = [("delay", {"delay_seconds": 0.5 * spb, "feedback": 0.35, "mix": 0.3})]
    if rng.random() < 0.5:
        fx.insert(0, ("bitcrush", {"bit_depth": float(rng.uniform(6, 10))}))
    fx.append(("reverb", {"room_size": 0.55, "wet_level": 0.25}))
    params = {"decay": 0.25} if inst == "fm_bell" else {"ratio": float(rng.choice([1.0, 2.0, 3.0]))}
    if inst == "fm_bell":
        params["ratio"] = float(rng.choice([3.5, 1.4, 2.76]))
    part = score.part("arpeggio", "lead", inst, effects=fx, gain_db=-3.0, params=params)
    skip = rng.uniform(0.0, 0.25)
    for g in range(bars * 16):
        if g % 16 != 0 and rng.random() < skip:
            continue
        chord = chords[(g // 16) % len(chords)]
        tones = chord + [p + 12 for p in chord]
        p = tones[int(order[g % cycle]) % len(tones)]
        part.add(g * STEP, STEP, p, 0.8 if g % 4 == 0 else 0.6)  # accents stay on the beat
    return inst, cycle


def _bass(rng, score: Score, roots: list[int], bars: int, groove: str) -> str:
    """Sub or reese bass: the chord root on each downbeat plus a few kick-locked hits."""
    inst = str(rng.choice(["sub_bass", "reese_bass"]))
    part = score.part("bass", "bass", inst, gain_db=-2.0)
    for bar in range(bars):
        root = roots[bar % len(roots)]
        kicks = _KICKS[groove]
        part.add(bar * 4, kicks[1] * STEP * 0.9, root, 0.9)
        for s in kicks[1:]:
            if rng.random() < 0.5:
                part.add(bar * 4 + s * STEP, STEP * 1.5, root + int(rng.choice([0, 0, 12, 7])), 0.7)
    return inst


@register_composer
class IdmComposer(Composer):
    genre = "idm"
    label = "IDM"
    bpm_range = (90.0, 170.0)
    descriptors: ClassVar[tuple[str, ...]] = (
        "glitchy percussion",
        "snare rolls",
        "stutter edits",
        "3+3+2 kick pattern",
        "displaced kicks",
        "odd-length arpeggios",
        "FM bell arpeggios",
        "glassy FM plucks",
        "bitcrushed drums",
        "sub bass",
        "reese bass",
        "warm pads",
        "echoing delays",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        bpm = round(float(rng.uniform(*self.bpm_range)), 1)
        mode = str(rng.choice(["minor", "dorian", "major", "lydian"], p=[0.4, 0.2, 0.25, 0.15]))
        tonic_pc = int(rng.integers(12))
        bars = self.bars_for(seconds, bpm, 4)
        score = Score(
            bpm=bpm, beats_per_bar=4, key=key_name(tonic_pc), mode=mode, length_beats=bars * 4.0
        )
        # dorian's major IV makes the key read as major: keep the dorian vamps on i/VII/v
        loops = [lp for lp in _LOOPS if mode != "dorian" or 3 not in lp]
        loop = loops[int(rng.integers(len(loops)))]
        size = int(rng.choice([3, 4]))
        chords: list[list[int]] = []
        for deg in loop:  # voice-led so the arpeggio and pad move smoothly
            target = diatonic_chord(tonic_pc, mode, deg, size=size, octave=4)
            chords.append(voice_lead(chords[-1] if chords else None, target, low=58, high=80))
        roots = [diatonic_chord(tonic_pc, mode, deg, size=1, octave=2)[0] for deg in loop]

        crushed = rng.random() < 0.5
        dfx = [("compressor", {"threshold_db": -12.0, "ratio": 4.0})]
        if crushed:
            dfx.insert(0, ("bitcrush", {"bit_depth": float(rng.uniform(5, 9))}))
        drums = score.part(
            "glitch drums", "drums", "kit.glitch", effects=dfx, params={"kick_pc": tonic_pc}
        )
        groove = str(rng.choice(list(_KICKS)))
        _ticks(rng, drums, bars)
        _kicks_snares(rng, drums, bars, groove)
        stutters = rng.random() < 0.7
        if stutters:
            _stutter(rng, drums, bars * 4.0, float(rng.choice([0.25, 0.5])))
        bass = _bass(rng, score, roots, bars, groove)
        inst, _cycle = _arp(rng, score, chords, bars)
        has_pad = rng.random() < 0.6
        if has_pad:
            pad = score.part(
                "pad",
                "harmony",
                "warm_pad",
                gain_db=-8.0,
                effects=[("reverb", {"room_size": 0.8, "wet_level": 0.35})],
                params={"attack": 0.3, "release": 0.8, "rate": float(rng.uniform(0.2, 0.6))},
            )
            for bar in range(bars):
                for p in chords[bar % len(chords)][:3]:
                    pad.add(bar * 4, 4.0, p - 12, 0.6)

        desc = [
            "glitchy percussion",
            "odd-length arpeggios",
            "echoing delays",
            "FM bell arpeggios" if inst == "fm_bell" else "glassy FM plucks",
            "sub bass" if bass == "sub_bass" else "reese bass",
        ]
        desc += ["3+3+2 kick pattern"] if groove == "3+3+2" else ["displaced kicks"]
        desc += ["snare rolls"] + ["stutter edits"] * stutters + ["bitcrushed drums"] * crushed
        desc += ["warm pads"] * has_pad
        minor = mode in ("minor", "dorian")
        moods = [
            str(
                rng.choice(
                    ["mysterious", "melancholic", "tense"]
                    if minor
                    else ["playful", "bright", "dreamy"]
                )
            )
        ]
        moods.append(str(rng.choice(["hypnotic", "energetic", "playful", "dreamy", "tense"])))
        energy = "high" if bpm > 140 else ("medium" if bpm > 105 else "low")
        texture = "dense" if has_pad and stutters else "medium"
        return Composition(score, list(dict.fromkeys(moods)), energy, texture, desc)
