"""Access counts of a fixed mapping: reads, fills and updates per storage level and operand, as Timeloop counts them.

Closed-form arithmetic over the loop nest of a ``FixedMapping`` (no iteration over the iteration space):

- **Tiles.** Level ``i`` holds, per instance, the data touched by every loop at or below it (its temporal loops,
  its fanout and all inner levels): a hyper-rectangle per operand, sliding-window inputs included
  (``P + R - 1`` pixels for ``P`` x ``R`` iterations).
- **Fills** of a level (per instance) follow the temporal loops above it, innermost first. The first tile is
  filled whole; each later step of loop ``j`` (inner loops reset) brings in the difference with the previous
  tile: nothing when no index of the operand moved (reuse across loops that do not index it), the new slice
  when exactly one data dim slid forward by less than the tile (sliding window), else the whole tile. This is
  Timeloop's hyper-rectangle difference (a backward slide or a change in two data dims refills the whole
  tile), which the tutorial's reference counts confirm (04-cp register file: 1,152 input fills, not 284).
- **Reads** of a level serve its child (the next inner level keeping the operand, or the MACs: one operand
  per MAC iteration). Through a fanout, children that differ only along dims the operand does not depend on
  receive one multicast read (inputs across output channels); likewise their partial sums are reduced
  spatially before the parent's update. A spatial loop over a dim inside a sliding sum (``P`` of ``P + R``)
  is counted as unshared (Timeloop would count the halo once; none of its tutorial mappings does this).
- **Outputs** are read-modify-written: a level's updates are its child's drains (one per element per
  child-tile visit, or one per MAC); its reads serve the child's refills of partial sums plus, at the
  innermost level, the MACs' read-modify-write; the first touch of each output reads nothing (elided),
  so fills = visits - distinct elements and MAC reads = MAC updates - distinct elements.

- **Uneven splits** (imperfect factorisation, ``FixedMapping.check``): a factor that does not divide its dim
  leaves a partial last iteration (49 pixels on 32 rows: 32 + 17). Every count above is summed over the real
  work only (a partial tile moves only its real elements; an idle instance moves nothing; a step into a
  smaller tile is a slide only if exactly one data dim changed), per dim with ``loopblocks``; a dim whose
  factors multiply to its bound takes the closed form above unchanged. Compute cycles count every temporal
  iteration as a full step of the array (``NestCounts.utilisation`` < 1 when a fold is partial).

Counts are per instance of the level (Timeloop's ``Scalar reads (per-instance)``): the total over the
``instances`` (the product of the fanouts above) divided by them, an integer whenever the instances do the same
work (always under perfect factorisation), else their mean. Energies are priced by ``simulator.mapping.hierarchy``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from simulator.mapping.fixed import OPERANDS, FixedMapping, LoopProblem, data_widths
from simulator.mapping.loopblocks import DimStates, Loop, dim_run, dim_states, flatten, joint

__all__ = ["NestCounts", "OperandCounts", "count_accesses"]


@dataclass(frozen=True, slots=True)
class OperandCounts:
    """One operand at one storage level, per instance of the level (words of the operand's width; a mean over
    the instances when an uneven split gives them different work)."""

    level: str
    operand: str
    instances: int
    tile_words: int
    reads: int | float
    fills: int | float
    updates: int | float

    @property
    def accesses(self) -> int | float:
        return self.reads + self.fills + self.updates


@dataclass(frozen=True, slots=True)
class NestCounts:
    """Counts of one mapped loop nest: per (level, kept operand), outermost level first."""

    problem: str
    macs: int
    compute_instances: int
    counts: tuple[OperandCounts, ...]
    #: Every storage level (outermost first) with its instance count, kept operands or not.
    level_instances: tuple[tuple[str, int], ...] = ()
    #: Temporal iterations of the MAC array (a partial fold is a full step); 0: ``macs / compute_instances``.
    mac_iterations: int = 0

    def get(self, level: str, operand: str) -> OperandCounts | None:
        """The counts of ``operand`` at ``level`` (None: the operand bypasses the level)."""
        return next((c for c in self.counts if c.level == level and c.operand == operand), None)

    @property
    def compute_cycles(self) -> int:
        """Temporal iterations of the MAC array (each PE one MAC per iteration; idle PEs of a partial fold wait)."""
        return self.mac_iterations or self.macs // self.compute_instances

    @property
    def utilisation(self) -> float:
        """MACs / (PEs x cycles): 1 under perfect factorisation."""
        return self.macs / (self.compute_instances * self.compute_cycles)


def _per(total: int, instances: int) -> int | float:
    return total // instances if total % instances == 0 else total / instances


class _Nest:
    """The flattened nest of one mapping with the per-level totals the counts need (summed over instances)."""

    def __init__(self, problem: LoopProblem, mapping: FixedMapping) -> None:
        mapping.check(problem)
        self.problem = problem
        self.bound = problem.bound
        self.depth = len(mapping.levels)  # level index ``depth`` is the MAC array
        self.loops = flatten(mapping.levels)
        self.by_dim = {d: tuple(lp for lp in self.loops if lp.dim == d) for d in self.bound}
        self._memo: dict[tuple, DimStates] = {}

    def instances(self, level: int) -> int:
        return math.prod(lp.factor for lp in self.loops if lp.spatial and lp.level < level)

    def iterations(self) -> int:
        """Temporal iterations of one MAC instance (partial ones included)."""
        return math.prod(lp.factor for lp in self.loops if not lp.spatial)

    def tile_words(self, level: int, operand: str) -> int:
        """Words of the level's largest tile of ``operand`` (a full block along every dim)."""
        ext = {d: min(b, math.prod(lp.factor for lp in self.by_dim[d] if lp.level >= level)) for d, b in self.bound.items()}
        return self.problem.footprint(operand, ext)

    def multicast(self, parent: int, child: int, operand: str) -> frozenset[int]:
        """Fanout loops between ``parent`` and ``child`` over dims ``operand`` does not depend on: their
        children share one read (or reduce their partial sums spatially), so they count at index 0 only."""
        rel = self.problem.relevant(operand)
        return frozenset(lp.pos for lp in self.loops if lp.spatial and parent <= lp.level < child and lp.dim not in rel)

    def _states(self, dim: str, level: int, j: Loop | None, collapse: frozenset[int]) -> DimStates:
        key = (dim, level, j.pos if j else None, collapse)
        if key not in self._memo:
            self._memo[key] = dim_states(dim, self.by_dim[dim], self.bound[dim], level, j, collapse)
        return self._memo[key]

    def _run(self, dim: str, level: int, collapse: frozenset[int]) -> DimStates:
        key = (dim, level, "run", collapse)
        if key not in self._memo:
            self._memo[key] = dim_run(self.by_dim[dim], self.bound[dim], level, collapse)
        return self._memo[key]

    def _summed(self, operand: str, per_dim: dict[str, DimStates], value) -> int:
        """Sum of ``value(old, new, shift)`` (per loop dim arrays) over all state combinations, times their count;
        dims that do not index ``operand`` only multiply the count."""
        rel = sorted(self.problem.relevant(operand))
        others = math.prod(per_dim[d].total for d in per_dim if d not in rel)
        if others == 0:
            return 0
        if all(per_dim[d].count.size == 1 for d in rel):  # one state per dim (perfect splits): plain ints
            fields = [{d: int(getattr(per_dim[d], f)[0]) for d in rel} for f in ("old", "new", "shift")]
            return int(value(*fields)) * math.prod(int(per_dim[d].count[0]) for d in rel) * others
        combos, count = joint([per_dim[d] for d in rel])
        fields = [dict(zip(rel, (c[k] for c in combos))) for k in range(3)]
        return int((np.asarray(value(*fields)) * count).sum()) * others

    def visits(self, level: int, operand: str, collapse: frozenset[int] = frozenset()) -> int:
        """Words brought into all instances of ``level`` over the run (before eliding first output reads)."""
        proj = self.problem.projection(operand)
        first = functools.partial(_first, self.problem, operand)
        delta = functools.partial(_delta, proj)
        total = self._summed(operand, {d: self._states(d, level, None, collapse) for d in self.bound}, first)
        rel = self.problem.relevant(operand)
        above = [lp for lp in self.loops if lp.level < level and not lp.spatial]
        for k, j in enumerate(above):
            if j.dim not in rel and all(lp.dim not in rel for lp in above[k + 1:]):
                continue  # no index of the operand moves: the tile stays (delta 0)
            total += self._summed(operand, {d: self._states(d, level, j, collapse) for d in self.bound}, delta)
        return total

    def distinct(self, level: int, operand: str, collapse: frozenset[int] = frozenset()) -> int:
        """Elements of ``operand`` the instances of ``level`` ever hold, summed over the instances."""
        per_dim = {d: self._run(d, level, collapse) for d in self.bound}
        return self._summed(operand, per_dim, functools.partial(_first, self.problem, operand))

    def mac_iterations(self, collapse: frozenset[int]) -> int:
        """Real MAC iterations over all PEs, the ``collapse`` fanout loops counted at index 0 only."""
        runs = (self._run(d, 0, collapse) for d in self.bound)
        return math.prod(int((s.new * s.count).sum()) for s in runs)


