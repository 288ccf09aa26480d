"""The symbolic engine: rows -> notes, arrangement from genre templates, MIDI stems that load
in pretty_midi and mido, and the pipeline end to end on a tiny trained piano-roll GAN."""

from __future__ import annotations

import json

import mido
import numpy as np
import pretty_midi
import pytest
import torch

from mmgan.generate.symbolic import (
    FIGURE_FIELDS,
    FigureHead,
    GrooveHead,
    PresenceHead,
    RestHead,
    ShareHead,
    VoiceHead,
    arrange,
    cap_voices,
    decode_rows,
    figure_lines,
    note_runs,
    piece_floors,
    quantise_drums,
    rest_bars,
    role_plan,
    rows_to_notes,
    tidy_rows,
    write_midi,
)
from mmgan.models.pianoroll import STEPS_PER_BEAT, RollLayout

LAYOUT = RollLayout()
PITCHED = LAYOUT.tracks[1:]


def _rows(steps: int = 48) -> np.ndarray:
    rows = np.zeros((LAYOUT.rows, steps), dtype=bool)
    drums, bass = LAYOUT.slices["drums"], LAYOUT.slices["bass"]
    rows[drums.start + LAYOUT.pitches["drums"].index(36), ::12] = True  # kick on each beat
    rows[bass.start + 40 - 24, 0:24] = True  # E2 for two beats
    rows[bass.start + 43 - 24, 24:30] = True  # G2 for half a beat
    rows[LAYOUT.slices["harmony"].start + 60 - 36, 0:48] = True  # middle C for four beats
    rows[LAYOUT.slices["lead"].start + 72 - 48, 12:18] = True
    return rows


def test_rows_to_notes_reads_runs_as_notes():
    notes = rows_to_notes(_rows())
    assert [n[:3] for n in notes["bass"]] == [(0.0, 2.0, 40), (2.0, 0.5, 43)]
    assert [n[2] for n in notes["drums"]] == [36] * 4
    assert [n[0] for n in notes["drums"]] == [0.0, 1.0, 2.0, 3.0]
    assert notes["harmony"][0][:3] == (0.0, 4.0, 60) and notes["lead"][0][:3] == (1.0, 0.5, 72)
    with pytest.raises(ValueError, match="rows"):
        rows_to_notes(np.zeros((5, 4)))


def test_tidy_rows_drops_one_step_blips_but_keeps_notes_and_drums():
    rows = _rows()
    bass = LAYOUT.slices["bass"].start
    lead = LAYOUT.slices["lead"].start + 80 - 48
    rows[lead, 30] = True  # a 1/12-beat blip
    rows[lead, 40:42] = True  # two steps: a real (short) note
    kick = LAYOUT.slices["drums"].start + LAYOUT.pitches["drums"].index(36)
    out = tidy_rows(rows)
    assert not out[lead, 30] and out[lead, 40:42].all()
    assert np.array_equal(out[kick], rows[kick])  # single-step drum hits stay
    assert np.array_equal(out[bass : bass + 48], rows[bass : bass + 48])
    assert rows[lead, 30]  # the input is not changed
    batch = tidy_rows(np.stack([rows, rows]).astype(float), min_steps=3)
    assert batch.shape == (2, *rows.shape) and not batch[:, lead, 40:42].any()
    assert np.array_equal(tidy_rows(rows, min_steps=1), rows)
    with pytest.raises(ValueError, match="expected rows"):
        tidy_rows(np.zeros(5))


def _lead_probs(steps: int = 6) -> np.ndarray:
    """Probabilities: the lead unsure between three pitches (0.45, 0.40, 0.30) at steps 0-3,
    sure of one (0.9, and 0.45 beside it) at step 4, quiet (0.1) at step 5; a drum at 0.45."""
    p = np.zeros((LAYOUT.rows, steps), dtype=np.float32)
    lead = LAYOUT.slices["lead"].start
    p[lead + 10, :4], p[lead + 12, :4], p[lead + 14, :4] = 0.45, 0.40, 0.30
    p[lead + 20, 4], p[lead + 21, 4] = 0.9, 0.45
    p[lead + 10, 5] = 0.1
    p[LAYOUT.slices["drums"].start, :] = 0.45
    return p


def test_decode_rows_thresholds_at_a_half_and_floors_fill_an_unsure_line():
    p, lead = _lead_probs(), LAYOUT.slices["lead"].start
    plain = decode_rows(p)
    assert np.array_equal(plain, p > 0.5) and plain[lead : lead + 48, :4].sum() == 0
    got = decode_rows(p, floors={"lead": 0.42})
    assert got[lead + 10, :4].all()  # the most likely pitch plays where none passed 0.5
    assert got[lead : lead + 48, :4].sum() == 4  # one note a step: a line, not a cluster
    assert got[lead + 20, 4] and not got[lead + 21, 4]  # a sure step is left as it was
    assert not got[lead : lead + 48, 5].any()  # below the floor: silent
    assert not got[LAYOUT.slices["drums"]].any()  # drums are not lines
    assert not decode_rows(p, floors={"lead": 0.46})[lead : lead + 48, :4].any()
    batch = decode_rows(np.stack([p, p * 0]), floors={"lead": 0.42})
    assert np.array_equal(batch[0], got) and not batch[1].any()
    for floors, match in (
        ({"drums": 0.4}, "pitched tracks"),
        ({"lead": 0.5}, r"lead.*\[0.25, 0.5\)"),
        ({"lead": 0.1}, "must be in"),
        ({"lead": "0.4"}, "must be in"),
        ({"flute": 0.4}, "pitched tracks"),
    ):
        with pytest.raises(ValueError, match=match):
            decode_rows(p, floors=floors)
    with pytest.raises(ValueError, match="NaN"):
        decode_rows(np.full((LAYOUT.rows, 2), np.nan))
    with pytest.raises(ValueError, match="expected probabilities"):
        decode_rows(np.zeros((5, 2)))


def test_piece_floors_make_each_piece_sound_in_its_own_share_of_steps():
    rng = np.random.default_rng(0)
    n, steps = 3, 240
    lead, bass = LAYOUT.slices["lead"], LAYOUT.slices["bass"]
    probs = np.zeros((n, LAYOUT.rows, steps))
    probs[:, lead.start + 5] = rng.uniform(0.25, 0.5, (n, steps))  # an unsure lead
    probs[:, bass.start + 3] = 0.9  # a bass that always plays
    shares = {"lead": np.array([0.2, 0.7, 0.0]), "bass": np.array([0.5, 0.5, 0.5])}
    floors = piece_floors(probs, shares)
    assert [set(f) for f in floors] == [{"lead"}, {"lead"}, set()]  # bass: 0.5 plays enough
    got = decode_rows(probs, floors=floors)[:, lead].any(axis=1).mean(axis=1)
    assert got == pytest.approx([0.2, 0.7, 0.0], abs=0.02)
    probs[:, lead.start + 5] *= 0.4  # so unsure that matching would need < 0.25
    assert piece_floors(probs, {"lead": [0.9] * n})[0]["lead"] == 0.25
    with pytest.raises(ValueError, match="pitched track"):
        piece_floors(probs, {"drums": [0.5] * n})
    with pytest.raises(ValueError, match=r"\[3\]"):
        piece_floors(probs, {"lead": [0.5, 0.5]})
    with pytest.raises(ValueError, match="per-piece floors"):
        decode_rows(probs, floors=floors[:2])


