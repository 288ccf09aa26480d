"""Symphonic idiom on the composed score: sections, tonic timpani, crescendo, hall reverb."""

from __future__ import annotations

import numpy as np
import pytest

from mmgan.audio.synth import get_instrument
from mmgan.data.clip import clip_rng, make_clip
from mmgan.data.composers import COMPOSERS
from mmgan.data.theory import pitch_class

SEEDS = (0, 1, 2, 3, 4, 5)
SR = 22050
THEMES = {"trumpet", "french_horn", "trombone", "flute", "oboe", "clarinet", "violin", "cello"}


def _compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["symphonic"]().compose(clip_rng("symphonic", seed, 0), seconds)


def _clip_beats(score, seconds: float = 6.0) -> float:
    return seconds * score.bpm / 60.0


@pytest.mark.parametrize("seed", SEEDS)
def test_orchestra_in_sections(seed):
    score = _compose(seed).score
    by_name = {p.name: p for p in score.parts}
    bed = by_name["string bed"]
    assert bed.role == "harmony" and bed.instrument == "string_ensemble"
    assert min(n.duration for n in bed.notes if n.start < _clip_beats(score) - 2) >= 2.0
    starts = {n.start for n in bed.notes}
    assert all(sum(n.start == t for n in bed.notes) >= 3 for t in starts), "chords, not lines"
    theme = by_name["theme"]
    assert theme.role == "lead" and theme.instrument in THEMES
    assert np.median([n.duration for n in theme.notes]) >= 0.9, "a long-breathed theme"
    timpani = [p for p in score.parts if p.instrument == "timpani"]
    assert timpani and all(p.role == "drums" for p in timpani)
    assert score.notes_in_role("bass"), "low strings"


@pytest.mark.parametrize("seed", SEEDS)
def test_tonic_timpani_and_bass_on_the_downbeat(seed):
    score = _compose(seed).score
    tonic, dominant = pitch_class(score.key), (pitch_class(score.key) + 7) % 12
    timp = [n for p in score.parts if p.instrument == "timpani" for n in p.notes]
    assert all(n.pitch % 12 in (tonic, dominant) for n in timp), "timpani tuned to I and V"
    first = min(timp, key=lambda n: n.start)
    assert first.start == 0.0 and first.pitch % 12 == tonic
    bar = score.beats_per_bar
    assert all(n.start % bar in (0.0, 0.5, bar // 2, bar // 2 + 0.5) for n in timp)
    bass0 = [n for n in score.notes_in_role("bass") if n.start == 0.0]
    assert bass0 and all(n.pitch % 12 == tonic for n in bass0)


@pytest.mark.parametrize("seed", SEEDS)
def test_crescendo_and_an_audible_pulse(seed):
    comp = _compose(seed)
    score = comp.score
    beats = _clip_beats(score)
    notes = [n for p in score.parts for n in p.notes]
    first = np.mean([n.velocity for n in notes if n.start < beats / 3])
    last = np.mean([n.velocity for n in notes if 2 * beats / 3 <= n.start < beats])
    assert last > first + 0.2, f"crescendo: {first:.2f} -> {last:.2f}"
    assert "crescendo" in comp.descriptors
    # some section articulates (nearly) every beat, so the tempo can be heard
    pulsed = max(
        np.mean([any(abs(n.start - b) < 1e-6 for n in p.notes) for b in range(int(beats))])
        for p in score.parts
    )
    assert pulsed >= 0.75 or any(p.params.get("tremolo") for p in score.parts)


def test_large_hall_and_tags_over_seeds():
    comps = [_compose(s) for s in range(16)]
    cls = COMPOSERS["symphonic"]
    for c in comps:
        (reverb,) = [kw for name, kw in c.score.master if name == "reverb"]
        assert reverb["room_size"] >= 0.7 and reverb["wet_level"] >= 0.2
        assert cls.bpm_range[0] <= c.score.bpm <= cls.bpm_range[1]
        assert set(c.descriptors) <= set(cls.descriptors)
    assert {c.score.mode for c in comps} == {"major", "minor"}
    moods = {m for c in comps for m in c.moods}
    assert {"epic", "majestic", "melancholic"} & moods
    assert len({p.instrument for c in comps for p in c.score.parts if p.role == "lead"}) >= 3


def test_deterministic_and_seed_dependent():
    def notes(c):
        return [(p.name, n.start, n.pitch, n.velocity) for p in c.score.parts for n in p.notes]

    assert notes(_compose(2)) == notes(_compose(2))
    assert notes(_compose(2)) != notes(_compose(3))
    a, b = make_clip("symphonic", 7, seconds=3.0), make_clip("symphonic", 7, seconds=3.0)
    assert np.array_equal(a.audio, b.audio)
    assert np.all(np.isfinite(a.audio)) and 0 < np.max(np.abs(a.audio)) <= 0.89 + 1e-6


def _centroid(x: np.ndarray) -> float:
    mag = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    return float((mag * freqs).sum() / mag.sum())


def test_orchestral_voices_behave():
    rng = np.random.default_rng
    trumpet = get_instrument("trumpet").fn
    soft, loud = trumpet(67, 0.8, 0.3, SR, rng(0)), trumpet(67, 0.8, 1.0, SR, rng(0))
    assert _centroid(loud) > 1.3 * _centroid(soft), "brass gets brighter with velocity"
    strings = get_instrument("string_ensemble").fn(60, 1.5, 0.7, SR, rng(0))
    ms = SR // 20
    assert np.sqrt(np.mean(strings[:ms] ** 2)) < 0.3 * np.sqrt(
        np.mean(strings[SR // 2 : SR // 2 + ms] ** 2)
    )
    timp = get_instrument("timpani")
    assert timp.program == 47 and get_instrument("string_ensemble").program == 48
    hit = timp.fn(43, 0.5, 0.8, SR, rng(0))
    roll = timp.fn(43, 1.5, 0.8, SR, rng(0), roll=True)
    assert len(roll) > len(hit)
    sustained = np.abs(roll[SR : SR + SR // 4]).max() > 1.5 * np.abs(hit[SR : SR + SR // 4]).max()
    assert sustained, "a roll keeps the drum sounding where a single stroke has decayed"
