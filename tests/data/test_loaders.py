"""Real data set loaders against the tiny fixtures in ``datasets/fixtures/<layout>/``."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mmgan.data.loaders import (
    CORRUPT,
    LAYOUTS,
    MISSING,
    AudioRecord,
    DataWarning,
    LoadSummary,
    detect_layout,
    hash_split,
    load_records,
    normalise_tag,
    plain_caption,
)

FIXTURES = Path(__file__).resolve().parents[2] / "datasets" / "fixtures"


def load(name: str, **kwargs) -> tuple[list[AudioRecord], LoadSummary]:
    """Load a fixture; every fixture has a broken file, so a DataWarning must be raised."""
    with pytest.warns(DataWarning):
        return load_records(FIXTURES / name, **kwargs)


def by_id(records: list[AudioRecord]) -> dict[str, AudioRecord]:
    return {r.id: r for r in records}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_detect_layout(layout):
    assert detect_layout(FIXTURES / layout) == layout


@pytest.mark.parametrize("layout", LAYOUTS)
def test_records_are_well_formed_and_decode(layout):
    records, summary = load(layout)
    assert records and summary.loaded == len(records) and summary.layout == layout
    assert len({r.id for r in records}) == len(records)
    for r in records:
        assert r.source == layout and r.split in ("train", "val", "test") and r.caption
        assert r.tags and all(t == t.lower().strip() and "---" not in t for t in r.tags)
        audio, sr = sf.read(r.path, dtype="float32")
        assert sr > 0 and audio.ndim == 1 and len(audio) >= sr // 2
        assert np.abs(audio).max() > 0.01
    assert summary.splits == Counter(r.split for r in records)


# layout -> (loaded, corrupt, missing, malformed rows)
EXPECTED_COUNTS = {
    "gtzan": (6, 1, 0, 0),
    "fma": (4, 1, 1, 0),
    "mtg_jamendo": (5, 1, 1, 0),
    "musiccaps": (3, 1, 1, 0),
    "folder": (4, 1, 1, 1),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_broken_files_are_skipped_counted_and_warned(layout):
    with pytest.warns(DataWarning) as caught:
        records, summary = load_records(FIXTURES / layout)
    loaded, corrupt, missing, malformed = EXPECTED_COUNTS[layout]
    assert (summary.loaded, summary.skipped[CORRUPT], summary.skipped[MISSING]) == (
        loaded,
        corrupt,
        missing,
    )
    assert summary.n_skipped == corrupt + missing + malformed
    assert len(caught) == summary.n_skipped
    assert all(r.path.is_file() for r in records)
    text = str(summary)
    assert f"{loaded} loaded" in text and f"{summary.n_skipped} skipped" in text
    if corrupt:
        assert CORRUPT in text


def test_gtzan_genre_from_folder():
    records, _ = load("gtzan")
    assert sorted(r.id for r in records) == [
        f"{g}.0000{n}" for g in ("blues", "jazz", "metal") for n in (0, 1)
    ]
    for r in records:
        assert r.genre == r.id.split(".")[0] and r.tags == [r.genre]
        assert r.caption == f"{r.genre} music" and r.split == hash_split(r.id)


def test_fma_multiindex_header_genres_and_split():
    records, summary = load("fma")
    recs = by_id(records)
    assert sorted(recs) == ["000002", "000005", "000010", "000140"]
    assert summary.excluded == 1  # track 3 is in "medium", not in fma_small
    assert recs["000005"].tags == ["hip-hop", "alternative hip-hop"]
    assert recs["000010"].genre == "pop" and "experimental pop" in recs["000010"].tags
    assert {k: r.split for k, r in recs.items()} == {
        "000002": "train",
        "000005": "train",
        "000010": "val",
        "000140": "test",
    }
    assert recs["000002"].extra["title"] == "Food" and recs["000002"].extra["artist"] == "AWOL"
    assert recs["000010"].caption == "pop music with experimental pop influences"
    assert recs["000140"].path.as_posix().endswith("fma_small/000/000140.mp3")


def test_mtg_jamendo_prefixes_stripped_and_split_files_used():
    records, _ = load("mtg_jamendo")
    recs = by_id(records)
    assert recs["track_0001014"].tags == ["electronic", "dark", "synthesizer"]
    assert recs["track_0001014"].caption == "dark electronic music with synthesizer"
    assert recs["track_0000214"].genre == "punkrock"
    assert recs["track_0000214"].extra["categories"]["instrument"] == ["electricguitar", "drums"]
    assert recs["track_0000214"].path.as_posix().endswith("audio/14/214.mp3")
    splits = {k: r.split for k, r in recs.items() if k != "track_0000215"}
    assert splits == {
        "track_0000214": "train",
        "track_0000948": "val",
        "track_0001014": "train",
        "track_0001050": "test",
    }
    lone = recs["track_0000215"]  # in no split file: hashed, and a mood-only caption
    assert lone.split == hash_split(lone.id) and lone.extra["split_source"] == "hash"
    assert lone.genre is None and lone.caption == "happy music"


def test_musiccaps_captions_aspects_and_eval_split():
    records, _ = load("musiccaps")
    recs = by_id(records)
    assert sorted(recs) == ["-0Gj8-vB1q4", "0bP2MH3LqvI", "1kLzP0qL0aA"]
    first = recs["-0Gj8-vB1q4"]
    assert first.tags == ["low quality", "sustained strings melody", "sad", "ballad"]
    assert first.caption.startswith("The low quality recording") and first.split == "test"
    assert recs["0bP2MH3LqvI"].split in ("train", "val")
    assert recs["1kLzP0qL0aA"].path.suffix == ".flac"  # other extensions are found too
    assert first.extra["start_s"] == 30.0 and first.extra["audioset_labels"] == ["/m/04rlf"]


def test_folder_jsonl_tags_caption_genre_split():
    records, _ = load("folder")
    recs = by_id(records)
    lofi, ambient, idm, dub = (recs[f"clips/{n}_000"] for n in ("lofi", "ambient", "idm", "dub"))
    assert lofi.caption == "Warm lofi beat with a dusty electric piano" and lofi.split == "train"
    assert lofi.extra["bpm"] == 82.0
    assert ambient.tags == ["ambient", "pad", "calm"]  # from a comma-separated string
    assert ambient.caption == "calm ambient music with pad"
    assert ambient.split == hash_split("clips/ambient_000")
    assert idm.split == "val" and idm.tags[0] == "idm" and "drum machine" in idm.caption
    assert dub.split == "test" and dub.genre is None and dub.extra["key"] == "A minor"


def test_folder_csv_metadata_and_split_folders(tmp_path):
    src = FIXTURES / "folder" / "clips"
    for split in ("train", "validation"):
        (tmp_path / split).mkdir()
        shutil.copy(src / "lofi_000.wav", tmp_path / split / "a.wav")
        (tmp_path / split / "metadata.csv").write_text(
            'file_name,tags,genre\na.wav,"Lo-Fi, Warm",lofi\n', encoding="utf-8"
        )
    assert detect_layout(tmp_path) == "folder"
    records, summary = load_records(tmp_path)
    assert summary.n_skipped == 0
    assert sorted((r.split, tuple(r.tags)) for r in records) == [
        ("train", ("lofi", "lo-fi", "warm")),
        ("val", ("lofi", "lo-fi", "warm")),
    ]


def test_validate_false_only_checks_existence():
    with pytest.warns(DataWarning):
        records, summary = load_records(FIXTURES / "musiccaps", validate=False)
    assert summary.loaded == 4 and summary.skipped == Counter({MISSING: 1})


def test_layout_names_and_errors(tmp_path):
    records, summary = load("folder", layout="audiofolder")
    assert summary.layout == "folder" and len(records) == 4
    with pytest.raises(ValueError, match="unknown data set layout 'nsynth'.*gtzan.*musiccaps"):
        load_records(FIXTURES / "gtzan", layout="nsynth")
    with pytest.raises(ValueError, match="does not look like the fma layout"):
        load_records(FIXTURES / "gtzan", layout="fma")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="no known data set layout.*mtg_jamendo.*folder"):
        detect_layout(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_records(tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        detect_layout(tmp_path / "nope")


def test_many_skips_are_summarised_not_spammed(tmp_path):
    rows = [{"file_name": f"missing_{i}.wav", "tags": ["x"]} for i in range(20)]
    (tmp_path / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(DataWarning) as caught:
        records, summary = load_records(tmp_path)
    assert records == [] and summary.skipped[MISSING] == 20
    assert len(caught) == 6 and "15 more skipped" in str(caught[-1].message)


def test_hash_split_is_stable_and_80_10_10():
    counts = Counter(hash_split(f"track_{i}") for i in range(5000))
    assert abs(counts["train"] / 5000 - 0.8) < 0.03
    assert abs(counts["val"] / 5000 - 0.1) < 0.02 and abs(counts["test"] / 5000 - 0.1) < 0.02
    assert [hash_split("blues.00000") for _ in range(3)] == ["test"] * 3


def test_normalise_tag_and_plain_caption():
    assert normalise_tag("genre---Rock") == "rock"
    assert normalise_tag("mood/theme---dark") == "dark"
    assert normalise_tag("instrument---piano") == "piano"
    assert normalise_tag("  Hip_Hop ") == "hip hop"
    assert plain_caption(["rock", "guitar", "drums"], "rock") == "rock music with guitar and drums"
    assert plain_caption(["dark", "techno"]) == "dark techno music"
    assert plain_caption([]) == "music"


def _fixture_maker():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _digest(root: Path) -> dict[str, str]:
    """Relative path -> sha1 (MP3s by name only: LAME builds may differ in bytes)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.name != "make_fixtures.py":
            data = b"" if p.suffix == ".mp3" else p.read_bytes()
            out[p.relative_to(root).as_posix()] = hashlib.sha1(data).hexdigest()
    return out


