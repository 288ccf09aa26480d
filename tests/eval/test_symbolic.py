"""Symbolic metrics: known answers on hand-made rolls, real corpus clips, the per-genre table."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pretty_midi
import pytest

from mmgan.data.corpus import read_metadata
from mmgan.eval import symbolic
from mmgan.eval.musegan import pianoroll_metrics, tonal_centroid
from mmgan.eval.symbolic import (
    METRIC_DESCRIPTIONS,
    clip_symbolic_metrics,
    corpus_symbolic_table,
    midi_metrics,
    parse_meter,
    pianoroll_to_music,
)

DRUMS, BASS, HARMONY, LEAD = range(4)
SPB = 12  # steps per beat
BAR = 4 * SPB


def empty_roll(bars: float = 2) -> np.ndarray:
    return np.zeros((4, int(bars * BAR), 128), dtype=np.uint8)


def c_major_scale_roll() -> np.ndarray:
    """Lead plays C4 D4 E4 F4 G4 A4 B4, one beat each."""
    roll = empty_roll()
    for i, pitch in enumerate((60, 62, 64, 65, 67, 69, 71)):
        roll[LEAD, i * SPB : (i + 1) * SPB, pitch] = 100
    return roll


# --------------------------------------------------------------------------- muspy metrics


def test_c_major_scale_known_answers():
    m = midi_metrics(pianoroll_to_music(c_major_scale_roll()))
    assert m["scale_consistency"] == 1.0
    assert m["pitch_class_entropy"] == pytest.approx(math.log2(7))  # 7 equally likely classes
    assert m["n_pitch_classes_used"] == 7
    assert m["n_pitches_used"] == 7
    assert m["pitch_range"] == 11
    assert m["polyphony"] == pytest.approx(1.0)
    assert m["polyphony_rate"] == 0.0
    assert math.isnan(m["drum_pattern_consistency"])  # no drums
    assert set(m) == {k for k in METRIC_DESCRIPTIONS if k.islower()}


def test_midi_file_matches_the_same_music_as_a_roll(tmp_path):
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    inst = pretty_midi.Instrument(program=0, name="piano")
    for i, pitch in enumerate((60, 62, 64, 65, 67, 69, 71)):
        inst.notes.append(
            pretty_midi.Note(velocity=100, pitch=pitch, start=i * 0.5, end=i * 0.5 + 0.5)
        )
    pm.instruments.append(inst)
    path = tmp_path / "scale.mid"
    pm.write(str(path))
    from_file = midi_metrics(path)
    from_roll = midi_metrics(pianoroll_to_music(c_major_scale_roll()))
    for key in ("scale_consistency", "pitch_class_entropy", "n_pitches_used", "pitch_range"):
        assert from_file[key] == pytest.approx(from_roll[key]), key
    cut = midi_metrics(path, max_beats=3)  # only C D E are left
    assert cut["n_pitch_classes_used"] == 3
    assert cut["pitch_class_entropy"] == pytest.approx(math.log2(3))


def test_groove_consistency_and_music_left_unchanged():
    roll = empty_roll(bars=3)
    roll[DRUMS, ::SPB, 36] = 100  # kick on every beat: every bar has the same onsets
    music = pianoroll_to_music(roll)
    before = [(n.time, n.duration) for n in music.tracks[DRUMS].notes]
    m = midi_metrics(music, beats_per_bar=4)
    assert m["groove_consistency"] == 1.0
    assert m["drum_pattern_consistency"] == 1.0
    assert math.isnan(m["pitch_range"])  # only drums: no pitched range (muspy says -127)
    roll[DRUMS, 2 * BAR + 6, 36] = 100  # one extra onset in the last bar
    assert midi_metrics(pianoroll_to_music(roll))["groove_consistency"] < 1.0
    assert [(n.time, n.duration) for n in music.tracks[DRUMS].notes] == before


def test_silent_music_gives_nan_not_an_error():
    m = midi_metrics(pianoroll_to_music(empty_roll()))
    assert all(math.isnan(v) for v in m.values())


def test_midi_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mid"):
        midi_metrics(tmp_path / "nope.mid")
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"this is not a MIDI file")
    with pytest.raises(ValueError, match="bad.mid"):
        midi_metrics(bad)
    with pytest.raises(TypeError, match="MIDI path or muspy.Music"):
        midi_metrics(c_major_scale_roll())


# --------------------------------------------------------------------------- MuseGAN metrics


def test_empty_tracks_give_eb_one_and_nan_elsewhere():
    m = pianoroll_metrics(c_major_scale_roll())
    assert m["EB/drums"] == m["EB/bass"] == m["EB/harmony"] == 1.0
    assert m["EB/lead"] == 0.0
    for key in ("UPC/bass", "QN/harmony", "DP", "TD/bass-harmony", "TD/bass-lead"):
        assert math.isnan(m[key]), key
    assert m["UPC/lead"] == pytest.approx((4 + 3) / 2)  # C D E F | G A B


def test_eb_counts_bars_and_a_long_part_bar():
    roll = empty_roll(bars=3.5)  # the half bar at the end counts as a fourth bar
    roll[BASS, :BAR, 36] = 100
    assert pianoroll_metrics(roll)["EB/bass"] == pytest.approx(3 / 4)
    short = empty_roll(bars=3.25)  # a quarter bar is dropped
    short[BASS, :BAR, 36] = 100
    assert pianoroll_metrics(short)["EB/bass"] == pytest.approx(2 / 3)
    assert math.isnan(pianoroll_metrics(np.zeros((4, 0, 128), bool))["EB/drums"])


@pytest.mark.parametrize("chord, upc", [((60, 64, 67), 3), ((48, 60, 64, 67, 70, 76), 4)])
def test_sustained_chord_upc_is_its_pitch_classes(chord, upc):
    roll = empty_roll(bars=2)
    roll[HARMONY, :, list(chord)] = 90
    m = pianoroll_metrics(roll)
    assert m["UPC/harmony"] == upc
    assert m["QN/harmony"] == 1.0
    assert m["EB/harmony"] == 0.0


def test_qn_threshold_is_an_eighth_of_a_beat():
    roll = empty_roll()
    roll[LEAD, 0:1, 60] = 100  # 1/12 beat: too short
    roll[LEAD, 12:14, 62] = 100  # 1/6 beat: qualified
    roll[LEAD, 24:25, 64] = 100
    roll[LEAD, 36:48, 65] = 100
    assert pianoroll_metrics(roll)["QN/lead"] == pytest.approx(2 / 4)
    fine = np.zeros((4, 4 * 24, 128), np.uint8)  # 24 steps per beat, MuseGAN's grid
    fine[LEAD, 0:2, 60] = 100  # 2 steps = 1/12 beat: too short
    fine[LEAD, 24:27, 62] = 100  # 3 steps = a 32nd note: qualified
    assert pianoroll_metrics(fine, steps_per_beat=24)["QN/lead"] == pytest.approx(1 / 2)


def test_drum_pattern_on_and_off_the_sixteenth_grid():
    on = empty_roll()
    on[DRUMS, ::3, 42] = 100  # closed hat on every 16th
    on[DRUMS, ::SPB, 36] = 100
    assert pianoroll_metrics(on)["DP"] == 1.0
    off = empty_roll()
    off[DRUMS, 1::3, 42] = 100  # every 16th, one step late
    assert pianoroll_metrics(off)["DP"] == 0.0
    triplets = empty_roll()
    triplets[DRUMS, ::4, 42] = 100  # triplet eighths: 0, 4, 8 -> only 0 is a 16th
    assert pianoroll_metrics(triplets)["DP"] == pytest.approx(1 / 3)
    # in 12/8 the beat is a dotted quarter of six 16ths, so triplet eighths are on the grid
    assert pianoroll_metrics(triplets, sixteenths_per_beat=6)["DP"] == 1.0


def test_tonal_distance_identical_and_tritone():
    roll = empty_roll()
    roll[BASS, :, [48, 52, 55]] = 100
    roll[HARMONY, :, [60, 64, 67]] = 100  # same C major triad, other octave
    roll[LEAD, :, 66] = 100  # F#
    m = pianoroll_metrics(roll)
    assert m["TD/bass-harmony"] == pytest.approx(0.0, abs=1e-12)
    assert m["TD/bass-lead"] > 0.5
    single = empty_roll()
    single[BASS, :, 48] = 100  # C
    single[LEAD, :, 54] = 100  # F#: opposite on the fifths and minor-thirds circles
    assert pianoroll_metrics(single)["TD/bass-lead"] == pytest.approx(2 * math.sqrt(2))


def test_tonal_centroid_values_and_errors():
    c = np.zeros(12)
    c[0] = 1
    np.testing.assert_allclose(tonal_centroid(c), [0, 1, 0, 1, 0, 0.5], atol=1e-12)
    assert np.isnan(tonal_centroid(np.zeros((2, 12)))).all()
    with pytest.raises(ValueError, match="last axis 12"):
        tonal_centroid(np.ones(11))


def test_bool_and_velocity_rolls_agree():
    roll = c_major_scale_roll()
    roll[DRUMS, ::3, 42] = 60
    assert pianoroll_metrics(roll) == pytest.approx(pianoroll_metrics(roll > 0), nan_ok=True)


@pytest.mark.parametrize(
    "roll, kwargs, match",
    [
        (np.zeros((3, 48, 128), np.uint8), {}, r"must be \[4 tracks"),
        (np.zeros((4, 48, 88), np.uint8), {}, r"must be \[4 tracks"),
        (np.zeros((4, 48, 128), np.float32), {}, "binarise"),
        (-np.ones((4, 48, 128), np.int16), {}, ">= 0"),
        (np.zeros((4, 48, 128), np.uint8), {"steps_per_beat": 0}, "steps_per_beat"),
        (np.zeros((4, 48, 128), np.uint8), {"beats_per_bar": 2.5}, "beats_per_bar"),
    ],
)
def test_bad_rolls_are_rejected(roll, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pianoroll_metrics(roll, **kwargs)


def test_parse_meter():
    assert parse_meter("4/4") == (4, 4)
    assert parse_meter("3/4") == (3, 4)
    assert parse_meter("12/8") == (4, 6)  # four dotted-quarter beats, as the corpus writes it
    assert parse_meter("6/8") == (2, 6)
    assert parse_meter("6/8", beats_per_bar=6) == (6, 2)  # counted in eighths
    assert parse_meter("2/2") == (2, 8)
    for bad in ("4", "four/4", "4/3", "0/4"):
        with pytest.raises(ValueError, match="meter"):
            parse_meter(bad)
    with pytest.raises(ValueError, match="equal beats"):
        parse_meter("5/4", beats_per_bar=3)
    with pytest.raises(ValueError, match="beats_per_bar"):
        parse_meter("4/4", beats_per_bar=0)


# --------------------------------------------------------------------------- corpus


def test_real_clip_metrics_are_finite_and_in_range(tiny_corpus):
    row = next(r for r in read_metadata(tiny_corpus) if r["genre"] == "jazz")
    m = clip_symbolic_metrics(tiny_corpus, row)
    assert set(m) == set(METRIC_DESCRIPTIONS)
    assert all(math.isfinite(v) for v in m.values()), m  # jazz has all four tracks
    assert 0 < m["pitch_class_entropy"] <= math.log2(12)
    assert 0.5 <= m["scale_consistency"] <= 1
    for key in ("groove_consistency", "empty_beat_rate", "polyphony_rate", "DP"):
        assert 0 <= m[key] <= 1, key
    for role in ("bass", "harmony", "lead"):
        assert 1 <= m[f"UPC/{role}"] <= 12
        assert 0 <= m[f"QN/{role}"] <= 1
        assert 0 <= m[f"EB/{role}"] <= 1
    assert all(0 <= m[k] <= 3 for k in m if k.startswith("TD/"))  # 3 = sqrt(2² + 2² + 1²)
    assert 1 <= m["n_pitch_classes_used"] <= 12 and m["pitch_range"] > 0


def test_per_genre_table_on_tiny_corpus(tiny_corpus):
    rows = read_metadata(tiny_corpus)
    genres = sorted({r["genre"] for r in rows})
    table = corpus_symbolic_table(tiny_corpus, progress=False)
    assert sorted(table["genres"]) == genres
    assert table["clips"] == {g: sum(r["genre"] == g for r in rows) for g in genres}
    assert set(table["skipped"].values()) == {0}
    assert table["metrics"] == METRIC_DESCRIPTIONS
    for g in genres:
        assert list(table["genres"][g]) == list(METRIC_DESCRIPTIONS)
        assert table["std"][g].keys() == table["defined"][g].keys()
    mean = table["genres"]
    # differences that hold for every clip of these genres (checked on data/small)
    assert mean["ambient"]["EB/drums"] == 1.0 and mean["techno"]["EB/drums"] == 0.0
    assert mean["jazz"]["n_pitch_classes_used"] > mean["techno"]["n_pitch_classes_used"] + 2
    assert mean["jazz"]["pitch_class_entropy"] > mean["techno"]["pitch_class_entropy"]
    assert mean["jazz"]["UPC/harmony"] > mean["techno"]["UPC/harmony"]
    assert mean["jazz"]["DP"] < mean["techno"]["DP"] == 1.0  # swing vs straight 16ths
    assert mean["ambient"]["polyphony"] > mean["techno"]["polyphony"]
    assert math.isnan(mean["ambient"]["DP"]) and table["defined"]["ambient"]["DP"] == 0
    one = corpus_symbolic_table(tiny_corpus, split="train", per_genre=1, progress=False)
    assert one["clips"] == dict.fromkeys(genres, 1) and one["split"] == "train"


def test_unreadable_clips_are_named_or_skipped(tiny_corpus, tmp_path):
    rows = [r for r in read_metadata(tiny_corpus) if r["genre"] == "metal"][:2]
    for r in rows:
        for key in ("midi_file", "pianoroll_file"):
            (tmp_path / r[key]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(tiny_corpus / r[key], tmp_path / r[key])
    (tmp_path / rows[1]["pianoroll_file"]).write_bytes(b"corrupt")
    rows = [{**r, "split": "train"} for r in rows]
    (tmp_path / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ValueError, match=rows[1]["id"]):
        clip_symbolic_metrics(tmp_path, rows[1])
    (tmp_path / rows[1]["midi_file"]).unlink()
    with pytest.raises(FileNotFoundError, match=rows[1]["id"]):
        clip_symbolic_metrics(tmp_path, {**rows[1], "pianoroll_file": rows[0]["pianoroll_file"]})
    with pytest.raises(ValueError, match="no \\['midi_file'\\]"):
        clip_symbolic_metrics(tmp_path, {**rows[0], "midi_file": None})
    with pytest.warns(UserWarning, match=rows[1]["id"]):
        table = corpus_symbolic_table(tmp_path, progress=False)
    assert table["clips"] == {"metal": 1} and table["skipped"] == {"metal": 1}
    with pytest.raises(ValueError, match="unknown split"):
        corpus_symbolic_table(tmp_path, split="dev")
    with pytest.raises(ValueError, match="no clips"):
        corpus_symbolic_table(tmp_path, split="test")


@pytest.mark.slow  # spawning two workers that import muspy takes ~10 s on 2 busy cores
def test_worker_processes_give_the_same_table(tiny_corpus):
    kwargs = dict(split="train", per_genre=1, progress=False)
    serial = corpus_symbolic_table(tiny_corpus, workers=1, **kwargs)
    parallel = corpus_symbolic_table(tiny_corpus, workers=2, **kwargs)
    assert parallel["clips"] == serial["clips"]
    for genre, means in serial["genres"].items():
        assert parallel["genres"][genre] == pytest.approx(means, nan_ok=True)


def test_symbolic_still_exports_the_musegan_metrics():
    assert symbolic.pianoroll_metrics is pianoroll_metrics
    assert symbolic.tonal_centroid is tonal_centroid
