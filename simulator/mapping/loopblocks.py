"""Per-dim blocks of a loop nest whose factors need not divide the bounds (imperfect factorisation).

A dim of bound ``D`` split by loops ``f_1 .. f_n`` (outermost first, in the flattened nest's order: a level's
temporal loops, then its fanout, then the inner levels) iterates ``x = sum v_k s_k`` with
``s_k = f_{k+1} ... f_n``; only ``x < D`` is real work. The factors cover the bound with no wholly idle outer
iteration, ``f_2 ... f_n < D <= f_1 ... f_n`` (``FixedMapping.check``), so the loops' index ranges are nested
blocks: a level whose loops over the dim span ``e`` indices sees ``floor(D / e)`` full blocks of ``e`` and one
partial block of ``D mod e`` (49 output pixels on 32 rows: a fold of 32, then one of 17).

Every count of ``loopnest`` is a sum over the nest's iterations (and over the instances of a level) of a
quantity that depends on each dim's current block. The dims' loops are independent and an index is real work
iff every dim's is, so each sum is a sum over the product of per-dim histograms (``DimStates``: a handful of
distinct block states with their multiplicities). A dim whose factors multiply to its bound has one state in
closed form (the perfect-factorisation path, no enumeration); an uneven dim enumerates its block starts with
numpy (at most about ``D`` of them), never the nest's iterations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["DimStates", "Loop", "count_below", "dim_run", "dim_states", "flatten", "joint"]


@dataclass(frozen=True, slots=True)
class Loop:
    """One non-trivial loop of the flattened nest: its position (outermost 0), level, dim, factor, kind, step."""

    pos: int
    level: int
    dim: str
    factor: int
    spatial: bool
    step: int  # index stride of one iteration: product of the same dim's factors in the loops inside


def flatten(levels) -> tuple[Loop, ...]:
    """All non-trivial loops of ``levels`` (``LevelMapping``s) outermost first; temporal before the fanout."""
    raw = [(i, d, f, s) for i, lvl in enumerate(levels) for s, loops in ((False, lvl.temporal), (True, lvl.spatial))
           for d, f in loops if f > 1]
    return tuple(
        Loop(k, i, d, f, s, math.prod(f2 for (_, d2, f2, _) in raw[k + 1:] if d2 == d)) for k, (i, d, f, s) in enumerate(raw)
    )


@dataclass(frozen=True, slots=True)
class DimStates:
    """A histogram of one dim's block states: extents before (``old``) and after (``new``) a step, the shift of
    the block's start, and how many (instance, step) events have that state (``count``)."""

    old: np.ndarray
    new: np.ndarray
    shift: np.ndarray
    count: np.ndarray

    @property
    def total(self) -> int:
        return int(self.count.sum())


def _one(old: int, new: int, shift: int, count: int) -> DimStates:
    a = np.array([[old], [new], [shift], [count]], dtype=np.int64)
    return DimStates(a[0], a[1], a[2], a[3])


def _offsets(loops: list[Loop]) -> np.ndarray:
    """Start offsets ``sum v_k s_k`` of every index combination of ``loops``."""
    x = np.zeros(1, dtype=np.int64)
    for lp in loops:
        x = (x[:, None] + np.arange(lp.factor, dtype=np.int64)[None, :] * lp.step).ravel()
    return x


