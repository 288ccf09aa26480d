"""Swing jazz: ii–V–I changes, rootless comping, walking bass, swung ride, optional head.

A clip is a small-group chorus fragment: a 4–6 slot form (ii–V–I, I–vi–ii–V
turnaround, tritone-substituted ii–bII7–I, minor ii°–V7b9–i) looped to cover the
clip. Harmonic rhythm is two beats per slot below 150 BPM (the "short ii–V")
and a bar per slot above, so the tonic chord fills about half of any window.
Bass walks one note per beat (root on the chord's first beat, chord tones in the
middle, chromatic/scale approach into the next root); piano comps syncopated,
swung rootless voicings; the drummer plays "ding, ding-a ding" on the ride with
the hi-hat pedal on 2 and 4.

The voicing and swing helpers here are reused by the hip-hop composer.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mmgan.data.composers.base import Composer, Composition, register_composer
from mmgan.data.score import GM_DRUMS, Part, Score
from mmgan.data.theory import MODES, NOTE_NAMES, chord, humanize, swing, voice_lead

# A chord is (semitones above the tonic, quality); qualities are keys of theory.CHORD_QUALITIES.
Chord = tuple[int, str]
# A form is a list of (chord, slots); a slot is 2 beats below 150 BPM and a bar above. The tonic
# gets about half of every form so the key is what a listener (and a key profile) hears.
Form = list[tuple[Chord, int]]

MAJOR_FORMS: dict[str, Form] = {
    "ii-V-I": [((2, "m7"), 1), ((7, "7"), 1), ((0, "maj7"), 2)],
    "I-vi-ii-V": [
        ((0, "maj7"), 1),
        ((9, "m7"), 1),
        ((2, "m7"), 1),
        ((7, "7"), 1),
        ((0, "maj7"), 2),
    ],
    "I-VI7-ii-V": [
        ((0, "maj7"), 1),
        ((9, "7"), 1),
        ((2, "m7"), 1),
        ((7, "7"), 1),
        ((0, "maj7"), 2),
    ],
    "ii-bII7-I": [((2, "m7"), 1), ((1, "7"), 1), ((0, "maj7"), 2)],
    "I-ii-V": [((0, "maj7"), 2), ((2, "m7"), 1), ((7, "7"), 1)],
}
MINOR_FORMS: dict[str, Form] = {
    "minor ii-V-i": [((2, "m7b5"), 1), ((7, "7b9"), 1), ((0, "m6"), 2)],
    "i-ii-V": [((0, "m6"), 2), ((2, "m7b5"), 1), ((7, "7b9"), 1)],
    "i-bVI7-ii-V": [
        ((0, "m6"), 1),
        ((8, "7"), 1),
        ((2, "m7b5"), 1),
        ((7, "7b9"), 1),
        ((0, "m6"), 2),
    ],
}

# Rootless voicings (A and B forms), semitones above the chord root.
ROOTLESS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "6": ((4, 7, 9, 12), (9, 12, 16, 19)),  # tonic 6th chords keep the root in the voicing
    "maj7": ((4, 7, 11, 14), (11, 14, 16, 19)),
    "maj9": ((4, 7, 11, 14), (11, 14, 16, 19)),
    "m7": ((3, 7, 10, 14), (10, 14, 15, 19)),
    "m9": ((3, 7, 10, 14), (10, 14, 15, 19)),
    "7": ((4, 9, 10, 14), (10, 14, 16, 21)),
    "9": ((4, 9, 10, 14), (10, 14, 16, 21)),
    "7b9": ((4, 9, 10, 13), (10, 13, 16, 21)),
    "m7b5": ((3, 6, 10, 12), (10, 12, 15, 18)),
    "m6": ((3, 7, 9, 14), (9, 14, 15, 19)),
    "m11": ((3, 7, 10, 17), (10, 14, 15, 17)),
}

# Piano comping rhythms for one 4/4 bar: (onset beat before swing, duration beats).
COMP_PATTERNS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((0.0, 1.0), (1.5, 0.5)),  # Charleston
    ((1.5, 0.5), (3.0, 0.6)),
    ((0.0, 0.6), (2.5, 1.0)),
    ((1.0, 0.5), (2.5, 0.5), (3.5, 0.8)),  # 3.5 anticipates the next bar's chord
    ((0.5, 0.5), (2.0, 0.8)),
    ((0.0, 1.8), (2.5, 0.5)),
)

# Melody rhythm cells for one bar: (onset before swing, duration).
HEAD_CELLS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((0.0, 0.5), (0.5, 0.5), (1.0, 0.5), (1.5, 0.5), (2.0, 0.5), (2.5, 0.5), (3.0, 1.0)),
    ((0.0, 1.0), (1.0, 0.5), (1.5, 0.5), (2.0, 0.5), (2.5, 1.5)),
    ((0.5, 0.5), (1.0, 0.5), (1.5, 0.5), (2.0, 1.0), (3.5, 0.5)),
    ((0.0, 1.5), (1.5, 0.5), (2.0, 0.5), (2.5, 0.5), (3.0, 1.0)),
    ((2.5, 0.5), (3.0, 0.5), (3.5, 0.5)),  # pickup after a rest
)


def swing_amount(bpm: float) -> float:
    """Swing (0 straight, 1/3 triplet) that flattens as the tempo rises, as players do."""
    return float(np.clip(0.34 - (bpm - 140.0) / 80.0 * 0.14, 0.18, 0.34))


def place_voicing(pcs: list[int], low: int = 50, high: int = 62) -> list[int]:
    """Stack pitch offsets (ascending, may exceed 12) so the lowest note lands in [low, high)."""
    base = pcs[0] % 12 + 12 * (low // 12)
    while base < low:
        base += 12
    while base >= high:
        base -= 12
    return [base + (p - pcs[0]) for p in pcs]


def rootless_voicing(
    tonic_pc: int, ch: Chord, previous: list[int] | None, low: int = 50, high: int = 62
) -> list[int]:
    """The A or B rootless voicing of ``ch`` that moves least from ``previous``."""
    root, quality = ch
    forms = ROOTLESS[quality]
    cands = [place_voicing([tonic_pc + root + i for i in f], low, high) for f in forms]
    if not previous:
        return cands[0]
    prev = sorted(previous)
    return min(cands, key=lambda v: sum(abs(a - b) for a, b in zip(v, prev, strict=False)))


def close_voicing(tonic_pc: int, ch: Chord, previous: list[int] | None) -> list[int]:
    """Root-position seventh chord re-voiced (theory.voice_lead) in the C3–E5 window."""
    root, quality = ch
    target = chord(48 + (tonic_pc + root) % 12, quality)[:4]
    return voice_lead(previous, target, low=52, high=74)


def chord_timeline(form: Form, slot_beats: float, total_beats: float) -> list[tuple]:
    """Loop ``form`` to cover ``total_beats``: list of (start_beat, beats, chord)."""
    out, t, i = [], 0.0, 0
    while t < total_beats:
        ch, slots = form[i % len(form)]
        out.append((t, slots * slot_beats, ch))
        t += slots * slot_beats
        i += 1
    return out


def chord_at(timeline: list[tuple], beat: float) -> Chord:
    for start, dur, ch in timeline:
        if start <= beat < start + dur:
            return ch
    return timeline[-1][2]


def chord_tones(tonic_pc: int, ch: Chord) -> list[int]:
    """Pitch classes of the chord (root first)."""
    root, quality = ch
    return [p % 12 for p in chord(tonic_pc + root, quality)]


def nearest(pc: int, ref: float, low: int, high: int) -> int:
    """The pitch of class ``pc`` closest to ``ref`` within [low, high]."""
    cands = [p for p in range(low, high + 1) if p % 12 == pc % 12]
    return min(cands, key=lambda p: abs(p - ref))


# --- the band ---------------------------------------------------------------------------


def walking_bass(
    part: Part,
    timeline: list[tuple],
    tonic_pc: int,
    mode: str,
    beats: int,
    rng: np.random.Generator,
) -> None:
    """One quarter note per beat: root on chord changes, approach notes before them."""
    low, high = 28, 50
    scale = set(MODES[mode])
    prev = float(nearest(tonic_pc, 38, low, high))
    for b in range(beats):
        ch = chord_at(timeline, b)
        starts_chord = any(abs(s - b) < 1e-6 for s, _, _ in timeline)
        next_ch = chord_at(timeline, b + 1)
        next_change = any(abs(s - (b + 1)) < 1e-6 for s, _, _ in timeline)
        if starts_chord:
            pitch = nearest(tonic_pc + ch[0], prev if b else 38, low, high)
        elif next_change:
            target = nearest(tonic_pc + next_ch[0], prev, low + 2, high - 2)
            r = rng.random()
            if r < 0.4:
                pitch = target + (1 if rng.random() < 0.5 else -1)  # chromatic approach
            elif r < 0.75:  # diatonic step from the side we are coming from
                direction = 1 if prev > target else -1
                pitch = target + direction
                while (pitch - tonic_pc) % 12 not in scale:
                    pitch += direction
            else:
                pitch = nearest(tonic_pc + next_ch[0] + 7, prev, low, high)  # dominant approach
        else:
            root = tonic_pc + ch[0]
            third = 3 if ch[1].startswith("m") else 4
            fifth = 6 if "b5" in ch[1] else 7
            # the tonic chord leans on its root; elsewhere thirds and fifths colour the line
            weights = [0.2, 0.35, 0.45] if ch[0] == 0 else [0.4, 0.35, 0.25]
            pc = root + int(rng.choice([fifth, third, 0], p=weights))
            pitch = nearest(pc, prev, low, high)
            if pitch == prev:
                pitch = pitch + 12 if pitch + 12 <= high else pitch - 12
        pitch = int(np.clip(pitch, low, high))
        if pitch == prev:  # a walking line never repeats: leap the octave instead
            pitch = pitch + 12 if pitch + 12 <= high else pitch - 12
        t, v = humanize(rng, b, 0.78 + (0.07 if b % 2 else 0.0), timing=0.008, dyn=0.05)
        part.add(max(0.0, t), 0.88, pitch, v)
        prev = float(pitch)


def ride_pattern(drums: Part, bars: int, amt: float, rng: np.random.Generator, brush: bool) -> None:
    """Swung ride ("ding, ding-a ding"), hat pedal on 2 and 4, feathered kick, snare comping."""
    k = GM_DRUMS
    for bar in range(bars):
        o = 4.0 * bar
        for pos, vel in ((0, 0.6), (1, 0.75), (1.5, 0.45), (2, 0.6), (3, 0.75), (3.5, 0.45)):
            t, v = humanize(rng, o + swing(pos, amt), vel * (0.8 if brush else 1.0), 0.006, 0.05)
            drums.add(max(0.0, t), 0.3, k["ride"], v)
        for pos in (1, 3):
            drums.add(o + pos, 0.2, k["hat_pedal"], 0.55)
        for pos in range(4):
            if brush:  # brush swish on every beat, accent on 2 and 4
                drums.add(o + pos, 0.5, k["snare"], 0.3 if pos % 2 else 0.18)
            elif rng.random() < 0.6:
                drums.add(o + pos, 0.2, k["kick"], 0.22)  # feathered kick
        for pos in rng.choice([0.5, 1.5, 2.5, 3.5, 2.0, 3.0], size=int(rng.integers(0, 3))):
            t, v = humanize(rng, o + swing(float(pos), amt), 0.38, 0.006, 0.08)
            drums.add(max(0.0, t), 0.2, k["snare"], v)
    if not brush and rng.random() < 0.4:
        drums.add(4.0 * bars - 4 + swing(3.5, amt), 0.3, k["kick"], 0.6)  # a "bomb"


def comp_piano(
    part: Part,
    timeline: list[tuple],
    tonic_pc: int,
    bars: int,
    amt: float,
    rng: np.random.Generator,
    rootless: bool,
) -> None:
    """Syncopated, swung comping; each hit voice-led from the last."""
    prev = None
    for bar in range(bars):
        pattern = COMP_PATTERNS[int(rng.integers(len(COMP_PATTERNS)))]
        for pos, dur in pattern:
            beat = 4.0 * bar + pos
            ch = chord_at(timeline, beat + (0.5 if pos >= 3.5 else 0.0))
            if rootless:
                voicing = rootless_voicing(tonic_pc, ch, prev)
            else:
                voicing = close_voicing(tonic_pc, ch, prev)
            prev = voicing
            t, v = humanize(rng, 4.0 * bar + swing(pos, amt), 0.55, 0.008, 0.06)
            for p in voicing:
                part.add(max(0.0, t), dur, p, v + rng.normal(0, 0.02))


def head_melody(
    part: Part,
    timeline: list[tuple],
    tonic_pc: int,
    mode: str,
    bars: int,
    amt: float,
    rng: np.random.Generator,
    low: int = 60,
    high: int = 81,
) -> None:
    """Swung-eighth line: chord tones on the beat, scale steps between, phrase ends on the tonic."""
    scale = {(tonic_pc + s) % 12 for s in MODES[mode]}
    prev = nearest(tonic_pc + 4, 70, low, high)
    for bar in range(bars):
        cell = HEAD_CELLS[int(rng.integers(len(HEAD_CELLS)))]
        for i, (pos, dur) in enumerate(cell):
            beat = 4.0 * bar + pos
            ch = chord_at(timeline, beat)
            tones = chord_tones(tonic_pc, ch)
            last = bar == bars - 1 and i == len(cell) - 1
            if last or (ch[0] == 0 and pos == 0.0):
                pitch = nearest(tonic_pc, prev, low, high)  # land on the tonic
            elif pos == int(pos):
                weights = [0.45, 0.3, 0.25] if ch[0] == 0 else [0.2, 0.3, 0.3, 0.2]
                choice = tones[: len(weights)]
                weights = np.array(weights[: len(choice)]) / sum(weights[: len(choice)])
                pitch = nearest(int(rng.choice(choice, p=weights)), prev, low, high)
            else:
                pcs = scale | set(tones)
                step = int(rng.choice([-2, -1, 1, 2]))
                if prev + step > high - 2 or prev + step < low + 2:
                    step = -step
                pitch = prev + step
                while pitch % 12 not in pcs:
                    pitch += 1 if step > 0 else -1
            pitch = int(np.clip(pitch, low, high))
            accent = 0.08 if pos != int(pos) else 0.0  # swing players lean on the off-beats
            t, v = humanize(rng, 4.0 * bar + swing(pos, amt), 0.66 + accent, 0.01, 0.06)
            part.add(max(0.0, t), dur * 0.92, pitch, v)
            prev = pitch


# --- composer ---------------------------------------------------------------------------


@register_composer
class JazzComposer(Composer):
    genre = "jazz"
    label = "swing jazz"
    bpm_range = (100.0, 220.0)
    descriptors: ClassVar[tuple[str, ...]] = (
        "walking bass",
        "swung ride cymbal",
        "hi-hat on 2 and 4",
        "ii-V-I progression",
        "minor ii-V-i",
        "turnaround",
        "tritone substitution",
        "rootless piano voicings",
        "comping piano",
        "swung eighth-note melody",
        "saxophone head",
        "vibraphone melody",
        "brushed snare",
        "piano trio",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        bpm = float(np.round(rng.uniform(*self.bpm_range), 1))
        minor = rng.random() < 0.3
        mode = "minor" if minor else "major"
        forms = MINOR_FORMS if minor else MAJOR_FORMS
        form_name = str(rng.choice(list(forms)))
        form = list(forms[form_name])
        tritone = form_name == "ii-bII7-I"
        if not minor and not tritone and rng.random() < 0.2:  # occasional tritone sub for V7
            form = [((1, "7") if c == (7, "7") else c, k) for c, k in form]
            tritone = True
        form = self._extend(form, rng)
        tonic_pc = int(rng.integers(12))
        bars = self.bars_for(seconds, bpm, 4)
        beats = 4 * bars
        slot = 2.0 if bpm < 150 else 4.0
        timeline = chord_timeline(form, slot, beats)
        amt = swing_amount(bpm)

        score = Score(bpm, 4, NOTE_NAMES[tonic_pc], mode, float(beats))
        score.master = [
            ("compressor", {"threshold_db": -18, "ratio": 2.5, "attack_ms": 10, "release_ms": 150}),
            ("reverb", {"room_size": 0.35, "damping": 0.6, "wet_level": 0.12, "dry_level": 0.9}),
        ]
        brush = rng.random() < 0.35
        drums = score.part(
            "drums",
            "drums",
            "kit.brush" if brush else "kit.acoustic",
            gain_db=-4.0,
            effects=[("highshelf", {"cutoff_frequency_hz": 6000, "gain_db": -3.0})],
        )
        ride_pattern(drums, bars, amt, rng, brush)
        bass = score.part(
            "walking bass",
            "bass",
            "upright_bass",
            gain_db=4.5,
            effects=[("compressor", {"threshold_db": -16, "ratio": 3.0})],
        )
        walking_bass(bass, timeline, tonic_pc, mode, beats, rng)
        rootless = rng.random() < 0.7
        comp_instr = "piano" if rng.random() < 0.75 else "epiano"
        piano = score.part(
            "comping",
            "harmony",
            comp_instr,
            gain_db=-3.0,
            params={"brightness": float(rng.uniform(0.3, 0.7))} if comp_instr == "piano" else {},
        )
        comp_piano(piano, timeline, tonic_pc, bars, amt, rng, rootless)

        descriptors = ["walking bass", "swung ride cymbal", "hi-hat on 2 and 4", "comping piano"]
        descriptors.append("minor ii-V-i" if minor else "ii-V-I progression")
        if form_name in ("I-vi-ii-V", "I-VI7-ii-V", "I-ii-V", "i-ii-V", "i-bVI7-ii-V"):
            descriptors.append("turnaround")
        if tritone:
            descriptors.append("tritone substitution")
        if rootless:
            descriptors.append("rootless piano voicings")
        if brush:
            descriptors.append("brushed snare")
        lead_instr = self._lead(score, rng, timeline, tonic_pc, mode, bars, amt)
        if lead_instr == "sax":
            descriptors += ["saxophone head", "swung eighth-note melody"]
        elif lead_instr == "vibraphone":
            descriptors += ["vibraphone melody", "swung eighth-note melody"]
        elif comp_instr == "piano":
            descriptors.append("piano trio")
        fast = bpm >= 170
        energy = "high" if fast else ("low" if bpm < 130 and brush else "medium")
        texture = "dense" if lead_instr and fast else ("sparse" if not lead_instr else "medium")
        moods = self._moods(rng, minor, fast, brush)
        return Composition(score, moods, energy, texture, descriptors)

    @staticmethod
    def _extend(form: Form, rng: np.random.Generator) -> Form:
        """Colour the changes: m7 -> m9, 7 -> 9 at random; the tonic maj7 often becomes a 6th."""
        table = {"m7": "m9", "7": "9"}
        p = rng.uniform(0.0, 0.7)
        sixth = rng.random() < 0.85
        out = []
        for (r, q), k in form:
            if r == 0 and q == "maj7" and sixth:
                q = "6"
            elif r != 0 and q in table and rng.random() < p:
                q = table[q]
            out.append(((r, q), k))
        return out

    @staticmethod
    def _lead(score, rng, timeline, tonic_pc, mode, bars, amt) -> str | None:
        r = rng.random()
        if r < 0.45:
            lead = score.part(
                "sax head",
                "lead",
                "sax",
                gain_db=-1.0,
                effects=[("reverb", {"room_size": 0.4, "wet_level": 0.15})],
            )
            head_melody(lead, timeline, tonic_pc, mode, bars, amt, rng, 60, 79)
            return "sax"
        if r < 0.65:
            lead = score.part(
                "vibes",
                "lead",
                "vibraphone",
                gain_db=-2.0,
                params={"motor": float(rng.uniform(0.1, 0.5))},
            )
            head_melody(lead, timeline, tonic_pc, mode, bars, amt, rng, 65, 84)
            return "vibraphone"
        return None

    @staticmethod
    def _moods(rng: np.random.Generator, minor: bool, fast: bool, brush: bool) -> list[str]:
        if minor:
            pool = ["melancholic", "mysterious", "nostalgic", "tense"]
        elif fast:
            pool = ["energetic", "playful", "joyful", "bright"]
        else:
            pool = ["relaxed", "warm", "playful", "nostalgic"]
        if brush:
            pool += ["calm"]
        k = int(rng.integers(1, 3))
        return [str(m) for m in rng.choice(pool, size=k, replace=False)]
