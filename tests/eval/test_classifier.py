"""The independent judge: API shapes, checks, save/load, training, and the shipped model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mmgan.eval.classifier import (
    CheckpointError,
    GenreJudge,
    JudgeOutput,
    embed,
    judge_features,
    load_judge,
)
from mmgan.training.judge import (
    JudgeTrainConfig,
    JudgeTrainer,
    average_precision,
    evaluate_judge,
    judge_metrics,
    roc_auc,
    train_judge,
)

ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = ROOT / "configs" / "judge-tiny.yaml"
GENRES = ["jazz", "metal", "ambient"]
TAGS = ["calm", "dark", "fast tempo", "warm pad"]
TINY = dict(n_mels=40, width=16, dilations=(1, 2), attention_dim=8, embedding_dim=24)


def _judge(seed: int = 0, **kw) -> GenreJudge:
    torch.manual_seed(seed)
    return GenreJudge(genres=GENRES, tags=TAGS, **{**TINY, **kw}).eval()


def _tone(
    seconds: float, sr: int = 22050, freq: float = 440.0, seed: int = 0, noise: float = 0.05
) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    noise = np.random.default_rng(seed).standard_normal(t.size) * noise
    return (0.3 * np.sin(2 * np.pi * freq * t) * (1 + np.sin(2 * np.pi * 2 * t)) + noise).astype(
        np.float32
    )


def _tiny_cfg(**kw) -> JudgeTrainConfig:
    from mmgan.config import load_config

    return load_config(JudgeTrainConfig, TINY_CONFIG, [f"{k}={v}" for k, v in kw.items()])


# ---------------------------------------------------------------------- front end and API


def test_features_shape_and_level_invariance():
    x = _tone(2.0)
    feat = judge_features(x, n_mels=40)
    assert feat.shape == (40 + 20, 1 + x.size // 512) and feat.dtype == np.float32
    np.testing.assert_allclose(judge_features(0.1 * x, n_mels=40), feat, atol=1e-3)
    chroma = feat[40:52]
    np.testing.assert_allclose(chroma.sum(0), 1.0, atol=1e-4)  # a distribution per frame
    assert chroma.mean(1).argmax() == 9  # 440 Hz is an A


def test_feature_windows_cover_every_clip():
    from mmgan.eval.judge_features import feature_windows

    feats = [np.ones((3, 10), np.float32), np.arange(3 * 25, dtype=np.float32).reshape(3, 25)]
    crops, masks, owner = feature_windows(feats, 8)
    assert owner == [0, 0, 1, 1, 1, 1, 1, 1] and {c.shape for c in crops} == {(3, 8)}
    np.testing.assert_array_equal(crops[1], feats[0][:, 2:])  # the last window is flush
    np.testing.assert_array_equal(crops[-1], feats[1][:, -8:])
    short, short_mask, _ = feature_windows([np.ones((3, 5), np.float32)], 8)
    assert short[0][:, 5:].sum() == 0 and short_mask[0].tolist() == [True] * 5 + [False] * 3


def test_feature_cache_key_and_old_import_paths_are_kept():
    from mmgan.eval import classifier, judge_features, tag_metrics
    from mmgan.training import judge

    kw = load_judge().feature_kwargs  # the shipped judge's: data/small/.cache/judge-29a60e96cd
    assert judge.feature_cache_dir("data", kw) == Path("data/.cache/judge-29a60e96cd")
    assert classifier.judge_features is judge_features.judge_features
    assert judge.clip_features is judge_features.clip_features
    assert judge.judge_metrics is tag_metrics.judge_metrics
    for module in (classifier, judge, judge_features, tag_metrics):
        assert all(hasattr(module, name) for name in module.__all__)


def test_predict_shapes_and_probabilities():
    judge = _judge()
    out = judge.predict([_tone(6.0), _tone(1.0, freq=220), _tone(13.0, seed=3)], 22050)
    assert isinstance(out, JudgeOutput)
    assert out.genre_probs.shape == (3, 3) and out.tag_scores.shape == (3, 4)
    assert out.embedding.shape == (3, judge.embedding_dim) and out.embedding.dtype == np.float32
    np.testing.assert_allclose(out.genre_probs.sum(1), 1.0, atol=1e-9)
    assert ((out.tag_scores > 0) & (out.tag_scores < 1)).all()
    top = out.top_genres(k=2)
    assert len(top) == 3 and [len(t) for t in top] == [2, 2, 2]
    assert top[0][0][1] == pytest.approx(out.genre_probs[0].max()) and top[0][0][0] in GENRES
    assert [t for t, _ in out.top_tags(4)[0]] == [TAGS[j] for j in np.argsort(-out.tag_scores[0])]
    np.testing.assert_allclose(judge.embed([_tone(6.0)], 22050), out.embedding[:1], atol=1e-5)
    batch = judge.predict(np.stack([_tone(3.0), _tone(3.0, seed=1)]), 22050)  # [N, T] array
    assert batch.genre_probs.shape == (2, 3)


def test_any_sample_rate_and_stereo():
    judge = _judge()
    x = _tone(6.0, sr=44100)
    mono = judge.predict([x], 44100)
    stereo = judge.predict([np.stack([x, 0.5 * x])], 44100)  # mixed down, level-free
    np.testing.assert_allclose(stereo.genre_probs, mono.genre_probs, atol=1e-5)
    hi = judge.predict([_tone(6.0, sr=48000, noise=0)], 48000)  # resampled to 22.05 kHz
    ref = judge.predict([_tone(6.0, noise=0)], 22050)
    np.testing.assert_allclose(hi.genre_probs, ref.genre_probs, atol=0.02)
    low = judge.predict([_tone(6.0, sr=8000)], 8000)
    assert low.genre_probs.shape == (1, 3) and np.isfinite(low.embedding).all()
    assert judge.predict([_tone(0.05)], 22050).genre_probs.shape == (1, 3)  # 2 frames: padded


@pytest.mark.parametrize(
    ("wave", "message"),
    [
        (np.zeros(22050, dtype=np.float32), r"waves\[1\] is silent"),
        (np.array([0.1, np.nan, 0.2] * 1000, dtype=np.float32), r"waves\[1\] contains NaN"),
        (np.zeros(0, dtype=np.float32), r"waves\[1\] is empty"),
        (np.full(100, np.inf, dtype=np.float32), r"waves\[1\] contains NaN or infinite"),
    ],
)
def test_bad_audio_is_named(wave, message):
    with pytest.raises(ValueError, match=message):
        _judge().predict([_tone(1.0), wave], 22050)


def test_bad_batches_are_rejected():
    judge = _judge()
    with pytest.raises(ValueError, match="waves is empty"):
        judge.predict([], 22050)
    with pytest.raises(ValueError, match="sample_rate must be positive"):
        judge.predict([_tone(1.0)], 0)
    with pytest.raises(ValueError, match=r"waves\[0\] has shape \(22050, 2\).*channels-first"):
        judge.predict([np.stack([_tone(1.0)] * 2, axis=1)], 22050)
    with pytest.raises(ValueError, match=r"\[N, T\]"):
        judge.predict(np.zeros((2, 2, 100), dtype=np.float32), 22050)


# ---------------------------------------------------------------------- save / load


def test_save_load_round_trip(tmp_path):
    judge = _judge(seed=3)
    judge.set_feature_stats([judge_features(_tone(3.0, seed=s), n_mels=40) for s in range(2)])
    waves = [_tone(6.0), _tone(2.5, freq=330)]
    before = judge.predict(waves, 22050)
    judge.save_pretrained(tmp_path / "run" / "model")
    judge.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["kind"] == "genre-judge" and config["genres"] == GENRES and config["tags"] == TAGS
    assert config["width"] == 16 and "mmgan_version" in config and config["window_frames"] == 216
    loaded = GenreJudge.from_pretrained(tmp_path / "m")
    after = loaded.predict(waves, 22050)
    np.testing.assert_array_equal(after.genre_probs, before.genre_probs)
    np.testing.assert_array_equal(after.embedding, before.embedding)
    run = GenreJudge.from_pretrained(tmp_path / "run")  # a run folder holding model/
    np.testing.assert_array_equal(run.predict(waves, 22050).embedding, before.embedding)
    judge.save_pretrained(tmp_path / "h", dtype=torch.float16)
    half = GenreJudge.from_pretrained(tmp_path / "h")
    assert half.feature_mean.dtype == torch.float32
    torch.testing.assert_close(half.feature_mean, judge.feature_mean, rtol=0, atol=0)
    np.testing.assert_allclose(
        half.predict(waves, 22050).genre_probs, before.genre_probs, atol=5e-3
    )
    assert load_judge(tmp_path / "run") is load_judge(tmp_path / "run" / "model")  # cached


def test_foreign_missing_and_misshapen_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="not a judge folder"):
        GenreJudge.from_pretrained(tmp_path / "nothing")
    from mmgan.style.audio_encoder import StyleModel

    StyleModel(channels=(4, 8), width=8, embed_dim=8).save_pretrained(tmp_path / "style")
    with pytest.raises(CheckpointError, match="'mmgan-style', expected 'genre-judge'"):
        GenreJudge.from_pretrained(tmp_path / "style")
    _judge().save_pretrained(tmp_path / "m")
    cfg_file = tmp_path / "m" / "config.json"
    config = json.loads(cfg_file.read_text())
    cfg_file.write_text(json.dumps({**config, "width": 24}))
    with pytest.raises(CheckpointError, match="shape mismatch"):
        GenreJudge.from_pretrained(tmp_path / "m")
    cfg_file.write_text(json.dumps({**config, "tags": TAGS[:2]}))
    with pytest.raises(CheckpointError, match=r"tag_head.weight: \(4, 24\) vs \(2, 24\)"):
        GenreJudge.from_pretrained(tmp_path / "m")
    cfg_file.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        GenreJudge.from_pretrained(tmp_path / "m")
    cfg_file.write_text(json.dumps(config))
    (tmp_path / "m" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="unreadable safetensors"):
        GenreJudge.from_pretrained(tmp_path / "m")


# ---------------------------------------------------------------------- metrics


def test_metrics_known_answers():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    s = np.round(rng.random(50), 1)  # with ties
    assert average_precision(y, s) == pytest.approx(average_precision_score(y, s))
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    tags = np.array([[1, 0, 1], [0, 1, 1], [1, 0, 1], [0, 1, 1]])
    scores = np.array([[0.9, 0.1, 0.5], [0.1, 0.9, 0.5], [0.8, 0.3, 0.5], [0.2, 0.6, 0.5]])
    m = judge_metrics(probs, scores, np.array([0, 1, 1, -1]), tags, ["a", "b"])
    assert m["accuracy"] == pytest.approx(2 / 3) and m["n"] == 4
    assert m["confusion"] == [[1, 0], [1, 1]] and m["per_genre_accuracy"] == {"a": 1.0, "b": 0.5}
    assert m["tag_map"] == 1.0 and m["tag_auc"] == 1.0 and m["tags_scored"] == 2  # 3rd: all +


# ---------------------------------------------------------------------- training


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_trainer_is_seeded_and_uses_train_split_only(tiny_corpus, tmp_path):
    from mmgan.data.corpus import read_metadata

    a = JudgeTrainer(_tiny_cfg(steps=3), tiny_corpus, tmp_path / "a", progress=False)
    a.fit()
    b = JudgeTrainer(_tiny_cfg(steps=3), tiny_corpus, tmp_path / "b", progress=False)
    b.fit()
    c = JudgeTrainer(_tiny_cfg(steps=3, seed=1), tiny_corpus, tmp_path / "c", progress=False)
    c.fit()
    wa, wb, wc = _weights(a.model), _weights(b.model), _weights(c.model)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not torch.equal(wa["stem.0.weight"], wc["stem.0.weight"])
    assert not torch.equal(wa["stem.0.weight"], _weights(_fresh(a))["stem.0.weight"])  # it learnt
    train_paths = {
        str((tiny_corpus / r["file_name"]).resolve())
        for r in read_metadata(tiny_corpus)
        if r["split"] == "train"
    }
    stats = np.concatenate([np.asarray(f, np.float64) for f in a.feats["train"]], axis=1)
    assert len(a.feats["train"]) == len(train_paths) < len(read_metadata(tiny_corpus))
    torch.testing.assert_close(a.model.feature_mean, torch.tensor(stats.mean(1)).float())
    # band-limited views: same frames, much less energy in the top mel bands (above 8 kHz)
    assert [f.shape for f in a.lowpassed] == [f.shape for f in a.feats["train"]]
    top = slice(37, 40)  # n_mels = 40 in judge-tiny: these bands lie above 8.1 kHz
    full = np.mean([f[top].astype(np.float32).mean() for f in a.feats["train"]])
    low = np.mean([f[top].astype(np.float32).mean() for f in a.lowpassed])
    assert low < full - 3.0  # natural log power: > 13 dB quieter


def _fresh(trainer: JudgeTrainer) -> torch.nn.Module:
    from mmgan.training.judge import build_judge

    torch.manual_seed(trainer.cfg.seed)
    return build_judge(trainer.cfg.model, trainer.genres, trainer.tags)


def test_resume_equals_uninterrupted_run(tiny_corpus, tmp_path):
    full = JudgeTrainer(_tiny_cfg(), tiny_corpus, tmp_path / "full", progress=False)
    full_summary = full.fit()
    part = JudgeTrainer(_tiny_cfg(), tiny_corpus, tmp_path / "part", progress=False)
    part.fit(stop_at=3)
    with open(tmp_path / "part" / "metrics.jsonl", "a") as fh:  # a line logged after the ckpt
        fh.write(json.dumps({"step": 4, "train/loss": 9.9}) + "\n")
    resumed = JudgeTrainer(_tiny_cfg(), tiny_corpus, tmp_path / "part", resume=True, progress=False)
    assert resumed.step == 3
    summary = resumed.fit()
    wf, wr = _weights(full.model), _weights(resumed.model)
    assert all(torch.equal(wf[k], wr[k]) for k in wf)
    assert summary["test"] == full_summary["test"] and summary["step"] == 6
    lines = [
        json.loads(ln) for ln in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()
    ]
    full_lines = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    assert lines == [json.loads(ln) for ln in full_lines]


def test_train_judge_exports_a_loadable_judge(tiny_corpus, tmp_path):
    summary = train_judge(
        TINY_CONFIG, tiny_corpus, tmp_path / "run", overrides=["steps=4"], progress=False
    )
    assert summary["step"] == 4 and set(summary["test"]) >= {"accuracy", "confusion", "tag_map"}
    judge = GenreJudge.from_pretrained(tmp_path / "run")
    report = evaluate_judge(judge, tiny_corpus, "test")
    g = len(judge.genres)
    assert report["split"] == "test" and np.array(report["confusion"]).shape == (g, g)
    assert sum(map(sum, report["confusion"])) == report["n"]
    fresh = evaluate_judge(judge, tiny_corpus, "test", cache=False)  # float32 features
    assert abs(fresh["tag_map"] - report["tag_map"]) < 0.02
    assert (tmp_path / "run" / "state.pt").is_file() and (
        tmp_path / "run" / "config.yaml"
    ).is_file()
    from mmgan.config import ConfigError

    with pytest.raises(ConfigError, match="unknown config key 'model.depth'"):
        train_judge(TINY_CONFIG, tiny_corpus, tmp_path / "x", overrides=["model.depth=3"])
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            train_judge(TINY_CONFIG, tiny_corpus, tmp_path / "y", overrides=["device=cuda"])


def test_mix_features_are_the_features_of_the_mixed_audio(tmp_path):
    from mmgan.audio.io import AudioError, save_wav
    from mmgan.eval.judge_features import mix_features

    kw = {**_judge().feature_kwargs}
    a, b = _tone(3.0, freq=220), 0.01 * _tone(2.5, freq=660, seed=1)  # b 40 dB quieter
    pa, pb = (
        save_wav(tmp_path / "a.wav", a, 22050, "FLOAT"),
        save_wav(tmp_path / "b.wav", b, 22050, "FLOAT"),
    )
    n = b.size  # the shorter clip's length; each scaled to the same RMS first
    rms = lambda z: np.sqrt(np.mean(z.astype(np.float64) ** 2))  # noqa: E731
    want = judge_features((0.3 * a[:n] / rms(a[:n]) + 0.7 * b / rms(b)).astype(np.float32), **kw)
    (got,) = mix_features([(pa, pb, 0.3)], kw)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    cached = mix_features([(pa, pb, 0.3)], kw, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache" / "mix").rglob("*.npy"))) == 1
    again = mix_features([(pa, pb, 0.3)], kw, cache_dir=tmp_path / "cache")  # read back
    np.testing.assert_array_equal(again[0], cached[0])
    other = mix_features([(pa, pb, 0.7)], kw, cache_dir=tmp_path / "cache")[0]  # its own entry
    assert len(list((tmp_path / "cache" / "mix").rglob("*.npy"))) == 2
    assert not np.allclose(other, got, atol=0.1)
    with pytest.raises(ValueError, match=r"mix weight must be in \(0, 1\), got 1.0"):
        mix_features([(pa, pb, 1.0)], kw)
    quiet = save_wav(tmp_path / "q.wav", np.zeros(22050, np.float32), 22050, "FLOAT")
    with pytest.raises(AudioError, match="q.wav is silent"):
        mix_features([(pa, quiet, 0.5)], kw)


def test_mix_pairs_join_different_genres():
    from mmgan.training.judge import eval_mix_pairs, mix_partners

    genre = np.array([0, 0, 1, 2, -1, 1, 2, 0])
    partner = mix_partners(genre, np.random.default_rng(0))
    assert partner[4] == -1  # unknown genre: no partner
    for i, j in enumerate(partner):
        if j >= 0:
            assert genre[j] >= 0 and genre[j] != genre[i]
    assert (mix_partners(np.zeros(4, int), np.random.default_rng(0)) == -1).all()  # one genre
    pairs = eval_mix_pairs(genre, 5)
    assert len(pairs) == 5 and pairs == eval_mix_pairs(genre, 5)  # seeded
    assert all(genre[i] != genre[j] and min(genre[i], genre[j]) >= 0 for i, j in pairs)
    assert len({i for i, _ in pairs}) == 5 and eval_mix_pairs(genre, 5, seed=1) != pairs
    assert len(eval_mix_pairs(genre, 100)) == 7


def test_evaluate_mixes_reads_the_two_genres_probabilities():
    from mmgan.training.judge import evaluate_mixes

    judge = _judge()
    feats = [judge_features(_tone(3.0, freq=f), n_mels=40) for f in (220, 330, 440)]
    genre = np.array([0, 1, 2])
    pairs = [(0, 1), (2, 0), (1, 2)]
    out = evaluate_mixes(judge, feats, genre, pairs)
    logits, _ = judge.heads(judge.embed_features(feats))
    probs = torch.softmax(logits.detach().double(), -1).numpy()
    pa = probs[[0, 1, 2], [0, 2, 1]]
    pb = probs[[0, 1, 2], [1, 0, 2]]
    assert out["n"] == 3
    assert out["min_p"] == pytest.approx(np.minimum(pa, pb).mean())
    assert out["share"] == pytest.approx((pa + pb).mean())
    assert out["both_ge_0.2"] == pytest.approx((np.minimum(pa, pb) >= 0.2).mean())
    top2 = [set(np.argsort(-probs[k])[:2]) for k in range(3)]
    want = [{0, 1}, {0, 2}, {1, 2}]
    assert out["top2"] == pytest.approx(np.mean([t == w for t, w in zip(top2, want, strict=True)]))
    assert evaluate_mixes(judge, [], genre, []) == {"n": 0}


def test_mix_training_targets_and_held_out_mix_scores(tiny_corpus, tmp_path):
    cfg = _tiny_cfg(steps=3, mix_p=1.0, mix_eval=4, lowpass_p=0)
    trainer = JudgeTrainer(cfg, tiny_corpus, tmp_path / "mix", progress=False)
    genre, tags = trainer.labels["train"]
    assert len(trainer.mixes) == len(trainer.mix_of) == len(genre)  # one mix per clip
    assert [m.shape[0] for m in trainer.mixes] == [f.shape[0] for f in trainer.feats["train"]]
    idx = trainer.batch_indices(0)
    x, mask, mixed = trainer.make_batch(idx, 0)
    assert [r for r, _, _ in mixed] == list(range(len(idx)))  # mix_p 1: every row
    probs, tag = trainer.targets(idx, mixed)
    eps, g = cfg.label_smoothing, len(trainer.genres)
    for r, partner, w in mixed:
        assert 0.25 <= w <= 0.75 and genre[partner] != genre[idx[r]]
        assert probs[r, genre[idx[r]]] == pytest.approx((1 - eps) * w + eps / g)
        assert probs[r, genre[partner]] == pytest.approx((1 - eps) * (1 - w) + eps / g)
        torch.testing.assert_close(tag[r], w * tags[idx[r]] + (1 - w) * tags[partner])
    torch.testing.assert_close(probs.sum(1), torch.ones(len(idx)))
    summary = trainer.fit()
    for split in ("val", "test"):
        mixes = summary[split]["mixes"]
        assert mixes["n"] == 4 and 0 <= mixes["min_p"] <= 0.5 and 0 <= mixes["share"] <= 1
    plain = JudgeTrainer(
        _tiny_cfg(steps=1, lowpass_p=0), tiny_corpus, tmp_path / "p", progress=False
    )
    plain_targets = plain.targets(idx, [])[0]  # no mixes: smoothed one-hot targets
    assert (plain_targets.argmax(1) == genre[idx]).all()
    x0, _, none = plain.make_batch(idx, 0)
    assert none == [] and not torch.equal(x0, x)
    for bad, message in (("mix_p=1.5", "mix_p must be in"), ("mix_weight=[0.0,0.5]", "mix_weight")):
        with pytest.raises(ValueError, match=message):
            JudgeTrainer(_tiny_cfg(**dict([bad.split("=")])), tiny_corpus, tmp_path / "b")


def test_mix_training_resumes_exactly(tiny_corpus, tmp_path):
    cfg = _tiny_cfg(mix_p=0.5, mix_eval=0)
    full = JudgeTrainer(cfg, tiny_corpus, tmp_path / "full", progress=False)
    full.fit()
    part = JudgeTrainer(cfg, tiny_corpus, tmp_path / "part", progress=False)
    part.fit(stop_at=3)
    resumed = JudgeTrainer(cfg, tiny_corpus, tmp_path / "part", resume=True, progress=False)
    resumed.fit()
    wf, wr = _weights(full.model), _weights(resumed.model)
    assert all(torch.equal(wf[k], wr[k]) for k in wf)
    lines = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    assert any(json.loads(ln)["train/mixed"] > 0 for ln in lines)


# ---------------------------------------------------------------------- the shipped judge


def test_shipped_judge_classifies_fresh_clips():
    from mmgan.data.clip import make_clip

    judge = load_judge()
    assert judge is load_judge("judge") and judge.num_parameters() < 2_000_000
    clips = [make_clip(g, 987654 + i, seconds=6.0) for i, g in enumerate(judge.genres)]
    out = judge.predict([c.audio for c in clips], clips[0].sr)
    predicted = [judge.genres[j] for j in out.genre_probs.argmax(1)]
    correct = sum(p == c.genre for p, c in zip(predicted, clips, strict=True))
    assert correct >= 8, list(zip([c.genre for c in clips], predicted, strict=True))
    from mmgan.audio.io import resample

    band_limited = judge.predict([resample(c.audio, c.sr, 16000) for c in clips], 16000)
    assert sum(band_limited.genre_probs.argmax(1) == out.genre_probs.argmax(1)) >= 8
    own = [judge.tags.index(c.genre) for c in clips]  # the genre name is also a tag
    assert np.mean(out.tag_scores[np.arange(len(clips)), own]) > 0.5
    alone = embed([clips[0].audio], clips[0].sr)  # batching changes only float rounding
    np.testing.assert_allclose(alone, out.embedding[:1], atol=1e-4)


def test_judge_shares_no_parameters_with_the_style_encoder():
    from mmgan.style.audio_encoder import StyleModel

    judge = load_judge()
    style = StyleModel.from_pretrained(ROOT / "mmgan" / "pretrained" / "style")
    ours = dict(judge.named_parameters())
    theirs = dict(style.named_parameters())
    assert not {(k, tuple(v.shape)) for k, v in ours.items()} & {
        (k, tuple(v.shape)) for k, v in theirs.items()
    }
    for name, p in ours.items():
        for other, q in theirs.items():
            if p.shape == q.shape:
                assert not torch.equal(p, q), f"{name} equals the style encoder's {other}"
    assert not any(isinstance(m, torch.nn.Conv2d) for m in judge.modules())  # other architecture
