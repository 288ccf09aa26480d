"""Build the built-in tag-annotated corpus on disk (Hugging Face *audiofolder* layout).

::

    DIR/
      metadata.jsonl            one row per clip: file_name, genre, tags, caption, bpm, key, split, ...
      corpus.json               preset, seed, sample rate, genres, tag vocabulary, counts
      audio/<genre>/<id>.wav    16-bit mono WAV, loudness-normalised to -16 LUFS, peak <= -1 dBFS
      midi/<genre>/<id>.mid     the clip's score as multi-track General MIDI
      pianoroll/<genre>/<id>.npz  uint8 velocities [4 tracks, steps, 128], 12 steps per beat
                                  (a re-struck note starts after a one-step gap: audio/midi.py)
      records/<id>.json         per-clip "done" marker (resuming skips these clips)

Every file is written atomically and a clip's record is written last, so a killed
build leaves no half-written file and re-running it only makes what is missing.
The same preset and seed give the same clips.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmgan.utils import atomic_write_text, ensure_writable_dir

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Preset:
    """How big a corpus to build."""

    clips_per_genre: int
    seconds: float
    sr: int = 22050


PRESETS: dict[str, Preset] = {
    "tiny": Preset(clips_per_genre=4, seconds=6.0),  # tests and notebooks: ~40 clips
    "small": Preset(clips_per_genre=200, seconds=6.0),  # the shipped model's training set
    "full": Preset(clips_per_genre=1000, seconds=10.0),  # for GPU users
}


@dataclass(frozen=True)
class ClipJob:
    genre: str
    index: int
    seed: int
    split: str
    seconds: float
    sr: int
    out: str
    soundfont: str | None

    @property
    def clip_id(self) -> str:
        return f"{self.genre}_{self.index:05d}"


def resolve_preset(preset: str) -> Preset:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    return PRESETS[preset]


def split_for(index: int, n: int, genre: str, seed: int) -> str:
    """Deterministic 80/10/10 split per genre; at least one val and one test clip when n >= 3."""
    from mmgan.data.clip import clip_rng

    order = clip_rng(genre, seed, stream=99).permutation(n)
    n_test = max(1, round(0.1 * n)) if n >= 3 else 0
    n_val = max(1, round(0.1 * n)) if n >= 3 else 0
    rank = int(np.nonzero(order == index)[0][0])
    if rank < n_test:
        return "test"
    if rank < n_test + n_val:
        return "val"
    return "train"


def plan_jobs(
    preset: Preset,
    out: Path,
    seed: int = 0,
    genres: list[str] | None = None,
    soundfont: str | None = None,
    clips_per_genre: int | None = None,
) -> list[ClipJob]:
    """All clips of a build, interleaved by genre so a partial build covers every genre."""
    from mmgan.data.composers import GENRES

    genres = list(GENRES) if genres is None else genres
    bad = [g for g in genres if g not in GENRES]
    if bad:
        raise ValueError(f"unknown genre(s) {bad}; valid genres: {', '.join(GENRES)}")
    n = clips_per_genre or preset.clips_per_genre
    jobs = []
    for i in range(n):
        for g in genres:
            jobs.append(
                ClipJob(
                    genre=g,
                    index=i,
                    seed=seed * 1_000_000 + i,
                    split=split_for(i, n, g, seed),
                    seconds=preset.seconds,
                    sr=preset.sr,
                    out=str(out),
                    soundfont=soundfont,
                )
            )
    return jobs


def _is_done(job: ClipJob) -> bool:
    out = Path(job.out)
    rec = out / "records" / f"{job.clip_id}.json"
    return rec.is_file() and (out / "audio" / job.genre / f"{job.clip_id}.wav").is_file()


def make_record(job: ClipJob) -> dict[str, Any]:
    """Compose, render, check and write one clip; return its metadata row."""
    from mmgan.audio.io import loudness, save_wav
    from mmgan.audio.midi import save_midi, save_pianoroll
    from mmgan.data.clip import make_clip
    from mmgan.data.tags import flat_tags

    out = Path(job.out)
    clip = make_clip(job.genre, job.seed, seconds=job.seconds, sr=job.sr, soundfont=job.soundfont)
    peak = float(np.max(np.abs(clip.audio)))
    rms = float(np.sqrt(np.mean(clip.audio.astype(np.float64) ** 2)))
    if rms < 1e-3:
        raise RuntimeError(f"{job.clip_id} (seed {job.seed}) rendered silent (rms {rms:.2e})")
    if peak >= 0.999:
        raise RuntimeError(f"{job.clip_id} (seed {job.seed}) is clipped (peak {peak:.3f})")
    rel_audio = f"audio/{job.genre}/{job.clip_id}.wav"
    rel_midi = f"midi/{job.genre}/{job.clip_id}.mid"
    rel_roll = f"pianoroll/{job.genre}/{job.clip_id}.npz"
    save_wav(out / rel_audio, clip.audio, clip.sr)
    save_midi(clip.score, out / rel_midi)
    save_pianoroll(clip.score, out / rel_roll, seconds=job.seconds)
    row = {
        "file_name": rel_audio,
        "id": job.clip_id,
        "genre": job.genre,
        "tags": flat_tags(clip.tags),
        "caption": clip.caption,
        "bpm": clip.tags["bpm"],
        "key": clip.tags["key"],
        "split": job.split,
        "midi_file": rel_midi,
        "pianoroll_file": rel_roll,
        "moods": clip.tags["moods"],
        "energy": clip.tags["energy"],
        "tempo": clip.tags["tempo"],
        "mode": clip.tags["mode"],
        "scale": clip.tags["scale"],
        "meter": clip.tags["meter"],
        "instruments": clip.tags["instruments"],
        "texture": clip.tags["texture"],
        "descriptors": clip.tags["descriptors"],
        "duration": round(len(clip.audio) / clip.sr, 3),
        "sample_rate": clip.sr,
        "seed": job.seed,
        "loudness_lufs": round(loudness(clip.audio, clip.sr), 2),
        "peak": round(peak, 4),
        "renderer": "soundfont" if job.soundfont else "synth",
    }
    atomic_write_text(out / "records" / f"{job.clip_id}.json", json.dumps(row))
    return row


def _worker(job: ClipJob) -> tuple[str, str | None]:
    try:
        make_record(job)
        return job.clip_id, None
    except Exception as err:  # reported per clip by the parent; one bad clip must not hide others
        return job.clip_id, f"{type(err).__name__}: {err}"


def build_corpus(
    preset: str,
    out: str | Path,
    seed: int = 0,
    workers: int = 1,
    soundfont: str | Path | None = None,
    genres: list[str] | None = None,
    clips_per_genre: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Build (or finish building) a corpus; returns the summary written to ``corpus.json``.

    Raises:
        ValueError: unknown preset or genre.
        PermissionError: ``out`` cannot be written.
        RuntimeError: some clips failed (the others are kept; re-run to retry).
    """
    from tqdm.auto import tqdm

    import mmgan
    from mmgan.data.composers import GENRES
    from mmgan.data.tags import vocabulary

    spec = resolve_preset(preset)
    out = ensure_writable_dir(out)
    sf_path = None
    if soundfont is not None:
        sf_path = Path(soundfont)
        if not sf_path.is_file():
            raise FileNotFoundError(f"SoundFont not found: {sf_path}")
        sf_path = str(sf_path.resolve())
    jobs = plan_jobs(spec, out, seed, genres, sf_path, clips_per_genre)
    todo = [j for j in jobs if not _is_done(j)]
    failures: dict[str, str] = {}
    t0 = time.perf_counter()
    bar = tqdm(
        total=len(jobs),
        initial=len(jobs) - len(todo),
        desc=f"building {preset} corpus",
        unit="clip",
        disable=not progress,
    )
    if workers > 1 and len(todo) > 1:
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers) as pool:
            for clip_id, err in pool.imap_unordered(_worker, todo, chunksize=4):
                if err:
                    failures[clip_id] = err
                bar.update(1)
    else:
        for job in todo:
            clip_id, err = _worker(job)
            if err:
                failures[clip_id] = err
            bar.update(1)
    bar.close()
    if failures:
        first = "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:3])
        raise RuntimeError(
            f"{len(failures)} of {len(todo)} clips failed ({first}). Finished clips are kept; "
            "re-run the same command to retry the rest."
        )
    rows = [json.loads((out / "records" / f"{j.clip_id}.json").read_text()) for j in jobs]
    atomic_write_text(out / "metadata.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    summary = {
        "preset": preset,
        "preset_spec": asdict(spec),
        "seed": seed,
        "renderer": "soundfont" if sf_path else "synth",
        "soundfont": sf_path,
        "mmgan_version": mmgan.__version__,
        "genres": [g for g in GENRES if genres is None or g in genres],
        "vocabulary": vocabulary(),
        "clips": len(rows),
        "built_clips_this_run": len(todo),
        "build_seconds_this_run": round(time.perf_counter() - t0, 1),
        "splits": dict(Counter(r["split"] for r in rows)),
    }
    atomic_write_text(out / "corpus.json", json.dumps(summary, indent=2))
    return summary


