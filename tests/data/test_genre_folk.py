"""Folk idioms on the composed score: open-chord strums, finger-picking, modal tune, light drums."""

import pytest

from mmgan.data.clip import clip_rng
from mmgan.data.composers import COMPOSERS
from mmgan.data.composers.folk import open_voicing
from mmgan.data.theory import MODES, pitch_class

SEEDS = range(12)


def compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["folk"]().compose(clip_rng("folk", seed), seconds)


def test_open_voicings_are_real_guitar_chords():
    g, c, d, em = (
        open_voicing(set(p % 12 for p in ch), ch[0] % 12, 0)
        for ch in ([43, 47, 50], [48, 52, 55], [50, 54, 57], [40, 43, 47])
    )
    assert g == [43, 47, 50, 55, 59, 67]  # 320003
    assert c == [48, 52, 55, 60, 64]  # x32010
    assert d == [50, 57, 62, 66]  # xx0232
    assert em == [40, 47, 52, 55, 59, 64]  # 022000


@pytest.mark.parametrize("seed", SEEDS)
def test_modal_tune_over_acoustic_guitar(seed):
    comp = compose(seed)
    score = comp.score
    assert 80 <= score.bpm <= 130 and score.beats_per_bar in (3, 4)
    assert score.mode in ("major", "mixolydian", "dorian", "minor")
    tonic = pitch_class(score.key)
    guitars = [p for p in score.parts if p.role in ("bass", "harmony")]
    assert {p.instrument for p in guitars} <= {"guitar.steel", "guitar.nylon"}
    # home chord first: the lowest guitar note at time 0 is the tonic
    first = min((n for p in guitars for n in p.notes if n.start < 0.1), key=lambda n: n.pitch)
    assert first.pitch % 12 == tonic
    lead = [p for p in score.parts if p.role == "lead"]
    assert len(lead) == 1 and lead[0].instrument in ("fiddle", "tin_whistle", "mandolin", "banjo")
    scale = {(tonic + s) % 12 for s in MODES[score.mode]}
    assert all(n.pitch % 12 in scale for n in lead[0].notes), "tune leaves the mode"
    last = max(lead[0].notes, key=lambda n: n.start)
    assert last.pitch % 12 == tonic, "tune does not end on the tonic"
    for _name, kwargs in [fx for p in score.parts for fx in p.effects if fx[0] == "reverb"]:
        assert kwargs["room_size"] <= 0.4, "folk should sit in a small room"
    drums = [n for n in score.notes_in_role("drums")]
    assert all(n.velocity <= 0.75 for n in drums), "percussion should be light"
    assert not any(n.pitch in (49, 52, 57) for n in drums), "no crashes in folk"


def test_strums_are_staggered_sweeps_and_picking_keeps_a_thumb_on_the_beat():
    seen = set()
    for seed in range(30):
        comp = compose(seed)
        score = comp.score
        spb = score.seconds_per_beat
        chords = next(p for p in score.parts if p.role == "harmony")
        if "strummed acoustic guitar" in comp.descriptors:
            seen.add("strum")
            onsets = sorted(chords.notes, key=lambda n: n.start)
            groups, cur = [], [onsets[0]]
            for n in onsets[1:]:
                if (n.start - cur[-1].start) * spb < 0.03:
                    cur.append(n)
                else:
                    groups.append(cur)
                    cur = [n]
            groups.append(cur)
            full = [g for g in groups if len(g) >= 3]
            assert len(full) >= 6
            for g in full:
                gaps = [(b.start - a.start) * spb for a, b in zip(g, g[1:], strict=False)]
                assert all(0.005 <= x <= 0.02 for x in gaps), "strings not staggered like a strum"
                pitches = [n.pitch for n in g]
                assert pitches in (sorted(pitches), sorted(pitches, reverse=True)), "not a sweep"
        else:
            seen.add("pick")
            thumb = next(p for p in score.parts if p.role == "bass")
            beats = {round(n.start, 3) for n in thumb.notes}
            bpb = score.beats_per_bar
            assert {float(b * bpb) for b in range(int(score.length_beats // bpb))} <= beats
    assert seen == {"strum", "pick"}


def test_deterministic_and_seed_dependent():
    a, b, c = compose(2), compose(2), compose(3)

    def notes(comp):
        return [(p.name, n.start, n.pitch, n.velocity) for p in comp.score.parts for n in p.notes]

    assert notes(a) == notes(b) and a.moods == b.moods
    assert notes(a) != notes(c)
