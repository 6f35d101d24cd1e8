"""Busy fraction over time of each port and compute array (no simpy): a compact, bounded time series.

``utilisation_series(intervals, end_cycles, bins)`` cuts ``[0, end_cycles]`` into at most ``bins`` equal
bins and returns, per resource, the fraction of each bin it was busy: for a memory port that is the
share of its bandwidth in use (bits moved = fraction x bandwidth x bin cycles). Vectorised: the busy time
before ``t`` is ``sum over starts < t of (t - start) - sum over ends < t of (t - end)``, read at the bin
edges with ``searchsorted`` on the sorted starts and ends, so millions of intervals (full fidelity) cost
O(n log n), and the result stays ``bins`` numbers per resource whatever the run's length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["MAX_BINS", "utilisation_series"]

#: Bins of the series (the size bound of what ``MemoryStats`` carries).
MAX_BINS = 64


def _busy_before(starts: np.ndarray, ends: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Busy cycles before each ``t`` of intervals [starts, ends) that do not overlap each other."""
    s, e = np.sort(starts), np.sort(ends)
    cs, ce = np.concatenate(([0.0], np.cumsum(s))), np.concatenate(([0.0], np.cumsum(e)))
    ks, ke = np.searchsorted(s, t, side="left"), np.searchsorted(e, t, side="left")
    return (ks * t - cs[ks]) - (ke * t - ce[ke])


def utilisation_series(intervals: Mapping[str, Sequence[tuple[float, float]]], end_cycles: float,
                       bins: int = MAX_BINS) -> tuple[float, dict[str, tuple[float, ...]]]:
    """(bin width in cycles, busy fraction per bin per resource); resources never busy are left out."""
    if end_cycles <= 0 or bins < 1:
        return 0.0, {}
    width = end_cycles / bins
    edges = np.linspace(0.0, end_cycles, bins + 1)
    out: dict[str, tuple[float, ...]] = {}
    for name, spans in intervals.items():
        if not spans:
            continue
        arr = np.asarray(spans, dtype=float)
        busy = _busy_before(arr[:, 0], arr[:, 1], edges)
        out[name] = tuple(float(x) for x in np.clip(np.diff(busy) / width, 0.0, 1.0))
    return width, out
