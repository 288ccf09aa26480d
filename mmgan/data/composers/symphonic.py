"""Symphonic: an orchestra in sections — string bed, a brass or woodwind theme, timpani.

One archetype per clip sets the orchestration and the mood:

* **epic** (minor) — driving string ostinato (eighths or gallop), horn/trombone theme,
  low brass chords, timpani on the strong beats, roll into the last bar;
* **majestic** (major) — trumpet or horn fanfare over sustained strings, marcato low
  strings, brass chords, timpani on the downbeats;
* **melancholic** (minor) — slow sustained strings, a solo cello/violin/oboe/flute line,
  pizzicato bass in quarters, a soft timpani swell;
* **tense** (minor) — measured string tremolo, low brass stabs, timpani "heartbeat";
* **uplifting** (major) — arpeggiated string ostinato, horn or flute theme.

Every clip opens on the tonic (bass and timpani on the tonic), has a slow harmonic
rhythm, and a crescendo that runs across the clip (velocity, hence brass brightness,
rises). Slow attacks and a large-hall reverb give the wide, blended sound that sets it
apart from the dry, plucky baroque texture.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mmgan.data.composers.base import Composer, Composition, register_composer
from mmgan.data.score import Part, Score
from mmgan.data.theory import MODES, degree_pitch, key_name, voice_lead

PROGRESSIONS = {
    "major": ([0, 3, 0, 4], [0, 5, 3, 4], [0, 4, 5, 3], [0, 2, 3, 4], [0, 3, 4, 0], [0, 0, 3, 4]),
    "minor": ([0, 5, 2, 6], [0, 5, 3, 4], [0, 3, 4, 0], [0, 6, 5, 4], [0, 3, 5, 4], [0, 0, 5, 4]),
}
ARCHETYPES = {
    # name: (mode, moods pool, energy, texture, theme instruments, weight)
    "epic": (
        "minor",
        ("epic", "dark", "tense", "aggressive"),
        "high",
        "dense",
        ("french_horn", "trombone", "trumpet"),
        0.25,
    ),
    "majestic": (
        "major",
        ("majestic", "epic", "uplifting", "bright"),
        "high",
        "dense",
        ("trumpet", "french_horn"),
        0.2,
    ),
    "melancholic": (
        "minor",
        ("melancholic", "nostalgic", "calm", "dark"),
        "low",
        "sparse",
        ("cello", "violin", "oboe", "flute", "french_horn"),
        0.25,
    ),
    "tense": (
        "minor",
        ("tense", "dark", "mysterious"),
        "medium",
        "medium",
        ("trombone", "french_horn", "clarinet"),
        0.15,
    ),
    "uplifting": (
        "major",
        ("uplifting", "warm", "joyful", "bright"),
        "medium",
        "medium",
        ("french_horn", "flute", "oboe", "violin"),
        0.15,
    ),
}
REGISTERS = {  # comfortable theme ranges (MIDI)
    "trumpet": (62, 79),
    "french_horn": (55, 72),
    "trombone": (50, 67),
    "flute": (72, 89),
    "oboe": (64, 81),
    "clarinet": (57, 76),
    "violin": (67, 86),
    "cello": (50, 69),
}
# Theme rhythms for one 4/4 or 3/4 bar (durations in beats).
RHYTHMS = {
    4: ((2, 1, 1), (3, 1), (1.5, 0.5, 2), (1, 1, 2), (4,), (1, 0.5, 0.5, 2), (2, 2)),
    3: ((2, 1), (3,), (1.5, 0.5, 1), (1, 1, 1)),
}


def _scale(mode: str, root: int) -> str:
    return "harmonic_minor" if mode == "minor" and root % 7 in (4, 6) else mode


def chord_tones(tpc: int, mode: str, root: int, octave: int = 3) -> list[int]:
    """Triad on scale degree ``root`` (raised leading tone on V in minor), MIDI pitches."""
    return [degree_pitch(tpc, _scale(mode, root), root + 2 * k, octave) for k in range(3)]


def _steps(mode: str, root: int) -> set[int]:
    """Pitch classes (relative to the tonic) of the scale in force over chord ``root``."""
    return set(MODES[_scale(mode, root)])


def place(pc_pitch: int, low: int, high: int) -> int:
    """Move ``pc_pitch`` by octaves into ``low..high`` (as close to the bottom as fits)."""
    p = low + (pc_pitch - low) % 12
    return p if p <= high else p - 12


def four_part(
    prev: list[int] | None, triad: list[int], low: int, high: int, double: int = 0
) -> list[int]:
    """Four distinct pitches: the triad voice-led from ``prev`` plus a doubling an octave away.

    ``double`` picks the doubled chord tone (0 root, 1 third: minor tonic chords sound
    minor more clearly when the third, not the root, is doubled).
    """
    if prev is None:
        root = place(triad[0], low, high)
        tones = sorted({root, *(place(p, root + 1, root + 12) for p in triad[1:])})
    else:
        tones = sorted(set(voice_lead(prev[:3], triad, low, high)))
    pc = triad[double] % 12
    base = min(p for p in tones if p % 12 == pc) if any(p % 12 == pc for p in tones) else tones[0]
    for p in (base + 12, base - 12, max(tones) + 7):
        if len(tones) >= 4:
            break
        if low <= p <= high and p not in tones:
            tones = sorted([*tones, p])
    return tones


def crop(score: Score, end: float) -> None:
    """Shorten notes to end by beat ``end`` and drop later ones (nothing past the clip)."""
    for part in score.parts:
        part.notes = [n for n in part.notes if n.start < end]
        for n in part.notes:
            n.duration = min(n.duration, end - n.start)


class Orchestra:
    """Writes the sections into a score, given the chords and a crescendo curve."""

    def __init__(self, score: Score, chords, tpc: int, mode: str, swell, rng):
        self.score, self.chords, self.tpc, self.mode = score, chords, tpc, mode
        self.swell, self.rng = swell, rng

    def vel(self, t: float, scale: float = 1.0, jitter: float = 0.03) -> float:
        return float(np.clip(self.swell(t) * scale + self.rng.normal(0, jitter), 0.1, 1.0))

    def sustained(self, part: Part, low: int, high: int, scale: float = 1.0) -> None:
        """Voice-led four-part chords (root doubled) held for each chord: string bed, chorale."""
        prev = None
        for t0, dur, root in self.chords:
            minor_tonic = self.mode == "minor" and root % 7 == 0
            triad = chord_tones(self.tpc, self.mode, root)
            voicing = four_part(prev, triad, low, high, double=1 if minor_tonic else 0)
            prev = voicing
            for p in voicing:
                part.add(t0, dur, p, self.vel(t0, scale))

    def ostinato(self, part: Part, low: int, high: int, figure: str, scale: float = 0.9) -> None:
        """Repeated eighths, a gallop (8th + two 16ths) or an arpeggio on the chord tones."""
        cells = {"eighths": (0.5, 0.5), "gallop": (0.5, 0.25, 0.25), "arpeggio": (0.5, 0.5)}[figure]
        for t0, dur, root in self.chords:
            tones = sorted(place(p, low, high) for p in chord_tones(self.tpc, self.mode, root))
            t, k = t0, 0
            while t < t0 + dur - 1e-6:
                step = cells[k % len(cells)]
                arp = [*tones, tones[0] + 12]
                p = arp[(0, 1, 2, 3, 2, 1)[k % 6]] if figure == "arpeggio" else tones[0]
                accent = 0.25 if abs(t - round(t)) < 1e-6 else -0.1
                part.add(t, step * 0.8, p, self.vel(t, scale + accent))
                t, k = t + step, k + 1

    def bass(self, part: Part, style: str, meter: int) -> None:
        """Low strings on the chord roots: held, marcato or pizzicato quarters, pulsing eighths."""
        for t0, dur, root in self.chords:
            r = place(chord_tones(self.tpc, self.mode, root)[0], 36, 47)
            if style == "held":
                part.add(t0, dur, r, self.vel(t0, 0.9))
                continue
            fifth = place(chord_tones(self.tpc, self.mode, root)[2], r, r + 11)
            step = 0.5 if style == "pulse" else 1.0
            for k in range(int(round(dur / step))):
                t = t0 + k * step
                p = fifth if style == "pizzicato" and k % 2 else r
                strong = t % meter == 0
                on_beat = abs(t - round(t)) < 1e-6
                part.add(t, 0.6 * step, p, self.vel(t, 1.0 if strong else 0.85 if on_beat else 0.6))

    def theme(self, part: Part, low: int, high: int, meter: int, start: float, end: float) -> None:
        """A long-breathed melody: chord tones on long notes, scale steps on short ones."""
        rng = self.rng
        prev = None
        t = start
        while t < end:
            rhythm = RHYTHMS[meter][rng.integers(len(RHYTHMS[meter]))]
            for d in rhythm:
                root = self._root_at(t)
                tone_pcs = {q % 12 for q in chord_tones(self.tpc, self.mode, root)}
                if prev is None:  # open on the root or fifth of the tonic chord
                    opening = [0, 7] + ([3, 3] if self.mode == "minor" else [4])
                    p = place(self.tpc + int(rng.choice(opening)), low, high)
                elif d <= 0.5:  # passing tone: a scale step
                    scale = degree_pitch(self.tpc, _scale(self.mode, root), 0, 4)
                    steps = [q for q in range(prev - 2, prev + 3) if q != prev and low <= q <= high]
                    in_key = [q for q in steps if (q - scale) % 12 in _steps(self.mode, root)]
                    p = int(rng.choice(in_key)) if in_key else prev
                else:
                    leap = 5 if rng.random() < 0.35 else 2
                    cands = [q for q in range(low, high + 1) if q % 12 in tone_pcs and q != prev]
                    p = min(cands, key=lambda q: (abs(abs(q - prev) - leap), rng.random()))
                part.add(t, d * 0.95, p, self.vel(t, 1.0))
                prev, t = p, t + d

    def timpani(self, part: Part, style: str, meter: int, roll: Part | None, roll_from: float):
        """Tonic/dominant kettle drums on downbeats, strong beats or a heartbeat; an optional
        crescendo roll (in the ``roll`` part) from beat ``roll_from`` to the end of that bar."""
        tonic = place(self.tpc, 40, 51)
        dom = place(self.tpc + 7, 40, 55)
        total = self.chords[-1][0] + self.chords[-1][1]
        hits = {
            "downbeats": (0,),
            "strong": (0, meter // 2) if meter == 4 else (0,),
            "heartbeat": (0, 0.5, 2, 2.5) if meter == 4 else (0, 0.5),
        }[style]
        end = roll_from if roll is not None else total
        for t_bar in np.arange(0.0, end, meter):
            for h in hits:
                t = float(t_bar + h)
                if t < end:
                    p = dom if self._root_at(t) % 7 in (2, 4, 6) else tonic
                    part.add(t, 0.5, p, self.vel(t, 1.0 if h == 0 else 0.8))
        if roll is not None:
            p = dom if self._root_at(roll_from) % 7 == 4 else tonic
            roll.add(roll_from, meter - 0.25, p, self.vel(roll_from, 1.0))
            part.add(roll_from + meter, 0.5, tonic, self.vel(roll_from + meter, 1.0))

    def _root_at(self, t: float) -> int:
        for t0, dur, root in self.chords:
            if t0 <= t < t0 + dur:
                return root
        return self.chords[-1][2]


@register_composer
class SymphonicComposer(Composer):
    genre = "symphonic"
    label = "orchestral"
    bpm_range = (60.0, 110.0)
    descriptors: ClassVar[tuple[str, ...]] = (
        "string ostinato",
        "galloping strings",
        "sustained strings",
        "string tremolo",
        "brass fanfare",
        "horn theme",
        "brass chords",
        "woodwind melody",
        "solo strings melody",
        "pizzicato bass",
        "pizzicato arpeggio",
        "marcato low strings",
        "pulsing low strings",
        "timpani on downbeats",
        "timpani roll",
        "crescendo",
        "large hall reverb",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        names = list(ARCHETYPES)
        w = np.array([ARCHETYPES[k][5] for k in names])
        kind = names[rng.choice(len(names), p=w / w.sum())]
        mode, mood_pool, energy, texture, themes, _ = ARCHETYPES[kind]
        lo, hi = {"melancholic": (60, 76), "tense": (70, 100)}.get(kind, (80, 110))
        bpm = round(float(rng.uniform(lo, hi)), 1)
        meter = 3 if rng.random() < 0.1 else 4
        tpc = int(rng.integers(12))
        bars = self.bars_for(seconds, bpm, meter)
        clip_beats = seconds * bpm / 60.0
        span = 2 if (bpm < 80 and meter == 4) else meter  # harmonic rhythm in beats
        prog = list(PROGRESSIONS[mode][rng.integers(len(PROGRESSIONS[mode]))])
        n_chords = int(np.ceil(bars * meter / span))
        chords = [(float(i * span), float(span), prog[i % len(prog)]) for i in range(n_chords)]

        v0, v1 = float(rng.uniform(0.35, 0.5)), float(rng.uniform(0.85, 1.0))
        swell = lambda t: v0 + (v1 - v0) * min(max(t / clip_beats, 0.0), 1.0)  # noqa: E731
        score = Score(
            bpm=bpm, beats_per_bar=meter, key=key_name(tpc), mode=mode, length_beats=bars * meter
        )
        orch = Orchestra(score, chords, tpc, mode, swell, rng)
        desc = ["crescendo", "large hall reverb"]

        # strings: the bed and/or an ostinato
        bed = score.part(
            "string bed",
            "harmony",
            "string_ensemble",
            gain_db=-7.0,
            params={"attack": float(rng.uniform(0.25, 0.5)), "brightness": 0.45},
        )
        if kind == "tense":
            bed.params.update(tremolo=bpm / 60.0 * 4, attack=0.1)
            desc.append("string tremolo")
        else:
            desc.append("sustained strings")
        orch.sustained(bed, 55, 79, 0.8)
        if kind in ("epic", "uplifting", "melancholic") or (
            kind == "majestic" and rng.random() < 0.4
        ):
            figure = {"epic": rng.choice(["eighths", "gallop"]), "majestic": "eighths"}.get(
                kind, "arpeggio"
            )
            pizz = kind == "melancholic"
            ost = score.part(
                "pizzicato arpeggio" if pizz else "string ostinato",
                "harmony",
                "pizzicato_strings" if pizz else "string_ensemble",
                gain_db=-4.0 if pizz else -2.0,
                params={} if pizz else {"attack": 0.02, "brightness": 0.6, "players": 2},
            )
            orch.ostinato(
                ost, 48 if not pizz else 55, 64 if figure != "arpeggio" else 72, str(figure)
            )
            desc.append(
                "galloping strings"
                if figure == "gallop"
                else "pizzicato arpeggio"
                if pizz
                else "string ostinato"
            )

        # low strings
        bass_style = {"melancholic": "pizzicato", "majestic": "marcato", "tense": "pulse"}.get(
            kind, "held" if rng.random() < 0.5 else "marcato"
        )
        bass_inst = "pizzicato_strings" if bass_style == "pizzicato" else "contrabass"
        orch.bass(score.part("low strings", "bass", bass_inst, gain_db=-1.0), bass_style, meter)
        desc.append(
            {
                "pizzicato": "pizzicato bass",
                "marcato": "marcato low strings",
                "pulse": "pulsing low strings",
            }.get(bass_style, "sustained strings")
        )

        # brass chords under epic / majestic / tense
        if kind in ("epic", "majestic", "tense"):
            brass = score.part(
                "brass chords",
                "harmony",
                "trombone" if kind != "majestic" else "french_horn",
                gain_db=-6.0,
            )
            orch.sustained(brass, 48, 67, 0.85)
            desc.append("brass chords")

        # the theme
        theme_i = str(themes[rng.integers(len(themes))])
        enter = float(meter) if clip_beats > 2.5 * meter and rng.random() < 0.5 else 0.0
        lead = score.part("theme", "lead", theme_i, gain_db=1.0)
        orch.theme(lead, *REGISTERS[theme_i], meter, enter, bars * meter)
        desc.append(
            "brass fanfare"
            if theme_i == "trumpet"
            else "horn theme"
            if theme_i == "french_horn"
            else "woodwind melody"
            if theme_i in ("flute", "oboe", "clarinet")
            else "solo strings melody"
            if theme_i in ("violin", "cello")
            else "brass chords"
        )

        # timpani
        tstyle = {"tense": "heartbeat", "melancholic": "downbeats"}.get(kind, "strong")
        last_bar = float(np.floor((clip_beats - 0.5) / meter) * meter)
        roll = (kind in ("epic", "melancholic") or rng.random() < 0.4) and last_bar > 0
        timp = score.part("timpani", "drums", "timpani", gain_db=-2.0)
        roll_part = None
        if roll:
            roll_part = score.part(
                "timpani roll", "drums", "timpani", gain_db=-4.0, params={"roll": True}
            )
            desc.append("timpani roll")
        orch.timpani(timp, tstyle, meter, roll_part, last_bar)
        if kind != "melancholic" or not roll:
            desc.append("timpani on downbeats")

        crop(score, clip_beats + 1.0)
        score.master = [
            ("highpass", {"cutoff_frequency_hz": 35.0}),
            (
                "compressor",
                {"threshold_db": -18.0, "ratio": 2.0, "attack_ms": 30.0, "release_ms": 250.0},
            ),
            (
                "reverb",
                {
                    "room_size": float(rng.uniform(0.75, 0.9)),
                    "damping": 0.4,
                    "wet_level": float(rng.uniform(0.2, 0.28)),
                    "dry_level": 0.72,
                    "width": 1.0,
                },
            ),
        ]
        k = int(rng.integers(1, 3))
        moods = [str(m) for m in rng.choice(mood_pool[:3], size=k, replace=False)]
        if mood_pool[0] not in moods:
            moods.insert(0, mood_pool[0])
        return Composition(
            score=score,
            moods=moods[:3],
            energy=energy,
            texture=texture,
            descriptors=list(dict.fromkeys(desc)),
        )
