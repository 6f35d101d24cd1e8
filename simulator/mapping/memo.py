"""Memoised op mapping: identical ops in one ``map_workload`` call are mapped once and their schedule reused.

ResNet-50 repeats its bottleneck blocks (30 of its 53 convolutions share their shape, operands and homes with
an earlier one), a decoder-only transformer its layers. An op mapper is a pure function of what ``op_key``
collects, so the schedule of the first such op is the schedule of every later one, up to the fields that
name the op (``index``, ``layer``, ``aten``); ``OpSchedule`` and everything in it are frozen records, so
sharing them is safe.

``op_key`` is the op with its tensor names replaced by their position among the op's tensors (first
appearance: reads in order, then the op's effective writes), and per tensor everything a mapper reads of
it: kind, shape, dtype, encoding, measured density (not the name, producer, last use or alias, which no
mapper reads), and what the mapping context says of it for this op: its home level, whether the op reads
it for free (fused), whether this op is its first reader (the model input's compulsory load), whether it
is a model output, and its non-zero pattern (sparse dataflows; by identity). The profile, objective,
residency and activation budget are constant within one call, so the memo lives for one call only
(``OpMemo``) and never outlives the profile it was built for.

Side effects are replayed on a hit: whether the op's layer spills (``MappingContext.spilling``) and the
label of an op no mapper mapped (``Schedule.unmapped``). ``map_workload(memoise=False)`` maps every op
(``tests/mapping/test_memo.py`` checks the two are identical field by field on zoo models x profiles).

Across calls only pure functions of numbers are memoised (``lru_cache``: the tile search, its candidate
sizes and grid, the array unrolling, the conv geometry's touched pixels, SCALE-Sim's stream replay);
``clear_caches`` empties them all, so that a benchmark times a first run.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace

from simulator.mapping.context import MappingContext
from simulator.mapping.schedule import OpSchedule
from simulator.workload import Op

__all__ = ["MappedOp", "OpMemo", "clear_caches", "mapper_caches", "op_key"]


@dataclass(frozen=True, slots=True)
class MappedOp:
    """What mapping one op produced: its schedule, whether its layer spills, and its unmapped label (if any)."""

    schedule: OpSchedule
    spills: bool
    unmapped: str | None


def op_key(op: Op, ctx: MappingContext) -> Hashable:
    """Everything an op mapper reads of ``op`` and its tensors, with the tensors named by position (module docstring)."""
    writes = ctx.writes[op.index]
    slot: dict[str, int] = {}
    for access in op.accesses:
        slot.setdefault(access.tensor, len(slot))
    for tensor, _ in writes:
        slot.setdefault(tensor, len(slot))
    free = ctx.free_reads.get(op.index, ())
    tensors = []
    for name in slot:
        info = ctx.workload.tensors[name]
        pattern = ctx.patterns.get(name)
        tensors.append((
            info.kind, info.shape, info.dtype, info.encoding, info.measured_density,
            ctx.home(name), name in free, ctx.first_reader.get(name) == op.index, name in ctx.final_outputs,
            None if pattern is None else id(pattern),
        ))
    accesses = tuple((slot[a.tensor], a.role, a.direction, a.bits) for a in op.accesses)
    return (
        op.kind, op.aten, op.macs, op.mac_dtype, op.arith, op.dims, accesses,
        tuple((slot[t], bits) for t, bits in writes), tuple(tensors),
    )


@dataclass
class OpMemo:
    """Schedules of the ops mapped so far in one ``map_workload`` call, by ``op_key``; counts hits for the benchmark."""

    enabled: bool = True
    entries: dict[Hashable, MappedOp] = field(default_factory=dict)
    hits: int = 0

    def map(self, op: Op, ctx: MappingContext, mapper: Callable[[Op, MappingContext], MappedOp]) -> MappedOp:
        """``mapper(op, ctx)``, or the schedule of an identical op mapped earlier, renamed to ``op``."""
        if not self.enabled:
            return _mapped(op, ctx, mapper)
        key = op_key(op, ctx)
        known = self.entries.get(key)
        if known is None:
            known = self.entries[key] = _mapped(op, ctx, mapper)
            return known
        self.hits += 1
        if known.spills:
            ctx.spilling.add(op.module)
        renamed = replace(known.schedule, index=op.index, layer=op.module, aten=op.aten)
        return MappedOp(renamed, known.spills, known.unmapped)


def mapper_caches() -> tuple:
    """The mapper's memo caches across calls (the ``lru_cache`` s named in the module docstring)."""
    from simulator.mapping import candidates, convgeom, spatial, systolic, tiling

    return (tiling.search_tile, candidates.candidate_grid, candidates.candidate_sizes, spatial._unroll,
            convgeom._touched, systolic._cached_run)


def clear_caches() -> None:
    """Empty every memo cache of the mapper (``mapper_caches``), so that the next mapping is a first run's."""
    for cached in mapper_caches():
        cached.cache_clear()


def _mapped(op: Op, ctx: MappingContext, mapper: Callable[[Op, MappingContext], MappedOp]) -> MappedOp:
    """Run ``mapper`` with a fresh spilling set, so that whether this op spills is known and can be replayed."""
    spilling, ctx.spilling = ctx.spilling, set()
    try:
        result = mapper(op, ctx)
        spills = op.module in ctx.spilling
    finally:
        spilling |= ctx.spilling
        ctx.spilling = spilling
    return replace(result, spills=spills)