def _first(problem: LoopProblem, operand: str, old, new, shift):
    """Words of the tile (the first of an instance, or the whole run's distinct elements)."""
    return problem.footprint(operand, new)


def _delta(proj, old, new, shift):
    """Words a step brings in: nothing when no data dim changed; the new slice when exactly one contiguous data
    dim slid forward within its old span; else the whole new tile (Timeloop's hyper-rectangle difference)."""
    before, after = data_widths(proj, old), data_widths(proj, new)
    moved = [sum(c * shift[d] for c, d in dd) for dd in proj]
    tile = math.prod(a[1] for a in after)
    if all(np.ndim(m) == 0 for m in moved) and np.ndim(tile) == 0:  # scalars: one state per dim
        changed = [k for k, (m, b, a) in enumerate(zip(moved, before, after)) if m != 0 or b[1] != a[1]]
        if not changed:
            return 0
        m, (span_b, used_b), (span_a, used_a) = moved[changed[0]], before[changed[0]], after[changed[0]]
        if len(changed) == 1 and 0 < m < span_b and used_b == span_b and used_a == span_a:
            return tile // used_a * max(m + used_a - used_b, 0)
        return tile
    changed = [(m != 0) | (b[1] != a[1]) for m, b, a in zip(moved, before, after)]
    n_changed = sum(np.asarray(c, dtype=np.int64) for c in changed)
    out = np.where(n_changed == 0, 0, tile)
    for m, c, (span_b, used_b), (span_a, used_a) in zip(moved, changed, before, after):
        slide = (n_changed == 1) & c & (m > 0) & (m < span_b) & (used_b == span_b) & (used_a == span_a)
        out = np.where(slide, tile // np.maximum(used_a, 1) * np.maximum(m + used_a - used_b, 0), out)
    return out


def count_accesses(problem: LoopProblem, mapping: FixedMapping) -> NestCounts:
    """Reads, fills and updates per level and kept operand of ``mapping`` on ``problem`` (see the module doc).

    Raises:
        MappingError: a dim's factors do not cover its bound (``FixedMapping.check``), or a level loops over an
            unknown dim.
    """
    nest = _Nest(problem, mapping)
    n = nest.depth
    counts: list[OperandCounts] = []
    for operand in OPERANDS:
        keepers = [i for i, lvl in enumerate(mapping.levels) if operand in lvl.keeps]
        for k, i in enumerate(keepers):
            child = keepers[k + 1] if k + 1 < len(keepers) else n
            shared = nest.multicast(i, child, operand)
            outermost = k == 0
            if operand != "outputs":
                fills = 0 if outermost else nest.visits(i, operand)
                reads = nest.mac_iterations(shared) if child == n else nest.visits(child, operand, shared)
                updates = 0
            else:
                distinct = nest.distinct(i, operand)
                fills = 0 if outermost else nest.visits(i, operand) - distinct
                if child == n:
                    updates = nest.mac_iterations(shared)
                    reads = updates - distinct
                else:
                    updates = nest.visits(child, operand, shared)
                    reads = updates - nest.distinct(child, operand, shared)
            inst = nest.instances(i)
            counts.append(
                OperandCounts(
                    level=mapping.levels[i].level, operand=operand, instances=inst,
                    tile_words=nest.tile_words(i, operand),
                    reads=_per(reads, inst), fills=_per(fills, inst), updates=_per(updates, inst),
                )
            )
    order = {name: i for i, name in enumerate(mapping.names)}
    counts.sort(key=lambda c: (order[c.level], OPERANDS.index(c.operand)))
    instances = tuple((lvl.level, nest.instances(i)) for i, lvl in enumerate(mapping.levels))
    return NestCounts(problem.name, problem.macs, nest.instances(n), tuple(counts), instances, nest.iterations())
