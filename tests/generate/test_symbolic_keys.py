"""Keys in the symbolic engine: reading a roll's key, moving a piece to another tonic, the key
head fitted at export, and the pipeline's ``key`` (asked for, or drawn from the style's keys)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mmgan.audio.analysis import _MAJOR, _MINOR, key_of_profile
from mmgan.generate.symbolic import (
    KeyHead,
    key_shifts,
    parse_tonic,
    piece_key,
    pitch_profile,
    transpose_rows,
)
from mmgan.models.pianoroll import RollLayout

LAYOUT = RollLayout()


def _row(track: str, pitch: int) -> int:
    return LAYOUT.slices[track].start + LAYOUT.pitches[track].index(pitch)


def _cadence(tonic: int = 0, steps: int = 96) -> np.ndarray:
    """I - IV - V - I in major on ``tonic`` (bass roots, harmony triads, a lead on the
    tonic's third and fifth) plus a kick on each beat."""
    rows = np.zeros((LAYOUT.rows, steps), dtype=bool)
    rows[_row("drums", 36), ::12] = True
    quarter = steps // 4
    for k, root in enumerate((0, 5, 7, 0)):
        a, b = k * quarter, (k + 1) * quarter
        rows[_row("bass", 36 + (tonic + root) % 12), a:b] = True
        for third in (0, 4, 7):
            rows[_row("harmony", 60 + (tonic + root + third) % 12), a:b] = True
    rows[_row("lead", 72 + (tonic + 4) % 12), : steps // 2] = True
    rows[_row("lead", 72 + (tonic + 7) % 12), steps // 2 :] = True
    return rows


def test_key_of_profile_reads_major_and_minor_keys_and_refuses_a_flat_profile():
    assert key_of_profile(_MAJOR)[:2] == (0, "major")
    assert key_of_profile(np.roll(_MINOR, 9))[:2] == (9, "minor")  # A minor
    tonic, mode, r = key_of_profile(np.roll(_MAJOR, 6) + 1.0)
    assert (tonic, mode) == (6, "major") and r == pytest.approx(1.0)
    with pytest.raises(ValueError, match="all bins equal"):
        key_of_profile(np.ones(12))
    with pytest.raises(ValueError, match="12-bin"):
        key_of_profile(np.ones(11))
    with pytest.raises(ValueError, match="12-bin"):
        key_of_profile([np.nan] + [1.0] * 11)


def test_piece_key_reads_the_pitched_tracks_and_none_without_notes():
    for tonic in (0, 2, 9):
        assert piece_key(_cadence(tonic), LAYOUT) == (tonic, "major")
    prof = pitch_profile(_cadence(0), LAYOUT)
    assert prof[[0, 4, 7]].min() > prof[[1, 3, 6, 8, 10]].max() == 0  # C, E, G; no drums
    drums_only = np.zeros_like(_cadence())
    drums_only[_row("drums", 36), ::12] = True
    assert piece_key(drums_only, LAYOUT) is None
    with pytest.raises(ValueError, match="expected rows"):
        pitch_profile(np.zeros((10, 4)), LAYOUT)


def test_transpose_rows_moves_pitched_tracks_folds_at_the_edges_and_leaves_drums():
    rows = _cadence(0)
    up = transpose_rows(rows, 2, LAYOUT)
    assert piece_key(up, LAYOUT) == (2, "major")
    assert np.array_equal(up[LAYOUT.slices["drums"]], rows[LAYOUT.slices["drums"]])
    assert np.array_equal(up[_row("bass", 38)], rows[_row("bass", 36)])  # C2 -> D2
    assert np.array_equal(transpose_rows(up, -2, LAYOUT), rows)  # and back
    top = np.zeros_like(rows)
    top[_row("lead", LAYOUT.pitches["lead"][-1]), :10] = True  # the lead's highest note
    moved = transpose_rows(top, 3, LAYOUT)
    assert moved[_row("lead", LAYOUT.pitches["lead"][-1] + 3 - 12), :10].all()  # an octave down
    assert moved.sum() == top.sum()
    octave = transpose_rows(rows, 12, LAYOUT)
    assert np.array_equal(octave[_row("harmony", 72)], rows[_row("harmony", 60)])  # C5 <- C4
    assert piece_key(octave, LAYOUT) == (0, "major")
    with pytest.raises(ValueError, match="whole number"):
        transpose_rows(rows, 1.5, LAYOUT)
    with pytest.raises(ValueError, match="expected rows"):
        transpose_rows(rows[:5], 1, LAYOUT)


def test_key_shifts_move_each_piece_to_a_drawn_tonic_within_a_tritone():
    rows = np.stack([_cadence(0), _cadence(7), np.zeros_like(_cadence())])
    a = np.zeros((3, 12))
    a[:, 9] = 1.0  # everything to A
    shifts = key_shifts(rows, a, [1, 2, 3], LAYOUT)
    assert shifts == [-3, 2, 0]  # C -> A down 3, G -> A up 2, no notes: unmoved
    spread = np.full((3, 12), 1 / 12)
    got = [key_shifts(rows[:1], spread[:1], [s], LAYOUT)[0] for s in range(40)]
    assert all(-6 <= k <= 5 for k in got) and len(set(got)) >= 8  # drawn, every tonic likely
    assert got == [key_shifts(rows[:1], spread[:1], [s], LAYOUT)[0] for s in range(40)]  # seeded
    for bad in (np.full((3, 12), np.nan), -a, np.zeros((3, 12))):
        with pytest.raises(ValueError, match="tonic shares"):
            key_shifts(rows, bad, [1, 2, 3], LAYOUT)
    with pytest.raises(ValueError, match="n seeds"):
        key_shifts(rows, a, [1], LAYOUT)


def test_parse_tonic_takes_names_modes_and_pitch_classes_and_refuses_the_rest():
    assert parse_tonic(None) is None
    assert parse_tonic("A") == 9 and parse_tonic("f#") == 6 and parse_tonic("Bb minor") == 10
    assert parse_tonic(" C major ") == 0 and parse_tonic(11) == 11
    for bad in ("H", "A dorian", "", "C major minor", 12, -1, True):
        with pytest.raises(ValueError, match="key"):
            parse_tonic(bad)


def test_key_head_blends_the_nearest_genres_tonics_round_trips_and_rejects_bad_heads():
    rng = np.random.default_rng(5)
    protos = rng.normal(size=(2, 8))
    unit = protos / np.linalg.norm(protos, axis=1, keepdims=True)
    table = np.zeros((2, 12))
    table[0, [4, 2]] = [3.0, 1.0]  # metal: E and D (shares need not sum to 1)
    table[1] = 1.0  # techno: any
    head = KeyHead(protos, table, ["metal", "techno"])
    got = head(unit)
    assert got[0, 4] == pytest.approx(0.75, abs=1e-3) and got[0, [0, 9]].max() < 1e-3
    assert got[1] == pytest.approx(np.full(12, 1 / 12), abs=1e-3)
    assert got.sum(axis=1) == pytest.approx([1.0, 1.0])
    again = KeyHead.from_config(json.loads(json.dumps(head.to_config())), dim=8)
    assert again(unit) == pytest.approx(got)
    bad = table.copy()
    bad[1] = 0.0
    with pytest.raises(ValueError, match="techno's tonic shares must be >= 0 and not all 0"):
        KeyHead(protos, bad, ["metal", "techno"])
    with pytest.raises(ValueError, match=r"key head needs prototypes \[G, D\] and table"):
        KeyHead(protos, table[:, :11], ["metal", "techno"])


@pytest.fixture(scope="module")
def pipe(tiny_symbolic_run):
    from mmgan import Pipeline

    return Pipeline.from_pretrained(tiny_symbolic_run, engine="symbolic")


def test_the_pipeline_moves_pieces_to_the_key_asked_for_or_the_styles_keys(pipe):
    torch.set_num_threads(1)
    assert pipe.key_head is not None  # written at export
    r = pipe("a jazz track", seconds=4.0, seed=1, describe=False, key="F#")
    key = piece_key(r.rolls, pipe.g.layout)
    assert key is not None and key[0] == 6 and r.metadata["key"] == f"F# {key[1]}"
    s = pipe.space.encode_text(["a folk track"])
    drawn = [
        piece_key(pipe.features(s, seed=k, steps=8)[0].numpy(), pipe.g.layout) for k in range(6)
    ]
    shares = pipe.key_head(s)[0]
    assert all(k is None or shares[k[0]] > 0 for k in drawn)  # a tonic the style plays in
    raw = pipe.features(s, seed=3, steps=8, key=None)
    for tonic in ("C", "E"):
        moved = pipe.features(s, seed=3, steps=8, key=tonic)[0].numpy()
        assert piece_key(moved, pipe.g.layout)[0] == parse_tonic(tonic)
        lay = pipe.g.layout.slices["drums"]
        assert np.array_equal(moved[lay], raw[0].numpy()[lay])  # drums as they were
    with pytest.raises(ValueError, match="key"):
        pipe("a jazz track", seconds=2.0, key="Q minor", describe=False)


def test_the_shipped_model_plays_in_its_genres_keys():
    from mmgan import Pipeline

    pipe = Pipeline.from_pretrained(engine="symbolic")
    assert pipe.key_head is not None and set(pipe.key_head.genres) == set(pipe.genres)
    metal, techno = pipe.space.encode_text(["a metal track", "a techno track"])
    shares = pipe.key_head(metal[None])[0]
    assert shares[[0, 1, 2, 3, 4]].sum() > 0.9  # the corpus's metal: C to E (guitar tunings)
    keys = [piece_key(pipe.features(metal[None], seed=k, steps=9)[0].numpy(), pipe.g.layout)
            for k in range(8)]  # fmt: skip
    assert all(k is not None and shares[k[0]] > 0.01 for k in keys)  # (v6: F, A: no metal clip's)
    techno = [piece_key(pipe.features(techno[None], seed=k, steps=9)[0].numpy(), pipe.g.layout)
              for k in range(32)]  # fmt: skip
    counts = np.bincount([k[0] for k in techno if k is not None], minlength=12)
    assert counts.sum() >= 30 and counts.max() <= 7  # not one key a genre (v6: 10 of 32 in F#)


def test_arrange_reads_the_key_and_tunes_a_templates_kick_to_it():
    from mmgan.generate.symbolic import arrange

    score = arrange(_cadence(2), [("techno", 1.0)], bpm=128.0, seed=0)
    assert (score.key, score.mode) == ("D", "major")
    drums = next(p for p in score.parts if p.role == "drums")
    assert drums.params["kick_pc"] == 2  # the template clip's own tonic is not the piece's
    again = arrange(_cadence(2), [("techno", 1.0)], bpm=128.0, seed=0, key="A", mode="minor")
    assert next(p for p in again.parts if p.role == "drums").params["kick_pc"] == 9
    silent = np.zeros_like(_cadence())
    silent[_row("drums", 36), ::12] = True
    assert arrange(silent, [("idm", 1.0)], bpm=120.0).key == "C"  # no pitched notes: C
