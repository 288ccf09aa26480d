"""run_eval / write_report / eval_command on the tiny corpus with the reference generators."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import torch

from mmgan.eval.generators import (
    CopyTrainGenerator,
    NoiseGenerator,
    OneClipGenerator,
    RealBaseline,
)
from mmgan.eval.report import eval_command, jsonable, prompt_seed, run_eval, slerp, write_report

torch.set_num_threads(1)
GENRES = ["techno", "jazz"]
# the tiny corpus has one test clip per genre: val + test give two, so diversity is defined
FAST = dict(
    seconds=3.0,
    genres=GENRES,
    reference_splits=("val", "test"),
    progress=False,
)


@pytest.fixture(scope="module")
def models():
    """The shipped style space and judge."""
    from mmgan.eval.classifier import load_judge
    from mmgan.style.space import StyleSpace

    return StyleSpace.from_pretrained(), load_judge(None)


@pytest.fixture(scope="module")
def baseline_report(tiny_corpus, models):
    space, judge = models
    gen = RealBaseline(tiny_corpus, space=space, top_k=2)
    return run_eval(
        gen,
        tiny_corpus,
        n_per_prompt=3,
        hybrid_pairs=1,
        hybrid_steps=3,
        long_seconds=6.0,
        symbolic=True,
        judge=judge,
        **FAST,
    )


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, float):
        yield obj


def test_prompt_seed_and_slerp():
    assert prompt_seed(0, 1) == prompt_seed(0, 1) != prompt_seed(0, 2) != prompt_seed(1, 1)
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    torch.testing.assert_close(slerp(a, b, 0.0), a)
    torch.testing.assert_close(slerp(a, b, 1.0), b)
    half = slerp(a, b, 0.5)
    torch.testing.assert_close(half, torch.tensor([1.0, 1.0]) / math.sqrt(2))
    assert float(half.norm()) == pytest.approx(1.0)


def test_report_has_every_section(baseline_report):
    r = baseline_report
    assert set(r) >= {"config", "summary", "real", "model", "symbolic", "timings", "notes"}
    cfg = r["config"]
    assert cfg["model"] == "real-baseline" and cfg["genres"] == GENRES and cfg["seed"] == 0
    assert cfg["n_per_prompt"] == 3 and cfg["mmgan_version"] and cfg["prompt_seeds"]
    for block in (r["real"], r["model"]):
        assert set(block) >= {"judge", "clap", "fad", "diversity", "memorisation"}
        assert set(block["fad"]) == {"style", "judge"}
        assert set(block["judge"]["per_genre"]) == set(GENRES)
        conf = np.asarray(block["judge"]["confusion"]["matrix"])
        assert conf.shape == (len(GENRES), len(block["judge"]["confusion"]["columns"]))
    assert r["model"]["clips"] == 6 and r["real"]["counts"] == {"train": 4, "test": 4}
    hyb = r["model"]["hybrid"]["pairs"]
    assert len(hyb) == 1 and len(hyb[0]["alphas"]) == 3 and len(hyb[0]["p_a"]) == 3
    assert {"spearman_a", "spearman_b", "midpoint_share", "midpoint_balance"} <= set(hyb[0])
    assert "segment_seconds" in r["model"]["seam"]["skipped"]  # real clips have no seams
    assert set(r["symbolic"]["genres"]) == set(GENRES)
    assert [row["metric"] for row in r["summary"]][:2] == [
        "conditioning accuracy (judge)",
        "CLAP-style score",
    ]


def test_report_numbers_are_finite_and_plausible(baseline_report):
    plain = jsonable({k: baseline_report[k] for k in ("real", "model")})
    for side in ("real", "model"):
        block = plain[side]
        assert 0.0 <= block["judge"]["accuracy"] <= 1.0
        assert -1.0 <= block["clap"]["mean"] <= 1.0
        for f in block["fad"].values():
            assert f["fad"] is not None and f["fad"] >= 0.0
        assert 0.0 <= block["memorisation"]["copy_rate"] <= 1.0
    nums = list(_numbers(plain["model"]))
    assert nums and all(math.isfinite(x) for x in nums)


def test_real_baseline_sits_near_the_real_reference(baseline_report):
    real, model = baseline_report["real"], baseline_report["model"]
    chance = 1.0 / len(GENRES)
    assert real["judge"]["accuracy"] > chance and model["judge"]["accuracy"] > chance
    assert abs(model["judge"]["accuracy"] - real["judge"]["accuracy"]) <= 0.35
    # real clips of the prompted genre: as close to the prompt as held-out real clips
    assert abs(model["clap"]["mean"] - real["clap"]["mean"]) < 0.15


def _sanity(gen, tiny_corpus, models, **kw):
    """A quick report: two genres, the judge's embedding only, no hybrids or symbolic table."""
    space, judge = models
    settings = FAST | dict(n_per_prompt=3, genres=GENRES, embedders=("judge",))
    settings |= dict(hybrid_pairs=0, symbolic=False, judge=judge, space=space)
    return run_eval(gen, tiny_corpus, **(settings | kw))


