"""Baroque: imitative two-voice counterpoint over a continuo bass, ending in a cadence.

The clip is a small invention / trio-sonata movement:

* **harmony** — functional, two chords per 4/4 bar (one per 3/4 bar): it opens on the
  tonic, wanders through circle-of-fifths or I–IV–V material, and lands on a
  pre-dominant → V → I cadence inside the clip (tonic bass, leading tone in minor);
* **subject** — one bar of running sixteenths/eighths in the upper voice, built from
  a chord tone on every beat and scale-step or arpeggio figures between;
* **answer** — the second voice imitates the subject's rhythm and contour a bar (or
  half a bar, stretto) later, at the octave or the fifth below, while the first voice
  goes on with a rhythmically complementary countersubject;
* **continuo** — a bass in steady eighths (octave leaps, arpeggios, walking lines) or
  quarters, root on every chord change; harpsichord chords fill in under strings;
* **terraced dynamics** — forte/piano blocks by bar, a cadential trill on the V.

Instrumentations: solo harpsichord, violins + cello + harpsichord continuo, a trio
sonata (flute/oboe, violin, continuo) or a pipe organ; dry small-room reverb.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import ClassVar

import numpy as np

from mmgan.data.composers.base import Composer, Composition, register_composer
from mmgan.data.score import Part, Score
from mmgan.data.theory import degree_pitch, key_name

# Rhythm cells for one beat: (onset, duration) in beats.
CELLS: dict[str, tuple[tuple[float, float], ...]] = {
    "16ths": ((0, 0.25), (0.25, 0.25), (0.5, 0.25), (0.75, 0.25)),
    "8-16-16": ((0, 0.5), (0.5, 0.25), (0.75, 0.25)),
    "16-16-8": ((0, 0.25), (0.25, 0.25), (0.5, 0.5)),
    "8-8": ((0, 0.5), (0.5, 0.5)),
    "dotted": ((0, 0.75), (0.75, 0.25)),
    "quarter": ((0, 1.0),),
}
BUSY = ("16ths", "8-16-16", "16-16-8")
CALM = ("8-8", "dotted", "quarter")
# Entry after an eighth rest, as fugue subjects often begin.
REST_ENTRY = ((0.5, 0.25), (0.75, 0.25))

# Middles of progressions (scale degrees, 0 = tonic) before the cadence.
MIDDLES = {
    "major": ([3, 6, 2, 5], [5, 2, 3, 0], [4, 5, 2, 3], [0, 3, 4, 5], [5, 3, 0, 4]),
    "minor": ([3, 6, 2, 5], [5, 3, 0, 4], [3, 0, 5, 3], [6, 2, 5, 3], [0, 3, 4, 5]),
}
FORTE, PIANO = 0.85, 0.55

Event = tuple[float, float, str, int]  # (onset beats, duration, "a"nchor | "s"tep, value)


def _scale(mode: str, degree: int) -> str:
    """Harmonic minor over V and vii° (raised leading tone), the plain mode elsewhere."""
    return "harmonic_minor" if mode == "minor" and degree % 7 in (4, 6) else mode


def _pitch(tpc: int, mode: str, chord_deg: int, d: int) -> int:
    """MIDI pitch of absolute scale degree ``d`` (0 = tonic at MIDI octave -1)."""
    return degree_pitch(tpc, _scale(mode, chord_deg), d, -1)


def _nearest_chord_tone(root: int, index: int, ref: float, lo: int, hi: int) -> int:
    """Absolute degree of chord tone ``index`` (0 root, 1 third, 2 fifth) nearest ``ref``."""
    pc = (root + 2 * index) % 7
    cands = [d for d in range(lo, hi + 1) if d % 7 == pc]
    return min(cands, key=lambda d: abs(d - ref))


def progression(rng: np.random.Generator, mode: str, n_chords: int) -> list[int]:
    """``n_chords`` chord roots (scale degrees): tonic first, then ii/IV–V–I at the end."""
    middle = list(MIDDLES[mode][rng.integers(len(MIDDLES[mode]))])
    pre = 3 if mode == "minor" or rng.random() < 0.5 else 1
    n_middle = max(0, n_chords - 4)  # long clips: repeat the middle sequence (a longer loop)
    middle = [middle[i % len(middle)] for i in range(n_middle)]
    prog = ([0] + middle + [pre, 4, 0])[-n_chords:]
    prog[0] = 0
    return prog


Chord = tuple[float, float, int]  # (start beat, duration beats, root scale degree)


def harmony(rng: np.random.Generator, mode: str, slot: float, arrival: float, total: float):
    """Chords every ``slot`` beats, the final tonic arriving on beat ``arrival`` until ``total``."""
    starts = [float(t) for t in np.arange(0.0, arrival, slot)] + [arrival]
    roots = progression(rng, mode, len(starts))
    ends = starts[1:] + [total]
    return [(a, b - a, r) for a, b, r in zip(starts, ends, roots, strict=True)]


def make_subject(
    rng: np.random.Generator, beats: int, busy: float, head: int | None = None
) -> list[Event]:
    """A one-bar subject: chord-tone anchor on each beat, steps/arpeggios between.

    ``head`` fixes the chord tone of the first note (1 = third: makes the mode audible).
    """
    events: list[Event] = []
    for b in range(beats):
        if b == 0 and rng.random() < 0.4:
            cell = REST_ENTRY
        else:
            pool = BUSY if rng.random() < busy else CALM
            cell = CELLS[pool[rng.integers(len(pool))]]
        figure = rng.choice(["scale", "scale", "neighbor", "arpeggio"])
        direction = int(rng.choice([-1, 1]))
        for j, (o, dur) in enumerate(cell):
            if j == 0:
                first = b == 0 and head is not None
                events.append((b + o, dur, "a", head if first else int(rng.integers(3))))
            elif figure == "neighbor":
                events.append((b + o, dur, "s", direction if j % 2 else -direction))
            else:
                events.append((b + o, dur, "s", direction * (2 if figure == "arpeggio" else 1)))
    return events


def complement(rng: np.random.Generator, other: list[Event], beats: int) -> list[Event]:
    """A countersubject: calm where ``other`` runs in sixteenths, running where it is calm."""
    events: list[Event] = []
    for b in range(beats):
        in_beat = [e for e in other if b <= e[0] < b + 1]
        busy_other = sum(1 for e in in_beat if e[1] <= 0.25) >= 2
        pool = CALM if busy_other else BUSY
        cell = CELLS[pool[rng.integers(len(pool))]]
        direction = int(rng.choice([-1, 1]))
        for j, (o, dur) in enumerate(cell):
            kind, val = ("a", int(rng.integers(3))) if j == 0 else ("s", direction)
            events.append((b + o, dur, kind, val))
    return events


class Voice:
    """Realises anchor/step events against the harmony in one register."""

    def __init__(self, part: Part, tpc: int, mode: str, center: int, span: int = 6):
        self.part, self.tpc, self.mode = part, tpc, mode
        self.center, self.lo, self.hi = center, center - span, center + span
        self.prev: float = center

    def play(self, events, start, chord_at, shift, dyn, rng, until=None) -> None:
        """Write ``events`` from beat ``start``; ``shift`` rotates anchor chord tones (2 = fifth)."""
        for onset, dur, kind, val in events:
            t = float(start + onset)
            if until is not None and t >= until:
                return
            root = chord_at(t)
            if kind == "a":
                d = _nearest_chord_tone(
                    root, (val + shift) % 3, 0.7 * self.prev + 0.3 * self.center, self.lo, self.hi
                )
            else:
                d = int(self.prev) + val
                if not self.lo <= d <= self.hi:
                    d = int(self.prev) - val
            self.prev = d
            accent = 0.06 if abs(t - round(t)) < 1e-6 else 0.0
            vel = float(np.clip(dyn(t) + accent + rng.normal(0, 0.03), 0.1, 1.0))
            self.part.add(
                max(0.0, t + float(rng.normal(0, 0.004))),
                dur * 0.92,
                _pitch(self.tpc, self.mode, root, d),
                vel,
            )

    def hold(self, t: float, dur: float, root: int, index: int, vel: float) -> None:
        d = _nearest_chord_tone(root, index, self.prev, self.lo, self.hi)
        self.prev = d
        self.part.add(t, dur, _pitch(self.tpc, self.mode, root, d), vel)

    def trill(self, t: float, dur: float, root: int, vel: float) -> None:
        """Cadential trill on the supertonic (starting from the upper note) over V."""
        d = _nearest_chord_tone(root, 2, self.prev, self.lo, self.hi)  # fifth of V = 2nd degree
        n = int(round(dur / 0.125))
        for k in range(n):
            self.part.add(
                t + k * 0.125, 0.12, _pitch(self.tpc, self.mode, root, d + (k % 2 == 0)), vel
            )
        self.prev = d


BASS_FIGURES = ("octaves", "arpeggio", "walking", "quarters")


def continuo_bass(part: Part, chords: list[Chord], tpc: int, mode: str, figure: str, dyn, rng):
    """Steady-eighth (or quarter) bass with the root on every chord change; beats accented."""
    for i, (t0, dur, root) in enumerate(chords):
        nxt_root = chords[min(i + 1, len(chords) - 1)][2]
        deg = 21 + root % 7  # root in MIDI octave 2
        r = _pitch(tpc, mode, root, deg)
        nxt = _pitch(tpc, mode, nxt_root, 21 + nxt_root % 7)
        third, fifth = _pitch(tpc, mode, root, deg + 2), _pitch(tpc, mode, root, deg + 4)
        if figure == "quarters":
            line, step = [r, fifth, r + 12, third], 1.0
        elif figure == "octaves":
            line, step = [r, r + 12] * 3, 0.5
        elif figure == "arpeggio":
            line, step = [r, third, fifth, r + 12, fifth, third], 0.5
        else:  # walking: scale steps from the root toward the next root
            direction = 1 if nxt >= r else -1
            line, step = [_pitch(tpc, mode, root, deg + direction * k) for k in range(6)], 0.5
        for k in range(int(round(dur / step))):
            t = t0 + k * step
            on_beat = abs(t - round(t)) < 1e-6
            vel = dyn(t) + (0.12 if k == 0 else 0.04 if on_beat else -0.1) + rng.normal(0, 0.02)
            part.add(t, step * 0.9, line[k % len(line)], float(np.clip(vel, 0.1, 1.0)))


def realize_chords(part: Part, chords: list[Chord], tpc: int, mode: str, dyn) -> None:
    """Harpsichord right hand: close-position triads struck on every beat (figured-bass style)."""
    prev = None
    for t0, dur, root in chords:
        tones = [_pitch(tpc, mode, root, 28 + root % 7 + 2 * k) for k in range(3)]
        tones = [p + 12 if p < 55 else p for p in tones]
        if prev is not None:
            center = float(np.mean(prev))
            tones = [
                min((p + 12 * o for o in (-1, 0, 1)), key=lambda q: abs(q - center)) for p in tones
            ]
        prev = tones
        for k in range(int(np.ceil(dur - 1e-6))):
            for p in sorted(set(tones)):
                part.add(t0 + k, 0.8, p, dyn(t0 + k) * (0.8 if k == 0 else 0.6))


INSTRUMENTATIONS = {
    # name: (upper, lower, bass, continuo chords or None, weight)
    "harpsichord": ("harpsichord", "harpsichord", "harpsichord", None, 0.35),
    "strings": ("violin", "violin", "cello", "harpsichord", 0.3),
    "ripieno": ("string_ensemble", "string_ensemble", "contrabass", "harpsichord", 0.1),
    "trio sonata": ("flute", "violin", "cello", "harpsichord", 0.13),
    "organ": ("pipe_organ", "pipe_organ", "pipe_organ", None, 0.12),
}


@register_composer
class BaroqueComposer(Composer):
    genre = "baroque"
    label = "baroque"
    bpm_range = (80.0, 120.0)
    descriptors: ClassVar[tuple[str, ...]] = (
        "imitative counterpoint",
        "running sixteenths",
        "continuo bass",
        "walking bass",
        "octave-leaping bass",
        "circle of fifths",
        "perfect cadence",
        "cadential trill",
        "terraced dynamics",
        "harpsichord continuo",
        "two-part invention",
        "trio sonata",
        "stretto entry",
        "answer at the fifth",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        bpm = round(float(rng.uniform(*self.bpm_range)), 1)
        meter = 3 if rng.random() < 0.2 else 4
        mode = "minor" if rng.random() < 0.5 else "major"
        tpc = int(rng.integers(12))
        bars = self.bars_for(seconds, bpm, meter)
        slot = 2.0 if meter == 4 else 3.0
        clip_beats = seconds * bpm / 60.0
        arrival = float(np.floor(clip_beats - 0.75))  # the final tonic lands on this beat
        chords = harmony(rng, mode, slot, arrival, bars * meter)
        starts = [c[0] for c in chords]
        chord_at = lambda t: chords[max(0, bisect_right(starts, t) - 1)][2]  # noqa: E731

        pattern = [
            [FORTE] * 4,
            [FORTE, PIANO, FORTE, PIANO],
            [FORTE, FORTE, PIANO, PIANO],
            [PIANO, FORTE, FORTE, FORTE],
        ][rng.integers(4)]
        level = [pattern[b % 4] for b in range(bars)]
        dyn = lambda t: level[min(int(t // meter), bars - 1)]  # noqa: E731

        names = list(INSTRUMENTATIONS)
        weights = np.array([INSTRUMENTATIONS[k][4] for k in names])
        setup = names[rng.choice(len(names), p=weights / weights.sum())]
        upper_i, lower_i, bass_i, chords_i, _ = INSTRUMENTATIONS[setup]
        if setup == "trio sonata" and rng.random() < 0.5:
            upper_i = "oboe"

        score = Score(
            bpm=bpm, beats_per_bar=meter, key=key_name(tpc), mode=mode, length_beats=bars * meter
        )
        fast = {"attack": 0.025} if upper_i in ("violin", "string_ensemble") else {}
        upper = score.part("upper voice", "lead", upper_i, params=dict(fast))
        lower = score.part("lower voice", "harmony", lower_i, params=dict(fast), gain_db=-2.0)
        bass = score.part(
            "continuo bass",
            "bass",
            bass_i,
            gain_db=-1.0,
            params={"stops": "plenum"} if bass_i == "pipe_organ" else {},
        )

        busy = float(rng.uniform(0.45, 0.9))
        head = 1 if mode == "minor" and rng.random() < 0.6 else None
        subject = make_subject(rng, meter, busy, head)
        delay = meter / 2 if (meter == 4 and rng.random() < 0.25) else float(meter)
        shift = 2 if rng.random() < 0.5 else 0
        tonic_deg = 35 if tpc < 7 else 28  # absolute degree of a tonic between G3 and F#4
        v1 = Voice(upper, tpc, mode, tonic_deg + 9 + int(rng.integers(-1, 2)))
        v2 = Voice(lower, tpc, mode, tonic_deg + 3 + int(rng.integers(-1, 2)))
        end = arrival
        v1.play(subject, 0.0, chord_at, 0, dyn, rng, until=end - 1.0)
        v2.play(subject, delay, chord_at, shift, dyn, rng, until=end)
        for t in np.arange(meter, end - 1.0, meter):
            v1.play(complement(rng, subject, meter), t, chord_at, 0, dyn, rng, until=end - 1.0)
        for t in np.arange(delay + meter, end, meter):
            v2.play(complement(rng, subject, meter), t, chord_at, shift, dyn, rng, until=end)

        # cadence: trill on V, everybody lands on the tonic chord
        v1.trill(end - 1.0, 1.0, 4, dyn(end - 1.0))
        last = max(slot, clip_beats - end + 1.0)
        v1.hold(end, last, 0, 0, dyn(end))
        final_third = mode == "minor" or rng.random() < 0.5  # minor: the third makes the mode
        v2.hold(end, last, 0, 1 if final_third else 2, dyn(end) - 0.05)
        figure = BASS_FIGURES[rng.integers(len(BASS_FIGURES))]
        continuo_bass(bass, chords[:-1], tpc, mode, figure, dyn, rng)
        tonic_bass = _pitch(tpc, mode, 0, 21)
        bass.add(end, last, tonic_bass, dyn(end) + 0.05)
        if chords_i:
            realize_chords(
                score.part("continuo chords", "harmony", chords_i, gain_db=-8.0),
                [*chords[:-1], (arrival, last, 0)],
                tpc,
                mode,
                dyn,
            )

        room = 0.55 if setup == "organ" else float(rng.uniform(0.15, 0.35))
        score.master = [
            ("highpass", {"cutoff_frequency_hz": 45.0}),
            (
                "reverb",
                {
                    "room_size": room,
                    "damping": 0.5,
                    "wet_level": 0.14 + 0.1 * (setup == "organ"),
                    "dry_level": 0.85,
                    "width": 0.8,
                },
            ),
        ]
        return Composition(
            score=score,
            moods=self._moods(rng, mode, setup),
            energy="high"
            if bpm > 106 and busy > 0.65
            else ("low" if bpm < 90 and busy < 0.6 else "medium"),
            texture="dense" if chords_i else ("sparse" if busy < 0.55 else "medium"),
            descriptors=self._descriptors(
                setup, figure, delay, meter, shift, level, clip_beats, [c[2] for c in chords]
            ),
        )

    @staticmethod
    def _moods(rng: np.random.Generator, mode: str, setup: str) -> list[str]:
        pool = (
            ["bright", "joyful", "playful", "uplifting", "energetic"]
            if mode == "major"
            else ["melancholic", "dark", "tense", "mysterious", "nostalgic"]
        )
        if setup == "organ":
            pool = pool + ["majestic"]
        k = int(rng.integers(1, 3))
        return [str(m) for m in rng.choice(pool, size=k, replace=False)]

    @staticmethod
    def _descriptors(setup, figure, delay, meter, shift, level, clip_beats, roots):
        out = [
            "imitative counterpoint",
            "running sixteenths",
            "continuo bass",
            "perfect cadence",
            "cadential trill",
        ]
        out.append(
            {"octaves": "octave-leaping bass", "walking": "walking bass"}.get(
                figure, "continuo bass"
            )
        )
        if setup == "harpsichord":
            out.append("two-part invention")
        elif setup == "trio sonata":
            out.append("trio sonata")
        if setup in ("strings", "ripieno", "trio sonata"):
            out.append("harpsichord continuo")
        if delay < meter:
            out.append("stretto entry")
        if shift == 2:
            out.append("answer at the fifth")
        heard = level[: int(np.ceil(clip_beats / meter))]
        if len(set(heard)) > 1:
            out.append("terraced dynamics")
        if any(roots[i + 1] == (roots[i] + 3) % 7 for i in range(1, len(roots) - 3)):
            out.append("circle of fifths")
        return list(dict.fromkeys(out))
