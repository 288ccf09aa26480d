"""Reggae idioms: one drop on beat 3, off-beat skank, bass that leaves space, slow tempo."""

from __future__ import annotations

import numpy as np
import pytest

from mmgan.data.clip import clip_rng
from mmgan.data.composers import COMPOSERS
from mmgan.data.score import GM_DRUMS
from mmgan.data.theory import pitch_class

SEEDS = range(8)


def compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["reggae"]().compose(clip_rng("reggae", seed, 0), seconds)


def named(score, name):
    return next(p for p in score.parts if p.name == name)


@pytest.mark.parametrize("seed", SEEDS)
def test_drop_on_beat_three(seed):
    comp = compose(seed)
    score = comp.score
    bars = int(score.length_beats // 4)
    drum_notes = [n for p in score.parts if p.role == "drums" for n in p.notes]
    kicks = [n.start for n in drum_notes if n.pitch == GM_DRUMS["kick"]]
    backbeat = [n.start for n in drum_notes if n.pitch in (GM_DRUMS["rim"], GM_DRUMS["snare"])]
    for bar in range(bars):
        assert any(abs(k - (4 * bar + 2)) < 1e-6 for k in kicks)
        assert any(abs(s - (4 * bar + 2)) < 1e-6 for s in backbeat)
    if "one-drop drums" in comp.descriptors:  # nothing on the one: the "drop"
        assert not any(abs(k % 4) < 1e-6 for k in kicks)
        assert not any(abs(s % 4 - 1) < 0.1 or abs(s % 4 - 3) < 0.1 for s in backbeat)
    assert 66 <= score.bpm <= 90


@pytest.mark.parametrize("seed", SEEDS)
def test_skank_on_the_off_beats(seed):
    score = compose(seed).score
    skank = named(score, "skank")
    fracs = np.array([n.start % 1.0 for n in skank.notes])
    assert len(fracs) >= 3 * 4 * (score.length_beats // 4)
    assert np.all((fracs > 0.45) & (fracs < 0.9)), "skank chords must never land on the beat"
    assert max(n.duration for n in skank.notes) <= 0.3


@pytest.mark.parametrize("seed", SEEDS)
def test_bass_is_low_starts_on_root_and_leaves_space(seed):
    score = compose(seed).score
    bass = named(score, "bass")
    bars = int(score.length_beats // 4)
    for bar in range(bars):
        notes = [n for n in bass.notes if 4 * bar - 0.1 <= n.start < 4 * bar + 3.9]
        assert sum(n.duration for n in notes) < 3.75, "a reggae line leaves gaps"
    assert 28 <= min(n.pitch for n in bass.notes) and max(n.pitch for n in bass.notes) < 52
    first = min(bass.notes, key=lambda n: n.start)
    assert first.pitch % 12 == pitch_class(score.key) and first.start < 0.1, "phrase opens on tonic"


def test_deterministic_and_seed_dependent():
    def sig(s):
        return [(p.name, [(n.start, n.pitch) for n in p.notes]) for p in s.parts]

    assert sig(compose(2).score) == sig(compose(2).score)
    assert sig(compose(2).score) != sig(compose(3).score)
    assert len({compose(s).score.bpm for s in range(6)}) == 6
