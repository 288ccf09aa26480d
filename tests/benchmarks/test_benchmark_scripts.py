"""The benchmark scripts run in their fastest mode on a tiny GAN run
and print JSON whose checks carry finite values and pass/fail booleans (the tiny model
fails the targets; only the shape of the output is asserted)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # each script loads the style space in fresh interpreters


def run_script(name: str, *args: str, out: Path) -> dict:
    env = os.environ | {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, str(ROOT / "benchmarks" / name), *args, "--out", str(out)]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    printed = json.loads(res.stdout)
    assert json.loads(out.read_text()) == printed
    return printed


def assert_checks(result: dict, names: list[str]) -> None:
    checks = result["checks"]
    for name in names:
        assert name in checks, f"missing check {name}: {sorted(checks)}"
    for name, c in checks.items():
        assert set(c) == {"value", "op", "target", "passed"}, name
        assert isinstance(c["value"], float) and math.isfinite(c["value"]), (name, c)
        assert isinstance(c["target"], float) and isinstance(c["passed"], bool), (name, c)
    assert result["passed"] == all(c["passed"] for c in checks.values())


def finite(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def test_quality_fast(tiny_gan_run, tiny_corpus, tmp_path):
    # the tiny corpus has one test clip per genre: val + test give two for diversity
    args = ["--model", str(tiny_gan_run), "--data", str(tiny_corpus), "--split", "val,test"]
    args += ["--fast", "--seconds", "2", "--genres", "baroque", "--threads", "1"]  # < 60 s
    r = run_script("quality.py", *args, out=tmp_path / "quality.json")
    pairs = ["baroque_idm", "jazz_metal", "folk_ambient", "hiphop_symphonic"]
    names = ["conditioning_accuracy", "conditioning_vs_real", "diversity_min_ratio"]
    names += [f"hybrid_{p}_{k}" for p in pairs for k in ("spearman_b", "midpoint_min_p")]
    assert_checks(r, [*names, "seam_vs_real_max"])
    assert r["genres"] == ["baroque"] and r["fast"] is True
    for emb in ("style", "judge"):
        fad = r["fad"][emb]
        assert all(finite(fad[k]) for k in ("model_vs_split", "real_train_vs_split"))
        assert all(finite(v["ratio"]) for v in r["diversity"][emb]["per_genre"].values())
    assert [(p["a"], p["b"]) for p in r["hybrids"]["pairs"]] == [tuple(p.split("_")) for p in pairs]
    for p in r["hybrids"]["pairs"]:
        assert len(p["p_a"]) == len(p["p_b"]) == len(r["hybrids"]["alphas"]) == 3
        assert all(0.0 <= v <= 1.0 for v in p["p_a"] + p["p_b"])
        shares = p["judge_share_a"] + p["judge_share_b"]
        assert all(0.0 <= v <= 1.0 for v in shares)  # shares of the clips the judge names
        named = zip(p["judge_share_a"], p["judge_share_b"], strict=True)
        assert all(x + y <= 1.0 for x, y in named)
        assert 0.0 <= p["midpoint_clip_min_p_max"] <= 0.5  # the min of two of a softmax
        assert 0.0 <= p["ends_mix_p_a"] <= 1.0 and 0.0 <= p["ends_mix_p_b"] <= 1.0
        assert p["ends_mix_min_p"] == min(p["ends_mix_p_a"], p["ends_mix_p_b"])
        other, p_other = p["midpoint_other"]
        assert other not in (p["a"], p["b"]) and 0.0 <= p_other <= 1.0
        assert all(-1.0 <= v <= 1.0 for v in p["style_cos_a"] + p["style_cos_b"])
        for key in ("judge_crossing_alpha", "style_crossing_alpha"):
            assert p[key] is None or 0.0 <= p[key] <= 1.0
    seam = r["seam"]
    assert seam["track_seconds"] > seam["segment_seconds"] and seam["boundaries_s"]
    assert all(finite(v["model"]) and finite(v["real"]) for v in seam["per_genre"].values())
    for v in seam["per_genre"].values():  # the same tracks at random points and on the grid
        assert finite(v["random_vs_real"]) and finite(v["grid_on"]) and finite(v["grid_between"])


def test_crossing_finds_where_one_reading_passes_the_other():
    crossing = _bench("quality").crossing
    alphas = [0.0, 0.25, 0.5, 0.75, 1.0]
    # B - A: -0.2 at 0.5, +0.6 at 0.75 -> a quarter of the way
    assert crossing(alphas, [0.9, 0.8, 0.6, 0.2, 0.1], [0.1, 0.2, 0.4, 0.8, 0.9]) == 0.5625
    assert crossing(alphas, [0.9] * 5, [0.1, 0.2, 0.3, 0.4, 0.5]) is None  # never passes
    assert crossing(alphas, [0.1] * 5, [0.9] * 5) is None  # B ahead from the start
    assert crossing(alphas, [0.5, 0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.6, 0.7, 0.8]) == 0.25


@pytest.mark.parametrize("flag, value", [("--seam-tracks", "0"), ("--n", "1"), ("--alphas", "2")])
def test_quality_rejects_too_few(flag, value):
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "quality.py"
    out = subprocess.run([sys.executable, str(script), flag, value], capture_output=True, text=True)
    assert out.returncode == 2 and f"{flag} must be at least" in out.stderr


def test_speed_fast(tiny_gan_run, tmp_path):
    args = ["--model", str(tiny_gan_run), "--seconds", "3", "--repeats", "1", "--warmup", "0"]
    r = run_script("speed.py", *args, "--threads", "1", out=tmp_path / "speed.json")
    assert_checks(r, ["generator_x_realtime", "load_s", "peak_rss_mb"])
    assert set(r["end_to_end"]["timings_s"]) == {"style_s", "generator_s", "render_s", "describe_s"}
    fresh = r["fresh_process"]
    for key in ("import_s", "load_s", "generate_s", "peak_rss_mb"):
        assert finite(fresh[key]) and fresh[key] > 0, key
    for block in (r["generator"], r["end_to_end"], r["baseline_griffin_lim"], r["ratios"]):
        assert all(finite(v) for v in block.values() if not isinstance(v, str | list | dict))
    assert r["baseline_griffin_lim"]["seconds_s"] > 0


def test_symbolic_fast(tiny_symbolic_run, tiny_corpus, tmp_path):
    args = ["--model", str(tiny_symbolic_run), "--data", str(tiny_corpus)]
    args += ["--fast", "--threads", "1", "--no-quantise"]
    r = run_script("symbolic.py", *args, out=tmp_path / "sym.json")
    assert r["split"] == "val,test"  # held out by default
    assert r["decoding"] == {
        "rest_head": True,
        "presence": 0.0,
        "groove_head": False,
        "voice_head": True,
        "figure_head": True,
        "key_head": True,
        "share_head": True,
    }
    assert all(r["reference_clips"][g] >= 2 for g in r["genres"])  # tiny: one val + one test
    ceiling = r["real_ceiling"]
    assert ceiling["reps"] == 20 and ceiling["n_per_genre"] == 2
    assert 0 <= ceiling["genres_within_min"] <= ceiling["genres_within_mean"] <= 2
    assert 0 <= ceiling["share_reaching_target"] <= 1
    for genre, misses in ceiling["miss_rate"].items():
        assert genre in r["genres"] and all(0 < v <= 1 for v in misses.values())
    names = ["genres_within_metrics", "conditioning_accuracy", "diversity_min_ratio"]
    assert_checks(r, [*names, "seconds_60s_with_stems"])
    assert len(r["genres"]) == 2 and r["fast"] is True
    for genre in r["genres"]:
        block = r["per_genre"][genre]
        assert len(block["metrics"]) == 8 and 0 <= block["judge_accuracy"] <= 1
        assert sum(finite(m["real"]) for m in block["metrics"].values()) >= 6
    assert r["speed"]["stems"] and all(s.endswith(".mid") for s in r["speed"]["stems"])
    for genre in r["genres"]:
        change = r["per_genre"][genre]["bar_change"]
        assert set(change) == {"model", "real"}
        assert all(v is None or 0 <= v <= 2 for v in change.values())
        keys = r["per_genre"][genre]["keys"]
        for side in ("model", "real"):  # tonic shares: a histogram over 12 (or none read)
            assert len(keys[side]) == 12 and sum(keys[side]) in (0, pytest.approx(1.0))
        assert sum(keys["real"]) == pytest.approx(1.0)  # tiny's clips all have pitched notes
        assert keys["tv_distance"] is None or 0 <= keys["tv_distance"] <= 1
        for name in ("audio_tonic_agrees", "audio_tonic_agrees_real", "tv_distance_real_draws"):
            assert keys[name] is None or 0 <= keys[name] <= 1


def _bench(name: str = "symbolic"):
    """A benchmark script as a module (its sibling imports resolve as when run)."""
    spec = importlib.util.spec_from_file_location(
        f"{name}_bench", ROOT / "benchmarks" / f"{name}.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec.loader.exec_module(bench)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return bench


def test_symbolic_refuses_bad_arguments_before_loading(capsys):
    bench = _bench()
    for args, message in (
        (["--split", "val,train"], "held-out splits"),
        (["--split", "nope"], "unknown split"),
        (["--n", "0"], "--n and --reps must be >= 1"),  # 0 is not "the default"
        (["--reps", "0"], "--n and --reps must be >= 1"),
    ):
        with pytest.raises(SystemExit) as err:
            bench.main([*args, "--fast"])
        assert err.value.code == 2
        assert message in capsys.readouterr().err


def test_real_ceiling_counts_genres_real_clips_get_within():
    bench = _bench()
    eight = len(bench.EIGHT)
    same = [[0.5] * eight for _ in range(6)]
    reference = {g: dict.fromkeys(bench.EIGHT, 0.5) for g in ("a", "b")}
    # clips equal to the reference: every draw gets both genres within
    r = bench.real_ceiling({"a": same, "b": same}, reference, 3, 10, 2.0, 0)
    assert r["genres_within_mean"] == 2 and r["share_reaching_target"] == 1 and not r["miss_rate"]
    # genre b's first metric is 0.5 in half its clips and 1.0 in the rest: draws of 2 miss it
    # unless both picks are 0.5 clips; with 6 clips (3 + 3) that is 3/15 of the pairs
    mixed = [[0.5 if i < 3 else 1.0] + [0.5] * (eight - 1) for i in range(6)]
    r = bench.real_ceiling({"a": same, "b": mixed}, reference, 2, 400, 2.0, 1)
    miss = r["miss_rate"]["b"][bench.EIGHT[0]]
    assert set(r["miss_rate"]) == {"b"} and set(r["miss_rate"]["b"]) == {bench.EIGHT[0]}
    assert miss == pytest.approx(12 / 15, abs=0.06)
    assert r["share_reaching_target"] == pytest.approx(1 - miss)
    assert r["genres_within_min"] == 1 and r["genres_within_max"] == 2
    # NaN-aware means: a metric undefined in every clip and the reference counts as within
    nan = [[float("nan")] + [0.5] * (eight - 1) for _ in range(4)]
    ref_nan = {"a": dict(reference["a"], **{bench.EIGHT[0]: float("nan")})}
    assert bench.real_ceiling({"a": nan}, ref_nan, 2, 5, 1.0, 0)["genres_within_mean"] == 1


def test_bar_change_measures_how_far_the_pitch_classes_move():
    import numpy as np

    bench = _bench()
    bar = 48  # 4 beats x 12 steps
    roll = np.zeros((4, 3 * bar, 128), dtype=bool)
    roll[2, :, [60, 64, 67]] = True  # C major held over three bars
    assert bench.bar_change(roll) == 0.0
    roll[2, bar:, 64] = False
    roll[2, bar:, 65] = True  # then F: one of three pitch classes moves
    assert bench.bar_change(roll) == pytest.approx((2 / 3 + 0) / 2)
    roll[3, 2 * bar :, 71] = True  # a lead note in the last bar only
    assert bench.bar_change(roll) == pytest.approx((2 / 3 + 0.5) / 2)
    assert bench.bar_change(roll, beats_per_bar=3) > 0  # bars of 36 steps
    assert math.isnan(bench.bar_change(roll[:, :bar]))  # one bar: nothing to compare
    roll[1:] = False
    assert math.isnan(bench.bar_change(roll))  # drums only


def test_vocoder_fast(tiny_vocoder_run, tiny_gan_run, tiny_corpus, tmp_path):
    args = ["--vocoder", str(tiny_vocoder_run), "--model", str(tiny_gan_run)]
    args += ["--data", str(tiny_corpus), "--split", "val", "--fast", "--threads", "1"]
    r = run_script("vocoder.py", *args, out=tmp_path / "vocoder.json")
    assert_checks(
        r,
        [
            "mrstft_vs_griffinlim", "mel_l1_vs_griffinlim", "fad_style_vs_griffinlim",
            "fad_judge_vs_griffinlim", "speedup_vs_griffinlim", "x_realtime",
            "memory_long_vs_short", "end_to_end_30s_s", "bundle_20s_s",
        ],
    )  # fmt: skip
    assert r["fast"] is True and r["clips"] >= 2
    for renderer in ("vocoder", "griffinlim"):
        assert all(finite(v) for v in r["quality"][renderer].values())
    assert r["memory"]["long"]["samples"] > r["memory"]["short"]["samples"]
    speed = r["speed"]  # librosa's Griffin-Lim: timed beside the project's, slower
    assert speed["librosa_griffinlim_32_s"] > 0 and "librosa" not in "".join(r["checks"])
    assert speed["speedup_vs_librosa_griffinlim"] == pytest.approx(
        speed["librosa_griffinlim_32_s"] / speed["vocoder_s"]
    )


def test_phase_fast(tiny_corpus, tmp_path):
    args = ["--data", str(tiny_corpus), "--split", "val,test", "--fast", "--threads", "1"]
    r = run_script("phase.py", *args, "--oracles", out=tmp_path / "phase.json")
    assert_checks(
        r, ["fad_style_vs_griffinlim32", "fad_judge_vs_griffinlim32", "speedup_vs_griffinlim32"]
    )
    assert r["fast"] is True and r["clips"] >= 2 and r["choice"] == "pghi+4+chroma"
    renderers = {"griffinlim32"} | {f"pghi+{k}{c}" for k in (0, 4, 8) for c in ("", "+chroma")}
    oracles = {"oracle-magnitude+griffinlim32"} | {
        f"oracle-{part}+{k}" for part in ("magnitude+pghi", "phase") for k in (0, 1, 4)
    }
    assert set(r["quality"]) == renderers | oracles
    assert set(r["render_seconds"]) == renderers  # oracles are bounds, not renderers
    q = r["quality"]
    # the oracles know part of the answer: the true magnitude beats the mel's NNLS inverse
    # under the same phase reconstruction, and the true phase beats random phase
    assert q["oracle-magnitude+pghi+4"]["mel_l1"] < q["pghi+4"]["mel_l1"]
    assert q["oracle-magnitude+griffinlim32"]["mrstft"] < q["griffinlim32"]["mrstft"]
    assert q["oracle-phase+0"]["mrstft"] < q["griffinlim32"]["mrstft"]
    for q in r["quality"].values():
        assert all(
            finite(q[m]) for m in ("mrstft", "mel_l1", "chroma_l1", "fad_style", "fad_judge")
        )
    assert all(finite(t) and t > 0 for t in r["render_seconds"].values())
    assert all(0 <= q["key_agrees"] <= 1 for q in r["quality"].values())
    assert 0 <= r["original_key_agrees"] <= 1


def test_judge_hybrids_fast(tiny_corpus, tmp_path):
    judge = ROOT / "mmgan" / "pretrained" / "judge"
    args = ["--data", str(tiny_corpus), "--judge", str(judge), "--n", "1", "--mixes", "3"]
    r = run_script("judge_hybrids.py", *args, "--seconds", "2", out=tmp_path / "jh.json")
    (out,) = r["judges"].values()
    assert out["test_accuracy"] is not None and 0 <= out["test_accuracy"] <= 1
    assert 1 <= out["random_mixes"]["n"] <= 3 and 0 <= out["random_mixes"]["min_p"] <= 0.5
    pairs = {"baroque+idm", "jazz+metal", "folk+ambient", "hiphop+symphonic"}
    assert set(out["pair_mixes"]) == pairs
    assert set(out["arrangements"]) == pairs | {"+".join(p.split("+")[::-1]) for p in pairs}
    for pair, s in [*out["pair_mixes"].items(), *out["arrangements"].items()]:
        assert s["n"] == 1 and 0 <= s["min_p"] <= min(s["p_a"], s["p_b"]) + 1e-9
        assert s["other"][0] not in pair.split("+") and 0 <= s["other"][1] <= 1  # a third


def test_level_wobble_fast(tiny_gan_run, tiny_corpus, tmp_path):
    args = ["--model", str(tiny_gan_run), "--data", str(tiny_corpus), "--split", "val,test"]
    r = run_script(
        "level_wobble.py", *args, "--fast", "--genres", "baroque,jazz", out=tmp_path / "w.json"
    )
    assert list(r["per_genre"]) == ["baroque", "jazz"] and r["fast"] is True
    for row in r["per_genre"].values():
        assert row["real_clips"] == 2 and row["model_clips"] == 2
        assert all(finite(row[k]) and row[k] >= 0 for k in ("real", "real_rendered", "model"))
        assert row["model_vs_real"] == pytest.approx(row["model"] / row["real"])
    ratios = [row["model_vs_real"] for row in r["per_genre"].values()]
    assert r["max_model_vs_real"] == pytest.approx(max(ratios))


def test_level_wobble_refuses_bad_arguments(tiny_corpus, capsys):
    bench = _bench("level_wobble")
    unknown = ["--data", str(tiny_corpus), "--genres", "polka", "--fast"]
    for args, message in ((["--n", "0"], "--n must be at least 1"),
                          (["--seconds", "0"], "--seconds must be in"),
                          (unknown, "for genres ['polka']")):  # fmt: skip
        with pytest.raises(SystemExit) as err:
            bench.main(args)
        assert err.value.code == 2 and message in capsys.readouterr().err


def test_judge_hybrids_refuses_bad_arguments(tmp_path, capsys):
    bench = _bench("judge_hybrids")
    for args, message in (
        (["--n", "0"], "--n must be >= 1"),
        (["--judge", str(tmp_path)], "is not a judge folder"),
    ):
        with pytest.raises(SystemExit) as err:
            bench.main(args)
        assert err.value.code == 2 and message in capsys.readouterr().err


def test_hybrid_score_joins_one_pieces_rhythm_to_the_others_harmony():
    from mmgan.data.clip import clip_rng
    from mmgan.data.composers import COMPOSERS
    from mmgan.data.theory import pitch_class

    bench = _bench("judge_hybrids")
    score = bench.hybrid_score("hiphop", "symphonic", 5, 6.0)
    hip = COMPOSERS["hiphop"]().compose(clip_rng("hiphop", 5, 0), 6.0).score
    sym = COMPOSERS["symphonic"]().compose(clip_rng("symphonic", 5, 0), 6.0).score
    assert (score.bpm, score.key, score.master) == (hip.bpm, hip.key, hip.master)
    low = [p for p in score.parts if p.role in ("drums", "bass")]
    assert [p.notes for p in low] == [p.notes for p in hip.parts if p.role in ("drums", "bass")]
    high = [p for p in score.parts if p.role in ("harmony", "lead")]
    theirs = [p for p in sym.parts if p.role in ("harmony", "lead")]
    assert [p.instrument for p in high] == [p.instrument for p in theirs] and high
    shift = {n.pitch - m.pitch for p, q in zip(high, theirs, strict=True)
             for n, m in zip(p.notes, q.notes, strict=True) if 0 < m.pitch < 127}  # fmt: skip
    assert len(shift) == 1  # one transposition ...
    (k,) = shift
    assert -6 < k <= 6 and (pitch_class(sym.key) + k) % 12 == pitch_class(hip.key)  # ... to A


def test_phase_refuses_negative_oracle_iterations(capsys):
    with pytest.raises(SystemExit) as err:
        _bench("phase").main(["--data", "/nowhere", "--oracles", "--oracle-iters", "1,-2"])
    assert err.value.code == 2
    assert "--oracle-iters must be whole numbers >= 0" in capsys.readouterr().err


def test_demo_fast(tiny_gan_run, tmp_path):
    args = ["--model", str(tiny_gan_run), "--fast", "--threads", "1"]
    r = run_script("demo.py", *args, out=tmp_path / "demo.json")
    assert_checks(r, ["bundle_20s_s", "cover_1024_s", "cold_start_s"])
    assert r["fast"] is True and len(r["cold_start_times_s"]) == 1
    assert {"pipeline_s", "cover_s", "metadata_zip_s"} <= set(r["bundle_breakdown_s"])


def test_tonic_histograms_and_their_distance():
    bench = _bench()
    h = bench.tonic_hist([0, 0, None, 3])  # a clip without pitched notes is left out
    assert h[0] == pytest.approx(2 / 3) and h[3] == pytest.approx(1 / 3) and h.sum() == 1
    assert bench.tv_distance(h, h) == 0
    assert bench.tv_distance(h, bench.tonic_hist([5, 7])) == pytest.approx(1.0)  # none shared
    assert bench.tv_distance(h, bench.tonic_hist([0, 5])) == pytest.approx(0.5)
    assert bench.tv_distance(h, bench.tonic_hist([None])) is None


def test_ends_mix_judges_the_equal_level_mix_of_the_two_ends():
    """quality.py's ``ends_mix``: the judge on mix_audio(clip i of A, clip i of B, 0.5).
    Mixing a clip with itself gives it back, so the judge must read the clips themselves;
    mixing two different clips must read neither alone."""
    import numpy as np

    from mmgan.data.mixes import mix_audio
    from mmgan.eval.classifier import load_judge
    from mmgan.eval.measure import Measure

    bench = _bench("quality")
    judge = load_judge(None)
    measure = Measure(("judge",), None, judge)
    sr, rng = 22050, np.random.default_rng(0)
    t = np.arange(3 * sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t))).astype("f4")
    noise = (0.1 * rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 4 * t) > 0.7)).astype("f4")
    wa, wb = np.stack([tone, tone]), np.stack([noise, noise])
    alone = measure.judged(judge.features(wa, sr))[0]
    same = bench.ends_mix(measure, judge, wa, wa, sr, (0, 1))
    assert same == pytest.approx((alone[:, 0].mean(), alone[:, 1].mean()), abs=1e-4)
    mixed = measure.judged(judge.features(np.stack([mix_audio(tone, noise, 0.5)] * 2), sr))[0]
    got = bench.ends_mix(measure, judge, wa, wb, sr, (2, 3))
    assert got == pytest.approx((mixed[:, 2].mean(), mixed[:, 3].mean()), abs=1e-6)
    assert got != pytest.approx((alone[:, 2].mean(), alone[:, 3].mean()), abs=1e-3)