def read_metadata(root: str | Path) -> list[dict[str, Any]]:
    """Rows of ``metadata.jsonl``; a clear error when the folder is not a corpus."""
    root = Path(root)
    meta = root / "metadata.jsonl"
    if not meta.is_file():
        raise FileNotFoundError(
            f"{root} has no metadata.jsonl — not an mmgan/audiofolder corpus. "
            "Build one with `mmgan dataset build --preset tiny --out DIR`."
        )
    rows = []
    for i, line in enumerate(meta.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(f"{meta}:{i}: not valid JSON: {err}") from err
    return rows


def corpus_info(root: str | Path) -> dict[str, Any]:
    """Clips and duration per genre, split and tag."""
    rows = read_metadata(root)
    per_genre: dict[str, dict[str, float]] = {}
    for r in rows:
        g = per_genre.setdefault(r.get("genre") or "?", {"clips": 0, "seconds": 0.0})
        g["clips"] += 1
        g["seconds"] += float(r.get("duration", 0.0))
    tags = Counter(t for r in rows for t in r.get("tags", []))
    return {
        "root": str(root),
        "clips": len(rows),
        "hours": round(sum(g["seconds"] for g in per_genre.values()) / 3600, 3),
        "genres": {
            k: {"clips": int(v["clips"]), "seconds": round(v["seconds"], 1)}
            for k, v in sorted(per_genre.items())
        },
        "splits": dict(Counter(r.get("split", "?") for r in rows)),
        "tags": dict(tags.most_common()),
    }
