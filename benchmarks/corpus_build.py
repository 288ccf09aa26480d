"""How long does a corpus build take here? Prints JSON (seconds, clips/s, real-time factor).

python benchmarks/corpus_build.py --preset tiny --workers 2
python benchmarks/corpus_build.py --preset small --workers 2 --clips-per-genre 20  # extrapolate
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    from mmgan.data.corpus import PRESETS, build_corpus

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--preset", default="tiny", choices=list(PRESETS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--clips-per-genre",
        type=int,
        default=None,
        help="build only this many per genre and extrapolate to the full preset",
    )
    args = ap.parse_args()
    spec = PRESETS[args.preset]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = build_corpus(
            args.preset,
            Path(tmp),
            workers=args.workers,
            progress=False,
            clips_per_genre=args.clips_per_genre,
        )
        seconds = time.perf_counter() - t0
    clips = summary["clips"]
    full = len(summary["genres"]) * spec.clips_per_genre
    print(
        json.dumps(
            {
                "preset": args.preset,
                "workers": args.workers,
                "clips": clips,
                "seconds": round(seconds, 1),
                "clips_per_second": round(clips / seconds, 2),
                "audio_seconds_per_wall_second": round(clips * spec.seconds / seconds, 1),
                "estimated_full_preset_seconds": round(seconds * full / clips, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
