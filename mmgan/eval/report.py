"""One evaluation report: a model's numbers beside the real-vs-real reference, as JSON + HTML.

::

    >>> from mmgan.eval.generators import load_generator
    >>> from mmgan.eval.report import run_eval, write_report
    >>> gen = load_generator("real-baseline", data="data/small")
    >>> report = run_eval(gen, "data/small", n_per_prompt=8, seconds=6.0, seed=0)
    >>> write_report(report, "runs/eval/report.json", "runs/eval/report.html")

Prompts are ``"a {genre} track"``; prompt ``p`` gets ``n_per_prompt`` clips from one
``generator.generate`` call with ``seed=prompt_seed(seed, p)``. The real reference comes
from the same corpus in the same report: the held-out clips (``reference_splits``, the
test split by default) are what every model is compared with, and the train split stands
in for a perfect model. Corpus clips' style embeddings and judge features are cached
under ``<corpus>/.cache``, so a second report on a corpus skips most of that work.

Sections: ``config`` (arguments, model, data, version, seeds), ``summary`` (rows
``{"metric", "model", "real", "note"}``), ``real`` and ``model`` with the same blocks —

- ``judge``: accuracy, per-genre accuracy, confusion counts (rows: prompted / true genre,
  columns: the judge's genre). Real: the judge on the held-out clips.
- ``clap``: cosine of each clip's style-space audio vector with its prompt's text vector.
- ``fad`` per embedder vs the held-out clips, and FAD∞ from ``MIN_FAD_INF`` clips a side.
  FAD is biased by sample count: the real reference is given for all train clips and for
  a seeded train subset as large as the model's set (``matched``) — compare with that.
- ``diversity`` per embedder and genre: ``clips`` (the evaluated clips: generated, or
  real train), ``test`` (held-out) and their ``ratio``.
- ``memorisation``: share of clips closer to a training clip than 99 % of held-out clips
  are (time-shift tolerant fingerprints). Real: the held-out clips themselves.

and, for the model only, ``hybrid`` (judge P(A), P(B) along slerp paths between two
prompts, ``n_per_prompt`` clips per alpha) and ``seam`` (long tracks, at the generator's
``segment_seconds`` joins); ``symbolic`` (the corpus' symbolic table, test split) and
``timings`` (seconds per section — the only numbers that change between equal runs).
The measuring and the blocks' scoring live in :mod:`mmgan.eval.measure`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmgan.eval.corpus_clips import CorpusClips, corpus_genres, weights_key
from mmgan.eval.generators import Generator, load_generator
from mmgan.eval.measure import (
    MIN_FAD_INF,
    ClipSet,
    Measure,
    check_output,
    clap_block,
    compare_sets,
    fad_block,
    judge_block,
    memorisation_block,
)
from mmgan.generate.latent import slerp
from mmgan.utils import atomic_write_text, jsonable

__all__ = [
    "MIN_FAD_INF",
    "eval_command",
    "emit_json",
    "jsonable",
    "prompt_seed",
    "run_eval",
    "slerp",
    "write_report",
]


def prompt_seed(seed: int, *keys: int) -> int:
    """The seed of one generator call, derived from ``(seed, *keys)`` (``SeedSequence``)."""
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1)[0])


def _generate(gen: Generator, style: torch.Tensor, seed: int, seconds: float, what: str):
    n, length = style.shape[0], max(1, round(seconds * gen.sample_rate))
    return check_output(gen.generate(style, seed=seed, seconds=seconds), n, length, gen.name, what)


def _hybrids(gen, genres, measure, text, *, pairs, steps, n, seconds, seed) -> dict[str, Any]:
    """Judge P(A), P(B) (mean over ``n`` clips) along slerp paths between two prompts."""
    combos = [(a, b) for i, a in enumerate(genres) for b in genres[i + 1 :]]
    if pairs <= 0 or not combos:
        return {"skipped": "hybrid_pairs=0" if pairs <= 0 else "needs two genres", "pairs": []}
    from mmgan.eval.metrics import hybrid_path

    chosen = np.random.default_rng([seed, 13]).permutation(len(combos))[: min(pairs, len(combos))]
    alphas = np.linspace(0.0, 1.0, steps)
    out = []
    for k in sorted(int(c) for c in chosen):
        a, b = combos[k]
        va, vb = (torch.as_tensor(text[genres.index(g)]) for g in (a, b))
        ia, ib = (measure.judge.genres.index(g) for g in (a, b))
        p = np.zeros((2, len(alphas), n))  # judge P(A), P(B) of every clip
        for j, alpha in enumerate(alphas):
            style = slerp(va, vb, float(alpha)).repeat(n, 1)
            waves = _generate(gen, style, prompt_seed(seed, 1000 + k, j), seconds, f"{a}/{b}")
            probs = measure.judged(measure.judge.features(waves, gen.sample_rate))[0]
            p[:, j] = probs[:, ia], probs[:, ib]
        metrics = hybrid_path(alphas, p[0], p[1])
        means = {"p_a": p[0].mean(axis=1), "p_b": p[1].mean(axis=1)}
        out.append({"a": a, "b": b, "alphas": alphas, **means, **metrics})
    return {"pairs": out, "clips_per_alpha": n}


def _seams(gen, genres, text, *, long_seconds, seed, tracks: int = 1) -> dict[str, Any]:
    """Seam scores of ``tracks`` ``long_seconds`` tracks per genre (other seeds) at the
    generator's segment joins; a genre's ``ratio`` is the mean over its tracks (a track
    has only a few joins, so one track's ratio is mostly noise).

    Also per genre, on the same tracks: ``ratio_random``, the score at as many uniformly
    random points (how real clips are scored), and, for a generator with a coordinate-latent
    grid (``anchor_seconds``), ``grid_on`` / ``grid_between``, the score at every anchor and
    halfway between them. Where the joins fall on the grid (the pipeline's chunks are a whole
    number of anchors long), ``grid_on`` well above ``grid_between`` says the joins' figure
    measures what the generator does at its anchors, not a seam (the chunks equal one pass)."""
    if long_seconds is None:
        return {"skipped": "long_seconds not given"}
    seg = getattr(gen, "segment_seconds", None)
    if not seg:
        return {"skipped": f"generator {gen.name!r} reports no segment_seconds (no seams)"}
    from mmgan.eval.metrics import random_seam_ratio, seam_scores

    bounds = np.arange(float(seg), float(long_seconds) - 1e-6, float(seg)).tolist()
    grid = getattr(gen, "anchor_seconds", None)
    on = np.arange(1, int((long_seconds - 0.5) / grid)) * float(grid) if grid else None
    per = {}
    for p, g in enumerate(genres):
        style = torch.as_tensor(text[p : p + 1])
        scores, extra = [], {"ratio_random": [], "grid_on": [], "grid_between": []}
        for r in range(max(1, int(tracks))):
            track_seed = prompt_seed(seed, 2000 + r, p) if r else prompt_seed(seed, 2000, p)
            wave = _generate(gen, style, track_seed, long_seconds, f"long {g}")[0]
            sets = [bounds] if on is None else [bounds, on, on + grid / 2]
            at = seam_scores(wave, gen.sample_rate, sets)
            scores.append(at[0])
            if on is not None:
                extra["grid_on"].append(at[1]["ratio"])
                extra["grid_between"].append(at[2]["ratio"])
            rng = np.random.default_rng([track_seed, 17])
            ratios = random_seam_ratio(wave, gen.sample_rate, len(bounds), rng)
            extra["ratio_random"].append(float(np.mean(ratios)))
        per[g] = {k: float(np.mean([s_[k] for s_ in scores])) for k in scores[0]}
        per[g].update({k: float(np.mean(v)) for k, v in extra.items() if v})
        per[g]["tracks"] = len(scores)
    ratio = float(np.nanmean([float(v["ratio"]) for v in per.values()]))
    return {"segment_seconds": seg, "boundaries_s": bounds, "per_genre": per, "mean_ratio": ratio}


def run_eval(
    generator: Generator,
    data: str | Path,
    *,
    n_per_prompt: int = 8,
    seconds: float = 6.0,
    seed: int = 0,
    genres: Sequence[str] | None = None,
    embedders: Sequence[str] = ("style", "judge"),
    hybrid_pairs: int = 2,
    hybrid_steps: int = 5,
    long_seconds: float | None = None,
    seam_tracks: int = 1,
    symbolic: bool = True,
    fad_inf: bool = True,
    progress: bool = True,
    real_per_genre: int | None = None,
    reference_splits: Sequence[str] = ("test",),
    audio_per_genre: int = 2,
    judge: Any = None,
    space: Any = None,
) -> dict[str, Any]:
    """Evaluate ``generator`` on corpus ``data`` beside the real-vs-real reference.

    Args:
        generator: anything following :class:`~mmgan.eval.generators.Generator`.
        data: corpus folder (``metadata.jsonl`` with train and test splits).
        n_per_prompt: clips per genre prompt (and per hybrid alpha), at least 2.
        seconds: length of each generated clip.
        seed: the one seed every random choice derives from.
        genres: prompt genres (default: every genre of the corpus).
        embedders: embedders for FAD and diversity (``mmgan.eval.embedders`` names).
        hybrid_pairs, hybrid_steps: genre pairs and alphas of the hybrid paths.
        long_seconds: also ask for one track this long per genre and score its seams.
        seam_tracks: that many long tracks per genre (other seeds), their ratios averaged.
        symbolic: add the corpus' symbolic metric table (test split).
        fad_inf: add FAD∞ (30 more FADs per set and embedder: most of the scoring time).
        progress: show progress bars.
        real_per_genre: use at most this many real clips per genre and split (faster).
        reference_splits: the held-out real clips everything is compared with (``"test"``;
            add ``"val"`` on corpora with too few test clips per genre for diversity).
        audio_per_genre: generated clips per genre kept for the HTML players.
        judge, space: a loaded judge / style space (default: the shipped ones).

    Returns:
        The report (see the module docstring). ``report["_audio"]`` holds sample clips for
        the HTML players; keys starting with ``_`` are not written to the JSON.
    """
    args = {k: v for k, v in locals().items() if k not in ("generator", "judge", "space")}
    from tqdm.auto import tqdm

    import mmgan
    from mmgan.eval.html import summary_rows
    from mmgan.style.space import StyleSpace

    root, timings = Path(data), {}
    if not (root / "metadata.jsonl").is_file():
        raise FileNotFoundError(
            f"{root} is not a corpus (no metadata.jsonl); build one with `mmgan dataset build`"
        )
    if n_per_prompt < 2 or not seconds > 0:
        raise ValueError(f"need n_per_prompt >= 2 and seconds > 0, got {n_per_prompt}, {seconds}")
    if hybrid_pairs > 0 and hybrid_steps < 3:
        raise ValueError(f"hybrid_steps must be >= 3 (a path needs a middle), got {hybrid_steps}")
    if long_seconds is not None and not long_seconds > seconds:
        raise ValueError(f"long_seconds ({long_seconds}) must exceed seconds ({seconds})")

    @contextmanager
    def timed(name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - t0, 3)

    with timed("load"):
        if judge is None:
            from mmgan.eval.classifier import load_judge

            judge = load_judge(None)
        space = space or getattr(generator, "space", None) or StyleSpace.from_pretrained()
        measure = Measure(embedders, space, judge)
    corpus = corpus_genres(root)
    genres = list(corpus if genres is None else genres)
    bad = [g for g in genres if g not in corpus or g not in judge.genres]
    if bad or not genres:
        raise ValueError(
            f"genres {bad or genres} must be corpus genres ({', '.join(corpus)}) known to the "
            f"judge ({', '.join(judge.genres)})"
        )
    text = space.encode_text([f"a {g} track" for g in genres]).numpy()  # [G, D]
    train = CorpusClips(root, "train", genres).take(real_per_genre)
    test = CorpusClips(root, list(reference_splits), genres).take(real_per_genre)
    gen, audio, sr = ClipSet(labels=[]), [], generator.sample_rate
    bar = tqdm(genres, desc=f"{generator.name}: prompts", disable=not progress)
    for p, g in enumerate(bar):
        style = torch.as_tensor(text[p]).repeat(n_per_prompt, 1)
        with timed("model/generate"):
            waves = _generate(generator, style, prompt_seed(seed, p), seconds, f"'a {g} track'")
        with timed("model/measure"):
            measure.add(gen, waves, sr)
        gen.labels += [g] * n_per_prompt
        seed_p = prompt_seed(seed, p)
        audio += [
            dict(kind="model", genre=g, index=i, seed=seed_p, sample_rate=sr, wave=waves[i])
            for i in range(min(audio_per_genre, n_per_prompt))
        ]
    with timed("real"):
        te = measure.corpus(test, progress=progress, desc="held-out clips")
        tr = measure.corpus(train, progress=progress, desc="train clips")
    for g in genres:  # one real test clip per genre to listen to beside the model's
        i = test.genres.index(g)
        rate = test.sample_rate
        wave = test.load(i)[: round(seconds * rate)]
        audio.append(
            dict(kind="real", genre=g, index=0, id=test.ids[i], sample_rate=rate, wave=wave)
        )
    with timed("scores"):
        names = list(embedders)
        real = {"counts": {"train": len(train), "test": len(test)}}
        real |= {"judge": judge_block(te, genres, judge), "clap": clap_block(te, genres, text)}
        inf_seed = seed if fad_inf else None
        real |= compare_sets(tr, te, genres, names, inf_seed)
        real["memorisation"] = memorisation_block(te, tr, te)
        rng, lab = np.random.default_rng([seed, 11]), np.asarray(tr.labels)
        per_genre = [rng.permutation(np.flatnonzero(lab == g))[:n_per_prompt] for g in genres]
        pick = np.sort(np.concatenate(per_genre))  # as many train clips a genre as the model
        for name in names:  # FAD is biased by n: the reference with the model's n
            real["fad"][name]["matched"] = fad_block(tr.get(name)[pick], te.get(name), None)
        model = {"name": generator.name, "clips": len(gen.labels)}
        model |= {"judge": judge_block(gen, genres, judge), "clap": clap_block(gen, genres, text)}
        model |= compare_sets(gen, te, genres, names, inf_seed)
        model["memorisation"] = memorisation_block(gen, tr, te)
    with timed("model/hybrid"):
        model["hybrid"] = _hybrids(
            generator,
            genres,
            measure,
            text,
            pairs=hybrid_pairs,
            steps=hybrid_steps,
            n=n_per_prompt,
            seconds=seconds,
            seed=seed,
        )
    with timed("model/seam"):
        model["seam"] = _seams(
            generator, genres, text, long_seconds=long_seconds, seed=seed, tracks=seam_tracks
        )
    sym: dict[str, Any] = {"skipped": "symbolic=False"}
    if symbolic:
        from mmgan.eval.symbolic import corpus_symbolic_table

        with timed("symbolic"):
            sym = corpus_symbolic_table(
                root, split="test", per_genre=real_per_genre, progress=progress
            )
        sym.pop("seconds", None)  # a timing: kept out so equal runs give equal JSON
        sym["genres"] = {g: v for g, v in sym["genres"].items() if g in genres}
    config = args | {
        "model": generator.name,
        "data": str(root.resolve()),
        "genres": genres,
        "embedders": names,
        "sample_rate": sr,
        "mmgan_version": mmgan.__version__,
        "style_space": space.name,
        "style_weights": weights_key(space.model.audio_encoder, space.name),
        "judge_weights": weights_key(judge),
        "judge_genres": list(judge.genres),
        "prompt_seeds": {g: prompt_seed(seed, p) for p, g in enumerate(genres)},
        "torch_threads": torch.get_num_threads(),
    }
    notes = [
        f"Real reference: {len(train)} train and {len(test)} test clips; the model made "
        f"{len(gen.labels)}. FAD is biased by sample count: compare the model's FAD with the "
        "train subset of the same size ('matched').",
    ]
    if generator.name in ("real-baseline", "copy-train"):
        notes.append(f"{generator.name} returns training clips: a high copy rate is by design.")
    return {
        "config": config,
        "genres": genres,
        "summary": summary_rows(model, real),
        "real": real,
        "model": model,
        "symbolic": sym,
        "notes": notes,
        "timings": timings,
        "_audio": audio,
    }


def emit_json(result: dict[str, Any], out: str | Path | None = None) -> str:
    """Print ``result`` as indented JSON (plain values, see :func:`jsonable`) and, with
    ``out``, also write it there atomically; returns the text. What benchmarks end with."""
    text = json.dumps(jsonable(result), indent=2, allow_nan=False)
    if out is not None:
        atomic_write_text(out, text + "\n")
    print(text)
    return text


def write_report(
    report: dict[str, Any], json_path: str | Path, html_path: str | Path | None = None
) -> dict[str, Any]:
    """Write the JSON (and the HTML with its ``<stem>_audio/`` WAVs), atomically.

    Returns the report as written to the JSON (plain values; ``"html"`` names the page).
    """
    plain = jsonable(report)
    if html_path is not None:
        from mmgan.eval.html import write_html

        write_html(plain | {"_audio": report.get("_audio", [])}, html_path)
        plain["html"] = str(html_path)
    atomic_write_text(json_path, json.dumps(plain, indent=2, allow_nan=False) + "\n")
    return plain


def eval_command(
    model: str | None,
    data: Path,
    out: Path,
    html: Path | None,
    n: int,
    seconds: float,
    seed: int,
    genres: list[str] | None,
    fast: bool,
    judge: str | Path | None = None,
) -> dict[str, Any]:
    """``mmgan eval``: load the generator, :func:`run_eval`, write ``out`` (and ``html``).

    ``fast``: at most 10 real clips per genre and split, one hybrid pair of 3 alphas, no
    FAD∞ and no symbolic table — a quick look, not numbers to publish. ``judge``: a judge folder
    (default: the shipped one).

    Raises:
        FileNotFoundError: no corpus at ``data``; no default generator (``model=None``).
        ValueError: an unknown model or genre, bad sizes.
    """
    data = Path(data)
    if not (data / "metadata.jsonl").is_file():
        raise FileNotFoundError(
            f"no corpus at {data} (no metadata.jsonl); build one with "
            "`mmgan dataset build --preset small --out DIR` or pass --data DIR"
        )
    generator = load_generator(model, data=data)
    if judge is not None:
        from mmgan.eval.classifier import load_judge

        judge = load_judge(judge)
    report = run_eval(
        generator,
        data,
        n_per_prompt=n,
        seconds=seconds,
        seed=seed,
        genres=genres or None,
        hybrid_pairs=1 if fast else 2,
        hybrid_steps=3 if fast else 5,
        symbolic=not fast,
        fad_inf=not fast,
        real_per_genre=10 if fast else None,
        judge=judge,
    )
    return write_report(report, out, html)