def test_copy_train_is_caught_by_the_copy_rate(tiny_corpus, models):
    gen = CopyTrainGenerator(tiny_corpus, space=models[0], top_k=2)
    rep = _sanity(gen, tiny_corpus, models)
    assert rep["model"]["memorisation"]["copy_rate"] >= 0.8
    # held-out clips against the 99th percentile of themselves: at most the single top one
    assert rep["real"]["memorisation"]["copy_rate"] <= 1 / rep["real"]["counts"]["test"]


def test_one_clip_collapses_diversity(tiny_corpus, models):
    rep = _sanity(OneClipGenerator(tiny_corpus), tiny_corpus, models)
    for name, div in rep["model"]["diversity"].items():
        assert div["mean_ratio"] < 0.2, name
        assert rep["real"]["diversity"][name]["mean_ratio"] > 0.3, name


class Stitched(NoiseGenerator):
    """Tracks of 2 s segments whose noise colour flips at every join: audible seams."""

    name = "stitched"
    segment_seconds = 2.0

    def generate(self, style, *, seed, seconds):
        out = super().generate(style, seed=seed, seconds=seconds)
        seg = round(self.segment_seconds * self.sample_rate)
        brown = NoiseGenerator(self.sample_rate, exponent=2.0).generate(
            style, seed=seed, seconds=seconds
        )
        for start in range(seg, out.shape[1], 2 * seg):
            out[:, start : start + seg] = brown[:, start : start + seg]
        return out


def test_same_arguments_same_numbers_and_seams(tiny_corpus, models):
    kw = dict(n_per_prompt=2, long_seconds=6.0)
    a = jsonable(_sanity(Stitched(), tiny_corpus, models, **kw))
    b = jsonable(_sanity(Stitched(), tiny_corpus, models, **kw))
    a.pop("timings"), b.pop("timings")
    assert a == b
    seam = a["model"]["seam"]
    assert seam["boundaries_s"] == [2.0, 4.0] and set(seam["per_genre"]) == set(GENRES)
    assert seam["mean_ratio"] > 2.0  # hard cuts between white and brown noise
    assert a["summary"][-1]["metric"] == "seam flux ratio"
    two = jsonable(_sanity(Stitched(), tiny_corpus, models, seam_tracks=2, **kw))["model"]["seam"]
    assert all(v["tracks"] == 2 and v["ratio"] > 2.0 for v in two["per_genre"].values())
    for v in seam["per_genre"].values():  # random points rarely land on a cut
        assert v["ratio_random"] < v["ratio"] / 1.5
        assert "grid_on" not in v  # no coordinate-latent grid to report


class GriddedStitched(Stitched):
    """The same cuts at 2 and 4 s, reported as anchors every 1 s."""

    anchor_seconds = 1.0


