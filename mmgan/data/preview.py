"""Spectrogram grids of a corpus: what a person looks at before training on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def preview_grid(
    root: str | Path, out: str | Path, genre: str | None = None, per_genre: int = 3
) -> Path:
    """One row per genre (or ``per_genre`` clips of one genre), log-mel images, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mmgan.audio.features import log_mel
    from mmgan.audio.io import load_audio
    from mmgan.data.corpus import read_metadata
    from mmgan.utils import atomic_path

    root = Path(root)
    rows = read_metadata(root)
    genres = sorted({r["genre"] for r in rows})
    if genre is not None:
        if genre not in genres:
            raise ValueError(f"genre {genre!r} not in this corpus; it has: {', '.join(genres)}")
        genres = [genre]
    if per_genre < 1:
        raise ValueError("per_genre must be at least 1")
    fig, axes = plt.subplots(
        len(genres),
        per_genre,
        figsize=(3.2 * per_genre, 1.9 * len(genres)),
        squeeze=False,
        constrained_layout=True,
    )
    for gi, g in enumerate(genres):
        clips = [r for r in rows if r["genre"] == g][:per_genre]
        for ci in range(per_genre):
            ax = axes[gi][ci]
            ax.set_xticks([])
            ax.set_yticks([])
            if ci >= len(clips):
                ax.axis("off")
                continue
            y, sr = load_audio(root / clips[ci]["file_name"])
            ax.imshow(
                log_mel(y, sr),
                origin="lower",
                aspect="auto",
                cmap="magma",
                vmin=-11.5,
                vmax=float(np.log(50)),
            )
            ax.set_title(
                f"{clips[ci]['id']} · {clips[ci]['bpm']:.0f} BPM · {clips[ci]['key']}", fontsize=7
            )
            if ci == 0:
                ax.set_ylabel(g, fontsize=9)
    out = Path(out)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return out
