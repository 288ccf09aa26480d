"""Techno idiom on the composed score: four-on-the-floor, off-beat hats, a looping acid line."""

from __future__ import annotations

import numpy as np
import pytest

from mmgan.data.clip import clip_rng, make_clip
from mmgan.data.composers import COMPOSERS
from mmgan.data.score import GM_DRUMS
from mmgan.data.theory import mode_family, pitch_class

SEEDS = (0, 1, 2, 3, 4, 5)


def _compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["techno"]().compose(clip_rng("techno", seed, 0), seconds)


@pytest.mark.parametrize("seed", SEEDS)
def test_kick_on_every_beat_and_offbeat_hats(seed):
    score = _compose(seed).score
    drums = score.notes_in_role("drums")
    kicks = {round(n.start, 3) for n in drums if n.pitch == GM_DRUMS["kick"]}
    beats = {float(b) for b in range(int(score.length_beats))}
    assert beats <= kicks, f"missing kicks on beats {sorted(beats - kicks)[:5]}"
    open_hats = [n.start for n in drums if n.pitch == GM_DRUMS["hat_open"]]
    assert len(open_hats) >= score.length_beats - 1
    assert all(abs(t % 1.0 - 0.5) < 1e-6 for t in open_hats), "open hats must sit on the 'and'"
    claps = [n.start for n in drums if n.pitch in (GM_DRUMS["clap"], GM_DRUMS["snare"])]
    assert all(int(t) % 4 in (1, 3) and t % 1.0 == 0 for t in claps), "claps only on 2 and 4"


@pytest.mark.parametrize("seed", SEEDS)
def test_acid_line_is_a_repeating_tonic_heavy_loop(seed):
    score = _compose(seed).score
    (acid,) = [p for p in score.parts if p.instrument == "acid_bass"]
    assert acid.role == "bass"
    bars = int(score.length_beats // 4)
    by_bar = [
        sorted((round(n.start % 8, 3), n.pitch) for n in acid.notes if 4 * b <= n.start < 4 * b + 4)
        for b in range(bars)
    ]
    # a 1- or 2-bar pattern: bar k equals bar k+2 (same step positions and pitches)
    assert all(by_bar[k] == by_bar[k + 2] for k in range(bars - 2))
    tonic_pc = pitch_class(score.key)
    pcs = [n.pitch % 12 for n in acid.notes]
    assert pcs[0] == tonic_pc, "the loop starts on the tonic"
    assert pcs.count(tonic_pc) / len(pcs) >= 0.25
    assert any(n.velocity >= 0.85 for n in acid.notes), "accents"


def test_tags_in_range_over_seeds():
    comps = [_compose(s) for s in range(12)]
    lo, hi = COMPOSERS["techno"].bpm_range
    assert all(lo <= c.score.bpm <= hi for c in comps)
    assert all(mode_family(c.score.mode) == "minor" for c in comps)
    assert all(set(c.descriptors) <= set(COMPOSERS["techno"].descriptors) for c in comps)
    assert any(c.score.mode == "phrygian" for c in comps)
    assert "four-on-the-floor kick" in comps[0].descriptors


def test_seeded_variation_and_determinism():
    a, b = _compose(7).score, _compose(8).score
    assert (a.bpm, a.key, len(a.parts)) != (b.bpm, b.key, len(b.parts)) or [
        n.pitch for n in a.notes_in_role("bass")
    ] != [n.pitch for n in b.notes_in_role("bass")]
    c1, c2 = make_clip("techno", 3, seconds=2.0), make_clip("techno", 3, seconds=2.0)
    assert np.array_equal(c1.audio, c2.audio)
    assert c1.caption == c2.caption
    assert float(np.sqrt(np.mean(c1.audio**2))) > 0.05
