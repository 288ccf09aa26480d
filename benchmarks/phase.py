"""Which phase reconstruction should the spectrogram engine use? Every renderer vs 32-iteration
Griffin-Lim from random phase, on real held-out mels: JSON.

    python benchmarks/phase.py --data data/small --split test

Each clip's log-mel (:func:`mmgan.audio.features.log_mel`) goes back to audio through the
same NNLS magnitude (``inverse="fast"``) and each phase reconstruction of
:func:`mmgan.audio.features.griffin_lim`:

- ``griffinlim32``: 32 fast Griffin-Lim iterations from random phase (librosa) — the
  baseline, what the pipeline used before;
- ``pghi+K``: Phase Gradient Heap Integration (:mod:`mmgan.audio.phase`), then K fast
  Griffin-Lim iterations (K = 0: PGHI alone);
- ``pghi+K+chroma``: the same from the chroma-guided magnitude
  (:func:`mmgan.audio.features.chroma_guided_linear`) given the clip's 12 log-chroma rows —
  the features the spectrogram GAN generates beside its mel, and what its pipeline renders.

Per renderer, against the original clips: multi-resolution STFT distance, log-mel L1, the
log-chroma L1 and the share of clips whose estimated key (``estimate_key(fast=True)``)
matches the tagged one, as for the originals (do the notes survive?)
(``benchmarks/vocoder.py``'s ``distances``), FAD in the style-space and in the independent
judge's embedding, and the share of the real within-genre diversity (style embedding) kept,
per genre; the seconds to render the same 30 s of mel. Checks: the pipeline's choice
(``--choice``, default ``pghi+4+chroma``) has FAD no higher than the baseline's on both embeddings
and renders 30 s at least 2x faster. Times are medians of ``--repeats``; compare the ratios.

``--oracles`` adds rows that cheat on purpose, taking a part of the answer from the original
clip's own STFT, to show what a renderer (or a GAN vocoder, issue 8) must get right to beat
the baseline; they are scored like the others and not timed:

- ``oracle-magnitude+griffinlim32``, ``oracle-magnitude+pghi+K``: the clip's true STFT
  magnitude instead of the NNLS inverse of its mel, then the same phase reconstructions;
- ``oracle-phase+K``: the NNLS magnitude with the clip's true phase, then K fast
  Griffin-Lim iterations (K = 0: one inverse STFT).

K comes from ``--oracle-iters`` (default 0,1,4).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from bench_util import check, timed
from vocoder import distances

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def renderers(iters: list[int]) -> dict[str, dict[str, Any]]:
    """``name -> griffin_lim keyword arguments`` (``chroma: True`` = pass the clip's)."""
    out: dict[str, dict[str, Any]] = {"griffinlim32": {"n_iter": 32, "init": "random"}}
    out.update({f"pghi+{k}": {"n_iter": k, "init": "pghi"} for k in iters})
    out.update({f"pghi+{k}+chroma": {"n_iter": k, "init": "pghi", "chroma": True} for k in iters})
    return out


def oracles(iters: list[int]) -> dict[str, dict[str, Any]]:
    """``name -> oracle_render`` keywords (see the module docstring's ``--oracles``)."""
    out: dict[str, dict[str, Any]] = {
        "oracle-magnitude+griffinlim32": {"oracle": "magnitude", "n_iter": 32, "init": "random"}
    }
    out.update(
        {f"oracle-magnitude+pghi+{k}": {"oracle": "magnitude", "n_iter": k, "init": "pghi"}
         for k in iters}
    )  # fmt: skip
    out.update({f"oracle-phase+{k}": {"oracle": "phase", "n_iter": k} for k in iters})
    return out


def oracle_render(clip, mel, n: int, seed: int, kw: dict[str, Any]):
    """Audio from a part of ``clip``'s own STFT (``kw["oracle"]``: ``"magnitude"`` = its
    magnitude, phase by ``kw["init"]``; ``"phase"`` = the NNLS magnitude of ``mel`` with the
    clip's phase), then ``kw["n_iter"]`` fast Griffin-Lim iterations."""
    import numpy as np
    import torch

    from mmgan.audio.features import DEFAULT_MEL, _fast_griffin_lim, mel_to_linear
    from mmgan.audio.phase import pghi
    from mmgan.models.vocoder import MelFrontend

    p = DEFAULT_MEL
    wave = torch.from_numpy(np.asarray(clip, dtype=np.float32))[None]
    spec = MelFrontend()(wave, with_spectrum=True)[1][0].numpy()  # the mel's own STFT
    if kw["oracle"] == "phase":
        mag, phase = mel_to_linear(np.exp(mel), p), np.angle(spec)
    else:
        mag = np.abs(spec)
        phase = (
            pghi(mag, p.n_fft, p.hop_length, seed=seed, method="heap")  # bounds as published
            if kw["init"] == "pghi"
            else np.random.default_rng(seed).uniform(0.0, 2.0 * np.pi, mag.shape)
        )
    return _fast_griffin_lim(mag, phase, int(kw["n_iter"]), p, n)


def main(argv: list[str] | None = None) -> dict:
    import numpy as np
    import torch

    from mmgan.audio.analysis import estimate_key, key_agrees
    from mmgan.audio.features import griffin_lim, log_chroma, log_mel
    from mmgan.eval.corpus_clips import CorpusClips
    from mmgan.eval.embedders import JudgeEmbedder, StyleEmbedder
    from mmgan.eval.fad import fad
    from mmgan.eval.metrics import diversity
    from mmgan.eval.report import emit_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/small", help="corpus folder")
    parser.add_argument("--split", default="test", help="held-out split(s), comma-separated")
    parser.add_argument("--per-genre", type=int, default=0, help="clips per genre (0: all)")
    parser.add_argument("--iters", default="0,4,8", help="Griffin-Lim iterations after PGHI")
    parser.add_argument("--choice", default="pghi+4+chroma", help="the pipeline's renderer")
    parser.add_argument("--seconds", type=float, default=30.0, help="speed test length")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--oracles", action="store_true", help="add the oracle rows (bounds)")
    parser.add_argument("--oracle-iters", default="0,1,4", help="iterations of the oracle rows")
    parser.add_argument("--fast", action="store_true", help="a quick run, not numbers to publish")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.fast:
        args.per_genre = args.per_genre or 2
        args.seconds, args.repeats = min(args.seconds, 4.0), 1
    torch.set_num_threads(args.threads)
    iters = [int(k) for k in args.iters.split(",") if k.strip()]
    kinds = renderers(iters)
    if args.choice not in kinds:
        parser.error(f"--choice {args.choice!r} is not among {sorted(kinds)}")
    timed_kinds = list(kinds)
    if args.oracles:
        oracle_iters = [int(k) for k in args.oracle_iters.split(",") if k.strip()]
        if not oracle_iters or min(oracle_iters) < 0:
            parser.error(f"--oracle-iters must be whole numbers >= 0, got {args.oracle_iters!r}")
        kinds.update(oracles(oracle_iters))
    t_start = time.perf_counter()

    clips = CorpusClips(args.data, args.split.split(","))
    clips = clips.take(args.per_genre) if args.per_genre > 0 else clips
    sr = clips.sample_rate
    genres = np.array(clips.genres)
    real = [clips.load(i) for i in range(len(clips))]
    tags = [r.get("key") for r in clips.rows]
    originals_key = [
        key_agrees(estimate_key(x, sr, fast=True)[0], t)
        for x, t in zip(real, tags, strict=True)
        if t
    ]
    rendered: dict[str, list] = {k: [] for k in kinds}
    dist: dict[str, list] = {k: [] for k in kinds}

    def render(mel, chroma, n, seed, kw, clip=None):
        if "oracle" in kw:
            return oracle_render(clip, mel, n, seed, kw)
        kw = dict(kw)
        guide = chroma if kw.pop("chroma", False) else None
        return griffin_lim(mel, length=n, seed=seed, inverse="fast", chroma=guide, **kw)

    for i, clip in enumerate(real):
        mel = log_mel(clip, sr)
        chroma = log_chroma(clip, sr)[:, : mel.shape[1]]
        for k, kw in kinds.items():
            y = render(mel, chroma, len(clip), i, kw, clip)
            rendered[k].append(y)
            got = log_chroma(y, sr)
            f = min(got.shape[1], chroma.shape[1])
            key = key_agrees(estimate_key(y, sr, fast=True)[0], tags[i]) if tags[i] else np.nan
            dist[k].append(
                (*distances(y, clip, sr), np.abs(got[:, :f] - chroma[:, :f]).mean(), key)
            )
    quality: dict[str, dict[str, Any]] = {}
    for k in kinds:
        d = np.asarray(dist[k])
        quality[k] = {"mrstft": float(d[:, 0].mean()), "mel_l1": float(d[:, 1].mean()),
                      "chroma_l1": float(d[:, 2].mean()),
                      "key_agrees": float(np.nanmean(d[:, 3])) if any(tags) else None}  # fmt: skip
    for name, emb in (("style", StyleEmbedder()), ("judge", JudgeEmbedder())):
        ref = emb.embed(real, sr)
        for k in kinds:
            e = emb.embed(rendered[k], sr)
            quality[k][f"fad_{name}"] = float(fad(e, ref))
            if name == "style":
                kept = {
                    g: diversity(e[genres == g]) / diversity(ref[genres == g])
                    for g in sorted(set(genres))
                    if (genres == g).sum() >= 2
                }
                quality[k]["diversity_kept"] = kept
                quality[k]["diversity_kept_min"] = min(kept.values()) if kept else None

    n = int(args.seconds * sr)
    joined = np.concatenate(real * (1 + n // sum(len(c) for c in real)))[:n]
    mel = log_mel(joined, sr)
    chroma = log_chroma(joined, sr)[:, : mel.shape[1]]
    speed = {
        k: timed(lambda i, kw=kinds[k]: render(mel, chroma, n, 0, kw), args.repeats, 1)[0]
        for k in timed_kinds
    }
    base, pick = quality["griffinlim32"], quality[args.choice]
    result = {
        "data": str(args.data),
        "split": args.split,
        "clips": len(real),
        "fast": args.fast,
        "original_key_agrees": float(np.mean(originals_key)) if originals_key else None,
        "quality": quality,
        "speed_audio_seconds": args.seconds,
        "render_seconds": speed,
        "choice": args.choice,
        "checks": {
            "fad_style_vs_griffinlim32": check(pick["fad_style"] / base["fad_style"], "<=", 1.0),
            "fad_judge_vs_griffinlim32": check(pick["fad_judge"] / base["fad_judge"], "<=", 1.0),
            "speedup_vs_griffinlim32": check(speed["griffinlim32"] / speed[args.choice], ">=", 2.0),
        },
        "wall_s": time.perf_counter() - t_start,
    }
    result["passed"] = all(c["passed"] for c in result["checks"].values())
    emit_json(result, args.out)
    return result


if __name__ == "__main__":
    main()
