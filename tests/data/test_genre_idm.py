"""IDM idiom on the composed score: steady tick, broken kicks, ratchet rolls, odd-cycle arps."""

from __future__ import annotations

import numpy as np
import pytest

from mmgan.data.clip import clip_rng, make_clip
from mmgan.data.composers import COMPOSERS
from mmgan.data.score import GM_DRUMS

SEEDS = tuple(range(8))


def _compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["idm"]().compose(clip_rng("idm", seed, 0), seconds)


@pytest.mark.parametrize("seed", SEEDS)
def test_steady_pulse_under_broken_kicks(seed):
    score = _compose(seed).score
    drums = score.notes_in_role("drums")
    hats = {round(n.start, 3) for n in drums if n.pitch == GM_DRUMS["hat_closed"]}
    eighths = {k / 2 for k in range(int(score.length_beats * 2))}
    assert eighths <= hats, "a closed-hat tick on every 8th keeps the tempo audible"
    kicks = [n.start for n in drums if n.pitch == GM_DRUMS["kick"]]
    bars = int(score.length_beats // 4)
    assert all(any(abs(k - 4 * b) < 1e-6 for k in kicks) for b in range(bars)), "downbeat kicks"
    off_beat = [k for k in kicks if k % 1.0 != 0]
    assert off_beat, "some kicks must be displaced off the beat"


def test_rolls_stutters_and_odd_cycles_over_seeds():
    comps = [_compose(s) for s in range(12)]
    rolls = 0
    for c in comps:
        starts = sorted(
            n.start
            for n in c.score.notes_in_role("drums")
            if n.pitch in (GM_DRUMS["snare"], GM_DRUMS["rim"])
        )
        gaps = np.diff(starts)
        rolls += int(np.any((gaps > 1e-6) & (gaps <= 0.125 + 1e-6)))  # 32nd notes or faster
    assert rolls >= 6, "ratchet snare rolls should be common"
    assert sum("stutter edits" in c.descriptors for c in comps) >= 4
    fx = [name for c in comps for p in c.score.parts for name, _ in p.effects]
    assert "bitcrush" in fx and "delay" in fx
    lo, hi = COMPOSERS["idm"].bpm_range
    assert all(lo <= c.score.bpm <= hi for c in comps)
    assert all(set(c.descriptors) <= set(COMPOSERS["idm"].descriptors) for c in comps)


@pytest.mark.parametrize("seed", SEEDS)
def test_arpeggio_cycle_is_not_bar_periodic(seed):
    score = _compose(seed).score
    (arp,) = [p for p in score.parts if p.name == "arpeggio"]
    assert arp.role == "lead" and arp.instrument in ("fm_bell", "glass_pluck")
    assert all(abs(n.start * 4 - round(n.start * 4)) < 1e-6 for n in arp.notes), "16th grid"
    assert len({n.pitch for n in arp.notes}) >= 3


def test_seeded_variation_and_determinism():
    a, b = _compose(1).score, _compose(2).score
    assert (a.bpm, a.key) != (b.bpm, b.key)
    c1, c2 = make_clip("idm", 5, seconds=2.0), make_clip("idm", 5, seconds=2.0)
    assert np.array_equal(c1.audio, c2.audio)
    assert float(np.sqrt(np.mean(c1.audio**2))) > 0.05
