"""FAD against pytorch-fid's reference implementation, known answers and FAD-infinity."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest
import torch

from mmgan.eval.fad import embedding_stats, fad, fad_at, fad_inf, frechet_distance

torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """One BLAS thread: on two shared CI cores OpenBLAS's second thread only spins."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _reference_fad(a: np.ndarray, b: np.ndarray) -> float:
    """pytorch-fid's ``calculate_frechet_distance`` on ``np.cov`` statistics (its own recipe)."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)  # the statistics we compute
    stats = [(x.mean(axis=0), np.cov(x, rowvar=False)) for x in (a, b)]
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it prints when it regularises; scipy warns
        return float(calculate_frechet_distance(*stats[0], *stats[1]))


@pytest.mark.parametrize(
    ("n", "dim"),
    [(300, 4), (200, 16), (100, 64), (40, 64), (20, 96), (12, 128)],  # last three: N < E
)
def test_matches_pytorch_fid_on_gaussians(n, dim):
    rng = np.random.default_rng(dim + n)
    a = rng.normal(size=(n, dim))
    b = rng.normal(0.2, 1.3, size=(n + 7, dim)) @ rng.normal(size=(dim, dim)) / np.sqrt(dim)
    ref = _reference_fad(a, b)
    assert fad(a, b) == pytest.approx(ref, rel=1e-6)
    assert fad(a, b, method="sqrtm") == pytest.approx(ref, rel=1e-12)
    assert ref > 0


@pytest.fixture(scope="module")
def real_embeddings(tiny_corpus):
    """Style-model embeddings ``[40, 384]`` and log-mel statistics ``[40, 160]`` of the tiny
    corpus, split into train clips and the rest."""
    from mmgan.audio.features import log_mel
    from mmgan.audio.io import load_audio
    from mmgan.data.corpus import read_metadata
    from mmgan.style.audio_encoder import StyleModel

    model = StyleModel.from_pretrained("mmgan/pretrained/style")
    rows = read_metadata(tiny_corpus)
    style, stats, train = [], [], []
    for r in rows:
        wave, sr = load_audio(tiny_corpus / r["file_name"], sr=None)
        style.append(model.embed_waveform(wave, sr)[0].numpy())
        mel = log_mel(wave, sr)
        stats.append(np.concatenate([mel.mean(axis=1), mel.std(axis=1)]))
        train.append(r["split"] == "train")
    train = np.array(train)
    return {"style": np.stack(style), "stats": np.stack(stats), "train": train}


def test_matches_pytorch_fid_on_real_embeddings(real_embeddings):
    """Log-mel statistics of real clips, 20 a side in 160-d (rank-deficient covariances)."""
    emb, train = real_embeddings["stats"], real_embeddings["train"]
    a, b = emb[train], emb[~train]
    assert len(a) == 20 and len(b) == 20
    ref = _reference_fad(a, b)
    assert ref > 0
    assert fad(a, b) == pytest.approx(ref, rel=5e-6)
    assert fad(a, b, method="sqrtm") == pytest.approx(ref, rel=1e-12)
    assert abs(fad(a, a)) < 1e-9 * ref


def test_style_embedding_fad_is_zero_on_itself_and_symmetric(real_embeddings):
    """The style model's 384-d audio embeddings (20 a side). pytorch-fid is not run here: its
    sqrtm of a singular 384 x 384 product takes ~10 s on a busy CI core."""
    emb, train = real_embeddings["style"], real_embeddings["train"]
    a, b = emb[train], emb[~train]
    d = fad(a, b)
    assert d > 0 and fad(b, a) == pytest.approx(d, rel=1e-9)
    assert abs(fad(a, a)) < 1e-9 * d
    assert fad(a, b[::-1]) == pytest.approx(d, rel=1e-9)  # order of clips does not matter


def test_default_differs_from_pytorch_fid_only_by_its_rounding(real_embeddings):
    """On 20 log-mel statistics in 160-d, pytorch-fid's Schur square root leaves ~3e-5 in the
    null space (its FAD(a, a) is that far from 0); the default is off from it by as much."""
    emb, train = real_embeddings["stats"], real_embeddings["train"]
    a, b = emb[train], emb[~train]
    ref_self = _reference_fad(a, a)
    assert abs(ref_self) > 1e3 * abs(fad(a, a))
    assert abs(fad(a, b) - _reference_fad(a, b)) < 3 * abs(ref_self)


def test_zero_on_identical_sets_symmetric_and_grows_with_mean_shift():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 12))
    y = rng.normal(size=(400, 12))
    assert abs(fad(x, x)) < 1e-8
    assert fad(x, y) == pytest.approx(fad(y, x), rel=1e-9)
    values = [fad(x, y + shift) for shift in (0.0, 0.25, 0.5, 1.0, 2.0)]
    assert values == sorted(values) and values[0] < 0.2 * values[-1]
    # a mean shift of d in every one of 12 dims adds about 12 d^2
    assert values[-1] - values[0] == pytest.approx(12 * 4.0, rel=0.1)


def test_known_answer_for_diagonal_gaussians():
    """For diagonal covariances FD = |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2."""
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-9)


def test_singular_product_is_regularised_like_pytorch_fid(monkeypatch):
    """A rank-1 ``s1``: ``s1 @ s2`` is singular. ``eigh`` needs no regularisation and gives
    the exact answer, 10 (``Tr sqrtm(s1 s2) = sqrt(v' s2 v) = 3``: 4 + 12 - 2 * 3); ``sqrtm``
    matches pytorch-fid. Whether scipy's ``sqrtm`` finds a finite root of this product depends
    on its version (1.17.1 does, with a warning), so the no-root case -- where both add
    eps * I to the covariances -- is made certain below by a ``sqrtm`` that finds none."""
    import scipy.linalg
    from pytorch_fid.fid_score import calculate_frechet_distance

    v = np.array([1.0, 1.0, -1.0, -1.0, 0.0])
    s1 = np.outer(v, v)
    s2 = np.array(
        [
            [2, -1, 0, 0, 0],
            [-1, 2, 0, 0, 2],
            [0, 0, 4, 1, -1],
            [0, 0, 1, 1, 0],
            [0, 2, -1, 0, 3],
        ],
        dtype=np.float64,
    )
    mu = np.zeros(5)

    def reference() -> tuple[float, str]:
        with contextlib.redirect_stdout(io.StringIO()) as printed, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = calculate_frechet_distance(mu, s1, mu, s2)
        return value, printed.getvalue()

    ref, _ = reference()  # whatever this scipy's sqrtm does
    assert frechet_distance(mu, s1, mu, s2, method="sqrtm") == pytest.approx(ref, rel=1e-12)
    assert frechet_distance(mu, s1, mu, s2) == pytest.approx(10.0, rel=1e-8)
    assert ref == pytest.approx(10.0, abs=0.02)

    real_sqrtm, product = scipy.linalg.sqrtm, s1 @ s2

    def no_root(a, *args, **kwargs):  # an older scipy's answer for the singular product
        out = real_sqrtm(a, *args, **kwargs)
        if not np.allclose(a, product):
            return out
        nan = np.full_like(out[0] if isinstance(out, tuple) else out, np.nan)
        return (nan, np.inf) if isinstance(out, tuple) else nan

    monkeypatch.setattr(scipy.linalg, "sqrtm", no_root)
    ref_eps, printed = reference()
    assert "singular product" in printed  # pytorch-fid took its regularised branch
    assert ref_eps != ref  # and eps * I moved the answer
    assert frechet_distance(mu, s1, mu, s2, method="sqrtm") == pytest.approx(ref_eps, rel=1e-12)
    assert ref_eps == pytest.approx(10.0, abs=0.02)  # eps = 1e-6 moves sqrt(.) by ~1e-3


def test_embedding_stats_shapes_and_dtype():
    emb = np.random.default_rng(1).normal(size=(10, 3)).astype(np.float32)
    mu, sigma = embedding_stats(emb)
    assert mu.shape == (3,) and sigma.shape == (3, 3)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(sigma, np.cov(emb.astype(np.float64), rowvar=False))
    mu1, sigma1 = embedding_stats(emb[:, :1])
    assert mu1.shape == (1,) and sigma1.shape == (1, 1)


def test_fad_inf_removes_small_sample_bias():
    rng = np.random.default_rng(3)
    ref = rng.normal(size=(20000, 16))
    gen = rng.normal(size=(2000, 16))
    out = fad_inf(gen, ref, sizes=[100, 200, 400, 800, 1600, 2000], seed=0)
    small = out["points"][0][1]
    assert [n for n, _ in out["points"]] == [100, 200, 400, 800, 1600, 2000]
    assert small > 0.5  # FAD of 100 clips from the very same Gaussian is clearly not 0
    assert abs(out["fad_inf"]) < 0.1 * small
    assert out["slope"] > 0 and out["r2"] > 0.9
    shifted = fad_inf(gen + 0.5, ref, sizes=[100, 200, 400, 800, 1600, 2000], seed=0)
    assert shifted["fad_inf"] == pytest.approx(16 * 0.25, abs=0.3)  # finite-sample means


def test_fad_inf_is_deterministic_in_seed():
    rng = np.random.default_rng(4)
    gen, ref = rng.normal(size=(200, 8)), rng.normal(size=(300, 8))
    a, b = fad_inf(gen, ref, seed=7), fad_inf(gen, ref, seed=7)
    assert a == b
    c = fad_inf(gen, ref, seed=8)
    assert c["points"] != a["points"]
    assert c["points"][-1] == pytest.approx(a["points"][-1], rel=1e-9)  # the whole set
    assert len(a["points"]) == 10 and a["points"][0][0] == 50


def test_fad_at_fixed_count():
    rng = np.random.default_rng(5)
    gen, ref = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    out = fad_at(gen, ref, n=50, trials=4, seed=1)
    assert out["n"] == 50 and out["trials"] == 4 and out["std"] > 0
    assert out == fad_at(gen, ref, n=50, trials=4, seed=1)
    assert fad_at(gen, ref, n=300, trials=4)["trials"] == 1


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        (np.full((5, 3), np.nan), np.zeros((5, 3)), "NaN"),
        (np.zeros(5), np.zeros((5, 3)), r"\[N, E\]"),
        (np.zeros((1, 3)), np.zeros((5, 3)), "N >= 2"),
        (np.ones((4, 3)), np.ones((4, 2)), "different sizes"),
    ],
)
def test_bad_embeddings_raise(a, b, match):
    with pytest.raises(ValueError, match=match):
        fad(a, b)


def test_bad_arguments_raise():
    rng = np.random.default_rng(6)
    gen, ref = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    with pytest.raises(ValueError, match="distinct sizes"):
        fad_inf(gen, ref, sizes=[10, 10])
    with pytest.raises(ValueError, match=r"\[2, 20\]"):
        fad_inf(gen, ref, sizes=[1, 10])
    with pytest.raises(ValueError, match="trials"):
        fad_inf(gen, ref, trials=0)
    with pytest.raises(ValueError, match="covariances must be"):
        frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    for method in ("eigh", "sqrtm"):
        with pytest.raises(ValueError, match="not positive semi-definite"):
            frechet_distance(
                np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2), method=method
            )
    with pytest.raises(ValueError, match="method"):
        fad(gen, ref, method="svd")