def test_share_head_predicts_clipped_shares_round_trips_and_rejects_bad_heads():
    rng = np.random.default_rng(1)
    w, b = rng.normal(0, 0.3, (3, 8)), np.array([0.7, 0.5, 0.6])
    head = ShareHead(w, b, ("bass", "harmony", "lead"))
    s = rng.normal(size=(4, 8))
    s /= np.linalg.norm(s, axis=1, keepdims=True)
    got = head(s)
    assert got["lead"] == pytest.approx(np.clip(s @ w[2] + 0.6, 0, 1), abs=1e-9)
    assert head(torch.from_numpy(s * 3.0))["bass"] == pytest.approx(got["bass"])  # unit length
    moving = np.repeat(s[:, :, None], 5, axis=2)  # a style held along the piece
    assert head(moving)["harmony"] == pytest.approx(got["harmony"])
    big = ShareHead(w * 0, b + 5, head.tracks)
    assert (big(s)["bass"] == 1.0).all()  # a share never passes 1
    again = ShareHead.from_config(json.loads(json.dumps(head.to_config())), dim=8)
    assert again(s)["lead"] == pytest.approx(got["lead"], abs=1e-5)
    assert ShareHead.from_config(None) is None
    for config, match in (
        ({**head.to_config(), "tracks": ["drums", "bass", "lead"]}, "pitched tracks"),
        ({**head.to_config(), "bias": [0.5]}, "bias"),
        ({"tracks": ["lead"]}, "needs tracks, weight and bias"),
        ({**head.to_config(), "weight": [[float("nan")] * 8] * 3}, "NaN"),
    ):
        with pytest.raises(ValueError, match=match):
            ShareHead.from_config(config)
    with pytest.raises(ValueError, match="fitted on 8-d styles"):
        ShareHead.from_config(head.to_config(), dim=384)
    with pytest.raises(ValueError, match="expected styles"):
        head(np.zeros((2, 5)))


def test_role_plan_splits_roles_between_two_genres():
    assert set(role_plan([("jazz", 1.0)]).values()) == {"jazz"}
    plan = role_plan([("metal", 0.6), ("jazz", 0.4)])
    assert plan == {"drums": "metal", "bass": "metal", "harmony": "jazz", "lead": "jazz"}
    assert set(role_plan([("metal", 0.9), ("jazz", 0.1)]).values()) == {"metal"}


def test_arrange_takes_the_genres_instruments_and_midi_loads(tmp_path):
    jazz = arrange(_rows(), [("jazz", 1.0)], bpm=132.0, seed=0)
    metal = arrange(_rows(), [("metal", 1.0)], bpm=132.0, seed=0)
    assert [p.role for p in jazz.parts] == ["drums", "bass", "harmony", "lead"]
    assert {p.instrument for p in jazz.parts} != {p.instrument for p in metal.parts}
    assert jazz.length_beats == 48 / STEPS_PER_BEAT and jazz.bpm == 132.0
    paths = write_midi(jazz, tmp_path)
    assert sorted(paths) == ["arrangement", "bass", "drums", "harmony", "lead"]
    pm = pretty_midi.PrettyMIDI(str(paths["arrangement"]))
    assert len(pm.instruments) == 4 and pm.instruments[0].is_drum
    assert pm.get_tempo_changes()[1][0] == pytest.approx(132.0, abs=0.01)
    assert sum(len(i.notes) for i in pm.instruments) == sum(len(p.notes) for p in jazz.parts)
    for role in ("drums", "bass", "harmony", "lead"):
        stem = pretty_midi.PrettyMIDI(str(paths[role]))
        assert len(stem.instruments) == 1
        assert stem.instruments[0].is_drum == (role == "drums")
        assert mido.MidiFile(str(paths[role])).length > 0  # mido reads it too
    override = arrange(_rows(), [("jazz", 1.0)], bpm=90.0, instruments={"lead": "violin"})
    assert [p.instrument for p in override.parts if p.role == "lead"] == ["violin"]
    with pytest.raises(KeyError, match="kazoo"):
        arrange(_rows(), [("jazz", 1.0)], bpm=90.0, instruments={"lead": "kazoo"})
    with pytest.raises(ValueError, match="bpm"):
        arrange(_rows(), [("jazz", 1.0)], bpm=0.0)
    with pytest.raises(ValueError, match="genre"):
        arrange(_rows(), [("polka", 1.0)], bpm=90.0)


@pytest.fixture(scope="module")
def pipe(tiny_symbolic_run):
    from mmgan import Pipeline

    return Pipeline.from_pretrained(tiny_symbolic_run, engine="symbolic")


def test_pipeline_end_to_end_writes_audio_metadata_and_stems(pipe, tmp_path):
    torch.set_num_threads(1)
    r = pipe("jazz at 140 BPM", seconds=5.0, seed=2, describe=False)
    assert r.audio.shape == (5 * r.sample_rate,) and np.isfinite(r.audio).all()
    assert r.metadata["engine"] == "symbolic" and r.metadata["bpm"] == 140.0
    assert r.rolls.shape == (LAYOUT.rows, pipe.beats_for(5.0, 140.0) * STEPS_PER_BEAT)
    folder = r.save(tmp_path / "out")
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["arrangement"].keys() == meta["notes"].keys()
    pm = pretty_midi.PrettyMIDI(str(folder / "arrangement.mid"))
    assert pm.get_tempo_changes()[1][0] == pytest.approx(140.0, abs=0.01)
    for role in meta["arrangement"]:
        assert (folder / "stems" / f"{role}.mid").is_file()
    again = pipe("jazz at 140 BPM", seconds=5.0, seed=2, describe=False)
    assert np.array_equal(r.audio, again.audio) and np.array_equal(r.rolls, again.rolls)
    other = pipe("metal at 140 BPM", seconds=5.0, seed=2, describe=False)
    assert not np.array_equal(r.rolls, other.rolls)  # the style reaches the notes


