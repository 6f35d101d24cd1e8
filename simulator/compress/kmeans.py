"""Vectorised 1-D k-means for weight sharing (Deep Compression step 3).

Weights are scalars, so k-means is a 1-D problem: with the centroids sorted, the cluster of a value is
found by a binary search of the midpoints between neighbouring centroids (``np.searchsorted``,
O(n log k), no n x k distance matrix). Centroid updates need only per-cluster sums and counts.

Two exact-per-iteration paths share that assignment:

* up to ``EXACT_LIMIT`` values: the values are sorted once; every cluster is then a contiguous
  range, so an iteration costs O(k log n) using prefix sums (float64);
* above it (100M+ weights): Lloyd iterations run on a fine histogram of the values (``HIST_BINS``
  bins, per-bin counts and sums); NB: only a bin that straddles a cluster boundary is assigned as a
  whole, so the centroids are those of exact k-means up to one bin's width.

Both paths end the same way: one exact assignment of every value to its nearest centroid, then one
exact centroid update, so every returned centroid is the mean of the values labelled with it.

Centroid initialisation (Han et al. 2016, section 3.1): ``linear`` (evenly spaced between min and
max; the paper's best), ``density`` (evenly spaced quantiles of the values) and ``random`` (k
distinct values drawn from the data, seeded).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.compress.base import CompressError

__all__ = ["EXACT_LIMIT", "HIST_BINS", "INITS", "KMeansResult", "assign", "init_centroids", "kmeans_1d"]

EXACT_LIMIT = 1 << 22
HIST_BINS = 1 << 20


@dataclass(frozen=True, slots=True)
class KMeansResult:
    """Sorted ``centroids`` (float32, size k) and each value's cluster ``labels`` (uint8/uint16)."""

    centroids: np.ndarray
    labels: np.ndarray
    iterations: int


