"""Ambient idiom on the composed score: no drums, a tonic drone, slow pads, sparse bells."""

from __future__ import annotations

import numpy as np
import pytest

from mmgan.data.clip import clip_rng, make_clip
from mmgan.data.composers import COMPOSERS
from mmgan.data.theory import pitch_class

SEEDS = tuple(range(8))


def _compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["ambient"]().compose(clip_rng("ambient", seed, 0), seconds)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_drums_and_a_tonic_drone(seed):
    comp = _compose(seed)
    score = comp.score
    assert not score.notes_in_role("drums")
    assert score.mode in ("major", "lydian", "dorian")
    drone = score.notes_in_role("bass")
    lowest = min(drone, key=lambda n: n.pitch)
    assert lowest.pitch % 12 == pitch_class(score.key), "the drone sits on the tonic"
    clip_beats = 6.0 / score.seconds_per_beat
    assert lowest.start == 0 and lowest.duration >= clip_beats - 1e-6, "held for the whole clip"


@pytest.mark.parametrize("seed", SEEDS)
def test_sparse_notes_on_beats_and_slow_pads(seed):
    score = _compose(seed).score
    seconds = 6.0
    bells = [n for n in score.notes_in_role("lead") if n.start * score.seconds_per_beat < seconds]
    assert bells, "some sparse tones"
    assert all(n.start == int(n.start) for n in bells), "tones fall on beats (audible pulse)"
    assert len(bells) / seconds <= 1.6, "low onset density"
    pad = [p for p in score.parts if p.instrument == "warm_pad"][0]
    assert pad.params["attack"] >= 0.15, "slow pad attack"
    assert min(n.duration for n in pad.notes) > 0.5
    assert any(name == "reverb" and kw["room_size"] >= 0.9 for name, kw in pad.effects)


def test_tags_over_seeds():
    comps = [_compose(s) for s in range(12)]
    lo, hi = COMPOSERS["ambient"].bpm_range
    assert all(lo <= c.score.bpm <= hi for c in comps)
    assert all(c.energy == "low" and c.texture == "sparse" for c in comps)
    assert all(set(c.descriptors) <= set(COMPOSERS["ambient"].descriptors) for c in comps)
    assert len({c.score.mode for c in comps}) >= 2


def test_seeded_variation_and_determinism():
    a, b = _compose(1).score, _compose(2).score
    assert (a.bpm, a.key) != (b.bpm, b.key)
    c1, c2 = make_clip("ambient", 4, seconds=2.0), make_clip("ambient", 4, seconds=2.0)
    assert np.array_equal(c1.audio, c2.audio)
    assert float(np.sqrt(np.mean(c1.audio**2))) > 0.05
