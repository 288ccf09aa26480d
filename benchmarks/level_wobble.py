"""Does the generator's loudness move more than real music's? Frame-level wobble: JSON.

    python benchmarks/level_wobble.py --data data/small
    python benchmarks/level_wobble.py --model runs/gan-small --data data/tiny --split val,test --fast

Per genre, :func:`mmgan.eval.metrics.level_wobble` (the standard deviation over time of the
frame RMS in dB; 2048-sample frames, hop 512) averaged over three sets of clips:

* ``real``: ``--per-genre`` clips of ``--split``;
* ``real_rendered``: the same clips as the model's features (``log_mel`` + ``log_chroma``)
  through the pipeline's renderer: what the renderer alone adds;
* ``model``: ``--n`` clips of ``"a {genre} track"`` (seeds from ``--seed``).

and ``model_vs_real`` = model / real. A listener hears a clip whose level pumps by a few dB
where the genre's real clips hold steady. Reported, with no target: the issue's checks do
not name it.

``--fast``: 2 clips each, 3 s — checks that everything runs; its numbers are not to report.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> dict:
    import numpy as np
    import torch

    from mmgan.audio.features import log_chroma, log_mel
    from mmgan.eval.corpus_clips import CorpusClips, corpus_genres
    from mmgan.eval.metrics import level_wobble
    from mmgan.eval.report import emit_json, prompt_seed
    from mmgan.generate.pipeline import Pipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model or run folder (default: shipped)")
    parser.add_argument("--data", default="data/small", help="corpus folder")
    parser.add_argument("--split", default="test", help="held-out split(s), comma-separated")
    parser.add_argument("--genres", default=None, help="comma-separated (default: all)")
    parser.add_argument("--n", type=int, default=None, help="model clips per genre (8)")
    parser.add_argument("--per-genre", type=int, default=None, help="real clips per genre (8)")
    parser.add_argument("--seconds", type=float, default=None, help="model clip length (6)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true", help="a quick run, not numbers to publish")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    for flag, value in (("--n", args.n), ("--per-genre", args.per_genre)):
        if value is not None and value < 1:
            parser.error(f"{flag} must be at least 1, got {value}")
    if args.seconds is not None and not 0.5 <= args.seconds <= 600:
        parser.error(f"--seconds must be in [0.5, 600], got {args.seconds}")
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    n = args.n or (2 if args.fast else 8)
    per_genre = args.per_genre or (2 if args.fast else 8)
    seconds = args.seconds or (3.0 if args.fast else 6.0)
    splits = [s.strip() for s in args.split.split(",") if s.strip()]
    try:
        pipe = Pipeline.from_pretrained(args.model)
    except FileNotFoundError as err:
        parser.error(str(err))
    sr = pipe.sample_rate
    genres = [g.strip() for g in args.genres.split(",")] if args.genres else None
    genres = genres or corpus_genres(args.data)

    def wobble(wave, what: str) -> float:
        try:
            return level_wobble(wave)
        except ValueError as err:  # a silent, NaN or too short clip: say which one
            parser.error(f"{what}: {err}")

    rows = {}
    for k, genre in enumerate(genres):
        try:
            clips = CorpusClips(args.data, splits, [genre]).take(per_genre)
        except ValueError as err:  # an unknown genre or split, or no corpus there
            parser.error(str(err))
        if clips.sample_rate != sr:
            parser.error(f"corpus at {clips.sample_rate} Hz, model at {sr} Hz")
        real, rendered = [], []
        for i in range(len(clips)):
            wave = clips.load(i)
            real.append(wobble(wave, f"real clip {clips.path(i)}"))
            mel, chroma = log_mel(wave, sr), log_chroma(wave, sr)
            again = pipe.render(mel, len(wave), seed=i, chroma=chroma)
            rendered.append(wobble(again, f"real clip {clips.path(i)} rendered"))
        style = pipe.space.encode_text([f"a {genre} track"]).repeat(n, 1)
        waves = pipe.generate(style, seed=prompt_seed(args.seed, 5000 + k), seconds=seconds)
        model = [wobble(w, f"model clip {j} of {genre!r}") for j, w in enumerate(waves)]
        rows[genre] = {
            "real": float(np.mean(real)),
            "real_rendered": float(np.mean(rendered)),
            "model": float(np.mean(model)),
            "model_vs_real": float(np.mean(model) / max(np.mean(real), 1e-9)),
            "real_clips": len(real),
            "model_clips": len(model),
        }
    ratios = [r["model_vs_real"] for r in rows.values()]
    result = {
        "model": pipe.name,
        "model_path": str(args.model or "shipped"),
        "renderer": pipe.renderer,
        "data": str(args.data),
        "split": "+".join(splits),
        "seconds": seconds,
        "seed": args.seed,
        "fast": args.fast,
        "per_genre": rows,
        "max_model_vs_real": float(max(ratios)),
        "mean_model_vs_real": float(np.mean(ratios)),
        "wall_seconds": round(time.perf_counter() - t_start, 1),
        "threads": args.threads,
    }
    emit_json(result, args.out)
    return result


if __name__ == "__main__":
    main()