def _linear(values: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    return np.linspace(float(values.min()), float(values.max()), k)


def _density(values: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    # Evenly spaced quantiles (the inverse CDF at (i + 0.5) / k): centroids crowd where weights do.
    sample = values if values.size <= 1 << 20 else rng.choice(values, 1 << 20, replace=False)
    return np.quantile(sample.astype(np.float64), (np.arange(k) + 0.5) / k)


def _random(values: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(values, size=min(k, values.size), replace=False).astype(np.float64))


#: Centroid initialisation name -> function(values, k, rng) -> initial centroids.
INITS = {"linear": _linear, "density": _density, "random": _random}


def init_centroids(values: np.ndarray, k: int, init: str = "linear", seed: int = 0) -> np.ndarray:
    """Initial centroids (float64, sorted) by ``init`` (a key of ``INITS``)."""
    if init not in INITS:
        raise CompressError(f"unknown k-means initialisation {init!r}; expected one of {sorted(INITS)}")
    return np.sort(INITS[init](values, k, np.random.default_rng(seed)).astype(np.float64))


def assign(values: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Nearest-centroid labels for sorted ``centroids`` (ties go to the lower centroid)."""
    bounds = (centroids[1:] + centroids[:-1]) / 2
    labels = np.searchsorted(bounds.astype(values.dtype), values, side="left")
    return labels.astype(np.uint8 if centroids.size <= 256 else np.uint16)


def _lloyd_sorted(sorted_vals: np.ndarray, prefix: np.ndarray, c: np.ndarray, iters: int, tol: float):
    """Lloyd on sorted values: each cluster is the range between two searchsorted boundaries."""
    n = sorted_vals.size
    it = 0
    for it in range(1, iters + 1):
        cut = np.searchsorted(sorted_vals, (c[1:] + c[:-1]) / 2, side="right")
        edges = np.concatenate(([0], cut, [n]))
        counts = np.diff(edges)
        sums = prefix[edges[1:]] - prefix[edges[:-1]]
        new = np.where(counts > 0, sums / np.maximum(counts, 1), c)
        shift = np.abs(new - c).max()
        c = np.sort(new)
        if shift <= tol:
            break
    return c, it


def _lloyd_hist(counts: np.ndarray, sums: np.ndarray, centers: np.ndarray, c: np.ndarray, iters: int, tol: float):
    """Lloyd on histogram bins (counts, sums at bin ``centers``)."""
    it = 0
    ccount = np.cumsum(np.concatenate(([0.0], counts)))
    csum = np.cumsum(np.concatenate(([0.0], sums)))
    for it in range(1, iters + 1):
        cut = np.searchsorted(centers, (c[1:] + c[:-1]) / 2, side="right")
        edges = np.concatenate(([0], cut, [centers.size]))
        cnt = ccount[edges[1:]] - ccount[edges[:-1]]
        sm = csum[edges[1:]] - csum[edges[:-1]]
        new = np.where(cnt > 0, sm / np.maximum(cnt, 1), c)
        shift = np.abs(new - c).max()
        c = np.sort(new)
        if shift <= tol:
            break
    return c, it


class _Histogram:
    """Fine histogram of a large array, built and used chunk by chunk to bound memory."""

    CHUNK = 1 << 23

    def __init__(self, flat: np.ndarray, lo: float, hi: float) -> None:
        self.lo = lo
        self.width = (hi - lo) / HIST_BINS if hi > lo else 1.0
        self.inv = np.float32(1.0 / self.width)
        self.counts = np.zeros(HIST_BINS, dtype=np.float64)
        self.sums = np.zeros(HIST_BINS, dtype=np.float64)
        for s in range(0, flat.size, self.CHUNK):
            part = flat[s:s + self.CHUNK]
            bins = self._bins(part)
            self.counts += np.bincount(bins, minlength=HIST_BINS)
            self.sums += np.bincount(bins, weights=part, minlength=HIST_BINS)
        mids = lo + (np.arange(HIST_BINS) + 0.5) * self.width
        self.centers = np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), mids)

    def _bins(self, part: np.ndarray) -> np.ndarray:
        return np.minimum(((part - np.float32(self.lo)) * self.inv).astype(np.int32), HIST_BINS - 1)

    def assign(self, flat: np.ndarray, centroids: np.ndarray):
        """Exact nearest-centroid labels: per-bin labels, with a binary search only in bins near a boundary.

        NB: a value's computed bin can be off by rounding (< 1 bin), so a bin within 2 bins' width of a
        boundary is treated as ambiguous and its values are searched exactly.
        """
        bounds = ((centroids[1:].astype(np.float64) + centroids[:-1]) / 2).astype(np.float32)
        edges = self.lo + np.arange(HIST_BINS + 1) * self.width
        below = np.searchsorted(bounds, (edges[:-1] - 2 * self.width).astype(np.float32), side="left")
        above = np.searchsorted(bounds, (edges[1:] + 2 * self.width).astype(np.float32), side="left")
        dtype = np.uint8 if centroids.size <= 256 else np.uint16
        bin_label = below.astype(dtype)
        ambiguous = above != below
        labels = np.empty(flat.size, dtype=dtype)
        cnt = np.zeros(centroids.size, dtype=np.int64)
        sm = np.zeros(centroids.size, dtype=np.float64)
        for s in range(0, flat.size, self.CHUNK):
            part = flat[s:s + self.CHUNK]
            bins = self._bins(part)
            lab = bin_label[bins]
            fix = np.flatnonzero(ambiguous[bins])
            lab[fix] = np.searchsorted(bounds, part[fix], side="left")
            labels[s:s + self.CHUNK] = lab
            cnt += np.bincount(lab, minlength=centroids.size)
            sm += np.bincount(lab, weights=part, minlength=centroids.size)
        return labels, cnt, sm


def kmeans_1d(
    values: np.ndarray, k: int, init: str = "linear", max_iter: int = 100, tol: float = 0.0, seed: int = 0
) -> KMeansResult:
    """Cluster scalar ``values`` into ``k`` shared values.

    Args:
        values: the weights (any shape; float32 recommended), not modified.
        k: number of clusters (``2 ** bits``); capped at the number of distinct values.
        init: ``"linear"``, ``"density"`` or ``"random"``.
        max_iter: Lloyd iterations at most.
        tol: stop when no centroid moves more than this (relative to the value range).
        seed: seeds ``random`` and ``density`` (sampling) initialisation.

    Returns:
        ``KMeansResult`` with float32 centroids sorted ascending and ``labels`` of ``values.ravel()``.

    Raises:
        CompressError: no values, k < 1, or an unknown ``init``.
    """
    flat = np.asarray(values).ravel()
    if flat.size == 0:
        raise CompressError("k-means needs at least one value")
    if k < 1:
        raise CompressError(f"k-means needs k >= 1, got {k}")
    lo, hi = float(flat.min()), float(flat.max())
    scale_tol = tol * max(hi - lo, np.finfo(np.float32).tiny)
    c = init_centroids(flat, k, init, seed)
    if flat.size <= EXACT_LIMIT:
        sorted_vals = np.sort(flat.astype(np.float64))
        prefix = np.concatenate(([0.0], np.cumsum(sorted_vals)))
        c, iters = _lloyd_sorted(sorted_vals, prefix, c, max_iter, scale_tol)
        labels = assign(flat, c.astype(np.float32))
        cnt = np.bincount(labels, minlength=c.size)
        sm = np.bincount(labels, weights=flat, minlength=c.size)
    else:
        hist = _Histogram(flat, lo, hi)
        c, iters = _lloyd_hist(hist.counts, hist.sums, hist.centers, c, max_iter, scale_tol)
        labels, cnt, sm = hist.assign(flat, c.astype(np.float32))
    # Exact final centroid update: each centroid is the mean of the values assigned to it.
    c = np.where(cnt > 0, sm / np.maximum(cnt, 1), c).astype(np.float32)
    order = np.argsort(c, kind="stable")
    if (order != np.arange(c.size)).any():  # means of adjacent clusters cannot cross, but stay safe
        labels = np.argsort(order).astype(labels.dtype)[labels]
        c = c[order]
    return KMeansResult(centroids=c, labels=labels, iterations=iters)
