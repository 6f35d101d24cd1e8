"""Pareto fronts of sweep results, vectorised with numpy.

A point is on the front when no other point is at least as good in every objective and strictly
better in one. Objectives are minimised; pass ``maximize`` for the ones to maximise (accuracy).
Two objectives use an O(n log n) sort-and-scan; more use blocked pairwise comparison (O(n^2 k)
work in numpy blocks of bounded memory). Rows with a NaN objective are never on the front.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["pareto_mask"]

_BLOCK = 512


def _front_2d(obj: np.ndarray) -> np.ndarray:
    """Mask of the non-dominated rows of an (n, 2) array (both minimised, no NaN)."""
    n = obj.shape[0]
    order = np.lexsort((obj[:, 1], obj[:, 0]))  # by x, then y
    x, y = obj[order, 0], obj[order, 1]
    # Best y among all points strictly left in x (ties in x are handled below).
    best_before = np.minimum.accumulate(np.concatenate(([np.inf], y[:-1])))
    # Points with the same x: only those with the group's smallest y can survive, and they are
    # dominated by an earlier group iff best y of strictly smaller x <= their y.
    group_start = np.concatenate(([True], x[1:] != x[:-1]))
    group_id = np.cumsum(group_start) - 1
    first_index = np.flatnonzero(group_start)
    best_left = best_before[first_index][group_id]  # best y strictly left of the group
    group_min = np.minimum.reduceat(y, first_index)[group_id]
    keep_sorted = (y == group_min) & (y < best_left)
    mask = np.zeros(n, dtype=bool)
    mask[order] = keep_sorted
    return mask


def _front_nd(obj: np.ndarray) -> np.ndarray:
    n = obj.shape[0]
    mask = np.ones(n, dtype=bool)
    for start in range(0, n, _BLOCK):
        block = obj[start : start + _BLOCK]  # (b, k)
        le = (obj[None, :, :] <= block[:, None, :]).all(axis=2)  # (b, n): j at least as good as i
        lt = (obj[None, :, :] < block[:, None, :]).any(axis=2)  # (b, n): j strictly better somewhere
        mask[start : start + len(block)] = ~(le & lt).any(axis=1)
    return mask


def pareto_mask(objectives: np.ndarray | Sequence[Sequence[float]], maximize: Sequence[bool] | None = None) -> np.ndarray:
    """Boolean mask of the Pareto-optimal rows of ``objectives`` (shape (n, k)).

    Args:
        objectives: one row per point, one column per objective.
        maximize: per column, True to maximise it (default: minimise every column).

    Returns:
        A bool array of length n; duplicates of a front point are all on the front.
    """
    obj = np.asarray(objectives, dtype=float)
    if obj.ndim != 2:
        raise ValueError(f"objectives must be a 2-D array (points x objectives), got shape {obj.shape}")
    if maximize is not None:
        if len(maximize) != obj.shape[1]:
            raise ValueError(f"maximize has {len(maximize)} entries for {obj.shape[1]} objectives")
        obj = np.where(np.asarray(maximize, dtype=bool)[None, :], -obj, obj)
    mask = np.zeros(obj.shape[0], dtype=bool)
    valid = ~np.isnan(obj).any(axis=1)
    if not valid.any():
        return mask
    sub = obj[valid]
    mask[valid] = _front_2d(sub) if sub.shape[1] == 2 else _front_nd(sub)
    return mask
