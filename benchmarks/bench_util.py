"""What the benchmark scripts share: target checks and repeated timing.

The scripts run as ``python benchmarks/<name>.py``, so this folder is on ``sys.path`` and they
``from bench_util import check, timed``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

OPS = {
    ">=": lambda v, t: v >= t,
    ">": lambda v, t: v > t,
    "<=": lambda v, t: v <= t,
    "<": lambda v, t: v < t,
}


def check(value: float, op: str, target: float) -> dict[str, Any]:
    """``{"value", "op", "target", "passed"}`` for ``value op target``."""
    return {"value": float(value), "op": op, "target": float(target),
            "passed": bool(OPS[op](value, target))}  # fmt: skip


def timed(fn: Callable[[int], Any], repeats: int, warmup: int) -> tuple[float, list[float], list]:
    """``(median seconds, every counted time, every counted result)`` of ``fn(i)``; the
    ``warmup`` uncounted runs get negative ``i``."""
    for i in range(warmup):
        fn(-1 - i)
    times, results = [], []
    for i in range(repeats):
        t0 = time.perf_counter()
        results.append(fn(i))
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, results
