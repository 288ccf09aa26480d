"""Input checks shared by the metrics over plain arrays (``metrics``, ``copies``).

Each raises ``ValueError`` naming the argument and what is wrong with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_matrix", "unit_rows"]


def as_matrix(x: Any, name: str, min_rows: int = 1) -> np.ndarray:
    """``x`` as a finite float64 ``[N, D]`` array with ``N >= min_rows``.

    Raises:
        ValueError: ``x`` is not 2-D, has too few rows, or holds NaN / infinite values.
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [N, D], got shape {a.shape}")
    if a.shape[0] < min_rows:
        raise ValueError(f"{name} has {a.shape[0]} row(s); this needs N >= {min_rows}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def unit_rows(a: np.ndarray, name: str) -> np.ndarray:
    """``a [N, D]`` with every row scaled to unit length (for cosines).

    Raises:
        ValueError: a row is all zeros (it has no direction).
    """
    norm = np.linalg.norm(a, axis=1, keepdims=True)
    if np.any(norm <= 1e-12):
        raise ValueError(f"{name} has all-zero rows (e.g. row {int(np.argmin(norm))}); no cosine")
    return a / norm
