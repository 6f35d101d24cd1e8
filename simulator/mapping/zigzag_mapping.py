"""ZigZag mapping files (``mapping/*.yaml``) replayed as pjsim fixed mappings (``fixed.FixedMapping``).

A ZigZag mapping file lists entries (``name``: a layer name or ``default``) with a ``spatial_mapping`` (per
array axis, the layer dims it unrolls and by how much), an optional ``temporal_ordering`` (loops innermost first,
``[dim, factor]`` or ``[dim, "*"]``) and ``memory_operand_links``. ``zigzag_mapping`` turns the entry of one pjsim
op into the ``FixedMapping`` that ZigZag 3.9.1 would cost for that ordering:

- **Spatial.** Each array axis's loops sit directly below the innermost profile level whose ``shared_axes``
  (ZigZag's ``served_dimensions``) include the axis: that level fans the axis out, the levels inside it have one
  instance per lane (``gemm_l1``: reg_O serves D2, so the D2 reduction sits below reg_O and D1 x D3 below l1).
- **Temporal.** The ordering is expanded into loops (``"*"``: every iteration of the dim still left, as ZigZag at
  3d12a96e reads it: the full-order replay ``[D1, 16], [D2, 16], [D0, 16]`` run in ZigZag 3.9.1 gives exactly
  EXPECTED.md's 511,349.76 pJ; ZigZag 3.9.1 instead reads ``"*"`` as a position constraint and searches the loop
  sizes and the outer order, so give it complete factors to reproduce a 3.9.1 run). The loops are then assigned
  to memory levels per operand as ``zigzag.opt.loma.memory_allocator.MemoryAllocator.run`` does: levels bottom
  up (``allocate_node``); each operand served by the level may take the next 0..n loops of its remaining order
  while its tile (``calc_size_slices``: footprint x precision, outputs at the partial-sum width while a
  reduction loop is still unallocated) fits the level's per-instance capacity, the operands sharing the level
  together; the combination chosen minimises the accesses to the level above (``find_best_loop_combination``:
  remaining iterations x tile, ties to the later combination); the operand's top level takes everything left.
  ZigZag's default "uneven" mapping type is followed (no even-mapping check); ``force_double_buffering`` is not
  read (the pjsim profiles do not carry it).
- **One nest.** The per-operand allocations become one chain of the profile's levels (outermost first), each loop
  at the innermost level at which every operand's ZigZag level still holds it; an allocation that no single nest
  expresses is refused.

Workload dims: conv layers use ZigZag's names (B K C OY OX FY FX G), which are pjsim's loop dims; ZigZag's GEMM
(``workloads/gemm_layer.yaml``: ``O[d0][d1] += I[d0][d2] W[d2][d1]``) maps D0 -> B, D1 -> K, D2 -> C
(``GEMM_DIMS``). Costing conventions of the replay (partial-sum widths, ZigZag's read latch) are
``simulator.mapping.zigzag_replay``'s.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.fixed import OPERANDS, FixedMapping, LevelMapping, LoopProblem
from simulator.mapping.schedule import MappingError
from simulator.mapping.zigzag_yaml import ZigzagEntry

__all__ = ["GEMM_DIMS", "zigzag_mapping"]

#: ZigZag's GEMM dims (``O[d0][d1] += I[d0][d2] W[d2][d1]``) -> pjsim loop dims (``fixed_apply.op_problem``).
GEMM_DIMS: FrozenMap[str, str] = FrozenMap({"D0": "B", "D1": "K", "D2": "C"})
#: The order ZigZag's hardware files list memory operands (I1, I2, O): its tie-break between equal allocations.
_ZZ_ORDER = ("inputs", "weights", "outputs")


def _dim(name: str, problem: LoopProblem, where: str) -> str:
    dim = GEMM_DIMS.get(name, name)
    if dim not in problem.bound:
        raise MappingError(f"{where}: layer dim {name!r} is not a dim of {problem.name!r} ({sorted(problem.bound)})")
    return dim


def _temporal_loops(entry: ZigzagEntry, problem: LoopProblem, left: dict[str, int]) -> list[tuple[str, int]]:
    """The ordering expanded into loops, innermost first (``"*"``: all that is left of the dim)."""
    where = f"{entry.where}.temporal_ordering"
    loops = []
    for name, factor in entry.ordering:
        dim = _dim(name, problem, where)
        f = left[dim] if factor is None else factor
        if left[dim] % f:
            raise MappingError(f"{where}: [{name}, {factor}] does not divide the {left[dim]} iterations of {name} left")
        left[dim] //= f
        if f > 1:
            loops.append((dim, f))
    rest = {d: n for d, n in left.items() if n > 1}
    if rest:
        raise MappingError(f"{where}: does not cover {rest} (ZigZag would search these loops; pjsim replays "
                           f"complete orderings only: give a factor or \"*\" for every dim)")
    return loops


def _axis_levels(entry: ZigzagEntry, problem: LoopProblem,
                 profile: HardwareProfile) -> dict[str, list[tuple[str, int]]]:
    """Spatial loops per profile level (the innermost level serving the axis fans it out)."""
    axes = {a.name: a.size for a in profile.compute.array.axes} if profile.compute.array else {}
    out: dict[str, list[tuple[str, int]]] = {}
    for axis, loops in entry.spatial:
        where = f"{entry.where}.spatial_mapping.{axis}"
        if axis not in axes:
            raise MappingError(f"{where}: profile {profile.name!r} has no array axis {axis!r} (axes {sorted(axes)})")
        if math.prod(f for _, f in loops) > axes[axis]:
            raise MappingError(f"{where}: unrolls {math.prod(f for _, f in loops)} > the axis's {axes[axis]} lanes")
        sharing = [axis in (lv.shared_axes or ()) or lv is profile.dram for lv in profile.levels]  # DRAM: 1 instance
        if not all(sharing[sharing.index(True):]):  # side-by-side registers fanned out at different levels
            raise MappingError(f"{where}: the levels of profile {profile.name!r} that share axis {axis!r} are not the "
                               f"outer ones of a single nest ({[lv.name for lv in profile.levels]}); not replayable")
        level = profile.levels[sharing.index(True)].name
        out.setdefault(level, []).extend((_dim(d, problem, where), f) for d, f in loops if f > 1)
    return out


def _best(sizes: list[np.ndarray], accesses: list[np.ndarray], capacity: float) -> tuple[int, ...]:
    """``find_best_loop_combination``: fitting combination of slice lengths with the fewest accesses above."""
    grid_size = sum(np.ix_(*sizes))
    grid_acc = sum(np.ix_(*accesses))
    flat = np.where(grid_size.ravel() <= capacity, grid_acc.ravel(), np.inf)
    if not np.isfinite(flat).any():
        raise MappingError("no combination of loops fits")
    last = flat.size - 1 - int(np.argmin(flat[::-1]))  # ZigZag keeps the later of equal combinations (<=)
    return tuple(int(i) for i in np.unravel_index(last, grid_size.shape))


def zigzag_mapping(entry: ZigzagEntry, problem: LoopProblem, profile: HardwareProfile, bits: int,
                   psum_bits: int) -> FixedMapping:
    """The ``FixedMapping`` ZigZag 3.9.1's memory allocation gives ``entry`` on ``problem`` (module doc).

    ``bits``: operand precision (inputs, weights, final outputs); ``psum_bits``: partial sums.
    Raises ``MappingError`` naming the file, entry and key, or the level that cannot hold a tile.
    """
    spatial = _axis_levels(entry, problem, profile)
    left = dict(problem.bound)
    for d, f in (x for loops in spatial.values() for x in loops):
        if left[d] % f:
            raise MappingError(f"{entry.where}.spatial_mapping: {d} x {f} does not divide its {left[d]} iterations")
        left[d] //= f
    order = _temporal_loops(entry, problem, left)
    names = [lv.name for lv in profile.levels]  # innermost first
    served = {op: [lv.name for lv in profile.levels if op in lv.operands or lv is profile.dram] for op in _ZZ_ORDER}

    def fanout(op: str, levels: list[str]) -> None:  # spatial loops of ``levels`` join the operand's tile
        for lv in levels:
            for d, f in spatial.get(lv, ()):
                ext[op][d] = ext[op].get(d, 1) * f

    ext: dict[str, dict[str, int]] = {op: {} for op in _ZZ_ORDER}
    for op in _ZZ_ORDER:
        fanout(op, names[: names.index(served[op][0]) + 1])
    start = {op: 0 for op in _ZZ_ORDER}
    ends: dict[tuple[str, str], int] = {}  # (level, operand) -> end (exclusive) of its loop positions
    reduction = {d for d in problem.bound if d not in problem.relevant("outputs")}
    for i, lv in enumerate(profile.levels):
        ops = [op for op in _ZZ_ORDER if lv.name in served[op]]
        sizes, accesses = [], []
        for op in ops:
            loops = order[start[op]:]
            above = {d for d, _ in loops} | {d for level in names[i + 1:] for d, _ in spatial.get(level, ())}
            width = psum_bits if op == "outputs" and above & reduction else bits
            tile, e = [], dict(ext[op])
            for k in range(len(loops) + 1):
                if k:
                    e[loops[k - 1][0]] = e.get(loops[k - 1][0], 1) * loops[k - 1][1]
                tile.append(problem.footprint(op, e) * width)
            rest = np.array([math.prod(f for _, f in loops[k:]) for k in range(len(loops) + 1)], float)
            if lv.name == served[op][-1]:  # the operand's top level takes every loop left, at no access above
                sizes.append(np.array(tile[-1:], float))
                accesses.append(np.zeros(1))
            else:
                sizes.append(np.array(tile, float))
                accesses.append(rest * np.array(tile, float))
        try:
            pick = _best(sizes, accesses, lv.capacity_bits / lv.instances)
        except MappingError:
            raise MappingError(f"{entry.where}: level {lv.name!r} ({lv.capacity_bits / lv.instances:.0f} bits per "
                               f"instance) cannot hold the tiles of {ops} for layer {problem.name!r}") from None
        for op, k in zip(ops, pick):
            top = lv.name == served[op][-1]
            for d, f in order[start[op]: len(order) if top else start[op] + k]:
                ext[op][d] = ext[op].get(d, 1) * f
            start[op] = len(order) if top else start[op] + k
            ends[(lv.name, op)] = start[op]
            if not top:
                fanout(op, names[i + 1: names.index(served[op][served[op].index(lv.name) + 1]) + 1])
    return _chain(entry, problem, profile, order, served, ends, spatial)


def _chain(entry: ZigzagEntry, problem: LoopProblem, profile: HardwareProfile, order: list[tuple[str, int]],
           served: dict[str, list[str]], ends: dict[tuple[str, str], int],
           spatial: dict[str, list[tuple[str, int]]]) -> FixedMapping:
    """One nest of the per-operand allocations: each loop at the innermost of its holders, which must be, for
    every operand, the operand's nearest level at or outside it (else no single nest expresses the allocation)."""
    names = [lv.name for lv in profile.levels]  # innermost first
    at: dict[str, list[tuple[str, int]]] = {lv: [] for lv in names}
    for p, loop in enumerate(order):
        holders = {op: next(lv for lv in served[op] if ends[(lv, op)] > p) for op in _ZZ_ORDER}
        level = min(holders.values(), key=names.index)
        for op, holder in holders.items():
            if any(names.index(level) <= names.index(lv) < names.index(holder) for lv in served[op]):
                raise MappingError(f"{entry.where}: the allocation of loop {loop} (held at {holders}) is not one "
                                   f"loop nest over the levels of profile {profile.name!r}")
        at[level].append(loop)
    levels = [
        LevelMapping(lv, temporal=tuple(reversed(at[lv])), spatial=tuple(spatial.get(lv, ())),
                     keeps=frozenset(op for op in OPERANDS if lv in served[op]))
        for lv in reversed(names)  # outermost first; the DRAM serves every operand
    ]
    fm = FixedMapping(tuple(levels), layer=problem.name)
    fm.check(problem)
    return fm
