"""The heap integration of :func:`mmgan.audio.phase.pghi`, compiled by numba.

A separate module so that importing :mod:`mmgan.audio.phase` does not import numba; numba
compiles these on first use and caches the machine code on disk (``cache=True``).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _push(keys, items, size, key, item):  # max-heap on keys
    i = size
    keys[i], items[i] = key, item
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] >= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        items[parent], items[i] = items[i], items[parent]
        i = parent
    return size + 1


@numba.njit(cache=True)
def _pop(keys, items, size):
    top = items[0]
    size -= 1
    keys[0], items[0] = keys[size], items[size]
    i = 0
    while True:
        left = 2 * i + 1
        best = i
        if left < size and keys[left] > keys[best]:
            best = left
        if left + 1 < size and keys[left + 1] > keys[best]:
            best = left + 1
        if best == i:
            break
        keys[best], keys[i] = keys[i], keys[best]
        items[best], items[i] = items[i], items[best]
        i = best
    return top, size


@numba.njit(cache=True)
def integrate(log_mag, t_step, f_step, order, loud, phase, seeds):
    """Set ``phase`` in place: first from the bins ``seeds`` (flat indices whose phase is
    already set), then from each not yet reached bin of ``order`` (loudest first; phase 0),
    spread to the four neighbours, always continuing from the loudest reached bin, with the
    trapezoidal rule on the time / frequency phase steps. Bins where ``loud`` is False are
    never reached and keep their phase."""
    bins, frames = log_mag.shape
    done = ~loud
    keys = np.empty(bins * frames, np.float32)
    items = np.empty(bins * frames, np.int64)
    size = 0
    for start in seeds:
        m0, n0 = start // frames, start % frames
        if not done[m0, n0]:  # a loud seed, once
            done[m0, n0] = True
            size = _push(keys, items, size, log_mag[m0, n0], start)
    size = _spread(log_mag, t_step, f_step, done, phase, keys, items, size)
    for start in order:
        m0, n0 = start // frames, start % frames
        if done[m0, n0]:
            continue
        done[m0, n0] = True
        phase[m0, n0] = 0.0
        size = _push(keys, items, size, log_mag[m0, n0], start)
        size = _spread(log_mag, t_step, f_step, done, phase, keys, items, size)


@numba.njit(cache=True)
def _spread(log_mag, t_step, f_step, done, phase, keys, items, size):
    bins, frames = log_mag.shape
    while size > 0:
        idx, size = _pop(keys, items, size)
        m, n = idx // frames, idx % frames
        p = phase[m, n]
        if n + 1 < frames and not done[m, n + 1]:
            phase[m, n + 1] = p + 0.5 * (t_step[m, n] + t_step[m, n + 1])
            done[m, n + 1] = True
            size = _push(keys, items, size, log_mag[m, n + 1], idx + 1)
        if n > 0 and not done[m, n - 1]:
            phase[m, n - 1] = p - 0.5 * (t_step[m, n] + t_step[m, n - 1])
            done[m, n - 1] = True
            size = _push(keys, items, size, log_mag[m, n - 1], idx - 1)
        if m + 1 < bins and not done[m + 1, n]:
            phase[m + 1, n] = p + 0.5 * (f_step[m, n] + f_step[m + 1, n])
            done[m + 1, n] = True
            size = _push(keys, items, size, log_mag[m + 1, n], idx + frames)
        if m > 0 and not done[m - 1, n]:
            phase[m - 1, n] = p - 0.5 * (f_step[m, n] + f_step[m - 1, n])
            done[m - 1, n] = True
            size = _push(keys, items, size, log_mag[m - 1, n], idx - frames)
    return size
