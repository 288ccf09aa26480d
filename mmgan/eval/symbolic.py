"""Symbolic (MIDI / piano-roll) metrics: muspy's metrics and MuseGAN's, per clip and per genre.

Two views of one clip, both cut to the clip's length:

* :func:`midi_metrics` — muspy 0.5 metrics of a MIDI file (or a ``muspy.Music``), after
  quantising it to ``resolution`` ticks per beat (12, the piano-roll's grid). Pitch metrics
  (entropy, scale consistency, polyphony, range, pitches used) pool every pitched track
  and skip drums, as muspy does; empty-beat rate and groove consistency use every track.
* :func:`pianoroll_metrics` — MuseGAN's metrics (Dong et al. 2018: EB, UPC, QN, DP, TD) on a
  ``[4, steps, 128]`` roll with the tracks of ``ROLES`` (drums, bass, harmony, lead). They
  and :func:`tonal_centroid` live in :mod:`mmgan.eval.musegan` (exact definitions there)
  and are re-exported here.

Meters: ``"N/D"`` has N beats per bar, except compound meters (D = 8, N = 6, 9, 12) which
count dotted-quarter beats (12/8 -> 4 beats), as the corpus composers write them. A metric
undefined for a clip (no notes in a track, fewer than two bars, ...) is NaN, never an error.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np

from mmgan.data.score import ROLES
from mmgan.eval.musegan import MUSEGAN_DESCRIPTIONS, check_roll, pianoroll_metrics, tonal_centroid

__all__ = [
    "METRIC_DESCRIPTIONS",
    "clip_symbolic_metrics",
    "corpus_symbolic_table",
    "midi_metrics",
    "parse_meter",
    "pianoroll_metrics",
    "pianoroll_to_music",
    "tonal_centroid",
]


METRIC_DESCRIPTIONS: dict[str, str] = {
    "pitch_class_entropy": "muspy: entropy (bits) of the pitch-class histogram of pitched notes",
    "scale_consistency": "muspy: largest share of pitched notes in one major/minor scale",
    "groove_consistency": "muspy: 1 - mean Hamming distance of onset grids of adjacent bars",
    "empty_beat_rate": "muspy: share of beats where no track plays",
    "polyphony": "muspy: mean pitches sounding at steps where any pitched note sounds",
    "polyphony_rate": "muspy: share of steps with more than 2 pitches sounding",
    "pitch_range": "muspy: highest minus lowest pitched note (semitones)",
    "n_pitches_used": "muspy: distinct pitches in pitched tracks",
    "n_pitch_classes_used": "muspy: distinct pitch classes in pitched tracks",
    "drum_pattern_consistency": "muspy: share of drum onsets on a duple or triple beat grid",
    **MUSEGAN_DESCRIPTIONS,
}
MIDI_METRICS = tuple(k for k in METRIC_DESCRIPTIONS if k.islower())


def parse_meter(meter: str, *, beats_per_bar: int | None = None) -> tuple[int, int]:
    """``(beats per bar, 16ths per beat)`` of a written meter: ``"4/4"`` -> (4, 4),
    ``"3/4"`` -> (3, 4), ``"12/8"`` -> (4, 6). ``beats_per_bar`` overrides the beat count
    (a piano-roll stores its own); the 16ths per beat then follow from it."""
    try:
        num, den = (int(x) for x in str(meter).split("/"))
    except ValueError as err:
        raise ValueError(f"meter must look like '4/4' or '12/8', got {meter!r}") from err
    if num < 1 or den not in (1, 2, 4, 8, 16):
        raise ValueError(f"meter {meter!r}: need a positive numerator and a denominator 1..16")
    if beats_per_bar is None:
        beats_per_bar = num // 3 if den == 8 and num > 3 and num % 3 == 0 else num
    if beats_per_bar < 1:
        raise ValueError(f"beats_per_bar must be >= 1, got {beats_per_bar}")
    sixteenths, rest = divmod(num * 16 // den, beats_per_bar)
    if rest or sixteenths < 1:
        raise ValueError(f"meter {meter!r} does not split into {beats_per_bar} equal beats")
    return int(beats_per_bar), sixteenths


def pianoroll_to_music(roll: np.ndarray, *, steps_per_beat: int = 12) -> Any:
    """``[4, steps, 128]`` roll -> ``muspy.Music`` with one track per role (drums flagged)."""
    import muspy

    active = check_roll(roll)
    binary = np.asarray(roll).dtype == bool
    values = active.astype(np.uint8) if binary else np.clip(np.asarray(roll), 0, 127)
    tracks = []
    for i, role in enumerate(ROLES):
        (track,) = muspy.from_pianoroll_representation(
            values[i].astype(bool) if binary else values[i].astype(np.uint8),
            resolution=steps_per_beat,
            is_drum=role == "drums",
            encode_velocity=not binary,
        ).tracks
        track.name = role
        tracks.append(track)
    return muspy.Music(resolution=steps_per_beat, tracks=tracks)


def _read_midi(path: str | Path) -> Any:
    import muspy

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MIDI file not found: {path}")
    try:
        return muspy.read_midi(path)
    except Exception as err:  # mido raises OSError, EOFError, KeyError, ValueError, ...
        raise ValueError(f"cannot read MIDI file {path}: {type(err).__name__}: {err}") from err


def midi_metrics(
    path_or_music: str | Path | Any,
    *,
    beats_per_bar: int = 4,
    resolution: int = 12,
    max_beats: float | None = None,
) -> dict[str, float]:
    """muspy metrics of a MIDI file or ``muspy.Music`` (names in ``MIDI_METRICS``).

    The music is quantised to ``resolution`` ticks per beat (notes keep at least one tick)
    and, with ``max_beats``, cut there, so it matches a piano-roll of the same clip. One bar
    (for groove consistency) is ``beats_per_bar`` beats. A ``Music`` passed in is not changed.
    """
    import muspy

    if isinstance(path_or_music, (str, Path)):
        music = _read_midi(path_or_music)
    elif isinstance(path_or_music, muspy.Music):
        music = path_or_music.deepcopy()
    else:
        raise TypeError(f"expected a MIDI path or muspy.Music, got {type(path_or_music).__name__}")
    if beats_per_bar < 1 or resolution < 1:
        raise ValueError(
            f"beats_per_bar and resolution must be >= 1, got {beats_per_bar}, {resolution}"
        )
    if not music.resolution or music.resolution < 1:
        raise ValueError("the music has no valid resolution (ticks per beat)")
    music.adjust_resolution(target=int(resolution))
    limit = None if max_beats is None else int(round(max_beats * resolution))
    for track in music.tracks:
        if limit is not None:
            track.notes = [n for n in track.notes if n.time < limit]
        for note in track.notes:
            end = note.end if limit is None else min(note.end, limit)
            note.duration = max(1, end - note.time)
    music.tracks = [t for t in music.tracks if t.notes]
    if not music.tracks:
        return {k: math.nan for k in MIDI_METRICS}
    out = {
        "pitch_class_entropy": muspy.pitch_class_entropy(music),
        "scale_consistency": muspy.scale_consistency(music),
        "groove_consistency": muspy.groove_consistency(music, resolution * beats_per_bar),
        "empty_beat_rate": muspy.empty_beat_rate(music),
        "polyphony": muspy.polyphony(music),
        "polyphony_rate": muspy.polyphony_rate(music),
        "n_pitches_used": muspy.n_pitches_used(music),
        "n_pitch_classes_used": muspy.n_pitch_classes_used(music),
        "drum_pattern_consistency": muspy.drum_pattern_consistency(music),
    }
    pitched = out["n_pitches_used"] > 0  # muspy's pitch_range is -127 when only drums play
    out["pitch_range"] = muspy.pitch_range(music) if pitched else math.nan
    return {k: float(out[k]) for k in MIDI_METRICS}


def _load_roll(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"piano-roll file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as err:  # zipfile.BadZipFile, OSError, ValueError, EOFError, ...
        raise ValueError(f"cannot read piano-roll {path}: {type(err).__name__}: {err}") from err
    if "pianoroll" not in data:
        raise ValueError(f"piano-roll {path} has no 'pianoroll' array (keys: {sorted(data)})")
    roles = tuple(str(r) for r in data.get("roles", ROLES))
    if roles != ROLES:
        raise ValueError(f"piano-roll {path} has tracks {roles}, expected {ROLES}")
    return data


def clip_symbolic_metrics(root: str | Path, row: dict[str, Any]) -> dict[str, float]:
    """Piano-roll and MIDI metrics of one corpus row (``metadata.jsonl``), MIDI cut to the roll."""
    root = Path(root)
    missing = [k for k in ("pianoroll_file", "midi_file") if not row.get(k)]
    if missing:
        raise ValueError(
            f"corpus row {row.get('id') or row.get('file_name')!r} has no {missing}; "
            "rebuild the corpus with `mmgan dataset build`"
        )
    data = _load_roll(root / row["pianoroll_file"])
    spb = int(data.get("steps_per_beat", 12))
    stored_bpb = int(data["beats_per_bar"]) if "beats_per_bar" in data else None
    bpb, sixteenths = parse_meter(row.get("meter") or "4/4", beats_per_bar=stored_bpb)
    roll = data["pianoroll"]
    out = midi_metrics(
        root / row["midi_file"],
        beats_per_bar=bpb,
        resolution=spb,
        max_beats=roll.shape[1] / spb if roll.ndim == 3 else None,
    )
    try:
        out.update(
            pianoroll_metrics(
                roll, steps_per_beat=spb, beats_per_bar=bpb, sixteenths_per_beat=sixteenths
            )
        )
    except ValueError as err:
        raise ValueError(f"piano-roll {root / row['pianoroll_file']}: {err}") from err
    return out


def _clip_job(job: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, float] | None, str | None]:
    root, row = job
    try:
        return row.get("genre") or "?", clip_symbolic_metrics(root, row), None
    except (OSError, ValueError) as err:  # reported and counted by the caller
        return row.get("genre") or "?", None, f"{row.get('id', '?')}: {err}"


def corpus_symbolic_table(
    root: str | Path,
    *,
    split: str | None = None,
    per_genre: int | None = None,
    workers: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Per-genre means of every symbolic metric over a corpus: the real-music reference.

    Args:
        root: corpus folder with ``metadata.jsonl``.
        split: ``"train"``, ``"val"`` or ``"test"``; ``None`` uses every clip.
        per_genre: at most this many clips per genre (the first in metadata order).
        workers: processes (spawned) computing clips in parallel.
        progress: show a tqdm bar.

    Returns:
        ``{"genres": {genre: {metric: mean}}, "std": {genre: {metric: std}}, "defined":
        {genre: {metric: clips where finite}}, "clips": {genre: n}, "skipped": {genre: n},
        "overall": {metric: mean}, "metrics": METRIC_DESCRIPTIONS, "split", "seconds"}``.
        Means and stds ignore NaN (NaN when no clip defines the metric). Clips whose files
        are missing or unreadable are skipped with a warning and counted in ``"skipped"``.
    """
    from tqdm.auto import tqdm

    from mmgan.data.corpus import SPLITS, read_metadata

    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)} or None")
    if per_genre is not None and per_genre < 1:
        raise ValueError(f"per_genre must be >= 1 or None, got {per_genre}")
    taken: dict[str, int] = {}
    jobs = []
    for row in read_metadata(root):
        genre = row.get("genre") or "?"
        if (split is None or row.get("split") == split) and taken.get(genre, 0) < (
            per_genre or math.inf
        ):
            taken[genre] = taken.get(genre, 0) + 1
            jobs.append((str(root), row))
    if not jobs:
        raise ValueError(f"no clips in {root} for split={split!r}")
    t0 = time.perf_counter()
    bar = dict(total=len(jobs), desc="symbolic metrics", unit="clip", disable=not progress)
    if workers > 1 and len(jobs) > 1:
        ctx = mp.get_context("spawn")  # a dead worker raises BrokenProcessPool, never hangs
        try:
            with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                results = list(tqdm(pool.map(_clip_job, jobs, chunksize=8), **bar))
        except BrokenProcessPool as err:
            raise RuntimeError(
                "a symbolic-metrics worker process died (out of memory, or the calling script "
                "cannot be re-imported: call from a file under `if __name__ == '__main__':`); "
                "retry with workers=1"
            ) from err
    else:
        results = list(tqdm(map(_clip_job, jobs), **bar))
    per: dict[str, list[list[float]]] = {g: [] for g in sorted(taken)}
    skipped = dict.fromkeys(per, 0)
    names = list(METRIC_DESCRIPTIONS)
    for genre, metrics, err in results:
        if metrics is None:
            warnings.warn(f"symbolic metrics: skipped clip {err}", stacklevel=2)
            skipped[genre] += 1
        else:
            per[genre].append([metrics[k] for k in names])
    table: dict[str, Any] = {"genres": {}, "std": {}, "defined": {}, "clips": {}}
    for genre, values in per.items():
        mean, std, n = _nan_stats(np.array(values, dtype=np.float64).reshape(-1, len(names)))
        table["genres"][genre] = dict(zip(names, mean, strict=True))
        table["std"][genre] = dict(zip(names, std, strict=True))
        table["defined"][genre] = dict(zip(names, n, strict=True))
        table["clips"][genre] = len(values)
    every = np.array([v for vs in per.values() for v in vs], dtype=np.float64)
    overall = _nan_stats(every.reshape(-1, len(names)))[0]
    table["overall"] = dict(zip(names, overall, strict=True))
    table["skipped"] = skipped
    table["metrics"] = dict(METRIC_DESCRIPTIONS)
    table["split"] = split
    table["seconds"] = round(time.perf_counter() - t0, 2)
    return table


def _nan_stats(values: np.ndarray) -> tuple[list[float], list[float], list[int]]:
    """``[clips, metrics]`` -> per-metric NaN-ignoring mean, std and count of finite values."""
    finite = np.isfinite(values)
    n = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, values, 0.0).sum(axis=0) / n
        var = (np.where(finite, values - mean, 0.0) ** 2).sum(axis=0) / n
    return [float(x) for x in mean], [float(x) for x in np.sqrt(var)], [int(x) for x in n]
