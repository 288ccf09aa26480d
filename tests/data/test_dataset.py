"""MelDataset: shapes, tags, splits, crops, the disk cache and its failure modes."""

from __future__ import annotations

import json
import math
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import DataLoader

import mmgan.data.melcache as melcache_mod
from mmgan.audio.features import DEFAULT_MEL, log_mel
from mmgan.audio.io import load_audio
from mmgan.data.dataset import MelDataset

SR = DEFAULT_MEL.sr
SEG = 128
GENRES = ["jazz", "metal", "techno"]
VOCAB = ["bright", "calm", "dark", "fast", "guitar", "piano", "slow"]
# id, genre, tags, seconds, split
CLIPS = [
    ("jazz_0", "jazz", ["piano", "calm", "slow"], 3.0, "train"),
    ("jazz_1", "jazz", ["piano", "bright"], 2.0, "train"),
    ("metal_0", "metal", ["guitar", "dark", "fast"], 3.0, "train"),
    ("short_0", "metal", ["guitar"], 0.5, "train"),  # 44 frames < SEG: padded
    ("polka_0", "polka", ["bright"], 1.5, "train"),  # genre not in corpus.json
    ("jazz_2", "jazz", ["calm"], 2.0, "val"),
    ("metal_1", "metal", ["dark"], 1.0, "val"),
]


def _wav(path: Path, seconds: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    freq = 110.0 * 2 ** rng.integers(0, 24) / 12
    audio = 0.3 * np.sin(2 * np.pi * freq * t) * (1 + np.sin(2 * np.pi * 1.5 * t))
    audio += 0.05 * rng.standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio.astype(np.float32), SR, subtype="PCM_16")


def _row(cid: str, genre: str, tags: list[str], split: str) -> dict:
    return {
        "file_name": f"audio/{genre}/{cid}.wav",
        "genre": genre,
        "tags": tags,
        "caption": f"a {genre} clip",
        "bpm": 120.0,
        "key": "C",
        "split": split,
        "midi_file": None,
        "pianoroll_file": None,
        "id": cid,
    }


