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
    _sift_down(keys, items, size, 0)
    return top, size


@numba.njit(cache=True)
def _sift_down(keys, items, size, i):
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


@numba.njit(cache=True)
def _enqueue(nxt, val, head, b, item, used, top):  # bucket queue: push `item` on level `b`
    nxt[used], val[used], head[b] = head[b], item, used
    return used + 1, max(top, b)


@numba.njit(cache=True)
def integrate_frames(level, t_step, f_step, loud, phase, first, levels):
    """Frame by frame from ``first`` (earlier frames already have their phase): RTPGHI
    (Průša & Holighaus 2017) — a queue over one frame's bins and the previous frame's, the
    loudest first: a previous-frame bin continues its own bin in time, a current-frame bin
    spreads to its two neighbours in frequency. The queue is a bucket queue on ``level``
    (each bin's loudness quantised to ``levels`` steps over the tolerance; ties in a step go
    last-in first-out): push and pop in O(1) instead of a binary heap's O(log n). Bins where
    ``loud`` is False keep their phase. Arrays are ``[frames, bins]`` (one frame contiguous).
    """
    frames, bins = level.shape
    done = np.empty(bins, np.bool_)
    head = np.empty(levels, np.int64)
    nxt = np.empty(2 * bins + 1, np.int64)
    val = np.empty(2 * bins + 1, np.int64)
    for n in range(first, frames):
        remaining = 0
        for m in range(bins):
            done[m] = not loud[n, m]
            if loud[n, m]:
                remaining += 1
        head[:] = -1
        top, used, size = -1, 0, 0
        if n > 0:
            for m in range(bins):
                if loud[n - 1, m]:
                    used, top = _enqueue(nxt, val, head, level[n - 1, m], m, used, top)
                    size += 1
        while remaining > 0:
            if size == 0:  # nothing reaches the rest: start again from its loudest bin
                best, hi = -1, -1
                for m in range(bins):
                    if not done[m] and level[n, m] > hi:
                        best, hi = m, level[n, m]
                phase[n, best] = 0.0
                done[best] = True
                remaining -= 1
                used, top = _enqueue(nxt, val, head, hi, best + bins, used, top)
                size += 1
                continue
            while head[top] < 0:
                top -= 1
            e = head[top]
            head[top] = nxt[e]
            size -= 1
            idx = val[e]
            if idx < bins:  # a previous-frame bin: continue it in time
                m = idx
                if not done[m]:
                    phase[n, m] = phase[n - 1, m] + 0.5 * (t_step[n - 1, m] + t_step[n, m])
                    done[m] = True
                    remaining -= 1
                    used, top = _enqueue(nxt, val, head, level[n, m], m + bins, used, top)
                    size += 1
            else:  # a current-frame bin: spread across frequency
                m = idx - bins
                for k in (m + 1, m - 1):
                    if 0 <= k < bins and not done[k]:
                        step = 0.5 * (f_step[n, m] + f_step[n, k])
                        phase[n, k] = phase[n, m] + (step if k > m else -step)
                        done[k] = True
                        remaining -= 1
                        used, top = _enqueue(nxt, val, head, level[n, k], k + bins, used, top)
                        size += 1
