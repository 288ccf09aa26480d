"""How fast is the pipeline, and how much memory does it take? Each check with its target: JSON.

    python benchmarks/speed.py --model runs/gan-small --seconds 30 --repeats 3 --threads 2

- generator alone: a ``--seconds`` track's log-mel features (``pipe.features``, no
  rendering), as x-real-time (target >= 100x);
- end to end: ``pipe(prompt, seconds=...)`` wall time with its ``timings`` breakdown
  (style, generator, render = the pipeline's renderer — the shipped GAN vocoder, else
  Griffin-Lim — + fades + loudness) and the rest (metadata and the predicted tags);
- the baseline, in the same process on the same mel: the library's Griffin-Lim alone
  (:func:`mmgan.audio.features.griffin_lim`, 32 iterations), split into librosa's NNLS
  mel inversion and ``librosa.griffinlim``; the ratios put the numbers above against it;
- in a FRESH subprocess each: cold import time (torch + the pipeline module), model load
  time ``Pipeline.from_pretrained`` (target < 5 s; it includes what loading imports lazily
  and the text encoder, which a process loads once: ``first_load_extra_s`` is load minus a
  second load in that process), and peak memory after loading and generating ``--seconds`` end to end
  (``ru_maxrss``; target < 2 GB).

Every time is the median over ``--repeats`` runs after ``--warmup`` runs that are not
counted (for the subprocess, the first warms the OS file cache). Numbers depend on the
machine and its load: compare ratios, and rerun the baseline where the model runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bench_util
from bench_util import timed

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TARGETS = {
    "generator_x_realtime": (">=", 100.0),
    "load_s": ("<", 5.0),
    "peak_rss_mb": ("<", 2048.0),
}

# Run in a fresh interpreter: argv = model ("default" = shipped), prompt, seconds, threads.
CHILD = r"""
import json, resource, sys, time
model, prompt, seconds, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
torch.set_num_threads(threads)
from mmgan.generate.pipeline import Pipeline
t2 = time.perf_counter()
modules = len(sys.modules)
pipe = Pipeline.from_pretrained(model)
t3 = time.perf_counter()
modules = len(sys.modules) - modules
rss_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
pipe(prompt, seconds=seconds, seed=0)
t4 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
Pipeline.from_pretrained(model)
t5 = time.perf_counter()
print(json.dumps({
    "import_s": t2 - t0, "import_torch_s": t1 - t0, "load_s": t3 - t2, "generate_s": t4 - t3,
    "reload_s": t5 - t4, "rss_after_load_mb": rss_load / 1024, "peak_rss_mb": rss / 1024,
    "modules_imported_by_load": modules,
}))
"""


def check(value: float, key: str) -> dict[str, Any]:
    """``{"value", "op", "target", "passed"}`` against ``TARGETS[key]``."""
    return bench_util.check(value, *TARGETS[key])


def fresh_process(model: str, prompt: str, seconds: float, threads: int) -> dict[str, float]:
    """Import, load and generate in a new interpreter; its own timings and peak RSS."""
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-c", CHILD, model, prompt, str(seconds), str(threads)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"the fresh-process run failed ({res.returncode}):\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def griffin_lim_parts(mel, n_samples: int, seed: int) -> dict[str, float]:
    """Seconds of the two stages of :func:`mmgan.audio.features.griffin_lim` on ``mel``."""
    import librosa
    import numpy as np

    from mmgan.audio.features import DEFAULT_MEL as p

    t0 = time.perf_counter()
    spec = librosa.feature.inverse.mel_to_stft(
        np.exp(mel), sr=p.sr, n_fft=p.n_fft, power=1.0, fmin=p.fmin, fmax=p.fmax
    )
    t1 = time.perf_counter()
    librosa.griffinlim(
        spec,
        n_iter=32,
        hop_length=p.hop_length,
        n_fft=p.n_fft,
        length=n_samples,
        random_state=seed,
    )
    return {"mel_to_stft_s": t1 - t0, "griffinlim_s": time.perf_counter() - t1}


def main(argv: list[str] | None = None) -> dict:
    import torch

    from mmgan.audio.features import griffin_lim
    from mmgan.eval.report import emit_json
    from mmgan.generate.pipeline import Pipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model or run folder (default: shipped)")
    parser.add_argument("--prompt", default="a jazz track")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--truncation", type=float, default=0.7, help="as pipe() defaults")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs before each")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be >= 1 and --warmup >= 0")
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()

    t0 = time.perf_counter()
    try:
        pipe = Pipeline.from_pretrained(args.model)
    except FileNotFoundError as err:  # no shipped default yet, or a wrong --model
        parser.error(str(err))
    load_here = time.perf_counter() - t0
    n, frames, steps = pipe.frames_for(args.seconds)
    style = pipe.style_of(args.prompt)[0][None]  # [1, D]

    def features(i: int):
        return pipe.features(style, seed=i + 100, steps=steps, truncation=args.truncation)

    gen_s, gen_times, _ = timed(features, args.repeats, args.warmup)

    def end_to_end(i: int):
        return pipe(args.prompt, seconds=args.seconds, seed=i + 100, truncation=args.truncation)

    e2e_s, e2e_times, results = timed(end_to_end, args.repeats, args.warmup)
    parts = {k: statistics.median(r.timings[k] for r in results) for k in results[0].timings}
    rest = statistics.median(
        t - sum(r.timings.values()) for t, r in zip(e2e_times, results, strict=True)
    )

    mel = results[-1].mel  # [80, frames], the mel the last end-to-end run rendered
    gl_s, gl_times, _ = timed(lambda i: griffin_lim(mel, length=n, seed=0), args.repeats, 0)
    gl_parts = [griffin_lim_parts(mel, n, 0) for _ in range(args.repeats)]
    gl_split = {k: statistics.median(p[k] for p in gl_parts) for k in gl_parts[0]}

    model_arg = "default" if args.model is None else str(args.model)
    for _ in range(args.warmup):
        fresh_process(model_arg, args.prompt, args.seconds, args.threads)
    fresh = [
        fresh_process(model_arg, args.prompt, args.seconds, args.threads)
        for _ in range(args.repeats)
    ]
    cold = {k: statistics.median(f[k] for f in fresh) for k in fresh[0] if k.endswith("_s")}
    cold["modules_imported_by_load"] = fresh[0]["modules_imported_by_load"]
    peak = max(f["peak_rss_mb"] for f in fresh)

    checks = {
        "generator_x_realtime": check(args.seconds / gen_s, "generator_x_realtime"),
        "load_s": check(cold["load_s"], "load_s"),
        "peak_rss_mb": check(peak, "peak_rss_mb"),
    }
    result = {
        "model": pipe.name,
        "model_path": str(args.model or "shipped"),
        "prompt": args.prompt,
        "seconds": args.seconds,
        "samples": n,
        "mel_frames": frames,
        "coarse_steps": steps,
        "truncation": args.truncation,
        "generator_params": pipe.g.num_parameters(),
        "checks": checks,
        "passed": all(c["passed"] for c in checks.values()),
        "generator": {
            "features_s": gen_s,
            "x_realtime": args.seconds / gen_s,
            "runs_s": gen_times,
        },
        "end_to_end": {
            "wall_s": e2e_s,
            "x_realtime": args.seconds / e2e_s,
            "timings_s": parts,
            "other_s": rest,
            "render_share": parts["render_s"] / e2e_s,
            "runs_s": e2e_times,
            "note": "other_s: metadata and bookkeeping outside the timed parts",
        },
        "baseline_griffin_lim": {
            "what": "mmgan.audio.features.griffin_lim (32 iterations) on the same mel",
            "seconds_s": gl_s,
            "x_realtime": args.seconds / gl_s,
            "stages_s": gl_split,
            "runs_s": gl_times,
        },
        "ratios": {
            "generator_vs_griffin_lim": gen_s / gl_s,
            "end_to_end_vs_griffin_lim": e2e_s / gl_s,
            "render_vs_griffin_lim": parts["render_s"] / gl_s,
        },
        "fresh_process": {
            **cold,
            "rss_after_load_mb": max(f["rss_after_load_mb"] for f in fresh),
            "peak_rss_mb": peak,
            "runs": fresh,
            "first_load_extra_s": cold["load_s"] - cold["reload_s"],
            "note": "import_s: torch + mmgan.generate.pipeline; load_s: Pipeline.from_pretrained "
            "(generator + style space, and the modules they import lazily); generate_s: "
            "pipe(prompt, seconds) once, cold; reload_s: a second from_pretrained in the same "
            "process, where the modules are imported and the text encoder is cached, so "
            "first_load_extra_s = load_s - reload_s is what a process pays once for them",
        },
        "load_in_process_s": load_here,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "threads": args.threads,
        "wall_seconds": round(time.perf_counter() - t_start, 1),
    }
    emit_json(result, args.out)
    return result


if __name__ == "__main__":
    main()