def test_pipeline_rolls_are_tidied_by_default(pipe):
    s = pipe.space.encode_text(["a folk track"])
    raw = pipe.features(s, seed=3, steps=8, tidy=False)[0].numpy()
    got = pipe.features(s, seed=3, steps=8)[0].numpy()
    assert np.array_equal(got > 0.5, tidy_rows(raw, pipe.g.layout, pipe.min_note_steps))


def test_the_pipeline_decodes_each_piece_with_its_share_heads_floors(pipe, tiny_symbolic_run):
    from mmgan import Pipeline

    config = json.loads((tiny_symbolic_run / "model" / "config.json").read_text())
    assert config["share_head"]["tracks"] == ["bass", "harmony", "lead"]  # written at export
    assert isinstance(pipe.share_head, ShareHead)
    s = pipe.space.encode_text(["a folk track", "a techno track"])
    plain = Pipeline.from_pretrained(tiny_symbolic_run, engine="symbolic")
    plain.share_head, plain.line_floors = None, {}
    plain.figure_head = None  # (its figures and grid move notes: the floors alone here)
    none = plain.features(s, seed=4, steps=8, tidy=False).numpy() > 0.5
    busy = Pipeline.from_pretrained(tiny_symbolic_run, engine="symbolic")
    busy.figure_head = None
    dim = pipe.space.dim
    busy.share_head = ShareHead(np.zeros((3, dim)), [1.0, 1.0, 1.0], ["bass", "harmony", "lead"])
    full = busy.features(s, seed=4, steps=8, tidy=False).numpy() > 0.5
    assert (full >= none).all() and full.sum() > none.sum()  # floors only add notes
    # the head reads the style: folk's pieces play every track, techno's only what 0.5 plays
    w = np.zeros((3, dim))
    w[:] = (s[0] - s[1]).numpy() * 50.0
    busy.share_head = ShareHead(w, [0.5, 0.5, 0.5], ["bass", "harmony", "lead"])
    mixed = busy.features(s, seed=4, steps=8, tidy=False).numpy() > 0.5
    assert np.array_equal(mixed[0], full[0]) and np.array_equal(mixed[1], none[1])
    fixed = Pipeline.from_pretrained(tiny_symbolic_run, engine="symbolic")
    fixed.share_head, fixed.line_floors = None, {"bass": 0.25, "harmony": 0.25, "lead": 0.25}
    fixed.figure_head = None
    low = fixed.features(s, seed=4, steps=8, tidy=False).numpy() > 0.5  # models without a head
    assert (low >= full).all()  # every floor of a piece is at least the lowest, 0.25


def test_quantise_drums_moves_off_groove_hits_to_the_nearest_step_the_style_uses():
    kick, hat = LAYOUT.slices["drums"].start, LAYOUT.slices["drums"].start + 5
    rows = np.zeros((LAYOUT.rows, 48), dtype=bool)
    rows[kick, [0, 13, 26]] = True  # on the beat, 1 step late, 2 steps late
    rows[hat, [5, 6]] = True  # one hit two steps long, a step before the off-beat
    rows[hat, 18] = True  # already on the off-beat: another hit lands on it and merges
    rows[hat, 19] = False
    rows[LAYOUT.slices["lead"].start, 1:4] = True  # pitched notes never move
    groove = np.zeros(12)
    groove[[0, 6]] = [0.7, 0.3]  # straight eighths: beats and off-beats
    out = quantise_drums(rows, groove)
    assert out.dtype == bool and out.shape == rows.shape and rows[kick, 13]  # a new array
    assert np.nonzero(out[kick])[0].tolist() == [0, 12, 24]
    assert np.nonzero(out[hat])[0].tolist() == [6, 7, 18]  # the two-step hit moved whole
    assert np.array_equal(out[LAYOUT.slices["bass"].start :], rows[LAYOUT.slices["bass"].start :])
    tie = np.zeros((LAYOUT.rows, 24), dtype=bool)
    tie[kick, 3] = True  # 3 steps from both 0 and 6: the earlier
    assert np.nonzero(quantise_drums(tie, groove)[kick])[0].tolist() == [0]
    swing = np.full(12, 1 / 12)  # every step in use: nothing moves
    assert np.array_equal(quantise_drums(rows, swing), rows)
    both = quantise_drums(np.stack([rows, rows]), np.stack([groove, swing]))  # per piece
    assert np.array_equal(both[0], out) and np.array_equal(both[1], rows)
    with pytest.raises(ValueError, match="groove must be"):
        quantise_drums(rows, np.ones(8))
    with pytest.raises(ValueError, match="per-piece grooves"):
        quantise_drums(rows, np.stack([groove, groove]))
    with pytest.raises(ValueError, match="rows"):
        quantise_drums(rows[:5], groove)


