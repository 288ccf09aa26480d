"""Boom-bap idioms: kick on 1, snare on 2 and 4, swung hats, a looped chord sample, deep bass."""

from __future__ import annotations

import numpy as np
import pytest

from mmgan.data.clip import clip_rng
from mmgan.data.composers import COMPOSERS
from mmgan.data.score import GM_DRUMS

SEEDS = range(6)


def compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["hiphop"]().compose(clip_rng("hiphop", seed, 0), seconds)


def part(score, role):
    return next(p for p in score.parts if p.role == role)


@pytest.mark.parametrize("seed", SEEDS)
def test_kick_on_one_snare_on_two_and_four(seed):
    score = compose(seed).score
    drums = score.notes_in_role("drums")
    bars = int(score.length_beats // 4)
    kicks = [n.start for n in drums if n.pitch == GM_DRUMS["kick"]]
    snares = [n.start for n in drums if n.pitch == GM_DRUMS["snare"] and n.velocity > 0.7]
    for bar in range(bars):
        assert any(abs(k - 4 * bar) < 0.03 for k in kicks), f"no kick on 1 in bar {bar}"
    backbeat = sorted(round(s % 4, 1) for s in snares)
    assert set(backbeat) == {1.0, 3.0} and len(snares) == 2 * bars
    assert 80 <= score.bpm <= 98


@pytest.mark.parametrize("seed", SEEDS)
def test_hats_are_swung(seed):
    score = compose(seed).score
    hats = [n.start for n in score.notes_in_role("drums") if n.pitch == GM_DRUMS["hat_closed"]]
    grid = 0.25 if len(hats) > 3 * score.length_beats else 0.5
    late = [(t % (2 * grid)) - grid for t in hats if (t % (2 * grid)) > grid * 0.5]
    assert late and np.mean(late) > 0.1 * grid, "off-grid hats must be pushed late (swing)"


@pytest.mark.parametrize("seed", SEEDS)
def test_chord_sample_loops_and_bass_is_deep(seed):
    comp = compose(seed)
    score = comp.score
    keys = part(score, "harmony")
    bars = sorted({int(n.start // 4) for n in keys.notes})
    assert len(bars) >= 3
    first = sorted((round(n.start % 8, 3), n.pitch) for n in keys.notes if n.start < 8)
    again = sorted((round(n.start % 8, 3), n.pitch) for n in keys.notes if 8 <= n.start < 16)
    four_bar_loop = any(n.start >= 8 for n in keys.notes) and first != again
    assert first == again or four_bar_loop
    assert all(len(chord) >= 3 for chord in _chords(keys))
    bass = part(score, "bass")
    assert max(n.pitch for n in bass.notes) <= 52
    assert "boom-bap drums" in comp.descriptors


def _chords(p):
    out: dict[float, list[int]] = {}
    for n in p.notes:
        out.setdefault(n.start, []).append(n.pitch)
    return list(out.values())


def test_two_bar_loops_repeat_exactly():
    repeats = 0
    for seed in range(12):
        keys = part(compose(seed).score, "harmony")
        a = sorted((round(n.start, 3), n.pitch) for n in keys.notes if n.start < 8)
        b = sorted((round(n.start - 8, 3), n.pitch) for n in keys.notes if 8 <= n.start < 16)
        repeats += a == b[: len(a)]
    assert repeats >= 6


def test_deterministic_and_seed_dependent():
    def sig(s):
        return [(p.name, [(n.start, n.pitch, n.velocity) for n in p.notes]) for p in s.parts]

    assert sig(compose(5).score) == sig(compose(5).score)
    assert sig(compose(5).score) != sig(compose(6).score)


@pytest.mark.parametrize("seed", SEEDS)
def test_bass_line_is_monophonic(seed):
    notes = sorted(part(compose(seed).score, "bass").notes, key=lambda n: n.start)
    for a, b in zip(notes, notes[1:], strict=False):
        assert a.start + a.duration <= b.start + 1e-6