def test_fixtures_are_regenerated_by_the_script(tmp_path):
    _fixture_maker().make_all(tmp_path)
    assert _digest(tmp_path) == _digest(FIXTURES)


def test_fixtures_are_tiny():
    files = [p for p in FIXTURES.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    total = sum(p.stat().st_size for p in files)
    assert total < 600_000


def test_fma_tracks_csv_reads_like_the_fma_repo():
    pd = pytest.importorskip("pandas")  # fma's utils.load() reads it exactly like this
    tracks = pd.read_csv(FIXTURES / "fma/fma_metadata/tracks.csv", index_col=0, header=[0, 1])
    assert tracks.index.name == "track_id" and tracks.shape == (7, 52)
    assert tracks.loc[10, ("set", "split")] == "validation"
    assert tracks.loc[5, ("track", "genres")] == "[21, 100]"


def test_mtg_category_files_are_merged(tmp_path):
    src = FIXTURES / "mtg_jamendo"
    shutil.copytree(src / "audio", tmp_path / "audio")
    head = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n"
    row = "track_0000948\tartist_000135\talbum_000316\t48/948.mp3\t1.0\t"
    (tmp_path / "autotagging_genre.tsv").write_text(head + row + "genre---classical\n")
    (tmp_path / "autotagging_moodtheme.tsv").write_text(head + row + "mood/theme---calm\n")
    records, summary = load_records(tmp_path)
    assert summary.layout == "mtg_jamendo" and summary.n_skipped == 0
    (rec,) = records
    assert rec.tags == ["classical", "calm"] and rec.caption == "calm classical music"


def test_folder_rows_with_odd_fields(tmp_path):
    shutil.copy(FIXTURES / "folder/clips/dub_000.wav", tmp_path / "a.wav")
    row = {"file_name": "a.wav", "tags": None, "genre": 7, "path": "x", "id": "clip-a"}
    (tmp_path / "metadata.jsonl").write_text(json.dumps(row) + "\n[1, 2]\n")
    with pytest.warns(DataWarning, match="no file_name"):
        records, summary = load_records(tmp_path)
    (rec,) = records
    assert (rec.id, rec.tags, rec.genre, rec.extra["path"]) == ("clip-a", ["7"], "7", "x")
    assert summary.skipped == Counter({"malformed metadata row": 1})
