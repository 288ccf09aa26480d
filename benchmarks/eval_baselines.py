"""Real-vs-real evaluation reference of a corpus, and the real-data baseline beside it: JSON.

    python benchmarks/eval_baselines.py --data data/small --out runs/eval/baselines.json

Real reference (train split vs test split): judge accuracy on test clips (and per genre),
CLAP-style score of test clips, FAD train-vs-test per embedder (all train clips, a train
subset as large as the baseline's set, FAD∞), diversity per genre of real test clips
(both embedders), copy rate of test clips vs train, symbolic metrics per genre. Then the
``real-baseline`` generator (real train clips nearest to each prompt) evaluated the same
way: its numbers should sit near the real ones. One :func:`mmgan.eval.report.run_eval`
call computes both, so they share every setting.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def summarise(report: dict) -> dict:
    """The benchmark's figures, picked from a :func:`run_eval` report."""
    real, model, genres = report["real"], report["model"], report["genres"]
    return {
        "real": {
            "clips": real["counts"],
            "judge_test_accuracy": real["judge"]["accuracy"],
            "judge_test_per_genre": real["judge"]["per_genre"],
            "clap_test": real["clap"]["mean"],
            "fad_train_vs_test": real["fad"],
            "diversity_test": {
                name: {g: d["per_genre"][g]["test"] for g in genres}
                for name, d in real["diversity"].items()
            },
            "diversity_ratio_train_vs_test": {
                name: d["mean_ratio"] for name, d in real["diversity"].items()
            },
            "copy_rate_test_vs_train": real["memorisation"]["copy_rate"],
            "copy_threshold": real["memorisation"]["threshold"],
            "symbolic_test": report["symbolic"].get("genres"),
        },
        "real_baseline": {
            "clips": model["clips"],
            "conditioning_accuracy": model["judge"]["accuracy"],
            "conditioning_per_genre": model["judge"]["per_genre"],
            "clap": model["clap"]["mean"],
            "fad_vs_test": model["fad"],
            "diversity_ratio": {name: d["mean_ratio"] for name, d in model["diversity"].items()},
            "copy_rate": model["memorisation"]["copy_rate"],
        },
    }


def main(argv: list[str] | None = None) -> dict:
    import torch

    from mmgan.eval.generators import RealBaseline
    from mmgan.eval.report import emit_json, run_eval, write_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/small", help="corpus folder")
    parser.add_argument("--per-genre", type=int, default=None, help="real clips per genre/split")
    parser.add_argument("--n", type=int, default=20, help="baseline clips per genre prompt")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--judge", default=None, help="judge folder (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--report", type=Path, default=None, help="write the full report too")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    judge = None
    if args.judge is not None:
        from mmgan.eval.classifier import load_judge

        judge = load_judge(args.judge)
    t0 = time.perf_counter()
    generator = RealBaseline(args.data, progress=True)
    report = run_eval(
        generator,
        args.data,
        n_per_prompt=args.n,
        seed=args.seed,
        hybrid_pairs=0,
        real_per_genre=args.per_genre,
        judge=judge,
        progress=True,
    )
    if args.report is not None:
        write_report(report, args.report)
    result = {
        "data": str(args.data),
        "seed": args.seed,
        "per_genre": args.per_genre,
        "judge": args.judge or "shipped",
        "style_space": report["config"]["style_space"],
        "style_weights": report["config"]["style_weights"],
        "judge_weights": report["config"]["judge_weights"],
        "embedders": report["config"]["embedders"],
        "baseline_top_k": generator.top_k,
        **summarise(report),
        "timings": report["timings"],
        "seconds": round(time.perf_counter() - t0, 1),
        "threads": args.threads,
    }
    emit_json(result, args.out)
    return result


if __name__ == "__main__":
    main()
