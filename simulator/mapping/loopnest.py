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

Counts are per instance of the level (Timeloop's ``Scalar reads (per-instance)``); ``instances`` gives the
instance count (the product of the fanouts above). Energies are priced by ``simulator.mapping.hierarchy``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.mapping.fixed import OPERANDS, FixedMapping, LoopProblem

__all__ = ["NestCounts", "OperandCounts", "count_accesses"]


@dataclass(frozen=True, slots=True)
class OperandCounts:
    """One operand at one storage level, per instance of the level (words of the operand's width)."""

    level: str
    operand: str
    instances: int
    tile_words: int
    reads: int
    fills: int
    updates: int

    @property
    def accesses(self) -> int:
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

    def get(self, level: str, operand: str) -> OperandCounts | None:
        """The counts of ``operand`` at ``level`` (None: the operand bypasses the level)."""
        return next((c for c in self.counts if c.level == level and c.operand == operand), None)

    @property
    def compute_cycles(self) -> int:
        """MAC iterations per PE (every PE busy every cycle; the fanout is the parallelism)."""
        return self.macs // self.compute_instances


@dataclass(frozen=True, slots=True)
class _Loop:
    level: int
    dim: str
    factor: int
    spatial: bool
    step: int  # index stride of one iteration: product of the same dim's factors in the loops inside


def _flatten(mapping: FixedMapping) -> list[_Loop]:
    """All non-trivial loops outermost first; a level's temporal loops come before its fanout."""
    raw = [
        (i, d, f, s)
        for i, lvl in enumerate(mapping.levels)
        for s, loops in ((False, lvl.temporal), (True, lvl.spatial))
        for d, f in loops
        if f > 1
    ]
    out = []
    for k, (i, d, f, s) in enumerate(raw):
        step = math.prod(f2 for (_, d2, f2, _) in raw[k + 1:] if d2 == d)
        out.append(_Loop(i, d, f, s, step))
    return out


class _Nest:
    """The flattened nest of one mapping with the per-level quantities the counts need."""

    def __init__(self, problem: LoopProblem, mapping: FixedMapping) -> None:
        mapping.check(problem)
        self.problem = problem
        self.depth = len(mapping.levels)  # level index ``depth`` is the MAC array
        self.loops = _flatten(mapping)

    def extents(self, level: int, per_instance_run: bool = False) -> dict[str, int]:
        """Iterations per dim of ``level``'s tile; ``per_instance_run``: over the whole run of one instance."""
        ext: dict[str, int] = {}
        for lp in self.loops:
            if lp.level >= level or (per_instance_run and not lp.spatial):
                ext[lp.dim] = ext.get(lp.dim, 1) * lp.factor
        return ext

    def instances(self, level: int) -> int:
        return math.prod(lp.factor for lp in self.loops if lp.spatial and lp.level < level)

    def fanout(self, parent: int, child: int, operand: str) -> int:
        """Distinct copies the parent serves per instance: fanout factors over dims that index ``operand``."""
        rel = self.problem.relevant(operand)
        return math.prod(lp.factor for lp in self.loops if lp.spatial and parent <= lp.level < child and lp.dim in rel)

    def iterations(self) -> int:
        """Temporal iterations of one MAC instance."""
        return math.prod(lp.factor for lp in self.loops if not lp.spatial)

    def distinct(self, level: int, operand: str) -> int:
        """Elements of ``operand`` one instance of ``level`` ever holds."""
        return self.problem.footprint(operand, self.extents(level, per_instance_run=True))

    def visits(self, level: int, operand: str) -> int:
        """Words brought into one instance of ``level`` over the run (before eliding first output reads)."""
        proj = self.problem.projection(operand)
        ext = self.extents(level)
        tile = self.problem.footprint(operand, ext)
        widths = [sum(c * (ext.get(d, 1) - 1) for c, d in dd) + 1 for dd in proj]
        above = [lp for lp in self.loops if lp.level < level and not lp.spatial]  # outermost first
        total = tile
        for j, lp in enumerate(above):
            shift = {lp.dim: lp.step}
            for inner in above[j + 1:]:  # inner loops reset to 0
                shift[inner.dim] = shift.get(inner.dim, 0) - (inner.factor - 1) * inner.step
            moved = [(sum(c * shift.get(d, 0) for c, d in dd), w) for dd, w in zip(proj, widths)]
            moved = [(s, w) for s, w in moved if s != 0]
            if not moved:
                delta = 0
            elif len(moved) == 1 and 0 < moved[0][0] < moved[0][1]:
                delta = tile // moved[0][1] * moved[0][0]
            else:
                delta = tile
            steps = (lp.factor - 1) * math.prod(o.factor for o in above[:j])
            total += steps * delta
        return total


def count_accesses(problem: LoopProblem, mapping: FixedMapping) -> NestCounts:
    """Reads, fills and updates per level and kept operand of ``mapping`` on ``problem`` (see the module doc).

    Raises:
        MappingError: the factors of a dim do not multiply to its bound, or a level loops over an unknown dim.
    """
    nest = _Nest(problem, mapping)
    n = nest.depth
    mac_iters = nest.iterations()
    counts: list[OperandCounts] = []
    for operand in OPERANDS:
        keepers = [i for i, lvl in enumerate(mapping.levels) if operand in lvl.keeps]
        for k, i in enumerate(keepers):
            child = keepers[k + 1] if k + 1 < len(keepers) else n
            rel = nest.fanout(i, child, operand)
            outermost = k == 0
            if operand != "outputs":
                fills = 0 if outermost else nest.visits(i, operand)
                reads = rel * (mac_iters if child == n else nest.visits(child, operand))
                updates = 0
            else:
                distinct = nest.distinct(i, operand)
                fills = 0 if outermost else nest.visits(i, operand) - distinct
                if child == n:
                    updates = rel * mac_iters
                    reads = updates - distinct
                else:
                    updates = rel * nest.visits(child, operand)
                    reads = rel * (nest.visits(child, operand) - nest.distinct(child, operand))
            counts.append(
                OperandCounts(
                    level=mapping.levels[i].level,
                    operand=operand,
                    instances=nest.instances(i),
                    tile_words=problem.footprint(operand, nest.extents(i)),
                    reads=reads,
                    fills=fills,
                    updates=updates,
                )
            )
    order = {name: i for i, name in enumerate(mapping.names)}
    counts.sort(key=lambda c: (order[c.level], OPERANDS.index(c.operand)))
    instances = tuple((lvl.level, nest.instances(i)) for i, lvl in enumerate(mapping.levels))
    return NestCounts(problem.name, problem.macs, nest.instances(n), tuple(counts), instances)