def _write_meta(root: Path, rows: list[dict]) -> None:
    (root / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    for n, (cid, genre, _tags, secs, _split) in enumerate(CLIPS):
        _wav(root / "audio" / genre / f"{cid}.wav", secs, seed=n)
    _write_meta(root, [_row(c, g, t, s) for c, g, t, _, s in CLIPS])
    (root / "corpus.json").write_text(json.dumps({"genres": GENRES, "vocabulary": VOCAB}))
    return root


@pytest.fixture()
def count_mels(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts log_mel computations done for the dataset (all go through melcache)."""
    calls: list[str] = []

    def counting(audio, sr, params=DEFAULT_MEL):
        calls.append("x")
        return log_mel(audio, sr, params)

    monkeypatch.setattr(melcache_mod, "log_mel", counting)
    return calls


def _fresh(path: Path) -> np.ndarray:
    audio, sr = load_audio(path, sr=SR)
    return log_mel(audio, sr, DEFAULT_MEL)


def _index(ds: MelDataset, cid: str) -> int:
    return [it.id for it in ds.items].index(cid)


def test_item_shapes_dtypes_tags_and_genre(corpus: Path) -> None:
    ds = MelDataset.from_folder(corpus, split="train", segment_frames=SEG)
    assert ds.genres == GENRES and ds.vocabulary == VOCAB
    item = ds[_index(ds, "metal_0")]
    assert item["mel"].shape == (1, 80, SEG) and item["mel"].dtype == torch.float32
    assert item["tags"].shape == (len(VOCAB),) and item["tags"].dtype == torch.float32
    on = {VOCAB[i] for i in torch.nonzero(item["tags"]).flatten().tolist()}
    assert on == {"guitar", "dark", "fast"} and item["tags"].sum() == 3
    assert item["genre"].dtype == torch.long and item["genre"].ndim == 0
    assert item["genre"].item() == 1 and item["caption"] == "a metal clip"
    assert item["id"] == "metal_0"
    assert ds[_index(ds, "polka_0")]["genre"].item() == -1


def test_vocabulary_derived_when_no_corpus_json(corpus: Path) -> None:
    (corpus / "corpus.json").unlink()
    ds = MelDataset.from_folder(corpus, split="val")
    assert ds.genres == ["jazz", "metal", "polka"]  # sorted, from every split
    assert ds.vocabulary == sorted({t for c in CLIPS for t in c[2]})
    assert ds[_index(ds, "jazz_2")]["genre"].item() == 0


def test_split_filtering(corpus: Path) -> None:
    train = MelDataset.from_folder(corpus, split="train")
    val = MelDataset.from_folder(corpus, split="val")
    every = MelDataset.from_folder(corpus, split=None)
    assert {it.id for it in train.items} == {c[0] for c in CLIPS if c[4] == "train"}
    assert {it.id for it in val.items} == {"jazz_2", "metal_1"}
    assert len(every) == len(CLIPS)


def test_random_crops_reproducible_and_seed_dependent(corpus: Path) -> None:
    def crops(seed: int, epoch: int = 0) -> list[torch.Tensor]:
        ds = MelDataset.from_folder(corpus, split="train", seed=seed)
        ds.set_epoch(epoch)
        i = _index(ds, "jazz_0")  # 259 frames: 132 possible crops
        return [ds[i]["mel"] for _ in range(4)]

    a, b, c = crops(0), crops(0), crops(1)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))
    assert not all(torch.equal(a[0], x) for x in a[1:])  # repeated draws move the crop
    assert not torch.equal(crops(0, epoch=1)[0], a[0])


def test_centre_crop_is_deterministic(corpus: Path) -> None:
    ds = MelDataset.from_folder(corpus, split="train", random_crop=False)
    i = _index(ds, "jazz_0")
    full = _fresh(corpus / "audio/jazz/jazz_0.wav")
    start = (full.shape[1] - SEG) // 2
    first, second = ds[i]["mel"], ds[i]["mel"]
    assert torch.equal(first, second)
    np.testing.assert_allclose(first[0].numpy(), full[:, start : start + SEG], atol=1e-2)


def test_short_clip_padded_with_log_floor(corpus: Path) -> None:
    ds = MelDataset.from_folder(corpus, split="train")
    mel = ds[_index(ds, "short_0")]["mel"][0]
    full = _fresh(corpus / "audio/metal/short_0.wav")
    frames = full.shape[1]
    assert frames == 1 + int(0.5 * SR) // 256 < SEG
    assert torch.all(mel[:, frames:] == torch.tensor(math.log(1e-5), dtype=torch.float32))
    np.testing.assert_allclose(mel[:, :frames].numpy(), full, atol=1e-2)
    assert (mel[:, :frames] > math.log(1e-5) + 1).any()


def test_second_pass_reads_cache_and_matches_fresh_log_mel(corpus: Path, count_mels) -> None:
    ds = MelDataset.from_folder(corpus, split="train", lru_size=0)
    assert ds.cache_dir is not None and ds.cache_dir.parent == corpus / ".cache"
    for i in range(len(ds)):
        ds[i]
    assert len(count_mels) == len(ds)
    again = MelDataset.from_folder(corpus, split="train", lru_size=0)
    for _ in range(2):
        for i in range(len(again)):
            again[i]
    assert len(count_mels) == len(ds)  # nothing recomputed
    assert len(list(ds.cache_dir.glob("*/*.npy"))) == len(ds)
    for i, item in enumerate(again.items):
        cached = again.load_mel(i)
        fresh = _fresh(item.path)
        assert cached.shape == fresh.shape
        assert np.abs(cached.astype(np.float32) - fresh).max() < 5e-3


def test_changed_file_is_recomputed(corpus: Path, count_mels) -> None:
    ds = MelDataset.from_folder(corpus, split="train", lru_size=4)
    i = _index(ds, "jazz_1")
    before = ds.load_mel(i).copy()
    path = corpus / "audio/jazz/jazz_1.wav"
    _wav(path, 2.0, seed=99)  # same length, so same size: only mtime tells
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    n = len(count_mels)
    after = ds.load_mel(i)
    assert len(count_mels) == n + 1
    assert not np.allclose(before, after)
    assert np.abs(after.astype(np.float32) - _fresh(path)).max() < 5e-3
    entries = list(ds.cache_dir.glob(f"*/{ds.mel_cache.entry_path(path).name.split('-')[0]}-*.npy"))
    assert len(entries) == 1  # the stale entry was removed


def test_corrupt_cache_entry_is_recomputed(corpus: Path, count_mels) -> None:
    ds = MelDataset.from_folder(corpus, split="train", lru_size=0)
    i = _index(ds, "jazz_0")
    ds.load_mel(i)
    entry = ds.mel_cache.entry_path(ds.items[i].path)
    entry.write_bytes(b"\x93NUMPY garbage")
    n = len(count_mels)
    with pytest.warns(UserWarning, match="corrupt mel cache"):
        item = ds[i]
    assert len(count_mels) == n + 1 and item["mel"].shape == (1, 80, SEG)
    assert np.load(entry).shape == _fresh(ds.items[i].path).shape


def test_precompute_fills_cache(corpus: Path, count_mels) -> None:
    ds = MelDataset.from_folder(corpus, split="train")
    report = ds.precompute(workers=2, progress=False)
    assert (report.computed, report.reused, report.failed) == (len(ds), 0, {})
    report = ds.precompute(workers=1, progress=False)
    assert (report.computed, report.reused) == (0, len(ds))
    n = len(count_mels)
    ds[0]
    assert len(count_mels) == n


def test_dataloader_batch(corpus: Path) -> None:
    ds = MelDataset.from_folder(corpus, split="train")
    batch = next(iter(DataLoader(ds, batch_size=3, shuffle=False, num_workers=0)))
    assert batch["mel"].shape == (3, 1, 80, SEG) and batch["mel"].dtype == torch.float32
    assert batch["tags"].shape == (3, len(VOCAB))
    assert batch["genre"].shape == (3,) and batch["genre"].dtype == torch.long
    assert isinstance(batch["caption"], list) and len(batch["caption"]) == 3
    assert batch["id"] == [it.id for it in ds.items[:3]]
    ds[0]
    unpickled = pickle.loads(pickle.dumps(ds))
    assert ds.mel_cache._lru and not unpickled.mel_cache._lru  # workers get no open mmaps


def test_genre_weights_balance_classes(corpus: Path) -> None:
    ds = MelDataset.from_folder(corpus, split="train")
    w = ds.genre_weights()
    assert w.shape == (len(ds),)
    per_genre: dict[int, float] = {}
    for it, wi in zip(ds.items, w.tolist(), strict=True):
        per_genre[it.genre_idx] = per_genre.get(it.genre_idx, 0.0) + wi
    assert all(v == pytest.approx(1.0) for v in per_genre.values())


@dataclass
class _Record:
    path: Path
    tags: list[str]
    caption: str
    genre: str | None
    split: str
    id: str


def test_from_records_with_explicit_orders(corpus: Path, tmp_path: Path) -> None:
    recs = [
        _Record(corpus / f"audio/{g}/{c}.wav", t, f"cap {c}", g, s, c) for c, g, t, _, s in CLIPS
    ]
    ds = MelDataset(
        recs,
        split="val",
        genres=["metal", "jazz"],
        vocabulary=["dark", "calm"],
        cache_dir=tmp_path / "cache",
        segment_frames=32,
    )
    item = ds[_index(ds, "metal_1")]
    assert item["mel"].shape == (1, 80, 32) and item["genre"].item() == 0
    assert item["tags"].tolist() == [1.0, 0.0] and item["caption"] == "cap metal_1"
    assert any((tmp_path / "cache").glob("*/*.npy"))


def test_unknown_split_lists_valid_ones(corpus: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown split 'dev'.*test, train, val"):
        MelDataset.from_folder(corpus, split="dev")


def test_empty_split(corpus: Path) -> None:
    with pytest.raises(ValueError, match=r"split 'test' has no usable clips.*train, val"):
        MelDataset.from_folder(corpus, split="test")


def test_missing_metadata_explains_layout(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"metadata\.jsonl.*file_name"):
        MelDataset.from_folder(tmp_path)


def test_missing_and_corrupt_audio_are_skipped(corpus: Path) -> None:
    (corpus / "audio/jazz/jazz_1.wav").unlink()
    (corpus / "audio/metal/metal_0.wav").write_bytes(b"RIFF not really a wav file")
    with pytest.warns(UserWarning, match="skipped 2 of 5 clips"):
        ds = MelDataset.from_folder(corpus, split="train")
    assert set(ds.skipped) == {"jazz_1", "metal_0"} and len(ds) == 3
    for i in range(len(ds)):
        assert ds[i]["mel"].shape == (1, 80, SEG)


def test_all_audio_broken_is_an_error(corpus: Path) -> None:
    for cid, genre, *_rest, split in CLIPS:
        if split == "val":
            (corpus / f"audio/{genre}/{cid}.wav").unlink()
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="2 skipped for bad audio"):
        MelDataset.from_folder(corpus, split="val")


def test_file_vanishing_mid_epoch_does_not_crash(corpus: Path) -> None:
    ds = MelDataset.from_folder(corpus, split="train", lru_size=0)
    i = _index(ds, "jazz_0")
    (corpus / "audio/jazz/jazz_0.wav").unlink()
    with pytest.warns(UserWarning, match="jazz_0 unreadable"):
        item = ds[i]
    assert item["id"] == ds.items[(i + 1) % len(ds)].id
