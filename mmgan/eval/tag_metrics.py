"""Scores of a genre + tag classifier against labels: accuracy, confusion, tag mAP and AUC.

Plain NumPy over ``N`` clips, ``G`` genres and ``V`` tags (SciPy for ranks), no models::

    genre_probs [N, G]   tag_scores [N, V]   genre [N] (-1 unknown)   tags [N, V] multi-hot

Example::

    m = judge_metrics(out.genre_probs, out.tag_scores, genre, tags, judge.genres)
    m["accuracy"], m["tag_map"], m["tag_auc"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["average_precision", "judge_metrics", "roc_auc"]


def average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall step curve (as scikit-learn), ``y [N]`` in {0, 1}."""
    order = np.argsort(-score, kind="mergesort")
    y, score = y[order].astype(np.float64), score[order]
    last = np.r_[np.nonzero(np.diff(score))[0], len(score) - 1]  # end of each tie group
    tp = np.cumsum(y)[last]
    precision, recall = tp / (last + 1), tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank statistic (ties count half)."""
    from scipy.stats import rankdata

    pos = y.astype(bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((rankdata(score)[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def judge_metrics(
    genre_probs: np.ndarray,
    tag_scores: np.ndarray,
    genre: np.ndarray,
    tags: np.ndarray,
    genre_names: Sequence[str],
) -> dict[str, Any]:
    """Accuracy, per-genre accuracy, confusion (rows true, columns predicted), macro tag
    mAP and AUC (over tags with positives and negatives) of ``[N, G]``/``[N, V]`` scores
    against ``genre [N]`` (-1 unknown, skipped) and multi-hot ``tags [N, V]``."""
    known = genre >= 0
    pred = genre_probs.argmax(1)
    g = len(genre_names)
    confusion = np.zeros((g, g), dtype=np.int64)
    np.add.at(confusion, (genre[known], pred[known]), 1)
    rows = confusion.sum(1)
    per_genre = {
        name: (float(confusion[i, i] / rows[i]) if rows[i] else None)
        for i, name in enumerate(genre_names)
    }
    scored = [v for v in range(tags.shape[1]) if 0 < tags[:, v].sum() < len(tags)]
    aps = [average_precision(tags[:, v], tag_scores[:, v]) for v in scored]
    aucs = [roc_auc(tags[:, v], tag_scores[:, v]) for v in scored]
    return {
        "n": int(len(genre)),
        "accuracy": float((pred[known] == genre[known]).mean()) if known.any() else None,
        "per_genre_accuracy": per_genre,
        "confusion": confusion.tolist(),
        "genres": list(genre_names),
        "tag_map": float(np.mean(aps)) if aps else None,
        "tag_auc": float(np.mean(aucs)) if aucs else None,
        "tags_scored": len(scored),
    }