def test_seams_report_the_generator_grid(tiny_corpus, models):
    seam = _sanity(GriddedStitched(), tiny_corpus, models, n_per_prompt=2, long_seconds=6.0)
    for v in seam["model"]["seam"]["per_genre"].values():
        assert v["grid_on"] > 1.5 * v["grid_between"]  # the cuts sit on anchors 2 and 4


def test_write_report_json_and_html(tmp_path, baseline_report):
    plain = write_report(baseline_report, tmp_path / "r.json", tmp_path / "r.html")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data == json.loads(json.dumps(plain)) and "_audio" not in data
    assert data["config"]["model"] == "real-baseline"
    page = (tmp_path / "r.html").read_text()
    assert "<table" in page and "conditioning accuracy (judge)" in page
    assert len(re.findall(r"<img [^>]*src=['\"]data:image/png;base64,", page)) >= 5
    sources = re.findall(r"<audio controls[^>]*src='([^']+)'", page)
    assert len(sources) == len(GENRES) * 3  # 2 model clips + 1 real clip per genre
    for src in sources:
        assert src.startswith("r_audio/") and (tmp_path / src).is_file()
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_html_escapes_text(tmp_path, baseline_report):
    evil = dict(baseline_report, notes=["<script>alert(1)</script>"])
    write_report(evil, tmp_path / "e.json", tmp_path / "e.html")
    page = (tmp_path / "e.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_bad_arguments_are_named(tiny_corpus, tmp_path, models):
    gen = NoiseGenerator()
    with pytest.raises(FileNotFoundError, match="metadata.jsonl"):
        run_eval(gen, tmp_path, progress=False)
    with pytest.raises(ValueError, match="n_per_prompt"):
        run_eval(gen, tiny_corpus, n_per_prompt=1, judge=models[1], progress=False)
    with pytest.raises(ValueError, match="polka"):
        _sanity(gen, tiny_corpus, models, genres=["polka"])


def test_broken_generator_output_is_reported(tiny_corpus, models):
    class Silent(NoiseGenerator):
        name = "silent"

        def generate(self, style, *, seed, seconds):
            return np.zeros((style.shape[0], round(seconds * self.sample_rate)), np.float32)

    class Short(NoiseGenerator):
        name = "short"

        def generate(self, style, *, seed, seconds):
            return super().generate(style, seed=seed, seconds=seconds / 2)

    with pytest.raises(ValueError, match="'silent' returned silent clips"):
        _sanity(Silent(), tiny_corpus, models)
    with pytest.raises(
        ValueError, match=r"'short' returned \(3, 33075\) for 'a techno track'.*\[3, 66150\]"
    ):
        _sanity(Short(), tiny_corpus, models)


def test_eval_command_errors(tmp_path, tiny_corpus):
    with pytest.raises(FileNotFoundError, match="no corpus"):
        eval_command(
            "noise", tmp_path / "nowhere", tmp_path / "o.json", None, 2, 1.0, 0, None, True
        )
    with pytest.raises(ValueError, match="unknown generator"):
        eval_command("gan", tiny_corpus, tmp_path / "o.json", None, 2, 1.0, 0, None, True)
    assert not (tmp_path / "o.json").exists()


def test_eval_command_writes_json_and_html(tmp_path, tiny_corpus):
    out, page = tmp_path / "eval" / "e.json", tmp_path / "eval" / "e.html"
    plain = eval_command("one-clip", tiny_corpus, out, page, 2, 2.0, 0, ["techno", "jazz"], True)
    data = json.loads(out.read_text())
    assert data == json.loads(json.dumps(plain)) and data["html"] == str(page)
    cfg = data["config"]
    assert cfg["model"] == "one-clip" and cfg["real_per_genre"] == 10 and not cfg["symbolic"]
    assert len(data["model"]["hybrid"]["pairs"]) == 1  # fast: one pair of three alphas
    assert data["model"]["judge"]["accuracy"] == 0.0  # one ambient clip for every prompt
    assert len(list((tmp_path / "eval" / "e_audio").glob("*.wav"))) == 2 * 2 + 2
