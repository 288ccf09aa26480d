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
def _frame_gradients(log_mag, n, low, centre, t_scale, f_scale, floor, to_level, levels,
                     row, t_step, f_step, level, loud):  # fmt: skip
    """Frame ``n``'s phase steps, loudness level and loudness mask into the ``[bins]``
    buffers: ``phase_gradients`` and ``pghi``'s quantisation, one frame at a time
    (``np.gradient``'s central differences, one-sided at the edges; ``low`` floors the
    log-magnitude as ``pghi`` does; ``row``: scratch for the floored frame)."""
    frames, bins = log_mag.shape
    lo, hi = max(n - 1, 0), min(n + 1, frames - 1)
    dn_scale = f_scale / (hi - lo) if hi > lo else 0.0
    for m in range(bins):
        s = max(log_mag[n, m], low)
        row[m] = s
        f_step[m] = dn_scale * (max(log_mag[hi, m], low) - max(log_mag[lo, m], low)) - np.pi
        loud[m] = s > floor
        level[m] = min(max(int((s - floor) * to_level), 0), levels - 1)
    half = 0.5 * t_scale
    t_step[0] = t_scale * (row[1] - row[0])
    for m in range(1, bins - 1):
        t_step[m] = centre * m + half * (row[m + 1] - row[m - 1])
    t_step[bins - 1] = centre * (bins - 1) + t_scale * (row[bins - 1] - row[bins - 2])


@numba.njit(cache=True)
def integrate_log_frames(log_mag, phase, first, tol, centre, t_scale, f_scale, levels, seed):
    """RTPGHI (Průša & Holighaus 2017) on natural-log magnitudes ``log_mag [frames, bins]``
    (one frame contiguous), writing ``phase [frames, bins]`` from frame ``first`` on (earlier
    frames already hold theirs): each frame's phase steps and loudness are computed as it is
    reached, so no ``[frames, bins]`` intermediate is made. A queue over one frame's bins and
    the previous frame's, the loudest first: a previous-frame bin continues its own bin in
    time, a current-frame bin spreads to its two neighbours in frequency. The queue is a
    bucket queue on each bin's loudness quantised to ``levels`` steps from ``floor`` to the
    peak (ties in a step go last-in first-out): push and pop in O(1). Bins at or below
    ``floor`` get a uniform random phase (a xorshift64 generator seeded with ``seed``).

    ``tol``: the floor below the loudest bin, in nepers (``tol_db / 20 * ln 10``); the
    log-magnitude is floored 12 decades below the loudest bin (``pghi``'s ``peak * 1e-12``)
    before its gradients are taken. ``centre``: a bin's centre-frequency advance per hop
    (``2 pi hop / n_fft``); ``t_scale``, ``f_scale``: :func:`~mmgan.audio.phase.
    phase_gradients`' constants."""
    frames, bins = log_mag.shape
    peak = -np.inf
    for n in range(frames):
        for m in range(bins):
            peak = max(peak, log_mag[n, m])
    floor, low = peak - tol, peak - 12.0 * np.log(10.0)
    to_level = (levels - 1) / max(tol, 1e-9)
    t_prev, t_cur = np.empty(bins), np.empty(bins)
    f_cur = np.empty(bins)
    lv_prev, lv_cur = np.empty(bins, np.int64), np.empty(bins, np.int64)
    loud_prev, loud_cur = np.empty(bins, np.bool_), np.empty(bins, np.bool_)
    done = np.empty(bins, np.bool_)
    head = np.empty(levels, np.int64)
    nxt = np.empty(2 * bins + 1, np.int64)
    val = np.empty(2 * bins + 1, np.int64)
    row = np.empty(bins)
    if first > 0:
        _frame_gradients(log_mag, first - 1, low, centre, t_scale, f_scale, floor, to_level,
                         levels, row, t_prev, f_cur, lv_prev, loud_prev)  # fmt: skip
    state = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1)
    for n in range(first, frames):
        _frame_gradients(log_mag, n, low, centre, t_scale, f_scale, floor, to_level, levels,
                         row, t_cur, f_cur, lv_cur, loud_cur)  # fmt: skip
        remaining = 0
        for m in range(bins):
            done[m] = not loud_cur[m]
            if loud_cur[m]:
                remaining += 1
            else:  # xorshift64: a uniform draw per quiet bin at a fraction of np.random's cost
                state ^= state << np.uint64(13)
                state ^= state >> np.uint64(7)
                state ^= state << np.uint64(17)
                phase[n, m] = (state >> np.uint64(11)) * (2.0 * np.pi / 9007199254740992.0)
        head[:] = -1
        top, used, size = -1, 0, 0
        if n > 0:
            for m in range(bins):
                if loud_prev[m]:
                    used, top = _enqueue(nxt, val, head, lv_prev[m], m, used, top)
                    size += 1
        while remaining > 0:
            if size == 0:  # nothing reaches the rest: start again from its loudest bin
                best, hi = -1, -1
                for m in range(bins):
                    if not done[m] and lv_cur[m] > hi:
                        best, hi = m, lv_cur[m]
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
                    phase[n, m] = phase[n - 1, m] + 0.5 * (t_prev[m] + t_cur[m])
                    done[m] = True
                    remaining -= 1
                    used, top = _enqueue(nxt, val, head, lv_cur[m], m + bins, used, top)
                    size += 1
            else:  # a current-frame bin: spread across frequency
                m = idx - bins
                for k in (m + 1, m - 1):
                    if 0 <= k < bins and not done[k]:
                        step = 0.5 * (f_cur[m] + f_cur[k])
                        phase[n, k] = phase[n, m] + (step if k > m else -step)
                        done[k] = True
                        remaining -= 1
                        used, top = _enqueue(nxt, val, head, lv_cur[k], k + bins, used, top)
                        size += 1
        t_prev, t_cur = t_cur, t_prev
        lv_prev, lv_cur = lv_cur, lv_prev
        loud_prev, loud_cur = loud_cur, loud_prev
