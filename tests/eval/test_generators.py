"""The Generator interface, the real-data baseline and the sanity generators."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from mmgan.eval import generators
from mmgan.eval.corpus_clips import CorpusClips, corpus_style_embeddings, weights_key
from mmgan.eval.generators import (
    BUILTIN_GENERATORS,
    CopyTrainGenerator,
    Generator,
    NoiseGenerator,
    OneClipGenerator,
    RealBaseline,
    fit_length,
    load_generator,
)

torch.set_num_threads(1)
SR = 22050


@pytest.fixture(scope="module")
def space():
    from mmgan.style.space import StyleSpace

    return StyleSpace.from_pretrained()


@pytest.fixture(scope="module")
def baseline(tiny_corpus, space):
    return RealBaseline(tiny_corpus, space=space, top_k=2)


def _style(space, prompts):
    return space.encode_text(prompts)


def test_fit_length_crops_and_pads():
    x = np.arange(10, dtype=np.float32)
    assert fit_length(x, 4, offset=3).tolist() == [3, 4, 5, 6]
    padded = fit_length(x, 13)
    assert padded.shape == (13,) and padded[:10].tolist() == x.tolist() and not padded[10:].any()


def test_noise_shapes_determinism_and_colour():
    gen = NoiseGenerator(sample_rate=SR)
    style = torch.nn.functional.normalize(torch.randn(3, 384), dim=-1)
    a = gen.generate(style, seed=5, seconds=1.0)
    assert isinstance(gen, Generator)
    assert a.shape == (3, SR) and a.dtype == np.float32
    np.testing.assert_array_equal(a, gen.generate(style, seed=5, seconds=1.0))
    assert not np.allclose(a, gen.generate(style, seed=6, seconds=1.0))
    assert not np.allclose(a[0], a[1])  # rows differ
    np.testing.assert_allclose(np.sqrt((a**2).mean(axis=1)), 0.1, rtol=1e-4)
    power = np.abs(np.fft.rfft(a, axis=1)) ** 2
    freqs = np.fft.rfftfreq(SR, 1 / SR)
    low = power[:, (freqs > 50) & (freqs < 200)].mean()
    high = power[:, (freqs > 5000) & (freqs < 8000)].mean()
    assert low / high > 20  # pink: ~1/f power, so about 40x over that span


@pytest.mark.parametrize(
    ("style", "kwargs", "match"),
    [
        (torch.zeros(384), {"seed": 0, "seconds": 1.0}, r"\[n, D\]"),
        (torch.full((1, 384), float("nan")), {"seed": 0, "seconds": 1.0}, "NaN"),
        (torch.ones(1, 384), {"seed": -1, "seconds": 1.0}, "seed"),
        (torch.ones(1, 384), {"seed": 0, "seconds": 0.0}, "seconds"),
    ],
)
def test_bad_inputs_are_named(style, kwargs, match):
    with pytest.raises(ValueError, match=match):
        NoiseGenerator().generate(style, **kwargs)


def test_one_clip_is_one_clip(tiny_corpus):
    gen = OneClipGenerator(tiny_corpus)
    style = torch.nn.functional.normalize(torch.randn(4, 384), dim=-1)
    a = gen.generate(style, seed=0, seconds=2.0)
    assert a.shape == (4, 2 * SR) and a.dtype == np.float32
    assert all(np.array_equal(a[0], row) for row in a)
    np.testing.assert_array_equal(a, gen.generate(style, seed=9, seconds=2.0))
    clips = CorpusClips(tiny_corpus, "train")
    assert gen.clip_id == clips.ids[0]
    np.testing.assert_array_equal(a[0], clips.load(0)[: 2 * SR])
    long = gen.generate(style[:1], seed=0, seconds=8.0)  # clips are 6 s: zero-padded
    assert long.shape == (1, 8 * SR) and not long[0, 6 * SR + 10 :].any()


@pytest.mark.parametrize("genre", ["techno", "jazz", "metal", "ambient"])
def test_real_baseline_returns_clips_of_the_prompted_genre(baseline, space, genre):
    style = _style(space, [f"a {genre} track"] * 4)
    chosen = baseline.choose(style, seed=0)
    assert {baseline.clips.genres[i] for i in chosen} == {genre}
    audio = baseline.generate(style, seed=0, seconds=6.0)
    assert audio.shape == (4, 6 * SR) and audio.dtype == np.float32
    for row, i in zip(audio, chosen, strict=True):  # the real clip itself, untouched
        np.testing.assert_array_equal(row, fit_length(baseline.clips.load(i), 6 * SR))


def test_real_baseline_is_deterministic_in_seed(baseline, space):
    style = _style(space, ["a folk track", "a reggae track"]).repeat(4, 1)
    a = baseline.generate(style, seed=3, seconds=2.5)
    np.testing.assert_array_equal(a, baseline.generate(style, seed=3, seconds=2.5))
    assert a.shape == (8, round(2.5 * SR))
    picks = {tuple(baseline.choose(style, seed=s)) for s in range(6)}
    assert len(picks) > 1  # the seed chooses among the top_k


def test_real_baseline_rejects_other_style_spaces(baseline):
    with pytest.raises(ValueError, match="384-d"):
        baseline.generate(torch.ones(2, 16), seed=0, seconds=1.0)


def test_style_embeddings_are_cached_and_invalidated(tiny_corpus, space, baseline):
    clips = CorpusClips(tiny_corpus, "train")
    emb = baseline.embeddings
    assert emb.shape == (len(clips), space.dim) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    folder = next((tiny_corpus / ".cache").glob("style-emb-*"))
    assert all((folder / clips.entry_name(i)).is_file() for i in range(len(clips)))
    again = corpus_style_embeddings(clips, space)  # from disk
    np.testing.assert_array_equal(again, emb)
    ref = space.encode_audio(clips.load(3), clips.sample_rate)[0].numpy()
    np.testing.assert_allclose(emb[3], ref, atol=1e-6)


def test_style_embedding_cache_follows_file_changes(tmp_path, tiny_corpus, space):
    import shutil

    rows = [r for r in CorpusClips(tiny_corpus, "train").rows[:2]]
    for r in rows:
        (tmp_path / r["file_name"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(tiny_corpus / r["file_name"], tmp_path / r["file_name"])
    (tmp_path / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    clips = CorpusClips(tmp_path, "train")
    first = corpus_style_embeddings(clips, space)
    names = [clips.entry_name(i) for i in range(2)]

    def entries():
        return sorted(str(p.relative_to(p.parents[1])) for p in tmp_path.glob(".cache/*/*/*"))

    assert entries() == sorted(names)
    st = clips.path(1).stat()
    os.utime(clips.path(1), ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # "edited"
    assert clips.entry_name(1) != names[1] and clips.entry_name(0) == names[0]
    np.testing.assert_array_equal(corpus_style_embeddings(clips, space), first)
    assert entries() == sorted([names[0], clips.entry_name(1)])  # the stale entry is gone


def test_copy_train_is_a_shifted_quieter_copy(tiny_corpus, space):
    gen = CopyTrainGenerator(tiny_corpus, space=space, top_k=2)
    style = _style(space, ["a hiphop track"] * 3)
    out = gen.generate(style, seed=1, seconds=6.0)
    assert out.shape == (3, 6 * SR) and out.dtype == np.float32
    np.testing.assert_array_equal(out, gen.generate(style, seed=1, seconds=6.0))
    for row, i in zip(out, gen.choose(style, seed=1), strict=True):
        clip = fit_length(gen.clips.load(i), 6 * SR)
        fits = []  # least-squares gain and residual of each delay the generator may use
        for shift in range(round(0.005 * SR) - 1, round(0.030 * SR) + 2):
            ref = np.concatenate([np.zeros(shift, np.float32), clip[: len(clip) - shift]])
            gain = float(np.dot(row, ref) / np.dot(ref, ref))
            fits.append((float(np.abs(row - gain * ref).max()), gain, shift))
        residual, gain, shift = min(fits)
        assert residual < 1e-5, "not a delayed, scaled copy of the chosen training clip"
        assert 10 ** (-6 / 20) - 1e-3 < gain < 10 ** (-1 / 20) + 1e-3


def test_load_generator_names(tiny_corpus, space):
    kinds = {
        "real-baseline": RealBaseline,
        "copy-train": CopyTrainGenerator,
        "one-clip": OneClipGenerator,
        "noise": NoiseGenerator,
    }
    assert set(kinds) == set(BUILTIN_GENERATORS)
    for name, cls in kinds.items():
        gen = load_generator(name, data=tiny_corpus, space=space)
        assert type(gen) is cls and gen.name == name and gen.sample_rate == SR
        assert isinstance(gen, Generator)


def test_a_symbolic_run_is_a_generator_eval_can_score(tiny_symbolic_run, space):
    from mmgan.generate.symbolic_pipeline import SymbolicPipeline

    gen = load_generator(str(tiny_symbolic_run), space=space)
    assert isinstance(gen, SymbolicPipeline) and isinstance(gen, Generator)
    out = gen.generate(space.encode_text(["a folk track", "a techno track"]), seed=0, seconds=1.0)
    assert out.shape == (2, round(1.0 * gen.sample_rate)) and np.isfinite(out).all()
    assert np.abs(out).max() > 0.01  # it plays something


def test_default_generator_is_the_shipped_gan(space):
    gen = load_generator(None, space=space)
    assert isinstance(gen, Generator) and gen.name == "gan"
    out = gen.generate(space.encode_text(["a techno track"]), seed=0, seconds=0.5)
    assert out.shape == (1, round(0.5 * gen.sample_rate)) and np.isfinite(out).all()


def test_load_generator_errors(tmp_path, tiny_corpus):
    with pytest.raises(ValueError, match="unknown generator 'gan-v9'.*real-baseline"):
        load_generator("gan-v9", data=tiny_corpus)
    with pytest.raises(ValueError, match="pass data="):
        load_generator("real-baseline")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_generator(str(tmp_path), data=tiny_corpus)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "specgan-xl"}))
    with pytest.raises(ValueError, match="unknown model kind 'specgan-xl'.*known model kinds"):
        load_generator(str(tmp_path), data=tiny_corpus)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_generator(str(tmp_path), data=tiny_corpus)
    with pytest.raises(FileNotFoundError, match="metadata.jsonl"):
        load_generator("one-clip", data=tmp_path)


def test_generators_still_exports_the_corpus_clips():
    assert generators.CorpusClips is CorpusClips and generators.weights_key is weights_key
    assert generators.corpus_style_embeddings is corpus_style_embeddings
