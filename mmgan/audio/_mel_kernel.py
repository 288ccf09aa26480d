"""The multiplicative-update mel inverse of :func:`mmgan.audio.features.nnls_mel_inverse`,
frame by frame and compiled by numba.

A mel basis is banded: each of the 80 triangular filters covers a run of neighbouring STFT
bins and each bin belongs to at most two filters, so ``basis @ spec`` needs ~1,000
multiply-adds a frame instead of the dense product's 41,000. Running the iterations one
frame at a time keeps the frame in cache between them. Measured on 30 s of mel (2,584
frames, 10 iterations) on this 2-core CPU: ~0.01 s against ~0.04 s for the dense torch
products. A separate module so that importing :mod:`mmgan.audio.features` does not import
numba (it compiles on first use and caches the machine code on disk).
"""

from __future__ import annotations

import numba
import numpy as np


def band_structure(basis: np.ndarray) -> tuple[np.ndarray, ...]:
    """``basis [n_mels, bins]`` -> ``(lo, width, weights, bin_mels, bin_weights)``: each
    filter's first bin, run length and weights ``[n_mels, max width]``; each bin's filters
    and their weights ``[bins, max filters a bin]`` (padded with weight 0)."""
    basis = np.asarray(basis, dtype=np.float32)
    n_mels, bins = basis.shape
    lo = np.zeros(n_mels, np.int64)
    width = np.zeros(n_mels, np.int64)
    for m in range(n_mels):
        nz = np.flatnonzero(basis[m])
        if len(nz):
            lo[m], width[m] = nz[0], nz[-1] + 1 - nz[0]
    weights = np.zeros((n_mels, max(int(width.max()), 1)), np.float32)
    for m in range(n_mels):
        weights[m, : width[m]] = basis[m, lo[m] : lo[m] + width[m]]
    per_bin = max(int((basis != 0).sum(axis=0).max()), 1)
    bin_mels = np.zeros((bins, per_bin), np.int64)
    bin_weights = np.zeros((bins, per_bin), np.float32)
    for k in range(bins):
        nz = np.flatnonzero(basis[:, k])
        bin_mels[k, : len(nz)] = nz
        bin_weights[k, : len(nz)] = basis[nz, k]
    return lo, width, weights, bin_mels, bin_weights


def nnls_frames_threaded(mel, spec, band, iters: int, threads: int) -> None:
    """:func:`nnls_frames` over ``threads`` slices of the frames at once (the kernel releases
    the GIL; frames are independent), each slice at least 256 frames; an error in any slice
    is raised here."""
    from concurrent.futures import ThreadPoolExecutor

    parts = max(1, min(threads, len(mel) // 256))
    if parts == 1:
        nnls_frames(mel, spec, *band, iters)
        return
    cuts = np.linspace(0, len(mel), parts + 1).astype(int)
    with ThreadPoolExecutor(parts - 1) as pool:
        jobs = [
            pool.submit(nnls_frames, mel[a:b], spec[a:b], *band, iters)
            for a, b in zip(cuts[1:-1], cuts[2:], strict=True)
        ]
        nnls_frames(mel[: cuts[1]], spec[: cuts[1]], *band, iters)
        for job in jobs:
            job.result()


# fast math without the no-NaN / no-inf assumptions, and numpy's division (no exception):
# a NaN in the mel comes out as NaN, as the dense torch update gives it
_FASTMATH = {"contract", "reassoc", "arcp", "nsz", "afn"}


@numba.njit(cache=True, fastmath=_FASTMATH, error_model="numpy", nogil=True)
def nnls_frames(mel, spec, lo, width, weights, bin_mels, bin_weights, iters):
    """Refine ``spec [frames, bins]`` (float32, > 0; updated in place) towards the
    non-negative least-squares inverse of ``mel [frames, n_mels]``:
    ``spec *= (basis.T @ mel) / (basis.T @ basis @ spec + 1e-10)``, ``iters`` times (Lee &
    Seung's multiplicative update). Blocks of 64 frames are copied to ``[bins, 64]``
    buffers so that every inner loop runs over contiguous frames (vectorised) and the block
    stays in cache for all the iterations."""
    frames, n_mels = mel.shape
    bins, per_bin = bin_mels.shape
    block = 64
    s = np.empty((bins, block), np.float32)
    numer = np.empty((bins, block), np.float32)
    mb = np.empty((n_mels, block), np.float32)
    proj = np.empty((n_mels, block), np.float32)
    den = np.empty(block, np.float32)
    for b0 in range(0, frames, block):
        nb = min(block, frames - b0)
        for f in range(nb):
            for k in range(bins):
                s[k, f] = spec[b0 + f, k]
            for m in range(n_mels):
                mb[m, f] = mel[b0 + f, m]
        for k in range(bins):
            numer[k, :nb] = 0.0
            for j in range(per_bin):
                w, m = bin_weights[k, j], bin_mels[k, j]
                for f in range(nb):
                    numer[k, f] += w * mb[m, f]
        for _ in range(iters):
            for m in range(n_mels):
                proj[m, :nb] = 0.0
                for i in range(width[m]):
                    w, k = weights[m, i], lo[m] + i
                    for f in range(nb):
                        proj[m, f] += w * s[k, f]
            for k in range(bins):
                den[:nb] = 1e-10
                for j in range(per_bin):
                    w, m = bin_weights[k, j], bin_mels[k, j]
                    for f in range(nb):
                        den[f] += w * proj[m, f]
                for f in range(nb):
                    s[k, f] *= numer[k, f] / den[f]
        for f in range(nb):
            for k in range(bins):
                spec[b0 + f, k] = s[k, f]