def test_rest_bars_silences_the_least_sure_bars_and_counts_the_rests_already_there():
    bar = 4 * STEPS_PER_BEAT
    lead = LAYOUT.slices["lead"]
    p = np.zeros((2, LAYOUT.rows, 4 * bar), dtype=np.float32)
    for b, conf in enumerate((0.9, 0.6, 0.8, 0.7)):  # how sure the generator is, per bar
        p[:, lead.start, b * bar : (b + 1) * bar] = conf
    p[:, LAYOUT.slices["bass"].start] = 0.9
    share = {"lead": np.array([0.5, 0.5])}
    out = rest_bars(p, share, np.zeros((2, 1)))
    sounding = out[:, lead].max(axis=1).reshape(2, 4, bar).max(axis=2) > 0
    assert sounding.tolist() == [[True, False, True, False]] * 2  # the 0.6 and 0.7 bars
    assert np.array_equal(out[:, LAYOUT.slices["bass"]], p[:, LAYOUT.slices["bass"]])
    assert p[0, lead.start, bar] == pytest.approx(0.6)  # a new array
    # the draw rounds the count: 0.3 x 4 bars = 1.2 -> 1 bar, or 2 with a draw of 0.9
    out = rest_bars(p, {"lead": np.array([0.3, 0.3])}, np.array([[0.0], [0.9]]))
    rests = (out[:, lead].max(axis=1).reshape(2, 4, bar).max(axis=2) == 0).sum(axis=1)
    assert rests.tolist() == [1, 2]
    # a bar that does not play already counts as a rest; nothing is made to play
    played = p > 0.5
    played[:, lead, 2 * bar : 3 * bar] = False
    out = rest_bars(p, {"lead": np.array([0.25, 1.0])}, np.zeros((2, 1)), played=played)
    kept = p[0].copy()
    kept[lead, 2 * bar : 3 * bar] = 0  # the rest there is kept silent for any floor
    assert np.array_equal(out[0], kept)  # one rest wanted, one there: nothing else moves
    assert out[1, lead].max() == 0  # all four bars
    # resting in more bars than the head says: the surest come back
    quiet = np.zeros((1, LAYOUT.rows, 4 * bar), dtype=np.float32)
    kick = LAYOUT.slices["drums"].start
    for b, conf in enumerate((0.9, 0.3, 0.45, 0.2)):  # only bar 0 passes 0.5
        quiet[0, [lead.start, lead.start + 5], b * bar : (b + 1) * bar] = [[conf], [conf / 2]]
        quiet[0, kick, b * bar : (b + 1) * bar : 12] = conf
    quiet[0, kick + 2, 6:bar:12] = 0.8  # bar 0's groove: kick on the beats, a snare between
    back = rest_bars(quiet, {"lead": [0.25], "drums": [0.0]}, np.zeros((1, 2)))
    lead_bars = back[0, lead].reshape(48, 4, bar)
    assert lead_bars.max(axis=(0, 2)).tolist() == pytest.approx([0.9, 0.501, 0.501, 0.0])
    second = quiet[0, lead.start + 5].reshape(4, bar)
    assert (lead_bars[5, :3] == second[:3]).all() and (lead_bars[5, 3] == 0).all()  # top only
    # drums, never playing there by themselves, play the nearest bar they play in again
    drums = back[0, LAYOUT.slices["drums"]].reshape(-1, 4, bar)
    groove = quiet[0, LAYOUT.slices["drums"], :bar] > 0.5
    assert np.array_equal(drums[:, 0], quiet[0, LAYOUT.slices["drums"], :bar])
    assert all(np.array_equal(drums[:, b] > 0.5, groove) for b in (1, 2, 3))
    # a pitched bar with nothing over the lowest floor plays its nearest sounding bar again
    back = rest_bars(quiet, {"lead": [0.0]}, np.zeros((1, 1)))
    again = back[0, lead, 3 * bar :] > 0.5
    assert np.array_equal(again, quiet[0, lead, :bar] > 0.5) and again.any()
    # ... and so does one whose likely cells would only make one-step notes (tidied away)
    flicker = quiet.copy()
    flicker[0, lead, 3 * bar :] = 0.0
    flicker[0, lead.start + 9, 3 * bar + 5 : 4 * bar : 4] = 0.4  # single steps over the floor
    back = rest_bars(flicker, {"lead": [0.0]}, np.zeros((1, 1)))
    again = back[0, lead, 3 * bar :] > 0.5
    assert np.array_equal(again, quiet[0, lead, :bar] > 0.5)
    # a rest never leaves a bar empty: a track playing alone keeps its bars
    alone = np.zeros((1, LAYOUT.rows, 2 * bar), dtype=np.float32)
    alone[0, lead.start, :] = 0.9
    alone[0, LAYOUT.slices["bass"].start, :bar] = 0.9  # the bass plays in bar 0 only
    kept = rest_bars(alone, {"lead": [1.0]}, np.zeros((1, 1)))
    assert kept[0, lead.start, :bar].max() == 0 and kept[0, lead.start, bar:].min() > 0.5
    short = p[:, :, : bar // 2 - 1]  # under half a bar: no bar to rest in
    assert np.array_equal(rest_bars(short, {"lead": np.ones(2)}, np.zeros((2, 1))), short)
    # a last part-bar of half a bar or more is a bar, as MuseGAN's EB counts it
    tail = rest_bars(p[:, :, : bar + bar // 2], {"lead": np.ones(2)}, np.zeros((2, 1)))
    assert tail[:, lead].max() == 0
    with pytest.raises(ValueError, match="draws must be"):
        rest_bars(p, share, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="rests must be"):
        rest_bars(p, {"lead": np.array([0.5])}, np.zeros((2, 1)))


def test_groove_and_rest_heads_read_the_nearest_genres_rows_round_trip_and_reject_bad_heads():
    rng = np.random.default_rng(2)
    protos = rng.normal(size=(2, 8))  # two genres
    straight, swung = np.zeros(12), np.zeros(12)
    straight[[0, 6]], swung[[0, 8]] = [0.6, 0.4], [0.7, 0.3]
    groove = GrooveHead(protos * 3.0, np.stack([straight, swung]), ["rock", "jazz"])
    near = protos / np.linalg.norm(protos, axis=1, keepdims=True) + rng.normal(0, 0.05, (2, 8))
    got = groove(near)
    assert got.shape == (2, 12) and np.allclose(got.sum(axis=1), 1) and (got >= 0).all()
    assert np.allclose(got, [straight, swung], atol=1e-3)  # each style reads its genre's row
    unit = protos / np.linalg.norm(protos, axis=1, keepdims=True)
    half = groove.weights(unit.sum(axis=0, keepdims=True))  # a hybrid: as near to both
    assert half == pytest.approx(np.array([[0.5, 0.5]]))
    assert groove(unit.sum(axis=0, keepdims=True)) == pytest.approx((straight + swung)[None] / 2)
    again = GrooveHead.from_config(json.loads(json.dumps(groove.to_config())), dim=8)
    assert np.allclose(again(near), got, atol=1e-5)
    assert np.allclose(GrooveHead(protos, -np.ones((2, 12)), ["a", "b"])(near), 1 / 12)
    rest = RestHead(protos, [[0.0, 0.0, 0.2, 0.4], [0.0, 0.0, 0.0, 1.5]], ["a", "b"], LAYOUT.tracks)
    shares = rest(near)
    assert rest.tracks == LAYOUT.tracks and shares["lead"] == pytest.approx([0.4, 1.0], abs=1e-3)
    assert RestHead.from_config(rest.to_config(), dim=8)(near)["harmony"] == pytest.approx(
        shares["harmony"]
    )
    for head, config, match in (
        (GrooveHead, {**groove.to_config(), "table": [[0.0] * 11] * 2}, r"table \[G, 12\]"),
        (GrooveHead, {"table": [[0.0] * 12]}, "groove head needs prototypes, table"),
        (GrooveHead, {**groove.to_config(), "temperature": 0.0}, "temperature must be > 0"),
        (RestHead, {**rest.to_config(), "tracks": ["drums", "drums", "bass", "lead"]}, "distinct"),
        (RestHead, {**rest.to_config(), "prototypes": [[float("inf")] * 8] * 2}, "NaN or infinite"),
    ):
        with pytest.raises(ValueError, match=match):
            head.from_config(config)
    with pytest.raises(ValueError, match="rest head was fitted on 8-d styles"):
        RestHead.from_config(rest.to_config(), dim=384)
    with pytest.raises(ValueError, match="expected styles"):
        rest(np.zeros((2, 5)))


def test_cap_voices_keeps_a_tracks_most_likely_notes_at_each_step():
    lead, harmony = LAYOUT.slices["lead"], LAYOUT.slices["harmony"]
    p = np.zeros((2, LAYOUT.rows, 24), dtype=np.float32)
    p[:, lead.start + 3, :] = 0.6  # a note fading ...
    p[:, lead.start + 5, 12:] = 0.8  # ... while the next rises: both above 0.5 from step 12
    p[:, lead.start + 7, 12:] = 0.7
    p[:, harmony.start : harmony.start + 3, :] = 0.9  # a three-note chord
    rows = p > 0.5
    caps = {"lead": np.array([1, 2]), "harmony": np.array([3, 3])}
    out = cap_voices(rows, p, caps)
    assert out.dtype == bool and out.shape == rows.shape
    one, two = out[0, lead], out[1, lead]
    assert np.nonzero(one[:, :12].any(axis=1))[0].tolist() == [3]  # alone: untouched
    assert np.nonzero(one[:, 12:].any(axis=1))[0].tolist() == [5]  # the likeliest only
    assert np.nonzero(two[:, 12:].any(axis=1))[0].tolist() == [5, 7]
    assert (out.sum(axis=1) > 0).sum() == (rows.sum(axis=1) > 0).sum()  # every step sounds
    assert np.array_equal(out[:, harmony], rows[:, harmony])  # within its cap
    assert np.array_equal(out[:, LAYOUT.slices["drums"]], rows[:, LAYOUT.slices["drums"]])
    assert np.array_equal(cap_voices(rows, p, {}), rows) and rows[0, lead.start + 7, 12]  # new
    for bad, match in (
        ({"drums": np.array([1, 1])}, "pitched track"),
        ({"lead": np.array([1])}, "pitched track"),
        ({"lead": np.array([0, 1])}, "whole numbers >= 1"),
        ({"lead": np.array([1.5, 1])}, "whole numbers >= 1"),
    ):
        with pytest.raises(ValueError, match=match):
            cap_voices(rows, p, bad)
    with pytest.raises(ValueError, match="alike"):
        cap_voices(rows, p[:, :, :10], caps)


def test_voice_head_rounds_the_nearest_genres_counts_and_rejects_bad_heads():
    rng = np.random.default_rng(3)
    protos = rng.normal(size=(2, 8))
    unit = protos / np.linalg.norm(protos, axis=1, keepdims=True)
    head = VoiceHead(protos, [[1.0, 4.0, 1.0], [2.0, 3.0, 2.0]], ["baroque", "metal"], PITCHED)
    caps = head(unit)
    assert caps["lead"].tolist() == [1, 2] and caps["harmony"].tolist() == [4, 3]
    assert caps["bass"].dtype.kind == "i"
    blend = head(unit.sum(axis=0, keepdims=True))  # as near to both: 1.5 -> 2, 3.5 -> 4
    assert blend["lead"].tolist() == [2] and blend["harmony"].tolist() == [4]
    again = VoiceHead.from_config(json.loads(json.dumps(head.to_config())), dim=8)
    assert all(np.array_equal(again(unit)[t], caps[t]) for t in PITCHED)
    with pytest.raises(ValueError, match="voice counts >= 1, got 0 for a.s harmony"):
        VoiceHead(protos, [[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]], ["a", "b"], PITCHED)
    with pytest.raises(ValueError, match="distinct pitched tracks"):
        VoiceHead(protos, np.ones((2, 3)), ["a", "b"], ["drums", "bass", "lead"])
    with pytest.raises(ValueError, match="voice head needs tracks, prototypes"):
        VoiceHead.from_config({"table": [[1.0] * 3]})


def _figures(length, repeat, onsets, n=1, tracks=("lead",)):
    return {
        t: {
            "length": np.full(n, float(length)),
            "repeat": np.full(n, float(repeat)),
            "onsets": np.tile(np.asarray(onsets, dtype=float), (n, 1)),
        }
        for t in tracks
    }


def test_figure_lines_breaks_a_held_note_into_notes_drawn_from_the_band():
    lead, bass = LAYOUT.slices["lead"], LAYOUT.slices["bass"]
    p = np.zeros((2, LAYOUT.rows, 48), dtype=np.float32)
    p[:, lead.start + 1, :] = 0.6  # a band: one pitch sure enough to sound ...
    p[:, lead.start + 4, :] = 0.4  # ... two others the generator gives some chance
    p[:, lead.start + 8, :] = 0.3
    p[:, lead.start + 20, :] = 0.1  # below the lowest floor: never drawn
    p[:, bass.start + 2, :] = 0.9  # a held bass note
    rows = p > 0.5
    sixteenths = np.zeros(STEPS_PER_BEAT)
    sixteenths[::3] = 0.25
    figures = _figures(3, 0.0, sixteenths, n=2)
    caps = {"lead": np.array([1, 2])}  # piece 1's lead has two voices: left alone
    out = figure_lines(rows, p, figures, caps, seeds=[0, 1])
    assert out.dtype == bool and out.shape == rows.shape
    one = out[0, lead]
    assert (one.sum(axis=0) == 1).all()  # still one note at every step, none silenced
    played = set(np.nonzero(one.any(axis=1))[0].tolist())
    assert played == {1, 4, 8}  # the band's pitches, none under the floor
    notes = sorted((a, r) for r in played for a, _ in note_runs(one[r]))
    assert notes[0] == (0, 1)  # the first note keeps its pitch
    assert [a for a, _ in notes] == list(range(0, 48, 3))  # on the style's sixteenths
    assert all(r1 != r2 for (_, r1), (_, r2) in zip(notes, notes[1:], strict=False))
    assert np.array_equal(out[1], rows[1])  # two voices: untouched
    assert np.array_equal(out[:, bass], rows[:, bass])  # a track without figures too
    again = figure_lines(rows, p, figures, caps, seeds=[0, 1])
    assert np.array_equal(again, out)  # seeded
    assert not np.array_equal(figure_lines(rows, p, figures, caps, seeds=[5, 1]), out)
    # repeat share 1: the same pitch struck again, a one-step gap before each new note
    chug = figure_lines(rows, p, _figures(3, 1.0, sixteenths, n=2), caps, seeds=[0, 1])
    assert np.nonzero(chug[0, lead].any(axis=1))[0].tolist() == [1]
    assert [b - a for a, b in note_runs(chug[0, lead.start + 1])] == [2] * 15 + [3]
    # a note shorter than twice the length stays whole; length 0 leaves lines as they are
    short = figure_lines(rows, p, _figures(30, 0.0, sixteenths, n=2), caps, seeds=[0, 1])
    assert np.array_equal(short, rows)
    assert np.array_equal(
        figure_lines(rows, p, _figures(0, 0.0, sixteenths, 2), caps, [0, 1]), rows
    )
    for bad, match in (
        ({"drums": figures["lead"]}, "pitched tracks"),
        ({"lead": {**figures["lead"], "length": np.array([3.0])}}, "one entry per piece"),
        ({"lead": {**figures["lead"], "repeat": np.array([np.nan, 0])}}, "NaN"),
    ):
        with pytest.raises(ValueError, match=match):
            figure_lines(rows, p, bad, caps, seeds=[0, 1])
    with pytest.raises(ValueError, match="one seed per piece"):
        figure_lines(rows, p, figures, caps, seeds=[0])
    with pytest.raises(ValueError, match="alike"):
        figure_lines(rows, p[:, :, :10], figures, caps, seeds=[0, 1])


def test_figure_lines_repitches_repeated_notes_and_strikes_chords_again():
    lead, harmony = LAYOUT.slices["lead"], LAYOUT.slices["harmony"]
    p = np.zeros((1, LAYOUT.rows, 48), dtype=np.float32)
    p[:, lead.start + 2, :] = 0.6
    p[:, lead.start + 6, :] = 0.4  # the band's other pitch
    rows = np.zeros(p.shape, dtype=bool)
    for a in range(0, 48, 6):  # a line striking one pitch eight times (5 steps, a gap)
        rows[0, lead.start + 2, a : a + 5] = True
    rows[0, harmony.start + 3, :] = True  # a two-note chord held for four beats
    rows[0, harmony.start + 10, :] = True
    beats = np.zeros(STEPS_PER_BEAT)
    beats[0] = 1.0
    caps = {"lead": np.array([1]), "harmony": np.array([2])}
    moved = figure_lines(rows, p, _figures(6, 0.0, beats, 1, PITCHED), caps, seeds=[3])
    line = [(a, r) for r in range(48) for a, _ in note_runs(moved[0, lead][r])]
    assert sorted(a for a, _ in line) == list(range(0, 48, 6))  # the same notes ...
    pitches = [r for _, r in sorted(line)]
    assert set(pitches) == {2, 6} and all(
        x != y for x, y in zip(pitches, pitches[1:], strict=False)
    )
    assert np.array_equal(moved[0, harmony], rows[0, harmony])  # repeat 0: chords held
    kept = figure_lines(rows, p, _figures(6, 1.0, beats, 1, ("lead",)), caps, seeds=[3])
    assert np.array_equal(kept, rows)  # repeat 1: the line keeps its pitch
    struck = figure_lines(rows, p, _figures(6, 1.0, beats, 1, ("harmony",)), caps, seeds=[3])
    for r in (3, 10):  # both notes struck again on every beat, a gap before each
        assert [a for a, _ in note_runs(struck[0, harmony.start + r])] == [0, 12, 24, 36]
    assert struck[0, harmony].sum() == rows[0, harmony].sum() - 2 * 3
    assert np.array_equal(struck[0, lead], rows[0, lead])


def test_quantise_drums_snaps_a_pitched_tracks_notes_when_asked():
    lead = LAYOUT.slices["lead"].start
    rows = np.zeros((LAYOUT.rows, 48), dtype=bool)
    rows[lead + 4, 13:20] = True  # a step late
    rows[lead + 9, 34:40] = True  # two before the beat
    beats = np.zeros(STEPS_PER_BEAT)
    beats[0] = 1.0
    out = quantise_drums(rows, beats, track="lead")
    assert note_runs(out[lead + 4]) == [(12, 19)] and note_runs(out[lead + 9]) == [(36, 42)]
    assert np.array_equal(quantise_drums(rows, beats), rows)  # drums by default: none here
    with pytest.raises(ValueError, match="unknown track 'melody'"):
        quantise_drums(rows, beats, track="melody")


def test_figure_head_blends_the_nearest_genres_rows_and_rejects_bad_heads():
    rng = np.random.default_rng(4)
    protos = rng.normal(size=(2, 8))
    unit = protos / np.linalg.norm(protos, axis=1, keepdims=True)
    k = len(FIGURE_FIELDS)
    table = np.zeros((2, 3 * k))
    table[0, 2 * k : 2 * k + 2] = [3.0, 0.1]  # baroque's lead: 3-step notes on sixteenths
    table[0, 2 * k + 2 : 3 * k : 3] = 0.25
    table[1, 2 * k : 2 * k + 2] = [6.0, 0.7]  # metal's: 6 steps, mostly the same pitch
    table[1, 2 * k + 2] = 2.0  # (shares need not sum to 1: they are normalised)
    head = FigureHead(protos, table, ["baroque", "metal"], PITCHED)
    got = head(unit)
    assert got["lead"]["length"] == pytest.approx([3.0, 6.0], abs=1e-3)
    assert got["lead"]["repeat"] == pytest.approx([0.1, 0.7], abs=1e-3)
    assert got["lead"]["onsets"][0, ::3] == pytest.approx([0.25] * 4, abs=1e-3)
    assert got["lead"]["onsets"][1, 0] == pytest.approx(1.0, abs=1e-3)
    assert got["bass"]["onsets"] == pytest.approx(np.full((2, 12), 1 / 12))  # none: even
    blend = head(unit.sum(axis=0, keepdims=True))
    assert blend["lead"]["length"] == pytest.approx([4.5], abs=0.05)
    again = FigureHead.from_config(json.loads(json.dumps(head.to_config())), dim=8)
    assert again(unit)["lead"]["repeat"] == pytest.approx(got["lead"]["repeat"])
    bad = table.copy()
    bad[1, k + 1] = 1.5
    with pytest.raises(ValueError, match="metal's harmony needs a length >= 0, a repeat share"):
        FigureHead(protos, bad, ["baroque", "metal"], PITCHED)
    with pytest.raises(ValueError, match="distinct pitched tracks"):
        FigureHead(protos, table, ["a", "b"], ["drums", "bass", "lead"])
    with pytest.raises(ValueError, match=r"figure head needs prototypes \[G, D\] and table"):
        FigureHead(protos, table[:, :k], ["a", "b"], PITCHED)


def test_the_pipeline_rests_and_quantises_with_its_heads(tiny_symbolic_run):
    from mmgan import Pipeline

    config = json.loads((tiny_symbolic_run / "model" / "config.json").read_text())
    assert config["rest_head"]["tracks"] == list(LAYOUT.tracks)  # written at export
    assert len(config["groove_head"]["table"][0]) == STEPS_PER_BEAT
    pipe = Pipeline.from_pretrained(tiny_symbolic_run, engine="symbolic")
    assert isinstance(pipe.rest_head, RestHead) and isinstance(pipe.groove_head, GrooveHead)
    s = pipe.space.encode_text(["a folk track", "a techno track"])
    one = np.ones((1, pipe.space.dim))  # one "genre": every style reads its row
    beat = np.zeros((1, STEPS_PER_BEAT))
    beat[0, 0] = 1.0
    pipe.groove_head = GrooveHead(one, beat, ["any"])
    drums = LAYOUT.slices["drums"]

    def onsets(rows):
        d = rows[:, drums]
        return np.nonzero(d & ~np.concatenate([np.zeros_like(d[..., :1]), d[..., :-1]], -1))[-1]

    fitted, pipe.figure_head = pipe.figure_head, None  # (it puts pitched notes on a grid)
    pipe.rests = pipe.quantise = False
    raw = pipe.features(s, seed=3, steps=16).numpy() > 0.5
    assert (onsets(raw) % STEPS_PER_BEAT != 0).any()  # the tiny model's hits fall anywhere
    pipe.quantise = True
    snapped = pipe.features(s, seed=3, steps=16).numpy() > 0.5
    assert len(onsets(snapped)) and (onsets(snapped) % STEPS_PER_BEAT == 0).all()
    assert np.array_equal(snapped[:, drums.stop :], raw[:, drums.stop :])  # drums only
    # a figure head's onset grid snaps pitched notes the same way (length 0: no figures)
    pipe.figure_head = FigureHead(one, [[0.0, 0.0, *beat[0]] * 3], ["any"], PITCHED)
    gridded = pipe.features(s, seed=3, steps=16, tidy=False).numpy() > 0.5
    for t in PITCHED:
        d = gridded[:, LAYOUT.slices[t]]
        starts = np.nonzero(d & ~np.concatenate([np.zeros_like(d[..., :1]), d[..., :-1]], -1))
        assert len(starts[-1]) and (starts[-1] % STEPS_PER_BEAT == 0).all()
    assert np.array_equal(gridded[:, drums], snapped[:, drums])
    pipe.figure_head = fitted
    # a rest head asking a playing track to rest in every bar silences it, and only it
    playing = [t for t in LAYOUT.tracks[1:] if raw[:, LAYOUT.slices[t]].any()]
    assert playing
    track = LAYOUT.slices[playing[0]]
    table = [[1.0 if t == playing[0] else 0.0 for t in LAYOUT.tracks]]
    pipe.rest_head = RestHead(one, table, ["any"], LAYOUT.tracks)
    fitted_presence, pipe.presence_head = pipe.presence_head, None  # (tested below)
    pipe.rests = True
    rested = pipe.features(s, seed=3, steps=16).numpy() > 0.5
    bars = rested[:, track].reshape(2, -1, 4, 4 * STEPS_PER_BEAT).any(axis=(1, 3))  # [2, 4]
    before = raw[:, track].reshape(2, -1, 4, 4 * STEPS_PER_BEAT).any(axis=(1, 3))
    # (rest_bars' test has the details: a bar nothing else played in when it rested keeps it)
    assert bars.sum() < before.sum() and rested[:, track].sum() < raw[:, track].sum()
    assert np.array_equal(rested[:, drums], snapped[:, drums])
    # a presence head leaving a track out of every piece does the same with no rests asked;
    # one leaving it in (0) changes nothing
    assert isinstance(fitted_presence, PresenceHead)  # written at export
    assert config["presence_head"]["tracks"] == list(LAYOUT.tracks)
    assert pipe.presence == 0.0  # (off by default: see the class doc)
    pipe.presence = 1.0
    pipe.rest_head = RestHead(one, [[0.0] * 4], ["any"], LAYOUT.tracks)
    pipe.presence_head = PresenceHead(one, [[0.0] * 4], ["any"], LAYOUT.tracks)
    kept = pipe.features(s, seed=3, steps=16).numpy() > 0.5
    pipe.presence_head = PresenceHead(one, table, ["any"], LAYOUT.tracks)
    left_out = pipe.features(s, seed=3, steps=16).numpy() > 0.5
    assert kept[:, track].any() and not left_out[:, track].any()
    others = [pipe.g.layout.slices[t] for t in LAYOUT.tracks if t != playing[0]]
    assert all(np.array_equal(left_out[:, sl], kept[:, sl]) for sl in others)
    # half the pieces without a lead that rests in a fifth of its bars: drawn per piece,
    # seeded; with presence off, every piece rests in 0.5 + 0.5 * 0.2 of its bars instead
    pipe.presence_head = PresenceHead(one, [[0.0, 0.0, 0.0, 0.5]], ["any"], LAYOUT.tracks)
    rests = {t: np.full(400, 0.2 if t == "lead" else 0.0) for t in LAYOUT.tracks}
    styles = np.ones((400, pipe.space.dim))
    drawn = pipe._with_absences(styles, rests, 7, 400)
    assert np.unique(drawn["lead"].round(9)).tolist() == [0.2, 1.0]
    assert (drawn["lead"] == 1.0).mean() == pytest.approx(0.5, abs=0.07)
    assert np.array_equal(drawn["lead"], pipe._with_absences(styles, rests, 7, 400)["lead"])
    assert np.array_equal(drawn["bass"], rests["bass"])
    pipe.presence = 0.0
    assert pipe._with_absences(styles, rests, 7, 400)["lead"] == pytest.approx(np.full(400, 0.6))
    pipe.presence = 0.5  # a quarter of the pieces without it; as many rests on average
    half = pipe._with_absences(styles, rests, 7, 400)["lead"]
    assert (half == 1.0).mean() == pytest.approx(0.25, abs=0.06)
    assert half[half < 1.0] == pytest.approx(np.full((half < 1.0).sum(), (0.6 - 0.25) / 0.75))
    for bad in (1.5, float("nan"), "half"):
        with pytest.raises(ValueError, match=r"presence must be in \[0, 1\]"):
            pipe.presence = bad
    assert pipe.presence == 0.5  # (unchanged by a bad value)
    pipe.presence, pipe.presence_head = 0.0, None
    # a voice head of one note at a time: no pitched track sounds two at once, none falls
    # silent where it sounded; without one, the tiny model stacks notes
    assert config["voice_head"]["tracks"] == list(PITCHED)
    assert isinstance(pipe.voice_head, VoiceHead)
    assert config["figure_head"]["tracks"] == list(PITCHED)  # written at export
    assert isinstance(pipe.figure_head, FigureHead)
    pipe.rest_head, pipe.voices, pipe.figure_head = None, False, None  # (figures: own test)
    stacked = pipe.features(s, seed=3, steps=16, tidy=False).numpy() > 0.5
    assert any((stacked[:, LAYOUT.slices[t]].sum(axis=1) > 1).any() for t in PITCHED)
    pipe.voice_head, pipe.voices = VoiceHead(one, [[1.0, 1.0, 1.0]], ["any"], PITCHED), True
    single = pipe.features(s, seed=3, steps=16, tidy=False).numpy() > 0.5
    for t in PITCHED:
        sl = LAYOUT.slices[t]
        assert (single[:, sl].sum(axis=1) <= 1).all()
        assert np.array_equal(single[:, sl].any(axis=1), stacked[:, sl].any(axis=1))


def test_the_pipeline_figures_one_voice_lines_with_its_figure_head(tiny_symbolic_run, monkeypatch):
    from mmgan import Pipeline
    from mmgan.generate import pipeline as base

    pipe = Pipeline.from_pretrained(tiny_symbolic_run, engine="symbolic")
    lead = LAYOUT.slices["lead"]
    p = np.zeros((2, LAYOUT.rows, 96), dtype=np.float32)
    p[:, lead.start + 5, :] = 0.7  # the tiny model's notes last a step: a held band instead
    p[:, lead.start + 9, :] = 0.4
    p[:, lead.start + 12, :] = 0.3
    monkeypatch.setattr(base.Pipeline, "features", lambda self, style, **kw: torch.from_numpy(p))
    one = np.ones((1, pipe.space.dim))
    sixteenths = np.zeros(STEPS_PER_BEAT)
    sixteenths[::3] = 0.25
    pipe.figure_head = FigureHead(one, [[3.0, 0.0, *sixteenths] * 3], ["any"], PITCHED)
    pipe.voice_head = VoiceHead(one, [[1.0, 1.0, 1.0]], ["any"], PITCHED)
    pipe.rest_head = pipe.key_head = None  # (rows as decoded: in the generator's key)
    s = pipe.space.encode_text(["a folk track", "a techno track"])
    pipe.figures = False
    held = pipe.features(s, seed=3, steps=8).numpy() > 0.5
    assert [len(note_runs(r)) for r in held[0, lead]].count(1) == 1  # one held note
    pipe.figures = True
    moving = pipe.features(s, seed=3, steps=8).numpy() > 0.5
    assert np.array_equal(moving, pipe.features(s, seed=3, steps=8).numpy() > 0.5)
    for piece in moving:
        starts = sorted(a for r in piece[lead] for a, _ in note_runs(r))
        assert starts == list(range(0, 96, 3))  # sixteenths, from the head
        assert set(np.nonzero(piece[lead].any(axis=1))[0]) == {5, 9, 12}  # from the band
        assert (piece[lead].sum(axis=0) == 1).all()
    assert not np.array_equal(moving, pipe.features(s, seed=4, steps=8).numpy() > 0.5)
    pipe.voices = False  # the figures follow the voice head: off with it
    assert np.array_equal(pipe.features(s, seed=3, steps=8).numpy() > 0.5, held)


def test_bad_line_floors_or_share_head_in_a_model_config_are_clear_errors(
    tiny_symbolic_run, tmp_path
):
    import shutil

    from mmgan import Pipeline

    model = shutil.copytree(tiny_symbolic_run / "model", tmp_path / "model")
    config = json.loads((model / "config.json").read_text())
    config["line_floors"] = {"lead": 0.9}
    (model / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="line floor of 'lead'"):
        Pipeline.from_pretrained(model, engine="symbolic")
    config["line_floors"] = {}
    config["share_head"]["weight"] = config["share_head"]["weight"][:2]
    (model / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"share head needs weight \[3, D\]"):
        Pipeline.from_pretrained(model, engine="symbolic")
    config = json.loads((tiny_symbolic_run / "model" / "config.json").read_text())
    config["figure_head"]["table"][0][0] = -3.0  # a negative note length
    (model / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"config.json: figure head: .*needs a length >= 0"):
        Pipeline.from_pretrained(model, engine="symbolic")


def test_pipeline_tempo_eval_interface_and_errors(pipe):
    s = pipe.space.encode_text(["a folk track", "a techno track"])
    assert 50 <= pipe.tempo(s[0]) <= 200 and pipe.tempo(s[0], "folk at 77 bpm") == 77.0
    waves = pipe.generate(s, seed=0, seconds=3.0)
    assert waves.shape == (2, 3 * pipe.sample_rate) and np.isfinite(waves).all()
    assert pipe.segment_seconds == 0.0
    assert pipe.anchor_seconds == 0.0  # anchors every z_every beats: no grid in seconds
    with pytest.raises(ValueError, match="bpm"):
        pipe("folk", seconds=3.0, bpm=1000.0)
    with pytest.raises(ValueError, match="seconds"):
        pipe("folk", seconds=0.0)


def test_engine_mismatch_is_refused(tiny_symbolic_run):
    from mmgan import Pipeline
    from mmgan.weights import CheckpointError

    with pytest.raises(CheckpointError, match="symbolic model, not a spectrogram"):
        Pipeline.from_pretrained(tiny_symbolic_run, engine="spectrogram")
    with pytest.raises(ValueError, match="engine"):
        Pipeline.from_pretrained(tiny_symbolic_run, engine="midi")


def test_the_shipped_symbolic_model_writes_playable_midi(tmp_path):
    from mmgan.generate.pipeline import SYMBOLIC_MODEL, Pipeline

    card = (SYMBOLIC_MODEL / "MODEL_CARD.md").read_text()
    assert "configs/symbolic-small.yaml" in card  # the exact commands that made it
    assert "configs/symbolic-small-v4.yaml" in card and "configs/symbolic-small-v5.yaml" in card
    pipe = Pipeline.from_pretrained(engine="symbolic")
    assert pipe.rest_head is not None and pipe.groove_head is not None  # fitted at export
    assert pipe.voice_head is not None
    assert pipe.figure_head is not None and pipe.presence_head is not None  # v6 decoding
    assert pipe.presence == 0.0 and "--out runs/symbolic-v5 --resume" in card  # v6's export
    assert json.loads((SYMBOLIC_MODEL / "config.json").read_text())["init_from"] == (
        "runs/symbolic-v4/model"
    )
    assert set(pipe.rest_head.genres) == set(pipe.genres)
    r = pipe("jazz metal with blast beats", seconds=8, seed=0)
    r.save(tmp_path)
    assert r.metadata["engine"] == "symbolic" and np.isfinite(r.audio).all()
    stems = sorted((tmp_path / "stems").glob("*.mid"))  # one per track that plays
    assert [p.stem for p in stems] == ["bass", "drums", "harmony", "lead"]
    played = 0
    for path in [tmp_path / "arrangement.mid", *stems]:
        pm = pretty_midi.PrettyMIDI(str(path))
        mido.MidiFile(str(path))
        assert abs(pm.get_tempo_changes()[1][0] - r.metadata["bpm"]) < 0.5
        played += sum(len(i.notes) for i in pm.instruments) > 0
    assert played == 5  # the arrangement and every stem have notes
