"""Metal: palm-muted power-chord riffs over double-kick, blast, thrash or breakdown drums.

A bar-long riff on a sixteenth grid chugs on the low tonic (palm-muted root+fifth)
and is punctuated by open power-chord accents on other degrees of a minor,
phrygian or harmonic-minor scale, in a down-tuned low E/Eb/D/C#/C. The drum style
sets the tempo range: double kick (16th kicks), blast beats (alternating kick and
snare 16ths under cymbals), thrash (kick on the beat, snare on the off-beat),
gallop, or a half-time breakdown with china accents. A distorted lead plays a
tremolo-picked, sustained or twin-harmonised minor melody. Guitars and bass go
through pedalboard distortion and a cabinet-like filter chain.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from mmgan.data.composers.base import Composer, Composition, register_composer
from mmgan.data.score import GM_DRUMS, Part, Score
from mmgan.data.theory import MODES

# tonic name -> MIDI pitch of the low (down-tuned) root string
TONICS: dict[str, int] = {"E": 40, "Eb": 39, "D": 38, "C#": 37, "C": 36}

# semitone offsets above the tonic usable as power-chord roots (perfect fifth in scale)
# (bIII and bVI carry the minor third, which a power chord alone does not sound)
ACCENT_DEGREES: dict[str, dict[int, float]] = {
    "minor": {3: 0.3, 5: 0.15, 7: 0.1, 8: 0.3, 10: 0.15},
    "phrygian": {1: 0.3, 3: 0.25, 5: 0.1, 8: 0.25, 10: 0.1},
    "harmonic_minor": {5: 0.3, 7: 0.2, 8: 0.5},
}


def _accent_degree(rng: np.random.Generator, mode: str) -> int:
    """Semitones above the tonic for an accent power chord, weighted per mode."""
    degrees = ACCENT_DEGREES[mode]
    return int(rng.choice(list(degrees), p=list(degrees.values())))


# drum style -> (bpm low, bpm high, grid of the guitar riff in sixteenths per chug)
STYLES: dict[str, tuple[float, float]] = {
    "double_kick": (110.0, 170.0),
    "blast": (160.0, 200.0),
    "thrash": (150.0, 200.0),
    "gallop": (120.0, 180.0),
    "breakdown": (100.0, 140.0),
}

K, S, HAT, CRASH, CHINA, RIDE = (
    GM_DRUMS[k] for k in ("kick", "snare", "hat_closed", "crash", "china", "ride")
)
TOMS = (GM_DRUMS["tom_high"], GM_DRUMS["tom_mid"], GM_DRUMS["tom_low"])

GUITAR_CHAIN = [
    ("highpass", {"cutoff_frequency_hz": 90.0}),
    ("distortion", {"drive_db": 32.0}),
    ("peak", {"cutoff_frequency_hz": 450.0, "gain_db": -5.0, "q": 0.9}),
    ("peak", {"cutoff_frequency_hz": 2500.0, "gain_db": 3.0, "q": 1.0}),
    ("lowpass", {"cutoff_frequency_hz": 6000.0}),
    ("highpass", {"cutoff_frequency_hz": 80.0}),
]


def _guitar_chain(drive_db: float, scoop_db: float) -> list:
    chain = [(name, dict(kw)) for name, kw in GUITAR_CHAIN]
    chain[1][1]["drive_db"] = drive_db
    chain[2][1]["gain_db"] = -scoop_db
    return chain


def _riff_bar(rng: np.random.Generator, style: str, mode: str) -> list[tuple[int, int, int, bool]]:
    """One bar of riff as ``(slot16, length16, offset_semitones, open)`` events.

    ``open`` events are ringing power chords (accents, tremolo picking); the others are
    palm-muted chugs on the root.
    """
    events: list[tuple[int, int, int, bool]] = []
    if style == "blast":  # tremolo-picked open chords, a change every two beats
        for half in range(2):
            off = 0 if half == 0 else _accent_degree(rng, mode)
            events += [(half * 8 + k, 1, off, True) for k in range(8)]
        return events
    if style == "gallop":  # eighth + two sixteenths
        cells = [(0, 2), (2, 1), (3, 1)]
        for beat in range(4):
            for s, ln in cells:
                events.append((beat * 4 + s, ln, 0, False))
        accent_beats = rng.choice(4, size=int(rng.integers(1, 3)), replace=False)
        for b in accent_beats:
            events = [e for e in events if e[0] // 4 != b]
            events.append(
                (int(b) * 4, 4, 0 if rng.random() < 0.3 else _accent_degree(rng, mode), True)
            )
        return sorted((s, ln, 0 if s == 0 else off, o) for s, ln, off, o in events)
    step = 1 if style in ("double_kick", "thrash") and rng.random() < 0.6 else 2
    accents = _accent_slots(rng, style)
    taken: set[int] = set()
    for slot in accents:
        length = int(rng.choice((2, 3, 4)))
        off = 0 if slot == 0 else _accent_degree(rng, mode)  # bars start on the tonic
        events.append((slot, length, off, True))
        taken.update(range(slot, slot + length))
    rest_p = 0.35 if style == "breakdown" else 0.08
    for slot in range(0, 16, step):
        if slot in taken or (slot > 0 and rng.random() < rest_p):
            continue
        events.append((slot, step, 0, False))
    return sorted(events)


def _accent_slots(rng: np.random.Generator, style: str) -> list[int]:
    """Syncopated accent positions (3+3+2 groupings and friends), sixteenth slots."""
    options = [[0, 6, 12], [3, 6, 14], [6, 14], [0, 10], [4, 12], [3, 10, 14], [8, 11, 14]]
    if style == "breakdown":
        options = [[0, 6, 12], [0, 3, 10], [0, 8, 11]]
    return list(options[int(rng.integers(len(options)))])


def _drums(rng: np.random.Generator, style: str, bars: int, fill_bar: int) -> Part:
    """kit.rock part for ``style``; a tom fill on the last beat of ``fill_bar``.

    Long cymbals (crash, china, ride) are expensive to synthesise, so time is kept on
    the closed hat and the crash/china mark bar starts and accents.
    """
    p = Part("drums", "drums", "kit.rock", gain_db=-1.0)
    p.effects = [
        ("compressor", {"threshold_db": -14.0, "ratio": 3.0}),
        ("reverb", {"room_size": 0.2, "wet_level": 0.08, "dry_level": 0.9}),
    ]
    for bar in range(bars):
        b0 = bar * 4
        p.add(b0, 1.0, CRASH if bar % 2 == 0 else CHINA, 0.95)
        fill = bar == fill_bar
        for s in range(16):
            t = b0 + s / 4
            beat, sub = divmod(s, 4)
            if fill and beat == 3:
                p.add(t, 0.25, TOMS[min(sub, 2)] if sub < 3 else S, 0.9)
                continue
            for pitch, vel in _drum_step(style, beat, sub):
                p.add(t, 0.25, pitch, vel)
    return p


def _drum_step(style: str, beat: int, sub: int) -> list[tuple[int, float]]:
    """(GM key, velocity) hits at sixteenth ``sub`` of ``beat`` for a drum style."""
    backbeat = sub == 0 and beat in (1, 3)
    if style == "double_kick":  # 16th kicks, snare on 2 and 4, hats on the beat
        hits = [(K, 0.9 if sub == 0 else 0.75)]
        hits += [(S, 1.0)] if backbeat else []
        hits += [(HAT, 0.75)] if sub == 0 else []
        return hits
    if style == "blast":  # alternating kick/snare 16ths, hats on eighths
        hits = [(K if sub % 2 == 0 else S, 0.95 if sub == 0 else 0.7)]
        hits += [(HAT, 0.8)] if sub == 0 else []
        return hits
    if style == "thrash":  # kick on the beat, snare on the off-beat eighth
        if sub == 0:
            return [(K, 0.95), (HAT, 0.75)]
        return [(S, 0.9)] if sub == 2 else []
    if style == "gallop":  # kick gallops (8th + two 16ths) around a 2-and-4 snare
        hits = [(S, 1.0)] if backbeat else ([(K, 0.9 if sub == 0 else 0.75)] if sub != 1 else [])
        hits += [(HAT, 0.7)] if sub == 0 else []
        return hits
    # breakdown: half-time snare on 3, china on beats 2 and 4 (kicks follow the guitar)
    hits = [(S, 1.0)] if beat == 2 and sub == 0 else []
    hits += [(CHINA, 0.8)] if sub == 0 and beat in (1, 3) else []
    hits += [(HAT, 0.6)] if sub == 0 and beat in (0, 2) else []
    return hits


def _lead(rng: np.random.Generator, tonic_pc: int, mode: str, bars: int, style: str) -> Part:
    """Distorted lead: tremolo-picked / sustained / twin-harmonised minor melody."""
    lead_style = str(rng.choice(("tremolo", "sustained", "twin")))
    if style == "blast":
        lead_style = "tremolo"
    p = Part(f"{lead_style} lead guitar", "lead", "guitar.distorted", gain_db=-5.0)
    p.params = {"mute_below": 0.0, "tone": 0.7}
    p.effects = _guitar_chain(20.0, 2.0) + [
        ("delay", {"delay_seconds": 0.3, "feedback": 0.2, "mix": 0.15}),
        ("reverb", {"room_size": 0.4, "wet_level": 0.15, "dry_level": 0.9}),
    ]
    steps = MODES[mode]
    scale = [48 + tonic_pc + 12 * o + s for o in range(4) for s in steps]
    scale = [x for x in scale if 59 <= x <= 84]
    home = [i for i, x in enumerate(scale) if x % 12 == tonic_pc]
    triad = [i for i, x in enumerate(scale) if (x - tonic_pc) % 12 in (0, 3, 7)]
    idx = home[0]
    t = 0.0
    end = bars * 4.0
    while t < end:
        if lead_style == "sustained":
            dur = float(rng.choice((0.5, 1.0, 2.0), p=(0.3, 0.4, 0.3)))
        else:
            dur = float(rng.choice((1.0, 2.0), p=(0.6, 0.4)))
        bar_end = (int(t) // 4 + 1) * 4
        idx = int(np.clip(idx + rng.choice((-2, -1, 1, 2)), 0, len(scale) - 1))
        if t % 4 == 0 or dur >= 2.0:  # strong beats and long notes sit on i-chord tones
            idx = min(triad, key=lambda h: (abs(h - idx), rng.random()))
        if bar_end - t <= dur and rng.random() < 0.6:  # phrase end on the tonic
            idx = min(home, key=lambda h: abs(h - idx))
        pitch = scale[idx]
        if lead_style == "tremolo":
            for k in range(int(dur * 4)):
                p.add(t + k / 4, 0.25, pitch, 0.85 if k % 4 == 0 else 0.7)
        else:
            p.add(t, dur, pitch, 0.85)
            if lead_style == "twin" and idx + 2 < len(scale):
                p.add(t, dur, scale[idx + 2], 0.75)
        t += dur
    return p


def _write_riff(
    rng: np.random.Generator,
    style: str,
    mode: str,
    root: int,
    bars: int,
    rhythm: Part,
    bass: Part,
    drums: Part,
) -> None:
    """Write an A/B riff into the rhythm guitar, the bass (an octave below) and, in a
    breakdown, the kick (which doubles the chugs)."""
    octave = rng.random() < 0.5
    riff_a = _riff_bar(rng, style, mode)
    riff_b = _riff_bar(rng, style, mode) if rng.random() < 0.5 else riff_a
    for bar in range(bars):
        for slot, length, off, is_open in riff_a if bar % 2 == 0 else riff_b:
            t = bar * 4 + slot / 4
            d = length / 4
            vel = float(rng.uniform(0.85, 1.0)) if is_open else float(rng.uniform(0.6, 0.75))
            if style == "blast" and slot % 4:
                vel = float(rng.uniform(0.8, 0.86))  # tremolo picking: open, softer
            r = root + off
            chord = [r, r + 7, r + 12] if is_open else ([r, r + 12] if octave else [r])
            for pch in chord:
                rhythm.add(t, d, pch, vel)
            bass.add(t, d, r - 12, min(1.0, vel + 0.1))
            if style == "breakdown":
                drums.add(t, 0.25, K, 0.9)


@register_composer
class MetalComposer(Composer):
    genre = "metal"
    label = "heavy metal"
    bpm_range = (100.0, 200.0)
    tonal = True
    descriptors: ClassVar[tuple[str, ...]] = (
        "palm-muted power chords",
        "chugging riff",
        "distorted guitars",
        "downtuned guitars",
        "double-kick drums",
        "blast beats",
        "thrash beat",
        "gallop rhythm",
        "half-time breakdown",
        "china cymbal accents",
        "crash accents",
        "tremolo-picked lead",
        "tremolo-picked chords",
        "twin-guitar harmonies",
        "melodic lead guitar",
        "phrygian riff",
        "harmonic-minor melody",
        "distorted bass",
    )

    def compose(self, rng: np.random.Generator, seconds: float) -> Composition:
        style = str(rng.choice(list(STYLES)))
        lo, hi = STYLES[style]
        bpm = float(np.round(rng.uniform(lo, hi)))
        mode = str(rng.choice(("minor", "phrygian", "harmonic_minor"), p=(0.45, 0.35, 0.2)))
        key = str(rng.choice(list(TONICS), p=(0.4, 0.15, 0.25, 0.1, 0.1)))
        root = TONICS[key]
        bars = self.bars_for(seconds, bpm, 4)
        score = Score(bpm=bpm, beats_per_bar=4, key=key, mode=mode, length_beats=bars * 4.0)

        rhythm = score.part("rhythm guitar", "harmony", "guitar.distorted", gain_db=0.0)
        drive = float(rng.uniform(24.0, 32.0))
        rhythm.params = {"mute_below": 0.8, "tone": float(rng.uniform(0.3, 0.7))}
        rhythm.effects = _guitar_chain(drive, float(rng.uniform(3.0, 7.0)))
        bass = score.part("bass", "bass", "bass.picked", gain_db=-3.0)
        bass.params = {"brightness": float(rng.uniform(0.3, 0.7))}
        bass.effects = [
            ("distortion", {"drive_db": 12.0}),
            ("lowpass", {"cutoff_frequency_hz": 2500.0}),
            ("compressor", {"threshold_db": -15.0, "ratio": 4.0}),
        ]
        fill_bar = int(rng.choice((1, 3))) if rng.random() < 0.6 else -1
        drums = _drums(rng, style, bars, fill_bar)
        _write_riff(rng, style, mode, root, bars, rhythm, bass, drums)
        score.parts.insert(0, drums)
        lead = _lead(rng, root % 12, mode, bars, style) if rng.random() < 0.9 else None
        if lead is not None:
            score.parts.append(lead)
        score.master = [("compressor", {"threshold_db": -10.0, "ratio": 2.5, "attack_ms": 5.0})]

        descriptors = ["distorted guitars", "downtuned guitars", "distorted bass"]
        descriptors += {
            "double_kick": ["double-kick drums", "palm-muted power chords", "chugging riff"],
            "blast": ["blast beats", "tremolo-picked chords"],
            "thrash": ["thrash beat", "palm-muted power chords"],
            "gallop": ["gallop rhythm", "palm-muted power chords"],
            "breakdown": ["half-time breakdown", "china cymbal accents", "chugging riff"],
        }[style]
        descriptors.append("crash accents")
        if mode == "phrygian":
            descriptors.append("phrygian riff")
        if lead is not None:
            descriptors.append(
                {"tremolo": "tremolo-picked lead", "twin": "twin-guitar harmonies"}.get(
                    lead.name.split()[0], "melodic lead guitar"
                )
            )
            if mode == "harmonic_minor":
                descriptors.append("harmonic-minor melody")
        moods = list(
            rng.choice(
                ["aggressive", "dark", "tense", "energetic", "gritty", "epic"],
                size=2,
                replace=False,
            )
        )
        if style in ("blast", "thrash") and "aggressive" not in moods:
            moods[0] = "aggressive"
        energy = "medium" if style == "breakdown" and bpm < 120 else "high"
        texture = "medium" if style == "breakdown" else "dense"
        return Composition(score, moods, energy, texture, descriptors)
