import json

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from mmgan.audio.analysis import estimate_tempo, tempo_agrees
from mmgan.audio.midi import load_pianoroll
from mmgan.audio.synth.soundfont import find_soundfont
from mmgan.data.composers import GENRES
from mmgan.data.corpus import PRESETS, build_corpus, corpus_info, plan_jobs, read_metadata

REQUIRED = ("file_name", "genre", "tags", "caption", "bpm", "key", "split", "midi_file")


def test_tiny_corpus_has_every_genre_and_complete_rows(tiny_corpus):
    rows = read_metadata(tiny_corpus)
    assert len(rows) == len(GENRES) * PRESETS["tiny"].clips_per_genre
    assert {r["genre"] for r in rows} == set(GENRES)
    for r in rows:
        for field in REQUIRED:
            assert r[field] not in (None, "", []), (r["id"], field)
        audio, sr = sf.read(tiny_corpus / r["file_name"])
        assert sr == 22050 and len(audio) == int(PRESETS["tiny"].seconds * sr)
        assert np.sqrt(np.mean(audio**2)) > 0.01, f"{r['id']} is silent"
        assert np.max(np.abs(audio)) < 0.99, f"{r['id']} is clipped"
        pm = pretty_midi.PrettyMIDI(str(tiny_corpus / r["midi_file"]))
        assert sum(len(i.notes) for i in pm.instruments) > 0
        roll = load_pianoroll(tiny_corpus / r["pianoroll_file"])["pianoroll"]
        assert roll.shape[0] == 4 and roll.max() > 0
    for g in GENRES:
        splits = {r["split"] for r in rows if r["genre"] == g}
        assert splits == {"train", "val", "test"}
    summary = json.loads((tiny_corpus / "corpus.json").read_text())
    assert summary["genres"] == list(GENRES) and summary["clips"] == len(rows)
    assert set(summary["vocabulary"]) >= {t for r in rows for t in r["tags"]}


def test_hf_audiofolder_reads_the_corpus(tiny_corpus):
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("audiofolder", data_dir=str(tiny_corpus), split="train")
    assert len(ds) == len(read_metadata(tiny_corpus))
    row = ds[0]
    assert row["genre"] in GENRES and isinstance(row["tags"], list) and row["caption"]
    audio = row["audio"]
    samples = audio.get_all_samples() if hasattr(audio, "get_all_samples") else audio
    rate = getattr(samples, "sample_rate", None) or samples["sampling_rate"]
    assert rate == 22050


def test_build_is_deterministic_and_resumes(tmp_path):
    kwargs = dict(seed=5, workers=1, genres=[GENRES[0]], clips_per_genre=3, progress=False)
    a = build_corpus("tiny", tmp_path / "a", **kwargs)
    assert a["built_clips_this_run"] == 3
    again = build_corpus("tiny", tmp_path / "a", **kwargs)
    assert again["built_clips_this_run"] == 0  # everything already there
    rows = read_metadata(tmp_path / "a")
    (tmp_path / "a" / "records" / f"{rows[1]['id']}.json").unlink()  # as if killed mid-clip
    resumed = build_corpus("tiny", tmp_path / "a", **kwargs)
    assert resumed["built_clips_this_run"] == 1
    build_corpus("tiny", tmp_path / "b", **kwargs)
    for r in rows:
        assert (tmp_path / "a" / r["file_name"]).read_bytes() == (
            tmp_path / "b" / r["file_name"]
        ).read_bytes()
    assert not list((tmp_path / "a").rglob(".*.tmp")) and not list((tmp_path / "a").rglob(".*.wav"))
    info = corpus_info(tmp_path / "a")
    assert info["clips"] == 3 and info["genres"][GENRES[0]]["clips"] == 3


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="valid presets: tiny, small, full"):
        build_corpus("huge", tmp_path)
    with pytest.raises(ValueError, match="valid genres"):
        plan_jobs(PRESETS["tiny"], tmp_path, genres=["polka"])
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PermissionError, match="cannot write to output folder"):
        build_corpus("tiny", blocker / "sub", progress=False)
    with pytest.raises(FileNotFoundError, match="no metadata.jsonl"):
        read_metadata(tmp_path)


@pytest.mark.skipif(
    find_soundfont() is None, reason="no GM SoundFont (make setup installs one as root)"
)
def test_soundfont_build_renders_the_same_scores(tmp_path):
    kwargs = dict(seed=0, workers=1, genres=["techno"], clips_per_genre=2, progress=False)
    build_corpus("tiny", tmp_path / "synth", **kwargs)
    summary = build_corpus("tiny", tmp_path / "sf", soundfont=find_soundfont(), **kwargs)
    assert summary["renderer"] == "soundfont"
    for a, b in zip(read_metadata(tmp_path / "synth"), read_metadata(tmp_path / "sf"), strict=True):
        assert b["renderer"] == "soundfont" and a["tags"] == b["tags"]
        assert (tmp_path / "synth" / a["midi_file"]).read_bytes() == (
            tmp_path / "sf" / b["midi_file"]
        ).read_bytes()
        y, sr = sf.read(tmp_path / "sf" / b["file_name"])
        assert not np.array_equal(y, sf.read(tmp_path / "synth" / a["file_name"])[0])
        assert np.sqrt(np.mean(y**2)) > 0.01 and tempo_agrees(estimate_tempo(y, sr), b["bpm"])
