"""Check that corpus clips *sound* like their tags: tempo, key, loudness, peak, silence.

Renders ``--n`` clips per genre straight from the composers (no dataset needed),
estimates tempo with librosa's beat tracker and key with Krumhansl-Schmuckler
chroma matching, and prints JSON per genre. ``--png-dir`` also writes one
spectrogram + piano-roll picture per genre to look at.

    python benchmarks/corpus_audio_checks.py --genres techno jazz --n 20 --png-dir /tmp/look
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def check_genre(genre: str, n: int, seconds: float, seed0: int) -> dict:
    from mmgan.audio.analysis import estimate_key, estimate_tempo, key_agrees, tempo_agrees
    from mmgan.audio.io import loudness
    from mmgan.data.clip import make_clip
    from mmgan.data.composers import COMPOSERS

    tonal = COMPOSERS[genre].tonal
    rows = []
    render_seconds = 0.0
    for k in range(n):
        t0 = time.perf_counter()
        clip = make_clip(genre, seed0 + k, seconds=seconds)
        render_seconds += time.perf_counter() - t0
        est_bpm = estimate_tempo(clip.audio, clip.sr)
        est_key, corr = estimate_key(clip.audio, clip.sr)
        rows.append(
            dict(
                seed=seed0 + k,
                bpm=clip.tags["bpm"],
                est_bpm=round(est_bpm, 1),
                tempo_ok=tempo_agrees(est_bpm, clip.tags["bpm"]),
                key=clip.tags["key"],
                est_key=est_key,
                key_ok=key_agrees(est_key, clip.tags["key"]),
                key_ok_relative=key_agrees(est_key, clip.tags["key"], relative_ok=True),
                lufs=round(loudness(clip.audio, clip.sr), 1),
                peak=round(float(np.max(np.abs(clip.audio))), 3),
                rms=float(np.sqrt(np.mean(clip.audio**2))),
            )
        )
    return {
        "genre": genre,
        "clips": n,
        "tonal": tonal,
        "tempo_agreement": float(np.mean([r["tempo_ok"] for r in rows])),
        "key_agreement": float(np.mean([r["key_ok"] for r in rows])) if tonal else None,
        "key_agreement_incl_relative": float(np.mean([r["key_ok_relative"] for r in rows]))
        if tonal
        else None,
        "max_peak": max(r["peak"] for r in rows),
        "min_rms": min(r["rms"] for r in rows),
        "lufs_range": [min(r["lufs"] for r in rows), max(r["lufs"] for r in rows)],
        "render_seconds_per_clip": round(render_seconds / n, 3),
        "rows": rows,
    }


def save_picture(genre: str, seed: int, seconds: float, out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mmgan.audio.features import log_mel
    from mmgan.audio.midi import score_to_pianoroll
    from mmgan.data.clip import make_clip
    from mmgan.data.score import ROLES

    clip = make_clip(genre, seed, seconds=seconds)
    mel = log_mel(clip.audio, clip.sr)
    roll = score_to_pianoroll(clip.score, seconds)
    fig, axes = plt.subplots(len(ROLES) + 1, 1, figsize=(12, 10), constrained_layout=True)
    axes[0].imshow(mel, origin="lower", aspect="auto", cmap="magma")
    axes[0].set_title(f"{genre} seed {seed}: {clip.caption}", fontsize=9)
    for ax, role, r in zip(axes[1:], ROLES, roll, strict=True):
        used = np.nonzero(r.max(axis=0))[0]
        lo, hi = (used.min() - 2, used.max() + 3) if len(used) else (0, 128)
        ax.imshow(
            r[:, lo:hi].T,
            origin="lower",
            aspect="auto",
            cmap="Greys",
            extent=(0, r.shape[0], lo, hi),
        )
        ax.set_ylabel(role)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{genre}_{seed}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main() -> None:
    from mmgan.data.composers import GENRES

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--genres", nargs="*", default=list(GENRES))
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--seed", type=int, default=1000, help="first seed (corpus builds use 0..)")
    ap.add_argument("--png-dir", type=Path, default=None)
    ap.add_argument("--rows", action="store_true", help="include per-clip rows in the JSON")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args()
    results = []
    for g in args.genres:
        res = check_genre(g, args.n, args.seconds, args.seed)
        if not args.rows:
            res.pop("rows")
        results.append(res)
        if args.png_dir:
            save_picture(g, args.seed, args.seconds, args.png_dir)
    summary = {
        "genres": results,
        "tempo_agreement_all": float(np.mean([r["tempo_agreement"] for r in results])),
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
