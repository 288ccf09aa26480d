"""Roots reggae: one-drop drums, off-beat skank, organ bubble, heavy melodic bass.

Drums drop the kick and a rim shot (or snare) together on beat 3 of every bar,
with lightly swung eighth hats; "rockers" adds a kick on 1, "steppers" a kick on
every beat. Piano (or organ) chords skank on every "and"; the organ bubble
fills the 16ths around them. The bass is a one- or two-bar riff from the chord
tones and pentatonic scale that starts on the root and leaves space. The
one-drop rim and the skank go through dub delay and spring-ish reverb. Optional
horn section stabs or a melodica-like organ line on top.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mmgan.data.composers.base import Composer, Composition, register_composer
from mmgan.data.composers.jazz import Chord, Form, chord_at, chord_timeline, nearest
from mmgan.data.score import GM_DRUMS, Score
from mmgan.data.theory import NOTE_NAMES, PENTATONIC, chord, humanize, swing, voice_lead

# Progressions in 2-beat slots; the tonic comes first and lasts longest.
MAJOR_PROGS: tuple[Form, ...] = (
    [((0, ""), 2), ((5, ""), 1), ((7, ""), 1)],
    [((0, ""), 3), ((5, ""), 1)],
    [((0, ""), 3), ((7, ""), 1)],
    [((0, ""), 2), ((9, "m"), 1), ((5, ""), 1), ((0, ""), 2), ((7, ""), 2)],
)
MINOR_PROGS: tuple[Form, ...] = (
    [((0, "m"), 2), ((5, "m"), 1), ((7, "m"), 1)],
    [((0, "m"), 3), ((10, ""), 1)],
    [((0, "m"), 2), ((8, ""), 1), ((10, ""), 1)],
    [((0, "m7"), 3), ((5, "m7"), 1)],
)

# Bass riffs over one bar: (onset, duration, chord-relative scale step); None-free, rests implied.
# Steps index the pentatonic scale built on the chord root (0 root, 1, 2, 3 fifth, 4, 5 octave).
BASS_RIFFS: tuple[tuple[tuple[float, float, int], ...], ...] = (
    ((0.0, 1.25, 0), (1.5, 0.5, 1), (2.5, 0.5, 3), (3.0, 0.75, 1)),
    ((0.0, 0.75, 0), (0.75, 0.5, 0), (1.5, 1.0, 1), (3.0, 0.5, 3), (3.5, 0.5, 5)),
    ((0.0, 1.5, 0), (2.0, 0.5, 3), (2.5, 0.5, 5), (3.25, 0.5, 1)),
    ((0.0, 1.0, 0), (1.0, 0.5, -1), (1.5, 0.75, 0), (3.0, 0.75, 1)),
)


@register_composer
class ReggaeComposer(Composer):
    genre = "reggae"
    label = "roots reggae"
    bpm_range = (66.0, 90.0)
    descriptors: ClassVar[tuple[str, ...]] = (
        "one-drop drums",
        "rim shot on beat three",
        "rockers beat",
        "steppers kick",
        "offbeat skank chords",
        "organ bubble",
        "heavy bass line",
        "dub delay",
        "spring reverb",
        "horn stabs",
        "melodica-style organ melody",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        bpm = float(np.round(rng.uniform(*self.bpm_range), 1))
        minor = rng.random() < 0.4
        mode = "minor" if minor else "major"
        progs = MINOR_PROGS if minor else MAJOR_PROGS
        prog = progs[int(rng.integers(len(progs)))]
        tonic_pc = int(rng.integers(12))
        bars = self.bars_for(seconds, bpm, 4)
        timeline = chord_timeline(prog, 2.0, 4.0 * bars)
        amt = float(rng.uniform(0.08, 0.22))
        score = Score(bpm, 4, NOTE_NAMES[tonic_pc], mode, 4.0 * bars)
        score.master = [
            ("compressor", {"threshold_db": -18, "ratio": 3.0, "attack_ms": 20, "release_ms": 200}),
        ]
        spb = 60.0 / bpm
        # quarter-note echoes: a dotted-eighth delay makes the beat tracker hear 4/3 the tempo
        dub = ("delay", {"delay_seconds": spb, "feedback": 0.4, "mix": 0.28})
        descriptors = ["offbeat skank chords", "heavy bass line", "dub delay", "spring reverb"]
        descriptors += self._drums(score, rng, bars, amt, dub)

        skank_instr = "piano" if rng.random() < 0.65 else "organ"
        skank = score.part(
            "skank",
            "harmony",
            skank_instr,
            gain_db=0.0,
            params={"brightness": 0.8} if skank_instr == "piano" else {"registration": "gospel"},
            effects=[
                ("highpass", {"cutoff_frequency_hz": 250}),
                ("reverb", {"room_size": 0.25, "damping": 0.3, "wet_level": 0.2}),
                dub,
            ],
        )
        double = rng.random() < 0.3
        voicings = self._voicings(prog, tonic_pc)
        for bar in range(bars):
            for beat in range(4):
                hits = (0.5, 0.75) if double and beat % 2 == 1 else (0.5,)
                for h in hits:
                    t, vel = humanize(rng, 4.0 * bar + swing(beat + h, amt), 0.72, 0.004, 0.04)
                    for p in voicings[chord_at(timeline, 4.0 * bar + beat + h)]:
                        skank.add(max(0.0, t), 0.22, p, vel)
        if rng.random() < 0.7:
            descriptors.append("organ bubble")
            self._bubble(score, voicings, timeline, bars, amt)
        bass = score.part(
            "bass",
            "bass",
            "electric_bass",
            gain_db=-2.0,
            params={"weight": float(rng.uniform(0.7, 1.0))},
            effects=[
                ("lowpass", {"cutoff_frequency_hz": 700}),
                ("compressor", {"threshold_db": -14, "ratio": 4.0}),
            ],
        )
        self._bass(bass, rng, timeline, tonic_pc, bars)
        lead = self._lead(score, rng, timeline, tonic_pc, minor, bars, amt)
        if lead:
            descriptors.append(lead)
        energy = "medium" if bpm > 80 or "steppers kick" in descriptors else "low"
        texture = "dense" if lead and "organ bubble" in descriptors else "medium"
        pool = ["relaxed", "warm", "hypnotic"] + (
            ["dark", "mysterious", "melancholic"] if minor else ["uplifting", "joyful", "calm"]
        )
        moods = [str(m) for m in rng.choice(pool, size=int(rng.integers(1, 4)), replace=False)]
        return Composition(score, moods, energy, texture, descriptors)

    @staticmethod
    def _voicings(prog: Form, tonic_pc: int) -> dict[Chord, list[int]]:
        """Close triads in the middle register (around C4–C5), voice-led through the loop."""
        out, prev = {}, None
        for (root, quality), _ in prog:
            if (root, quality) not in out:
                target = chord(60 + (tonic_pc + root) % 12, quality)[:3]
                prev = voice_lead(prev, target, low=58, high=76)
                out[(root, quality)] = prev
        return out

    @staticmethod
    def _drums(score, rng, bars, amt, dub) -> list[str]:
        k = GM_DRUMS
        style = str(rng.choice(["one drop", "one drop", "rockers", "steppers"]))
        rim = rng.random() < 0.6
        drums = score.part(
            "drums",
            "drums",
            "kit.acoustic",
            gain_db=-2.0,
            # the kit's kick rings at A1; shelve that tail so it does not colour the key
            effects=[
                ("lowshelf", {"cutoff_frequency_hz": 120, "gain_db": -6.0}),
                ("reverb", {"room_size": 0.2, "wet_level": 0.1}),
            ],
        )
        drop = score.part(
            "one-drop snare",
            "drums",
            "kit.acoustic",
            gain_db=-3.0,
            effects=[
                ("highshelf", {"cutoff_frequency_hz": 4000, "gain_db": -6.0}),
                dub,
                ("reverb", {"room_size": 0.5, "wet_level": 0.15}),
            ],
        )
        for bar in range(bars):
            o = 4.0 * bar
            drums.add(o + 2.0, 0.3, k["kick"], 0.95)
            drop.add(o + 2.0, 0.2, k["rim"] if rim else k["snare"], 0.9)
            if style == "rockers":
                drums.add(o, 0.3, k["kick"], 0.8)
            elif style == "steppers":
                for b in (0.0, 1.0, 3.0):
                    drums.add(o + b, 0.3, k["kick"], 0.8)
            for i in range(8):
                pos = 0.5 * i
                if i == 7 and bar % 2 == 1:
                    drums.add(o + swing(pos, amt), 0.3, k["hat_open"], 0.5)
                    continue
                t, v = humanize(rng, o + swing(pos, amt), 0.55 if i % 2 else 0.4, 0.004, 0.05)
                drums.add(max(0.0, t), 0.1, k["hat_closed"], v)
            if bar == bars - 2 and rng.random() < 0.5:  # a rim fill into the next phrase
                for pos in (3.25, 3.5, 3.75):
                    drums.add(o + pos, 0.1, k["rim"], 0.55)
        out = ["one-drop drums"] if style == "one drop" else []
        out += {"rockers": ["rockers beat"], "steppers": ["steppers kick"]}.get(style, [])
        if rim:
            out.append("rim shot on beat three")
        return out

    @staticmethod
    def _bubble(score, voicings, timeline, bars, amt) -> None:
        """Organ bubble: low chord on the 'e', upper chord on the 'a' of each beat."""
        organ = score.part(
            "organ bubble",
            "harmony",
            "organ",
            gain_db=-5.0,
            params={"registration": "bubble"},
            effects=[("chorus", {"rate_hz": 5.5, "depth": 0.2, "mix": 0.35})],
        )
        for bar in range(bars):
            for beat in range(4):
                o = 4.0 * bar + beat
                upper = voicings[chord_at(timeline, o)]
                lower = [p - 12 for p in upper[:2]]
                for p in lower:
                    organ.add(o + swing(0.25, amt, 0.25), 0.15, p, 0.55)
                for p in upper:
                    organ.add(o + swing(0.75, amt, 0.25), 0.15, p, 0.45)

    @staticmethod
    def _bass(part, rng, timeline, tonic_pc, bars) -> None:
        """A one-bar riff shape re-rooted on each chord; octave 1–2, root on every downbeat."""
        riff = BASS_RIFFS[int(rng.integers(len(BASS_RIFFS)))]
        for bar in range(bars):
            for on, dur, step in riff:
                root_pc, quality = chord_at(timeline, 4.0 * bar + on)
                scale = PENTATONIC["minor" if quality.startswith("m") else "major"]
                root = nearest(tonic_pc + root_pc, 34, 28, 39)
                o, s = divmod(step, 5)
                pitch = root + scale[s] + 12 * o
                pitch += 12 if pitch < 28 else 0  # keep above the low E of a 4-string bass
                t, v = humanize(rng, 4.0 * bar + on, 0.9 if on == 0 else 0.75, 0.006, 0.04)
                part.add(max(0.0, t), dur, int(pitch), v)

    @staticmethod
    def _lead(score, rng, timeline, tonic_pc, minor, bars, amt) -> str | None:
        r = rng.random()
        if r < 0.45:
            return None
        scale = PENTATONIC["minor" if minor else "major"]
        if r < 0.75:  # horn section stabs on off-beats, chord-tone tops
            horns = score.part(
                "horns",
                "lead",
                "horn_section",
                gain_db=-4.0,
                effects=[("reverb", {"room_size": 0.4, "wet_level": 0.2})],
            )
            for bar in range(bars):
                ch = chord_at(timeline, 4.0 * bar)
                top = nearest(tonic_pc + ch[0] + (3 if ch[1].startswith("m") else 4), 72, 66, 78)
                for pos in (1.5, 3.5) if bar % 2 == 0 else (0.5, 1.5, 2.5):
                    horns.add(4.0 * bar + swing(pos, amt), 0.3, top, 0.75)
            return "horn stabs"
        mel = score.part(
            "melody",
            "lead",
            "organ",
            gain_db=-5.0,
            params={"registration": "soft"},
            effects=[("reverb", {"room_size": 0.4, "wet_level": 0.2})],
        )
        prev = nearest(tonic_pc, 72, 65, 80)
        for bar in range(bars):
            for pos, dur in ((0.0, 1.0), (1.0, 0.5), (1.5, 1.0), (3.0, 0.5), (3.5, 0.5)):
                if bar == bars - 1 or pos == 0.0 and bar % 2 == 0:
                    pitch = nearest(tonic_pc, prev, 65, 80)
                else:
                    cands = [nearest(tonic_pc + s, prev, 65, 80) for s in scale]
                    pitch = int(rng.choice([c for c in cands if abs(c - prev) <= 5] or cands))
                t, v = humanize(rng, 4.0 * bar + swing(pos, amt), 0.65, 0.008, 0.05)
                mel.add(max(0.0, t), dur * 0.9, pitch, v)
                prev = pitch
        return "melodica-style organ melody"
