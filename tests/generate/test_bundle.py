"""Bundles on disk: every file, hashes that match, sanitised names, zips, MIDI stems that
load in pretty_midi and mido, same bytes for the same prompt and seed, clear errors."""

from __future__ import annotations

import hashlib
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from mmgan.bundle import safe_name, write_bundle
from mmgan.generate.pipeline import Pipeline


@pytest.fixture(scope="module")
def spec_pipe(tiny_gan_run):
    return Pipeline.from_pretrained(tiny_gan_run)


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_spectrogram_bundle_files_metadata_and_zip(spec_pipe, tmp_path):
    r = spec_pipe("jazz - swing + blast beats", seconds=3.0, seed=2, describe=False)
    b = write_bundle(r, tmp_path / "out", space=spec_pipe.space, zip=True, cover_size=256)
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"track.wav", "cover.png", "metadata.json"} <= names and b.zip_path.name in names
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text())
    for key in ("prompt", "expression", "seed", "model", "mmgan_version", "style",
                "style_descriptors", "title", "estimated", "sections", "durations", "cover"):  # fmt: skip
        assert key in meta, key
    assert meta["title"] == b.title and len(meta["title"].split()) == 2
    assert set(meta["estimated"]) == {"bpm", "key"} and meta["durations"]["seconds"] == 3.0
    assert meta["files"] == {n: sha(tmp_path / "out" / n) for n in ("cover.png", "track.wav")}
    assert Image.open(tmp_path / "out" / "cover.png").size == (256, 256)
    with zipfile.ZipFile(b.zip_path) as zf:
        assert sorted(zf.namelist()) == ["cover.png", "metadata.json", "track.wav"]
        assert zf.read("cover.png") == (tmp_path / "out" / "cover.png").read_bytes()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temps


def test_same_prompt_and_seed_same_bytes(spec_pipe, tmp_path):
    for name in ("a", "b"):
        r = spec_pipe("dreamy folk", seconds=2.0, seed=5, describe=False)
        write_bundle(r, tmp_path / name, space=spec_pipe.space, cover_size=128)
    for f in ("track.wav", "cover.png", "metadata.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    other = spec_pipe("dreamy folk", seconds=2.0, seed=6, describe=False)
    write_bundle(other, tmp_path / "c", space=spec_pipe.space, cover_size=128)
    assert (tmp_path / "c" / "cover.png").read_bytes() != (
        tmp_path / "a" / "cover.png"
    ).read_bytes()


def test_symbolic_bundle_has_midi_that_loads_everywhere(tiny_symbolic_run, tmp_path):
    import mido
    import pretty_midi

    pipe = Pipeline.from_pretrained(tiny_symbolic_run)
    r = pipe("reggae at 90 BPM", seconds=4.0, seed=1, describe=False)
    b = write_bundle(r, tmp_path / "sym", space=pipe.space, zip=True, cover="none")
    stems = sorted(n for n in b.files if n.startswith("stems/"))
    assert stems == [f"stems/{p.role}.mid" for p in sorted(r.score.parts, key=lambda p: p.role)]
    meta = json.loads((tmp_path / "sym" / "metadata.json").read_text())
    assert set(meta["files"]) == {"track.wav", "arrangement.mid", *stems} and "cover" not in meta
    full = pretty_midi.PrettyMIDI(str(tmp_path / "sym" / "arrangement.mid"))
    assert len(full.instruments) == len(r.score.parts)
    assert abs(full.get_tempo_changes()[1][0] - 90.0) < 0.5
    for stem in stems:
        pm = pretty_midi.PrettyMIDI(str(tmp_path / "sym" / stem))
        assert len(pm.instruments) == 1 and abs(pm.get_tempo_changes()[1][0] - 90.0) < 0.5
        part = next(p for p in r.score.parts if stem == f"stems/{p.role}.mid")
        assert pm.instruments[0].is_drum == (part.role == "drums")
        assert mido.MidiFile(str(tmp_path / "sym" / stem)).length > 0
    with zipfile.ZipFile(b.zip_path) as zf:
        assert set(zf.namelist()) == set(b.files)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Neon Counterpoint", "Neon-Counterpoint"),
        ("../../etc/passwd", "etc-passwd"),
        ("Ночной джаз 🎷", "Ночной-джаз"),
        ("...", "mmgan-track"),
        ("", "mmgan-track"),
        ("a" * 300, "a" * 60),
        ("con\x00trol\nchars", "con-trol-chars"),
    ],
)
def test_safe_names(text, expected):
    assert safe_name(text) == expected


def test_bad_arguments_and_failed_writes_keep_what_was_there(spec_pipe, tmp_path, monkeypatch):
    r = spec_pipe("ambient", seconds=1.0, seed=1, describe=False)
    with pytest.raises(ValueError, match="cover must be one of"):
        write_bundle(r, tmp_path / "x", space=spec_pipe.space, cover="oil paint")
    with pytest.raises(ValueError, match="style space"):
        write_bundle(r, tmp_path / "x")
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(PermissionError, match="cannot write to output folder"):
        write_bundle(r, tmp_path / "file" / "sub", space=spec_pipe.space)
    write_bundle(r, tmp_path / "keep", space=spec_pipe.space, cover_size=64)
    before = (tmp_path / "keep" / "cover.png").read_bytes()

    def full_disk(self, fp, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    r2 = spec_pipe("metal", seconds=1.0, seed=2, describe=False)
    with pytest.raises(OSError, match="No space left"):
        write_bundle(r2, tmp_path / "keep", space=spec_pipe.space, cover_size=64)
    assert (tmp_path / "keep" / "cover.png").read_bytes() == before
    assert not [p for p in (tmp_path / "keep").iterdir() if p.name.startswith(".")]
    assert np.isfinite(r2.audio).all()
