"""Metrics: known answers on hand-made arrays, and the failure modes they must catch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmgan.eval import metrics
from mmgan.eval.copies import (
    copy_similarity,
    fingerprint,
    memorisation,
    nearest_neighbour_similarity,
)
from mmgan.eval.metrics import (
    MODE_COLLAPSE_RATIO,
    clap_score,
    conditioning_accuracy,
    diversity,
    diversity_ratio,
    hybrid_path,
    level_wobble,
    random_seam_ratio,
    seam_score,
    seam_scores,
)

torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """One BLAS thread: on two shared CI cores OpenBLAS's second thread only spins."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


SR = 22050


# --------------------------------------------------------------------------- known answers


def test_conditioning_accuracy_known_answer():
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.0, 0.1, 0.9]])
    out = conditioning_accuracy(probs, [0, 1, 2, 2], ["jazz", "metal", "folk"])
    assert out["accuracy"] == 0.75 and out["n"] == 4
    assert out["per_genre"] == {"jazz": 1.0, "metal": 1.0, "folk": 0.5}
    assert out["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]  # rows asked, columns heard
    by_name = conditioning_accuracy(
        probs, ["jazz", "metal", "folk", "folk"], ["jazz", "metal", "folk"]
    )
    assert by_name == out
    partial = conditioning_accuracy(probs[:2], [0, 0], ["jazz", "metal", "folk"])
    assert partial["per_genre"] == {"jazz": 0.5, "metal": None, "folk": None}


def test_clap_score_known_answer():
    audio = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    out = clap_score(np.array([1.0, 0.0]), audio)  # one prompt for every clip
    np.testing.assert_allclose(out["per_item"], [1.0, 0.0, np.sqrt(0.5)])
    assert out["mean"] == pytest.approx((1 + np.sqrt(0.5)) / 3)
    per = clap_score(np.array([[1.0, 0.0], [0.0, -3.0], [-1.0, -1.0]]), audio)
    np.testing.assert_allclose(per["per_item"], [1.0, -1.0, -1.0])


def test_diversity_known_answers():
    assert diversity(np.eye(3)) == pytest.approx(1.0)  # orthogonal: 1 - 0 for every pair
    e1 = np.array([1.0, 0.0])
    # pairs: (e1, e1) -> 0, (e1, -e1) -> 2 twice: mean 4 / 3; scale does not matter
    assert diversity(np.stack([e1, 3 * e1, -e1])) == pytest.approx(4 / 3)
    assert diversity(np.ones((5, 4))) == pytest.approx(0.0, abs=1e-12)
    out = diversity_ratio(np.ones((4, 3)) + [0, 0, 1e-3], np.eye(3))
    assert out["ratio"] < 1e-3 and out["collapsed"] and out["threshold"] == MODE_COLLAPSE_RATIO


def test_nearest_neighbour_similarity_known_answer():
    train = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    sim, idx = nearest_neighbour_similarity(np.array([[0.0, 2.0], [1.0, 0.1], [-1.0, -1.0]]), train)
    assert idx.tolist() == [1, 0, 2]
    np.testing.assert_allclose(sim, [1.0, 1 / np.sqrt(1.01), np.sqrt(0.5)])


def test_hybrid_path_monotone_flat_and_averaged():
    alphas = np.linspace(0, 1, 5)
    p_b = 0.1 + 0.8 * alphas
    out = hybrid_path(alphas, 1 - p_b, p_b)
    assert out["spearman_b"] == pytest.approx(1.0) and out["spearman_a"] == pytest.approx(-1.0)
    assert out["midpoint_share"] == pytest.approx(1.0)
    assert out["midpoint_balance"] == pytest.approx(1.0)
    flat = hybrid_path(alphas, np.full(5, 0.6), np.full(5, 0.3))
    assert flat["spearman_b"] == 0.0 and flat["spearman_a"] == 0.0
    assert flat["midpoint_share"] == pytest.approx(0.9) and flat["midpoint_balance"] == 0.5
    bump = hybrid_path(alphas, np.full(5, 0.5), [0.2, 0.4, 0.6, 0.4, 0.2])  # no trend
    assert bump["spearman_b"] == pytest.approx(0.0, abs=1e-12)
    samples = np.stack([p_b - 0.05, p_b + 0.05, p_b], axis=1)  # [K, n]: averaged first
    assert hybrid_path(alphas, 1 - samples, samples) == pytest.approx(out)


# --------------------------------------------------------------------------- memorisation


@pytest.fixture(scope="module")
def corpus_fp(tiny_corpus):
    """Fingerprints of the tiny corpus by split, the training waves, and copies of them."""
    from mmgan.audio.io import load_audio
    from mmgan.data.corpus import read_metadata

    rows = read_metadata(tiny_corpus)
    waves = {s: [] for s in ("train", "val", "test")}
    for r in rows:
        waves[r["split"]].append(load_audio(tiny_corpus / r["file_name"], sr=None)[0])
    shift = int(0.5 * SR)  # the copier: 0.5 s later (zero-padded start), 6 dB quieter
    copies = [
        0.5 * np.concatenate([np.zeros(shift, np.float32), w[:-shift]]) for w in waves["train"]
    ]
    fps = {s: fingerprint(w, SR) for s, w in waves.items()}
    return fps | {"copies": fingerprint(copies, SR), "train_waves": waves["train"]}


def test_fingerprint_shape_and_gain_invariance(corpus_fp):
    fp = corpus_fp["train"]
    assert fp.shape == (20, 32, 1034) and fp.dtype == np.float32  # 6 s at 5.8 ms hops
    wave = corpus_fp["train_waves"][0]
    quiet, loud = fingerprint([0.25 * wave, 2.0 * wave], SR)
    np.testing.assert_allclose(loud - quiet, np.log(8.0), atol=1e-3)  # a gain adds a constant
    resampled = fingerprint([wave[::2]], SR // 2)  # another rate comes back at 22 050 Hz
    assert resampled.shape[1:] == (32, 1034)


def test_memorisation_flags_copies_of_training_clips(corpus_fp):
    fps = corpus_fp
    copied = memorisation(fps["copies"], fps["train"], fps["val"])
    assert copied["method"] == "fingerprint"
    assert copied["copy_rate"] == 1.0
    assert copied["index"] == list(range(20))  # each copy points at its source
    assert min(copied["similarity"]) > 0.97
    _, _, shift = copy_similarity(fps["copies"], fps["train"])
    np.testing.assert_allclose(shift, 0.5, atol=0.02)
    real = memorisation(fps["test"], fps["train"], fps["val"])  # calibrated on val
    assert real["copy_rate"] <= 0.2
    assert real["threshold"] < min(copied["similarity"]) - 0.02
    assert real["threshold"] == pytest.approx(np.percentile(
        copy_similarity(fps["val"], fps["train"])[0], 99))  # fmt: skip


def test_memorisation_on_embeddings_uses_cosine():
    rng = np.random.default_rng(0)
    train, real = rng.normal(size=(30, 8)), rng.normal(size=(30, 8))
    gen = np.concatenate([train[:5] * 2.0, rng.normal(size=(5, 8))])  # 5 copies, 5 new
    out = memorisation(gen, train, real)
    assert out["method"] == "cosine"
    assert out["flagged"][:5] == [0, 1, 2, 3, 4] and out["index"][:5] == [0, 1, 2, 3, 4]
    assert 0.5 <= out["copy_rate"] <= 0.6


# --------------------------------------------------------------------------- diversity


def test_diversity_flags_one_clip_for_every_prompt():
    """Style embeddings: new clips of a genre vary like real ones; a generator that returns
    one clip (at slightly different gains) for every prompt does not."""
    from mmgan.data.clip import make_clip
    from mmgan.eval.embedders import get_embedder

    style = get_embedder("style")
    real = style.embed([make_clip("jazz", 200 + i, seconds=3.0).audio for i in range(6)], SR)
    fresh = style.embed([make_clip("jazz", 300 + i, seconds=3.0).audio for i in range(6)], SR)
    one = make_clip("jazz", 200, seconds=3.0).audio
    collapsed = style.embed([one * g for g in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)], SR)
    ok, bad = diversity_ratio(fresh, real), diversity_ratio(collapsed, real)
    assert not ok["collapsed"] and 0.6 < ok["ratio"] < 1.6
    assert bad["collapsed"] and bad["ratio"] < 0.1 < ok["ratio"] - 0.5


# --------------------------------------------------------------------------- seams


def test_seam_score_tone_known_cases():
    t = np.arange(4 * SR) / SR
    steady = 0.3 * np.sin(2 * np.pi * 440 * t)
    assert seam_score(steady, SR, [1.3, 2.7])["ratio"] == pytest.approx(1.0, abs=0.2)
    switched = np.where(t < 2.0, steady, 0.3 * np.sin(2 * np.pi * 1500 * t))
    out = seam_score(switched, SR, [2.0])
    assert out["ratio"] > 10 and out["boundary_flux"] > out["other_flux"]
    # several boundary sets, one mel: each equals its own seam_score
    both = seam_scores(switched, SR, [[2.0], [1.3, 2.7]])
    assert both == [out, seam_score(switched, SR, [1.3, 2.7])]
    with pytest.raises(ValueError, match="inside"):
        seam_scores(switched, SR, [[2.0], [5.0]])
    # random points rarely land on the switch; the same generator, the same ratios
    rand = random_seam_ratio(switched, SR, 1, np.random.default_rng(0), draws=6)
    assert len(rand) == 6 and np.median(rand) < 3 < out["ratio"]
    assert rand == random_seam_ratio(switched, SR, 1, np.random.default_rng(0), draws=6)


def test_seam_score_on_real_clips(corpus_fp, tiny_corpus):
    """Contiguous clips split anywhere score ~1; joins of clips of different genres do not."""
    from mmgan.audio.io import load_audio
    from mmgan.data.corpus import read_metadata

    rows = [r for r in read_metadata(tiny_corpus) if r["split"] == "train"]
    first = {}
    for r in rows:  # one clip per genre
        first.setdefault(r["genre"], load_audio(tiny_corpus / r["file_name"], sr=None)[0])
    clips = list(first.values())
    rng = np.random.default_rng(0)
    seamless = [seam_score(c, SR, np.sort(rng.uniform(0.5, 5.5, 3)))["ratio"] for c in clips]
    cuts = []
    for i in range(len(clips)):
        parts = [clips[(i + k) % len(clips)][k * 2 * SR : (k + 1) * 2 * SR] for k in range(3)]
        cuts.append(seam_score(np.concatenate(parts), SR, [2.0, 4.0])["ratio"])
    assert 0.6 < np.median(seamless) < 1.6
    assert np.median(cuts) > 2.0 and min(cuts) > 1.2
    assert np.median(cuts) > 2 * np.median(seamless)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: diversity(np.ones((1, 3))), "N >= 2"),
        (lambda: diversity(np.full((3, 3), np.nan)), "NaN"),
        (lambda: diversity(np.ones(3)), r"2-D array \[N, D\]"),
        (lambda: diversity(np.zeros((3, 2))), "all-zero rows"),
        (lambda: conditioning_accuracy(np.ones((2, 3)), [0, 1], ["a", "b"]), "3 columns"),
        (lambda: conditioning_accuracy(np.ones((2, 2)), [0, 5], ["a", "b"]), "indices"),
        (lambda: conditioning_accuracy(np.ones((2, 2)), ["a", "c"], ["a", "b"]), r"\['c'\]"),
        (lambda: conditioning_accuracy(np.ones((2, 2)), [0], ["a", "b"]), r"\[N\] = \[2\]"),
        (lambda: clap_score(np.ones(3), np.ones((2, 4))), "3-d"),
        (lambda: clap_score(np.ones((3, 2)), np.ones((2, 2))), "give 1 or N = 2"),
        (lambda: nearest_neighbour_similarity(np.ones((2, 3)), np.ones((2, 4))), "3-d"),
        (lambda: hybrid_path([0, 1], [0.1, 0.2], [0.9, 0.8]), "K >= 3"),
        (lambda: hybrid_path([0, 0.5, 1], [0.1, 0.2], [0.9, 0.8, 0.7]), "p_a must be"),
        (lambda: hybrid_path([0, 0.5, 1], [0.1, np.nan, 0.2], [0.9, 0.8, 0.7]), "NaN"),
        (lambda: seam_score(np.ones((2, 100)), SR, [0.001]), "mono"),
        (lambda: seam_score(np.full(SR, np.nan), SR, [0.5]), "NaN"),
        (lambda: seam_score(np.ones(SR), SR, [1.5]), r"inside \(0, 1.000\)"),
        (lambda: seam_score(np.ones(SR // 10), SR, [0.05]), "too little audio"),
        (lambda: fingerprint(np.ones(SR), SR), "list of clips"),
        (lambda: fingerprint([np.ones(SR), np.ones(SR // 2)], SR), "seconds="),
        (lambda: fingerprint([np.full(SR, np.nan)], SR), "clip 0"),
        (lambda: copy_similarity(np.ones((2, 16, 50)), np.ones((2, 32, 50))), r"\[N, 32"),
        (lambda: memorisation(np.ones((2, 4)), np.ones((2, 32, 50)), np.ones((2, 4))), "all be"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_fingerprint_seconds_pads_and_crops():
    fp = fingerprint([np.ones(SR), 0.5 * np.ones(SR // 2)], SR, seconds=0.75)
    assert fp.shape == (2, 32, 1 + int(0.75 * SR) // 128)


def test_metrics_still_exports_the_copy_detection_functions():
    for name in ("fingerprint", "copy_similarity", "memorisation", "nearest_neighbour_similarity"):
        assert name in metrics.__all__
    assert metrics.fingerprint is fingerprint and metrics.memorisation is memorisation


def test_level_wobble_measures_how_far_the_loudness_moves():
    t = np.arange(SR * 4) / SR
    tone = np.sin(2 * np.pi * 220 * t)
    assert level_wobble(tone) < 0.05  # steady
    assert level_wobble(0.01 * tone) == pytest.approx(level_wobble(tone), abs=1e-6)  # any level
    step = tone.copy()
    step[len(step) // 2 :] *= 2.0  # +6.02 dB half way: two equal halves, std 3.01 dB
    assert level_wobble(step) == pytest.approx(3.01, abs=0.1)
    pumping = tone * (1.0 + 0.5 * np.sin(2 * np.pi * 0.5 * t))  # a slow 0.5 Hz swell
    assert 2.0 < level_wobble(pumping) < level_wobble(tone * (1.0 + 0.9 * np.sin(np.pi * t)))
    pause = tone.copy()
    pause[:SR] = 0.0  # digital silence counts, floored 120 dB under the loudest frame
    assert np.isfinite(level_wobble(pause)) and level_wobble(pause) > 10


@pytest.mark.parametrize(
    ("wave", "message"),
    [
        (np.zeros((2, SR)), "one mono clip"),
        (np.ones(100), "at least 2048 samples"),
        (np.r_[np.ones(SR), np.nan], "NaN"),
        (np.zeros(SR), "silent"),
    ],
)
def test_level_wobble_refuses_bad_clips(wave, message):
    with pytest.raises(ValueError, match=message):
        level_wobble(wave)
