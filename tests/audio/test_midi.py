import io

import numpy as np
import pretty_midi
import pytest

from mmgan.audio.midi import (
    STEPS_PER_BEAT,
    load_pianoroll,
    restrike_gaps,
    save_midi,
    save_pianoroll,
    score_to_midi,
    score_to_pianoroll,
)
from mmgan.data.score import ROLES, Score


def small_score():
    s = Score(bpm=100, beats_per_bar=4, key="D", mode="minor", length_beats=8)
    s.part("kick", "drums", "kit.acoustic").add(0, 0.5, 36, 1.0)
    s.part("bass line", "bass", "kit.acoustic").add(1, 1, 38, 0.5)
    lead = s.part("lead", "lead", "kit.acoustic")
    lead.add(2, 1.5, 74, 0.8)
    lead.add(7.5, 2.0, 76, 0.8)  # runs past the end: clipped in the roll
    return s


def test_pianoroll_positions_and_shape():
    s = small_score()
    roll = score_to_pianoroll(s)
    assert roll.shape == (len(ROLES), 8 * STEPS_PER_BEAT, 128) and roll.dtype == np.uint8
    assert roll[ROLES.index("drums"), 0, 36] == 127
    lead = roll[ROLES.index("lead")]
    on = np.nonzero(lead[:, 74])[0]
    assert on.min() == 2 * STEPS_PER_BEAT and on.max() == int(3.5 * STEPS_PER_BEAT) - 1
    assert lead[-1, 76] > 0
    assert roll[ROLES.index("harmony")].sum() == 0


def test_pianoroll_crop_by_seconds(tmp_path):
    s = small_score()
    roll = score_to_pianoroll(s, seconds=1.2)  # 2 beats at 100 BPM
    assert roll.shape[1] == 2 * STEPS_PER_BEAT
    save_pianoroll(s, tmp_path / "r.npz", seconds=1.2)
    z = load_pianoroll(tmp_path / "r.npz")
    assert np.array_equal(z["pianoroll"], roll) and list(z["roles"]) == list(ROLES)
    assert int(z["steps_per_beat"]) == STEPS_PER_BEAT and float(z["bpm"]) == 100
    assert bool(z["restrike_gaps"])  # tells training this corpus keeps repeated notes apart


def test_midi_round_trip(tmp_path):
    s = small_score()
    path = save_midi(s, tmp_path / "x.mid")
    pm = pretty_midi.PrettyMIDI(str(path))
    assert [i.name for i in pm.instruments] == ["kick", "bass line", "lead"]
    assert pm.instruments[0].is_drum
    lead = pm.instruments[2].notes[0]
    assert lead.pitch == 74 and abs(lead.start - 1.2) < 1e-3 and abs(lead.end - 2.1) < 1e-3
    assert abs(pm.estimate_tempo() - 100) < 60  # tempo event present (estimate is coarse)
    assert abs(pm.get_tempo_changes()[1][0] - 100) < 1e-6
    buf = io.BytesIO()
    score_to_midi(s).write(buf)
    assert buf.getvalue() == path.read_bytes()


def test_pianoroll_restrike_leaves_a_one_step_gap():
    s = Score(bpm=100, beats_per_bar=4, key="E", mode="minor", length_beats=4)
    chug = s.part("rhythm guitar", "bass", "kit.acoustic")
    for i in range(4):  # four sixteenths on one pitch
        chug.add(i * 0.25, 0.25, 40, 0.8)
    chug.add(1.0, 1 / STEPS_PER_BEAT, 40, 0.8)  # a one-step note, struck again at once
    chug.add(1.0 + 1 / STEPS_PER_BEAT, 1.0, 40, 0.8)
    held = s.part("pad", "harmony", "kit.acoustic")
    held.add(0, 4, 52, 0.5)  # held for the whole bar ...
    s.part("stabs", "harmony", "kit.acoustic").add(
        2, 0.5, 52, 0.9
    )  # ... struck again by another part
    s.part("lead", "lead", "kit.acoustic").add(-0.5, 1.0, 76, 0.8)  # starts before the roll
    roll = score_to_pianoroll(s) > 0
    bass = roll[ROLES.index("bass"), :, 40].astype(int)
    assert bass[:12].tolist() == [1, 1, 0] * 4  # each sixteenth: 2 steps on, the gap
    assert bass[12:25].tolist() == [1] * 13  # a one-step note is kept (merges with the next)
    harmony = roll[ROLES.index("harmony"), :, 52]
    assert harmony.sum() == 4 * STEPS_PER_BEAT - 1 and not harmony[2 * STEPS_PER_BEAT - 1]
    lead = roll[ROLES.index("lead"), :, 76]
    assert lead[: STEPS_PER_BEAT // 2].all() and lead.sum() == STEPS_PER_BEAT // 2
    # a note on a pitch nothing holds starts without a gap before it
    assert roll[ROLES.index("drums")].sum() == 0
    assert np.array_equal(score_to_pianoroll(small_score()) > 0, _no_gap_roll(small_score()) > 0)
    with pytest.raises(ValueError, match="differ in shape"):
        restrike_gaps(np.zeros((4, 8, 128)), np.zeros((4, 9, 128), dtype=bool))


def _no_gap_roll(score):
    roll = np.zeros((len(ROLES), score.length_beats * STEPS_PER_BEAT, 128), dtype=np.uint8)
    for part in score.parts:
        for n in part.notes:
            a = int(round(n.start * STEPS_PER_BEAT))
            b = min(int(round((n.start + n.duration) * STEPS_PER_BEAT)), roll.shape[1])
            roll[ROLES.index(part.role), a:b, n.pitch] = 1
    return roll
