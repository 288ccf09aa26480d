"""Baroque idiom on the composed score: imitation, running sixteenths, continuo, cadence."""

from __future__ import annotations

import numpy as np
import pytest

from mmgan.audio.synth import get_instrument
from mmgan.data.clip import clip_rng, make_clip
from mmgan.data.composers import COMPOSERS
from mmgan.data.theory import pitch_class

SEEDS = (0, 1, 2, 3, 4, 5)
SR = 22050


def _compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["baroque"]().compose(clip_rng("baroque", seed, 0), seconds)


def _part(score, name):
    (part,) = [p for p in score.parts if p.name == name]
    return part


@pytest.mark.parametrize("seed", SEEDS)
def test_lower_voice_imitates_the_subject(seed):
    score = _compose(seed).score
    upper = sorted(_part(score, "upper voice").notes, key=lambda n: n.start)
    lower = sorted(_part(score, "lower voice").notes, key=lambda n: n.start)
    assert upper[0].start < 0.6, "the subject opens the piece"
    delay = round((lower[0].start - upper[0].start) * 2) / 2
    assert delay in (score.beats_per_bar / 2, float(score.beats_per_bar)), delay
    arrival = max(n.start for n in score.notes_in_role("bass"))
    window = min(score.beats_per_bar, arrival - 1.0 - delay)
    assert window >= 1.0

    def rhythm(notes, shift):
        return [
            (round((n.start - shift) * 8) / 8, round(n.duration * 8) / 8)
            for n in notes
            if -0.05 <= n.start - shift < window - 0.05
        ]

    subject, answer = rhythm(upper, 0.0), rhythm(lower, delay)
    assert len(subject) >= 2 and subject == answer, "the answer repeats the subject's rhythm"
    # same contour: directions of the melodic steps agree most of the time
    up = np.sign(np.diff([n.pitch for n in upper[: len(subject)]]))
    lo = np.sign(np.diff([n.pitch for n in lower[: len(answer)]]))
    assert np.mean(up == lo) >= 0.6


@pytest.mark.parametrize("seed", SEEDS)
def test_running_sixteenths_over_a_steady_continuo(seed):
    score = _compose(seed).score
    upper_lines = [
        n for p in score.parts if p.name in ("upper voice", "lower voice") for n in p.notes
    ]
    sixteenths = [n for n in upper_lines if 0.2 < n.duration < 0.3]
    assert len(sixteenths) >= 4, "running sixteenths in the upper voices"
    bass = sorted(score.notes_in_role("bass"), key=lambda n: n.start)
    steps = {round(b.start - a.start, 3) for a, b in zip(bass[:-2], bass[1:-1], strict=True)}
    assert steps <= {0.5, 1.0}, f"continuo moves in steady eighths or quarters, got {steps}"
    assert len(steps) == 1, "one steady pulse"
    tonic = pitch_class(score.key)
    assert bass[0].start == 0.0 and bass[0].pitch % 12 == tonic, "opens on the tonic in the bass"
    assert not score.notes_in_role("drums"), "no drums in baroque"


@pytest.mark.parametrize("seed", SEEDS)
def test_perfect_cadence_inside_the_clip(seed):
    comp = _compose(seed)
    score = comp.score
    tonic = pitch_class(score.key)
    dominant = (tonic + 7) % 12
    bass = sorted(score.notes_in_role("bass"), key=lambda n: n.start)
    final = bass[-1]
    clip_beats = 6.0 * score.bpm / 60.0
    assert final.pitch % 12 == tonic and final.start <= clip_beats - 0.75
    slot = 2.0 if score.beats_per_bar == 4 else 3.0
    before = [n for n in bass if final.start - slot <= n.start < final.start]
    assert any(n.pitch % 12 == dominant for n in before), "V in the bass before the final I"
    upper = max(_part(score, "upper voice").notes, key=lambda n: n.start)
    assert upper.pitch % 12 == tonic, "the top voice ends on the tonic"
    assert "perfect cadence" in comp.descriptors


def test_tags_and_variety_over_seeds():
    comps = [_compose(s) for s in range(16)]
    cls = COMPOSERS["baroque"]
    assert all(cls.bpm_range[0] <= c.score.bpm <= cls.bpm_range[1] for c in comps)
    assert {c.score.mode for c in comps} == {"major", "minor"}
    assert len({c.score.key for c in comps}) >= 6
    assert all(set(c.descriptors) <= set(cls.descriptors) for c in comps)
    setups = {tuple(sorted({p.instrument for p in c.score.parts})) for c in comps}
    assert len(setups) >= 3, "harpsichord / strings / organ / trio-sonata instrumentations"
    assert any("harpsichord" in s for s in setups)
    assert any(len({n.velocity > 0.75 for n in c.score.notes_in_role("bass")}) == 2 for c in comps)


def test_deterministic_and_seed_dependent():
    def notes(c):
        return [(p.name, n.start, n.pitch, n.velocity) for p in c.score.parts for n in p.notes]

    assert notes(_compose(3)) == notes(_compose(3))
    assert notes(_compose(3)) != notes(_compose(4))
    a, b = make_clip("baroque", 5, seconds=3.0), make_clip("baroque", 5, seconds=3.0)
    assert np.array_equal(a.audio, b.audio)
    assert np.all(np.isfinite(a.audio)) and 0 < np.max(np.abs(a.audio)) <= 0.89 + 1e-6


def test_harpsichord_is_plucked_and_damped():
    fn = get_instrument("harpsichord").fn
    assert get_instrument("harpsichord").program == 6
    held = fn(60, 2.0, 0.8, SR, np.random.default_rng(0))
    q = len(held) // 8
    early, late = np.sqrt(np.mean(held[:q] ** 2)), np.sqrt(np.mean(held[-q:] ** 2))
    assert np.argmax(np.abs(held)) < 0.02 * SR, "plucked: the peak is at the attack"
    assert late < 0.3 * early, "the string decays while held"
    short = fn(60, 0.1, 0.8, SR, np.random.default_rng(0))
    assert len(short) < 0.25 * SR, "the damper stops the note soon after release"


def test_long_clips_of_the_full_preset_compose():
    """10-12 s clips (the ``full`` preset) need more chords than one middle sequence holds."""
    from mmgan.data.composers.baroque import progression

    for seed in range(30):
        rng = np.random.default_rng(seed)
        for n in (3, 6, 9, 14):
            prog = progression(rng, "minor" if seed % 2 else "major", n)
            assert len(prog) == n and prog[0] == 0 and prog[-2:] == [4, 0]
    from mmgan.data.clip import make_clip

    clip = make_clip("baroque", 990000, seconds=10.0)
    assert clip is not None
