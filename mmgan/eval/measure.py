"""What an evaluation report measures of a set of clips, and the blocks it scores them into.

:class:`Measure` holds the models loaded once per report (style space, judge, extra
embedders) and measures clips into a :class:`ClipSet`: style-space audio vectors, judge
genre probabilities, one embedding per embedder and content fingerprints, row-aligned with
the clips' genre labels. The ``*_block`` functions and :func:`compare_sets` turn sets into
the report's ``judge``, ``clap``, ``fad``, ``diversity`` and ``memorisation`` blocks (see
:mod:`mmgan.eval.report` for the layout); :func:`check_output` checks what a generator
returned before anything is measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from mmgan.eval.corpus_clips import CorpusClips, corpus_style_embeddings

__all__ = [
    "CHUNK",
    "MIN_FAD_INF",
    "ClipSet",
    "Measure",
    "check_output",
    "clap_block",
    "compare_sets",
    "fad_block",
    "judge_block",
    "memorisation_block",
]

CHUNK = 32  # clips per embedding call
MIN_FAD_INF = 40  # FAD∞ extrapolates FAD over subset sizes: it needs this many clips a side


@dataclass
class ClipSet:
    """What is measured of a set of clips (generated or real), row-aligned with ``labels``."""

    labels: list[str]
    emb: dict[str, list[np.ndarray]] = field(default_factory=dict)  # name -> [N, E] parts
    style: list[np.ndarray] = field(default_factory=list)  # [N, D] style-space audio vectors
    probs: list[np.ndarray] = field(default_factory=list)  # [N, G] judge genre probabilities
    fp: list[np.ndarray] = field(default_factory=list)  # [N, 32, frames] fingerprints

    def get(self, name: str) -> np.ndarray:
        """Every clip's vectors from embedder ``name`` (``"style"``: style-space) ``[N, E]``."""
        return np.concatenate(self.emb[name]) if name != "style" else np.concatenate(self.style)

    def of(self, name: str, genre: str) -> np.ndarray:
        """The rows of :meth:`get` whose label is ``genre``."""
        return self.get(name)[np.asarray(self.labels) == genre]

    def fingerprints(self) -> np.ndarray:
        """Every clip's content fingerprint ``[N, 32, frames]``."""
        return np.concatenate(self.fp)


