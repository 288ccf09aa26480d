"""Folk: acoustic guitar (strummed or finger-picked) under a modal fiddle / whistle tune.

Keys are the fiddle-friendly G, D, A, C, E, F with a capo-style open-chord guitar;
modes are major, mixolydian (I-bVII-IV), dorian (i-IV) or aeolian (i-bVII-bVI).
Meters: 4/4 reels and airs, 3/4 waltzes, and a jig-like triplet lilt (12/8 felt
in four). Percussion is light or absent (foot stomp + shaker, or soft brushes) and
everything sits in a small room.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mmgan.data.composers.base import Composer, Composition, register_composer
from mmgan.data.score import GM_DRUMS, Part, Score
from mmgan.data.theory import MODES, pitch_class, roman

KEYS = ("G", "D", "A", "C", "E", "F")
# The tonic returns every other bar: a 6 s clip hears only 2-4 bars, so it must sound home.
PROGRESSIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "major": (
        ("I", "IV", "I", "V"),
        ("I", "V", "I", "IV"),
        ("I", "IV", "V", "I"),
        ("I", "vi", "I", "V"),
    ),
    "mixolydian": (("I", "I", "bVII", "I"), ("I", "bVII", "I", "IV"), ("I", "IV", "I", "bVII")),
    "dorian": (("i", "i", "bVII", "i"), ("i", "IV", "i", "bVII"), ("i", "bVII", "i", "i")),
    "minor": (("i", "bVII", "i", "bVI"), ("i", "bVI", "bVII", "i"), ("i", "iv", "i", "bVII")),
}
STRINGS = (40, 45, 50, 55, 59, 64)  # standard tuning E A D G B E
# meter -> (beats per bar, subdivisions per beat, bpm range)
METERS: dict[str, tuple[int, int, tuple[float, float]]] = {
    "reel": (4, 2, (100.0, 130.0)),
    "air": (4, 2, (80.0, 100.0)),
    "waltz": (3, 2, (84.0, 120.0)),
    "jig": (4, 3, (95.0, 125.0)),
}
STRUMS: dict[str, tuple[str, ...]] = {  # one bar, D = down, U = up, . = rest
    "reel": ("D.DU.UDU", "D.D.DUDU", "D.DUDUDU"),
    "air": ("D.DU.UDU", "D...D.DU"),
    "waltz": ("D.DUDU", "D.D.D.", "D.DUDU"),
    "jig": ("D.UD.UD.UD.U", "D.UD.UD.UDUU"),
}
ROOM = ("reverb", {"room_size": 0.25, "damping": 0.6, "wet_level": 0.18, "dry_level": 0.85})


def open_voicing(pcs: set[int], root_pc: int, capo: int) -> list[int]:
    """Open-position guitar chord: per string the lowest chord tone within 4 frets of the capo.

    The lowest sounding string (E, A or D) carries the root; strings under it are muted.
    Returns the sounding pitches from low to high (4-6 of them).
    """
    out: list[int] = []
    for i, open_pitch in enumerate(STRINGS):
        frets = [f for f in range(capo, capo + 5) if (open_pitch + f) % 12 in pcs]
        if not out:
            frets = [f for f in frets if (open_pitch + f) % 12 == root_pc]
            if not frets and i < 2:
                continue
        if frets and open_pitch + frets[0] not in out:
            out.append(open_pitch + frets[0])
    return out


def _choose_capo(tonic_pc: int, mode: str) -> int:
    """Smallest capo that gives the tonic chord a root on the low E or A string and 5+ strings."""
    minor = mode in ("dorian", "minor")
    pcs = {(tonic_pc + s) % 12 for s in ((0, 3, 7) if minor else (0, 4, 7))}
    for capo in range(0, 8):
        v = open_voicing(pcs, tonic_pc, capo)
        if len(v) >= 5 and v[0] < STRINGS[2]:
            return capo
    return 0


def _strum_part(
    rng: np.random.Generator,
    voicings: list[list[int]],
    pattern: str,
    bpb: int,
    sub: int,
    spb: float,
) -> tuple[list, list]:
    """Strummed guitar as (bass-string notes, other notes), each ``(t, dur, pitch, vel)``.

    Down strokes sweep low to high over all strings (~12 ms apart); up strokes sweep
    the top 3-4 strings high to low, softer. Each string rings until it is struck again.
    """
    step = 1.0 / sub
    events: list[tuple[float, int, float]] = []  # (time, string index, velocity)
    for bar, chord in enumerate(voicings):
        for k, c in enumerate(pattern):
            if c == ".":
                continue
            t0 = bar * bpb + k * step
            accent = 1.0 if k % sub == 0 else 0.85
            n = len(chord)
            idxs = list(range(n)) if c == "D" else list(range(n - 1, max(n - 5, 0), -1))
            if c == "D" and k % sub != 0 and rng.random() < 0.5:
                idxs = idxs[1:]  # off-beat down strokes often skip the bass string
            gap = float(rng.uniform(0.008, 0.016)) / spb  # seconds between strings -> beats
            for j, s in enumerate(idxs):
                vel = (0.75 if c == "D" else 0.5) * accent * float(rng.uniform(0.9, 1.05))
                events.append((t0 + j * gap, bar * 16 + s, vel))
    bass, rest = [], []
    for i, (t, key, vel) in enumerate(events):
        bar, s = divmod(key, 16)
        nxt = [e[0] for e in events[i + 1 :] if e[1] == key]
        end = min(nxt[0] if nxt else (bar + 1) * bpb, (bar + 1) * bpb)
        note = (t, max(end - t, 0.1), voicings[bar][s], vel)
        (bass if s == 0 else rest).append(note)
    return bass, rest


def _pick_part(
    voicings: list[list[int]], meter: str, bpb: int, sub: int, drone: tuple[int, int] | None = None
) -> tuple[list, list]:
    """Finger-picking: thumb (bass strings) on the beat, fingers on the treble strings.

    ``drone`` = (tonic, fifth) makes the thumb hold a modal tonic drone under every chord.
    """
    bass, treble = [], []
    step = 1.0 / sub
    for bar, chord in enumerate(voicings):
        t_bar = bar * bpb
        ch = chord if drone is None else [drone[0], *chord[1:]]
        alt = ch[min(2, len(ch) - 3)] if len(ch) >= 5 else ch[0]
        alt = alt if drone is None else drone[1]
        top = ch[-3:]
        if meter == "waltz":  # p i m a m i
            bass.append((t_bar, 1.0, ch[0], 0.8))
            seq = [top[0], top[1], top[2], top[1], top[0]]
            for k, p in enumerate(seq, start=1):
                treble.append((t_bar + k * step, 2 * step, p, 0.55))
            continue
        for beat in range(bpb):
            thumb = ch[0] if beat % 2 == 0 else alt
            bass.append((t_bar + beat, 1.0, thumb, 0.8 if beat % 2 == 0 else 0.7))
            if sub == 3:  # jig: bass, then two treble notes per beat
                treble.append((t_bar + beat + step, step, top[1], 0.5))
                treble.append((t_bar + beat + 2 * step, step, top[2], 0.55))
                continue
            if beat == 0:
                treble.append((t_bar, 0.5, top[2], 0.6))  # pinch
            treble.append((t_bar + beat + 0.5, 0.75, top[(beat + 1) % 3], 0.55))
    return bass, treble


def _melody(
    rng: np.random.Generator,
    tonic_pc: int,
    mode: str,
    chords: list[list[int]],
    bpb: int,
    sub: int,
    meter: str,
    low: int,
    high: int,
) -> list[tuple[float, float, int, float]]:
    """A modal tune: chord tones on strong beats, stepwise in between, tonic at the end."""
    scale = [p for p in range(low, high + 1) if (p - tonic_pc) % 12 in MODES[mode]]
    homes = [i for i, p in enumerate(scale) if p % 12 == tonic_pc]
    idx = homes[0]
    step = 1.0 / sub
    notes = []
    rhythms = {
        "reel": ((0.5, 0.5), (0.5, 0.5), (1.0,), (0.5, 0.25, 0.25)),
        "air": ((1.0,), (2.0,), (1.5, 0.5), (0.5, 0.5)),
        "waltz": ((1.0,), (2.0,), (0.5, 0.5), (1.0,)),
        "jig": ((step, step, step), (2 * step, step), (step, step, step)),
    }[meter]
    last_bar = len(chords) - 1
    for bar, chord in enumerate(chords):
        chord_steps = [0, chord[1] - chord[0], chord[2] - chord[0]]
        on_tonic = chord[0] % 12 == tonic_pc
        # a minor chord's third is what tells it from major: sing it more often
        weights = (0.4, 0.45, 0.15) if chord_steps[1] == 3 else (0.45, 0.35, 0.2)
        t = float(bar * bpb)
        while t < (bar + 1) * bpb - 1e-6:
            group = rhythms[int(rng.integers(len(rhythms)))]
            for d in group:
                if t >= (bar + 1) * bpb - 1e-6:
                    break
                d = min(d, (bar + 1) * bpb - t)
                strong = abs(t - round(t)) < 1e-6 and int(round(t)) % bpb in (
                    0,
                    2 if bpb == 4 else 0,
                )
                move = int(rng.choice((-2, -1, -1, 1, 1, 2)))
                idx = idx + move if 0 <= idx + move < len(scale) else idx - move  # reflect
                if t == 0:  # the tune opens on the tonic
                    idx = min(homes, key=lambda i: abs(i - len(scale) // 2))
                elif strong:  # root or third of the chord more often than its fifth
                    pc = (chord[0] + int(rng.choice(chord_steps, p=weights))) % 12
                    tones = [i for i, p in enumerate(scale) if p % 12 == pc] or [idx]
                    idx = min(tones, key=lambda i: abs(i - idx))
                if on_tonic and mode == "dorian" and (scale[idx] - tonic_pc) % 12 == 9:
                    idx -= 1  # over i, the dorian 6th resolves to the 5th (it colours IV)
                notes.append((t, d, scale[idx], float(rng.uniform(0.65, 0.85))))
                t += d
        if bar == last_bar or bar % 2 == 1:  # phrases end on the tonic
            idx = min(homes, key=lambda i: abs(i - idx))
            t_last, d_last, _, v = notes[-1]
            notes[-1] = (t_last, d_last, scale[idx], v)
    return notes


def _percussion(rng: np.random.Generator, style: str, bars: int, bpb: int, sub: int) -> Part | None:
    """Light percussion: foot stomp + shaker, soft brushes, or nothing."""
    if style == "none":
        return None
    kit = "kit.acoustic" if style == "stomp" else "kit.brush"
    # the high-pass turns the kit's sustained, pitched kick (55 Hz = A1) into a dry stomp
    # thud that does not colour the key (a 6th-order high-pass at 150 Hz)
    hp = ("highpass", {"cutoff_frequency_hz": 150.0})
    p = Part("percussion", "drums", kit, gain_db=-9.0, effects=[hp, hp, hp, ROOM])
    for bar in range(bars):
        for beat in range(bpb):
            t = bar * bpb + beat
            if style == "stomp":
                if beat % 2 == 0 or bpb == 3 and beat == 0:
                    p.add(t, 0.5, GM_DRUMS["kick"], 0.7 if beat == 0 else 0.6)
                for k in range(sub):
                    p.add(t + k / sub, 0.25, GM_DRUMS["shaker"], 0.6 if k == 0 else 0.4)
            else:
                if beat == 0:
                    p.add(t, 0.5, GM_DRUMS["kick"], 0.5)
                if beat in (1, 3) or (bpb == 3 and beat > 0):
                    p.add(t, 0.5, GM_DRUMS["snare"], 0.45)
    return p


LEAD_WORDS = {
    "fiddle": "fiddle melody",
    "tin_whistle": "tin whistle melody",
    "mandolin": "mandolin melody",
    "banjo": "banjo melody",
}
METER_WORDS = {
    "reel": "reel rhythm",
    "air": "slow air",
    "waltz": "waltz time",
    "jig": "jig-like triplet lilt",
}
PERC_WORDS = {"none": "no drums", "stomp": "foot-stomp percussion", "brush": "soft brushed drums"}


def _mood_and_energy(
    rng: np.random.Generator, mode: str, meter: str, strummed: bool, bpm: float
) -> tuple[list[str], str]:
    """Two moods (bright modes: warm/joyful..., minor modes: melancholic...) and an energy."""
    bright = mode in ("major", "mixolydian")
    if meter == "air":
        pool = ["nostalgic", "calm", "warm", "relaxed" if bright else "melancholic"]
    elif bright:
        pool = ["warm", "joyful", "uplifting", "playful", "nostalgic", "bright"]
    else:
        pool = ["melancholic", "nostalgic", "warm", "mysterious", "calm"]
    moods = [str(m) for m in rng.choice(pool, size=2, replace=False)]
    if meter == "air" or (not strummed and bpm < 100):
        return moods, "low"
    return moods, "high" if strummed and bpm > 118 else "medium"


@register_composer
class FolkComposer(Composer):
    genre = "folk"
    label = "acoustic folk"
    bpm_range = (80.0, 130.0)
    tonal = True
    descriptors: ClassVar[tuple[str, ...]] = (
        "strummed acoustic guitar",
        "finger-picked guitar",
        "fiddle melody",
        "tin whistle melody",
        "mandolin melody",
        "banjo melody",
        "modal melody",
        "mixolydian tune",
        "dorian tune",
        "waltz time",
        "jig-like triplet lilt",
        "reel rhythm",
        "slow air",
        "foot-stomp percussion",
        "soft brushed drums",
        "no drums",
        "drone bass",
        "small-room acoustic",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        meter = str(rng.choice(list(METERS), p=(0.35, 0.25, 0.2, 0.2)))
        bpb, sub, (lo, hi) = METERS[meter]
        bpm = float(np.round(rng.uniform(lo, hi)))
        mode = str(rng.choice(list(PROGRESSIONS), p=(0.4, 0.2, 0.2, 0.2)))
        key = str(rng.choice(KEYS))
        tonic_pc = pitch_class(key)
        bars = self.bars_for(seconds, bpm, bpb)
        score = Score(
            bpm=bpm,
            beats_per_bar=bpb,
            key=key,
            mode=mode,
            length_beats=float(bars * bpb),
            meter="12/8" if meter == "jig" else None,  # four dotted-quarter beats of triplets
        )

        prog = PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
        numerals = [prog[b % len(prog)] for b in range(bars)]
        chords = [roman(n, key) for n in numerals]
        capo = _choose_capo(tonic_pc, mode)
        voicings = [open_voicing({p % 12 for p in c}, c[0] % 12, capo) for c in chords]

        strummed = meter != "air" and rng.random() < 0.65
        modal = mode in ("mixolydian", "dorian")
        drone = None
        guitar = "guitar.steel" if strummed or rng.random() < 0.5 else "guitar.nylon"
        g_fx = [("compressor", {"threshold_db": -20.0, "ratio": 2.5}), ROOM]
        if strummed:
            pattern = str(rng.choice(STRUMS[meter]))
            low_notes, high_notes = _strum_part(
                rng, voicings, pattern, bpb, sub, score.seconds_per_beat
            )
        else:
            tonic_low = 40 + (tonic_pc - 4) % 12
            # tonic-fifth for mixolydian; tonic-octave for dorian (a loud fifth reads as major)
            upper = tonic_low + (7 if mode == "mixolydian" else 12)
            drone = (tonic_low, upper) if modal and rng.random() < 0.7 else None
            low_notes, high_notes = _pick_part(voicings, meter, bpb, sub, drone)
        g_bass = score.part("guitar bass strings", "bass", guitar, gain_db=0.0, effects=g_fx)
        g_chords = score.part("acoustic guitar", "harmony", guitar, gain_db=-3.0, effects=g_fx)
        for part, notes in ((g_bass, low_notes), (g_chords, high_notes)):
            for t, d, p, v in notes:
                part.add(t, d, p, v)

        lead_inst = str(
            rng.choice(("fiddle", "tin_whistle", "mandolin", "banjo"), p=(0.45, 0.3, 0.15, 0.1))
        )
        low, high = {"tin_whistle": (74, 93), "banjo": (62, 81)}.get(lead_inst, (62, 84))
        melody = _melody(rng, tonic_pc, mode, chords, bpb, sub, meter, low, high)
        lead = score.part(f"{lead_inst} tune", "lead", lead_inst, gain_db=-1.0, effects=[ROOM])
        if lead_inst in ("mandolin", "banjo") and meter != "jig":  # pluck eighths, not long notes
            melody = [
                (t + k * 0.5, 0.5, p, v)
                for t, d, p, v in melody
                for k in range(max(1, int(d / 0.5)))
            ]
        for t, d, p, v in melody:
            lead.add(t, d, p, v)

        perc_style = str(rng.choice(("none", "stomp", "brush"), p=(0.4, 0.35, 0.25)))
        perc = _percussion(rng, perc_style, bars, bpb, sub)
        if perc is not None:
            score.parts.insert(0, perc)
        score.master = [
            (
                "compressor",
                {"threshold_db": -20.0, "ratio": 3.0, "attack_ms": 3.0, "release_ms": 120.0},
            ),
            ("limiter", {"threshold_db": -10.0, "release_ms": 50.0}),  # tame pluck transients
        ]
        descriptors = [
            "strummed acoustic guitar" if strummed else "finger-picked guitar",
            LEAD_WORDS[lead_inst],
            METER_WORDS[meter],
            PERC_WORDS[perc_style],
            "small-room acoustic",
        ]
        if modal:
            descriptors += ["modal melody", f"{mode} tune"]
        if drone is not None:
            descriptors.append("drone bass")
        moods, energy = _mood_and_energy(rng, mode, meter, strummed, bpm)
        texture = "sparse" if not strummed and perc is None else "medium"
        return Composition(score, moods, energy, texture, descriptors)
