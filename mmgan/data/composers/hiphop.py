"""Boom-bap hip-hop: swung dusty drums under a looped, lo-fi jazzy chord sample.

The "sample" is a 2- or 4-bar loop of m9/m7/maj7 chords (Rhodes or piano, rootless
or close voicings from the jazz composer), repeated identically as a sampler
would, then low-passed and bit-crushed through pedalboard. Drums: hard kick on
1 and the "and" of 2 (plus per-pattern variations), snare cracks on 2 and 4,
swung 16th- or 8th-note hats; a deep round bass doubles the kick on chord roots.
An optional short vibraphone/sax/Rhodes riff repeats once per loop.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mmgan.data.composers.base import Composer, Composition, register_composer
from mmgan.data.composers.jazz import (
    Form,
    chord_at,
    chord_timeline,
    close_voicing,
    nearest,
    rootless_voicing,
)
from mmgan.data.score import GM_DRUMS, Score
from mmgan.data.theory import NOTE_NAMES, PENTATONIC, humanize, swing

# Loops in 2-beat slots, tonic chord first and longest (the key a listener hears).
MINOR_LOOPS: tuple[Form, ...] = (
    [((0, "m9"), 3), ((5, "m9"), 1)],
    [((0, "m7"), 2), ((8, "maj7"), 1), ((7, "m7"), 1)],
    [((0, "m9"), 2), ((10, "9"), 1), ((8, "maj7"), 1)],
    [((0, "m9"), 2), ((5, "m7"), 2), ((0, "m9"), 2), ((8, "maj7"), 1), ((7, "m7"), 1)],
    [((0, "m11"), 3), ((5, "m9"), 1)],
)
MAJOR_LOOPS: tuple[Form, ...] = (
    [((0, "maj9"), 3), ((5, "maj7"), 1)],
    [((0, "maj7"), 2), ((2, "m9"), 1), ((7, "9"), 1)],
    [((0, "maj9"), 2), ((9, "m9"), 1), ((5, "maj7"), 1)],
)

# Kick patterns for bar 1 and bar 2 of a loop (16th grid, beats from the bar start).
KICKS: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = (
    ((0.0, 1.5), (0.0, 1.5, 2.5)),
    ((0.0, 0.75, 1.5), (0.0, 1.5, 2.75)),
    ((0.0, 1.75, 2.5), (0.0, 0.5, 1.75, 3.5)),
    ((0.0, 1.5, 2.25), (0.0, 1.5, 2.5, 3.25)),
)


def chops(style: str, length: float) -> list[tuple[float, float]]:
    """Onsets/durations (beats) of the chord sample inside one chord of ``length`` beats."""
    if style == "sustain":
        return [(0.0, length - 0.25)]
    if style == "restab":
        cut = 1.5 if length >= 4 else 0.75
        return [(0.0, cut), (cut, length - cut - 0.25)]
    return [(0.0, 0.75), (0.75, 0.75), (max(1.5, length - 1.5), 1.25)][: 3 if length >= 4 else 2]


@register_composer
class HipHopComposer(Composer):
    genre = "hiphop"
    label = "boom-bap hip-hop"
    bpm_range = (80.0, 98.0)
    descriptors: ClassVar[tuple[str, ...]] = (
        "boom-bap drums",
        "swung hi-hats",
        "snare on 2 and 4",
        "jazzy chord loop",
        "Rhodes chords",
        "sampled piano loop",
        "lo-fi filtered sample",
        "bit-crushed texture",
        "deep bass",
        "head-nodding groove",
        "vibraphone riff",
        "saxophone riff",
        "Rhodes riff",
        "ghost-note snares",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        bpm = float(np.round(rng.uniform(*self.bpm_range), 1))
        minor = rng.random() < 0.75
        mode = "minor" if minor else "major"  # the loops borrow bVI/iv: aeolian, not dorian
        loops = MINOR_LOOPS if minor else MAJOR_LOOPS
        loop = loops[int(rng.integers(len(loops)))]
        tonic_pc = int(rng.integers(12))
        bars = self.bars_for(seconds, bpm, 4)
        timeline = chord_timeline(loop, 2.0, 4.0 * bars)
        amt16 = float(rng.uniform(0.18, 0.32))  # MPC-style 16th swing
        score = Score(bpm, 4, NOTE_NAMES[tonic_pc], mode, 4.0 * bars)
        crush = int(rng.integers(7, 11))
        score.master = [
            ("compressor", {"threshold_db": -20, "ratio": 4.0, "attack_ms": 15, "release_ms": 120}),
            ("lowpass", {"cutoff_frequency_hz": float(rng.uniform(7000, 11000))}),
        ]
        descriptors = ["boom-bap drums", "snare on 2 and 4", "jazzy chord loop", "deep bass"]
        descriptors += ["lo-fi filtered sample", "head-nodding groove"]
        ghosts = self._drums(score, rng, bars, amt16, descriptors)
        if ghosts:
            descriptors.append("ghost-note snares")

        rhodes = rng.random() < 0.6
        keys = score.part(
            "chord sample",
            "harmony",
            "epiano" if rhodes else "piano",
            gain_db=-2.0,
            params={"bark": 0.3} if rhodes else {"brightness": 0.3},
            effects=[
                ("lowpass", {"cutoff_frequency_hz": float(rng.uniform(1800, 3500))}),
                ("bitcrush", {"bit_depth": crush}),
                ("chorus", {"rate_hz": 0.4, "depth": 0.15, "mix": 0.3}),
            ],
        )
        descriptors += ["Rhodes chords" if rhodes else "sampled piano loop", "bit-crushed texture"]
        self._chords(keys, rng, loop, timeline, tonic_pc, amt16)
        bass = score.part(
            "bass",
            "bass",
            "electric_bass",
            gain_db=-5.0,
            params={"weight": 0.7},
            effects=[("lowpass", {"cutoff_frequency_hz": 600})],
        )
        self._bass(bass, rng, timeline, tonic_pc, bars)
        riff = self._riff(score, rng, loop, tonic_pc, minor, bars)
        if riff:
            descriptors.append(riff)
        energy = "medium" if bpm >= 90 and ghosts else "low"
        texture = "dense" if riff and ghosts else ("medium" if riff or ghosts else "sparse")
        pool = ["gritty", "relaxed", "nostalgic", "warm"] + (
            ["dark", "melancholic", "hypnotic"] if minor else ["playful"]
        )
        moods = [str(m) for m in rng.choice(pool, size=int(rng.integers(1, 4)), replace=False)]
        return Composition(score, moods, energy, texture, descriptors)

    @staticmethod
    def _drums(score, rng, bars, amt16, descriptors) -> bool:
        """Kick/snare/hat loop on kit.boombap; returns whether ghost snares were added."""
        k = GM_DRUMS
        drive = float(rng.uniform(2, 8))
        drums = score.part(
            "drums",
            "drums",
            "kit.boombap",
            gain_db=-2.0,
            effects=[
                ("compressor", {"threshold_db": -14, "ratio": 4.0, "attack_ms": 5}),
                ("distortion", {"drive_db": drive}),
            ],
        )
        # The kit's kick body rings on a pitch near G1, which would colour every key the same
        # way; as producers layer kick and bass, the kick keeps its knock and the bass (which
        # doubles the kick's main hits on the chord root) carries the low end in key.
        kick = score.part(
            "kick",
            "drums",
            "kit.boombap",
            gain_db=-1.0,
            effects=[
                ("lowshelf", {"cutoff_frequency_hz": 150, "gain_db": -12.0}),
                ("peak", {"cutoff_frequency_hz": 2500, "gain_db": 4.0, "q": 0.8}),
                ("compressor", {"threshold_db": -14, "ratio": 4.0, "attack_ms": 5}),
                ("distortion", {"drive_db": drive}),
            ],
        )
        pattern = KICKS[int(rng.integers(len(KICKS)))]
        sixteenth_hats = rng.random() < 0.6
        ghosts = rng.random() < 0.5
        open_hat = rng.random() < 0.4
        for bar in range(bars):
            o = 4.0 * bar
            for pos in pattern[bar % 2]:
                t, v = humanize(rng, o + swing(pos, amt16, 0.25), 0.95, 0.004, 0.04)
                kick.add(max(0.0, t), 0.3, k["kick"], v)
            for pos in (1.0, 3.0):
                t, v = humanize(rng, o + pos + 0.01, 0.95, 0.003, 0.03)  # lazy snare
                drums.add(t, 0.3, k["snare"], v)
            if ghosts:
                for pos in (1.75, 3.75) if bar % 2 else (2.75,):
                    drums.add(o + swing(pos, amt16, 0.25), 0.1, k["snare"], 0.12)
            step = 0.25 if sixteenth_hats else 0.5
            for i in range(int(4 / step)):
                pos = i * step
                if open_hat and bar % 2 == 1 and abs(pos - 3.5) < 1e-6:
                    drums.add(o + swing(pos, amt16, 0.25), 0.4, k["hat_open"], 0.6)
                    continue
                vel = 0.7 if pos % 1.0 == 0 else (0.5 if pos % 0.5 == 0 else 0.35)
                grid = 0.25 if sixteenth_hats else 0.5
                t, v = humanize(rng, o + swing(pos, amt16, grid), vel, 0.004, 0.06)
                drums.add(max(0.0, t), 0.1, k["hat_closed"], v)
        descriptors.append("swung hi-hats")
        return ghosts

    @staticmethod
    def _chords(part, rng, loop, timeline, tonic_pc, amt16) -> None:
        """The same chopped chord loop every time it comes round (a sample, not a player)."""
        rootless = rng.random() < 0.5
        style = str(rng.choice(["sustain", "restab", "chop"]))
        voicings, prev = {}, None
        for ch, _ in loop:
            if ch not in voicings:
                prev = (
                    rootless_voicing(tonic_pc, ch, prev, 52, 63)
                    if rootless
                    else close_voicing(tonic_pc, ch, prev)
                )
                voicings[ch] = prev
        vel = float(rng.uniform(0.5, 0.7))
        for start, length, ch in timeline:
            for pos, dur in chops(style, length):
                for p in voicings[ch]:
                    part.add(swing(start + pos, amt16, 0.25), dur, p, vel)

    @staticmethod
    def _bass(part, rng, timeline, tonic_pc, bars) -> None:
        """Roots doubled on the kick's main hits, a fifth or octave pickup now and then."""
        rhythm = (
            ((0.0, 1.25), (1.5, 0.9), (2.5, 1.0))
            if rng.random() < 0.5
            else ((0.0, 1.4), (1.5, 1.75))  # monophonic: each note ends before the next
        )
        for bar in range(bars):
            for pos, dur in rhythm:
                ch = chord_at(timeline, 4.0 * bar + pos)
                root = nearest(tonic_pc + ch[0], 38, 31, 45)
                pitch = root + (7 if pos == 2.5 and rng.random() < 0.3 else 0)
                part.add(4.0 * bar + pos, dur, pitch, 0.85 if pos == 0 else 0.7)

    @staticmethod
    def _riff(score, rng, loop, tonic_pc, minor, bars) -> str | None:
        """A 1-bar pentatonic motif on top, repeated every loop (or none)."""
        r = rng.random()
        if r < 0.3:
            return None
        instr, desc, low = (
            ("vibraphone", "vibraphone riff", 67)
            if r < 0.6
            else ("sax", "saxophone riff", 62)
            if r < 0.8
            else ("epiano", "Rhodes riff", 67)
        )
        lead = score.part(
            "riff",
            "lead",
            instr,
            gain_db=-5.0,
            effects=[
                ("lowpass", {"cutoff_frequency_hz": 3500}),
                ("reverb", {"room_size": 0.3, "wet_level": 0.2}),
            ],
        )
        scale = PENTATONIC["minor" if minor else "major"]
        onsets = sorted(rng.choice([0.0, 0.5, 0.75, 1.5, 2.0, 2.5, 3.0], size=4, replace=False))
        degrees = [0] + [int(d) for d in rng.integers(0, 5, size=3)]
        motif = []
        for on, d in zip(onsets, degrees, strict=True):
            motif.append((float(on), nearest(tonic_pc + scale[d], low + 5, low, low + 14)))
        period = min(2, sum(k for _, k in loop) // 2)  # bars per repeat (loops are 2 or 4 bars)
        for bar in range(0, bars, period):
            for j, (on, p) in enumerate(motif):
                nxt = motif[j + 1][0] if j + 1 < len(motif) else 4.0
                lead.add(4.0 * bar + on, max(0.25, min(1.0, nxt - on)), p, 0.6)
        return desc