class Measure:
    """Embeds and judges clips with the models loaded once for the whole report."""

    def __init__(self, embedders: Sequence[str], space: Any, judge: Any) -> None:
        from mmgan.eval.embedders import get_embedder

        self.space, self.judge = space, judge
        self.others = {n: get_embedder(n) for n in embedders if n not in ("style", "judge")}
        self.names = list(embedders)

    @torch.no_grad()
    def judged(self, feats: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Judge features ``[C, frames]`` -> ``(genre probs [N, G], embedding [N, E])``, from
        float16 features for real and generated clips alike (the trainer's disk cache
        stores float16, so both sides go through the same rounding)."""
        emb = self.judge.embed_features([np.asarray(f, dtype=np.float16) for f in feats])
        probs = torch.softmax(self.judge.heads(emb)[0].double(), dim=-1)
        return probs.numpy(), emb.numpy()

    def add(
        self,
        s: ClipSet,
        waves: list[np.ndarray],
        sr: int,
        fp_seconds: float | None = None,
        **known: np.ndarray,
    ) -> None:
        """Measure clips ``waves`` (``[T]`` each) into ``s``; fingerprints cover ``fp_seconds``
        (cropped / padded; ``None``: clips of one length). ``known`` may hold what is
        already computed: ``style [N, D]``, ``probs [N, G]`` and ``judge [N, E]``."""
        from mmgan.eval.copies import fingerprint

        if "style" not in known:
            known["style"] = np.concatenate([self.space.encode_audio(w, sr).numpy() for w in waves])
        if "probs" not in known:
            known["probs"], known["judge"] = self.judged(self.judge.features(waves, sr))
        s.style.append(np.asarray(known["style"], dtype=np.float32))
        s.probs.append(known["probs"])
        for name in self.names:
            if name == "judge":
                s.emb.setdefault(name, []).append(known["judge"])
            elif name != "style":
                s.emb.setdefault(name, []).append(self.others[name].embed(waves, sr))
        s.fp.append(fingerprint(waves, sr, seconds=fp_seconds))

    def corpus(self, clips: CorpusClips, *, progress: bool, desc: str) -> ClipSet:
        """Measure corpus clips, with the style embeddings and judge features disk-cached."""
        from tqdm.auto import tqdm

        from mmgan.training.judge import clip_features, feature_cache_dir

        style = corpus_style_embeddings(clips, self.space, progress=progress)
        kw = self.judge.feature_kwargs
        s = ClipSet(labels=clips.genres)
        for a in tqdm(range(0, len(clips), CHUNK), desc=desc, disable=not progress):
            idx = range(a, min(a + CHUNK, len(clips)))
            paths = [clips.path(i) for i in idx]
            probs, emb = self.judged(
                clip_features(paths, kw, cache_dir=feature_cache_dir(clips.root, kw))
            )
            known = {"style": style[a : idx[-1] + 1], "probs": probs, "judge": emb}
            self.add(s, [clips.load(i) for i in idx], clips.sample_rate, clips.seconds, **known)
        return s


def check_output(audio: Any, n: int, length: int, who: str, what: str) -> list[np.ndarray]:
    """A generator's output as ``n`` float32 clips ``[length]``, after checking it.

    Args:
        audio: what generator ``who`` returned for ``what`` (both only name it in errors).
        n, length: the expected shape ``[n, length]``.

    Raises:
        ValueError: a wrong type or shape, NaN / infinite samples, or silent clips.
    """
    if not isinstance(audio, np.ndarray) or audio.shape != (n, length):
        raise ValueError(
            f"generator {who!r} returned {getattr(audio, 'shape', type(audio).__name__)} for "
            f"{what}; expected a float32 array [{n}, {length}] (n x round(seconds * sr))"
        )
    if not np.all(np.isfinite(audio)):
        raise ValueError(f"generator {who!r} returned NaN or infinite samples for {what}")
    silent = np.flatnonzero(np.abs(audio).max(axis=1) <= 1e-6)
    if silent.size:
        raise ValueError(
            f"generator {who!r} returned silent clips (rows {silent.tolist()}) for {what}; "
            "the judge and embedders need audible sound"
        )
    return list(audio.astype(np.float32, copy=False))


def judge_block(s: ClipSet, genres: list[str], judge: Any) -> dict[str, Any]:
    """The ``judge`` block: accuracy, per-genre accuracy and the confusion counts of the
    asked ``genres`` (rows) against every genre the judge knows (columns)."""
    from mmgan.eval.metrics import conditioning_accuracy

    r = conditioning_accuracy(np.concatenate(s.probs), s.labels, judge.genres)
    conf = np.asarray(r["confusion"])[[judge.genres.index(g) for g in genres]]  # asked genres
    return {
        "accuracy": float(r["accuracy"]),
        "per_genre": {g: r["per_genre"][g] for g in genres},
        "confusion": {"rows": genres, "columns": list(judge.genres), "matrix": conf.tolist()},
    }


def clap_block(s: ClipSet, genres: list[str], text: np.ndarray) -> dict[str, Any]:
    """The ``clap`` block: mean and per-genre cosine of each clip's style vector with its
    genre prompt's text vector (``text [G, D]``, rows in ``genres`` order)."""
    from mmgan.eval.metrics import clap_score

    r = clap_score(text[[genres.index(g) for g in s.labels]], s.get("style"))
    item, lab = np.asarray(r["per_item"], dtype=float), np.asarray(s.labels)
    return {
        "mean": float(r["mean"]),
        "per_genre": {g: float(item[lab == g].mean()) for g in genres},
    }


def fad_block(a: np.ndarray, b: np.ndarray, seed: int | None) -> dict[str, Any]:
    """FAD of ``a [N, E]`` vs ``b [M, E]``, and FAD∞ unless ``seed`` is None."""
    from mmgan.eval.fad import fad, fad_inf

    out: dict[str, Any] = {"fad": float(fad(a, b)), "n": len(a), "n_test": len(b)}
    if seed is None:
        return out | {"fad_inf": None, "fad_inf_note": "not asked for"}
    if min(len(a), len(b)) < MIN_FAD_INF:
        return out | {"fad_inf": None, "fad_inf_note": f"needs >= {MIN_FAD_INF} clips a side"}
    r = fad_inf(a, b, seed=seed)
    out |= {"fad_inf": float(r["fad_inf"]), "fad_inf_r2": float(r["r2"])}
    if len(a) // 4 < a.shape[1]:  # its smallest subsets have rank-deficient covariances
        out["fad_inf_note"] = f"rough: subsets of {len(a) // 4}+ clips of {a.shape[1]}-d vectors"
    return out


def _diversity(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    from mmgan.eval.metrics import diversity_ratio

    if min(len(a), len(b)) < 2:
        return {"clips": None, "test": None, "ratio": None, "note": "needs >= 2 clips a side"}
    d = diversity_ratio(a, b)
    return {"clips": d["generated"], "test": d["real"], "ratio": d["ratio"]}


def compare_sets(
    s: ClipSet, test: ClipSet, genres: list[str], names: list[str], seed: int | None
) -> dict:
    """FAD and per-genre diversity of the set ``s`` against the held-out real clips."""
    out: dict[str, Any] = {"fad": {}, "diversity": {}}
    for name in names:
        out["fad"][name] = fad_block(s.get(name), test.get(name), seed)
        per = {g: _diversity(s.of(name, g), test.of(name, g)) for g in genres}
        ratios = [v["ratio"] for v in per.values() if v["ratio"] is not None]
        mean = float(np.nanmean(ratios)) if ratios else None
        out["diversity"][name] = {"per_genre": per, "mean_ratio": mean}
    return out


def memorisation_block(s: ClipSet, train: ClipSet, test: ClipSet) -> dict[str, Any]:
    """Share of ``s`` closer to a training clip than 99 % of held-out clips are."""
    from mmgan.eval.copies import memorisation

    mem = memorisation(s.fingerprints(), train.fingerprints(), test.fingerprints())
    keys = ("copy_rate", "threshold", "real_median", "real_max", "percentile", "method")
    return {k: mem[k] for k in keys} | {"n": len(s.labels)}