def count_below(limit: np.ndarray | int, loops: list[Loop]) -> np.ndarray:
    """Index combinations of ``loops`` (one dim's, steps decreasing) whose offset is below ``limit``."""
    rem = np.asarray(limit, dtype=np.int64).copy()
    alive = rem > 0
    total = np.zeros_like(rem)
    for k, lp in enumerate(loops):
        rest = math.prod(o.factor for o in loops[k + 1:])
        q = np.clip(rem // lp.step, 0, lp.factor)
        total += np.where(alive, q * rest, 0)
        rem = rem - q * lp.step
        alive &= (q < lp.factor) & (rem > 0)
    return total + alive


def _last(fixed: np.ndarray, loops: list[Loop], bound: int) -> np.ndarray:
    """Offset of the last real index combination of ``loops`` (steps decreasing) after ``fixed``: greedy."""
    x = fixed.copy()
    for lp in loops:
        x += np.clip((bound - 1 - x) // lp.step, 0, lp.factor - 1) * lp.step
    return x - fixed


def _histogram(old, new, shift, valid, bound: int) -> DimStates:
    """Distinct ``(old, new, shift)`` rows among the ``valid`` ones with their counts (one packed integer key
    each: extents lie in ``[0, bound]``, shifts in ``[-bound, bound]``)."""
    size = bound + 1
    key = (old[valid] * size + new[valid]) * (2 * size) + shift[valid] + size
    keys, count = np.unique(key, return_counts=True)
    on, sh = np.divmod(keys, 2 * size)
    o, n = np.divmod(on, size)
    return DimStates(o, n, sh - size, count.astype(np.int64))


def dim_states(dim: str, loops: tuple[Loop, ...], bound: int, level: int, j: Loop | None = None,
               collapse: frozenset[int] = frozenset(), closed_form: bool = True) -> DimStates:
    """Dim ``dim``'s block states at ``level`` (its tile: the loops at or below the level) for each step of the
    temporal loop ``j`` above it (None: the first tile of every instance), summed over the instances.

    The spatial loops above the level pick the instance (``collapse``: positions of spatial loops fixed at
    index 0, a multicast); temporal loops outside ``j`` pick the step's context, ``j`` advances by one and the
    temporal loops inside ``j`` reset from their last real index to 0. ``closed_form=False`` enumerates a
    perfectly factorised dim too (the tests check both paths agree)."""
    above = [lp for lp in loops if lp.level < level and lp.pos not in collapse]
    extent = math.prod(lp.factor for lp in loops if lp.level >= level)
    spatial = [lp for lp in above if lp.spatial]
    if j is None:
        outer, stepping, inner = [], None, []
    else:
        temporal = [lp for lp in above if not lp.spatial]
        outer = [lp for lp in temporal if lp.pos < j.pos]
        stepping = j if j.dim == dim else None
        inner = [lp for lp in temporal if lp.pos > j.pos]
    if closed_form and math.prod(lp.factor for lp in loops) == bound:  # perfect factorisation: closed form
        count = math.prod(lp.factor for lp in spatial + outer) * (stepping.factor - 1 if stepping else 1)
        shift = (stepping.step if stepping else 0) - sum((lp.factor - 1) * lp.step for lp in inner)
        return _one(extent, extent, shift, count)
    base = _offsets(spatial + outer)
    if stepping is not None:
        base = (base[:, None] + np.arange(stepping.factor - 1, dtype=np.int64)[None, :] * stepping.step).ravel()
    old = base + _last(base, inner, bound)
    new = base + (stepping.step if stepping else 0)
    return _histogram(np.minimum(extent, bound - old), np.minimum(extent, bound - new), new - old, new < bound, bound)


def dim_run(loops: tuple[Loop, ...], bound: int, level: int, collapse: frozenset[int] = frozenset(),
            closed_form: bool = True) -> DimStates:
    """Indices of one dim each instance of ``level`` touches over its whole run (``old = new``; shift 0)."""
    kept = [lp for lp in loops if lp.pos not in collapse]
    spatial = [lp for lp in kept if lp.spatial and lp.level < level]
    rest = [lp for lp in kept if not (lp.spatial and lp.level < level)]
    if closed_form and math.prod(lp.factor for lp in loops) == bound:
        n = math.prod(lp.factor for lp in rest)
        return _one(n, n, 0, math.prod(lp.factor for lp in spatial))
    n = count_below(bound - _offsets(spatial), rest)
    return _histogram(n, n, np.zeros_like(n), n > 0, bound)


def joint(states: list[DimStates]) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], np.ndarray]:
    """Every combination of the dims' states: per dim ``(old, new, shift)`` arrays and the combined count."""
    grids = np.meshgrid(*(np.arange(s.count.size) for s in states), indexing="ij")
    idx = [g.ravel() for g in grids]
    count = np.ones(idx[0].size if idx else 1, dtype=np.int64)
    out = []
    for s, ix in zip(states, idx):
        out.append((s.old[ix], s.new[ix], s.shift[ix]))
        count = count * s.count[ix]
    return out, count
