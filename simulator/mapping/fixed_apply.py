"""Use user-given fixed mappings instead of the search for the layers they name (``simulate(mapping=...)``).

For each ``FixedMapping`` whose ``layer`` names a traced op (its module name), the op's loop nest becomes a
``LoopProblem`` (conv: ``B G K C OY OX FY FX`` with inputs indexed by ``stride * O + dilation * F``; GEMM-shaped
ops: ``B = M, K = N, C = K`` as ``spatial.gemm_loop_nest``), ``loopnest.count_accesses`` counts its reads, fills
and updates per level and operand, and the op's memory-access stream, tiles, compute cycles and DRAM-boundary
steps are replaced by the mapping's. Level names are the profile's; the outermost level of the mapping must be
the profile's DRAM; a level may keep only operands the profile level serves (``[memory.x] operands``).

Refused with ``MappingError`` (naming the layer, level, tile and bits): a layer that is not in the workload or
has no MAC loop nest, a level the profile does not have, levels out of the profile's order, a fanout wider than
the array, tiles that overflow a level (per instance, at the op's MAC data width).

A dataflow preset name (``"os"``, ``"ws"``, ``"is"``, ``"rs"`` or the long names; ``fixed_templates``) instead
of mappings applies that preset's template to every op with a MAC loop nest (``apply_dataflow_preset``); the
ops' ``mapping`` becomes ``"fixed-<preset>"``, and their compute cycles are the array's iterations (a partial
fold is a full step) plus the profile's ``[compute.array] fill_drain`` once per fold (SCALE-Sim's count). A
user's mapping gets no fill/drain (Timeloop's count: one cycle per MAC iteration).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.fixed import FixedMapping, LoopProblem, load_fixed_mapping
from simulator.mapping.fixed_templates import (
    TEMPLATES, array_geometry, dataflow_template, fold_steps, preset_name, template_levels,
)
from simulator.mapping.hierarchy import check_capacity, level_costs
from simulator.mapping.loopnest import NestCounts, count_accesses
from simulator.mapping.schedule import MappingError, OpSchedule, Schedule, Tile
from simulator.mapping.spatial import conv_loop_nest, gemm_loop_nest
from simulator.ops import ConvDims
from simulator.workload import Op, Workload

__all__ = ["apply_dataflow_preset", "apply_fixed_mappings", "apply_mapping_option", "op_problem", "partial_output_levels", "resolve_mappings"]


def resolve_mappings(mapping: FixedMapping | Iterable[FixedMapping] | str | Path) -> tuple[FixedMapping, ...]:
    """A ``FixedMapping``, several, or a TOML path (``fixed.load_fixed_mapping``) -> a tuple of mappings."""
    if isinstance(mapping, FixedMapping):
        return (mapping,)
    if isinstance(mapping, (str, Path)):
        return load_fixed_mapping(mapping)
    out = tuple(mapping)
    if not all(isinstance(m, FixedMapping) for m in out):
        raise TypeError("mapping= takes a FixedMapping, an iterable of them, or a TOML path")
    return out


def _pair(sizes: tuple[int, ...]) -> tuple[int, int]:
    """Per-dim conv parameters as (rows, cols), 1-D convs on cols (``spatial.conv_loop_nest``'s convention)."""
    s = list(sizes)
    return (1, s[0]) if len(s) == 1 else (s[-2], s[-1])


def op_problem(op: Op, workload: Workload) -> LoopProblem | None:
    """The MAC loop nest of ``op`` as a ``LoopProblem`` (None: the op has no MAC loop nest)."""
    from simulator.mapping.gemm import gemm_view  # the mapper's GEMM view is the one home of GEMM shapes

    conv = op.dims if isinstance(op.dims, ConvDims) else None
    bounds = conv_loop_nest(conv) if conv is not None else None
    if bounds is not None:
        (sy, sx), (dy, dx) = _pair(conv.stride), _pair(conv.dilation)
        iy, ix = ((sy, "OY"), (dy, "FY")), ((sx, "OX"), (dx, "FX"))
    else:
        view = gemm_view(op, workload) if op.macs else None
        if view is None:
            return None
        bounds = gemm_loop_nest(view.g, view.m, view.n, view.k)
        iy, ix = ((1, "OY"), (1, "FY")), ((1, "OX"), (1, "FX"))
    projections = (
        ("weights", (((1, "G"),), ((1, "K"),), ((1, "C"),), ((1, "FY"),), ((1, "FX"),))),
        ("inputs", (((1, "B"),), ((1, "G"),), ((1, "C"),), iy, ix)),
        ("outputs", (((1, "B"),), ((1, "G"),), ((1, "K"),), ((1, "OY"),), ((1, "OX"),))),
    )
    return LoopProblem(op.module or op.aten, tuple(bounds.items()), projections)


def _check_levels(fm: FixedMapping, profile: HardwareProfile) -> None:
    names = [lvl.name for lvl in profile.levels]
    where = f"fixed mapping of layer {fm.layer!r}"
    for lm in fm.levels:
        if lm.level not in names:
            raise MappingError(f"{where}: level {lm.level!r} is not in profile {profile.name!r} (levels {names})")
        unserved = set(lm.keeps) - set(profile.level(lm.level).operands)
        if unserved and lm is not fm.levels[0]:
            raise MappingError(f"{where}: level {lm.level!r} keeps {sorted(unserved)}, which the profile's level does not serve")
    idx = [names.index(lm.level) for lm in fm.levels]
    if idx != sorted(idx, reverse=True) or len(set(idx)) != len(idx):
        raise MappingError(f"{where}: levels {list(fm.names)} must be distinct and outermost first as in the profile {names[::-1]}")
    if fm.levels[0].level != profile.dram.name:
        raise MappingError(f"{where}: the outermost level must be the profile's DRAM {profile.dram.name!r}, got {fm.levels[0].level!r}")


def partial_output_levels(problem: LoopProblem, fm: FixedMapping) -> frozenset[str]:
    """Levels whose output traffic carries partial sums (``mapping/precision.py``: they move at the accumulator
    width until their final write). A level's traffic is with the level below, whose output tile leaves when an
    output-indexed loop at that level or above ticks: the traffic is partial when a temporal reduction loop sits
    outside such a loop (outermost first). The innermost level serves the MACs themselves, which update it once
    per reduction step: partial whenever the nest has a temporal reduction loop at all."""
    relevant = problem.relevant("outputs")
    out, reduction_seen, partial = set(), False, False
    for lvl in fm.levels:  # outermost first
        for d, f in lvl.temporal:
            if f > 1:
                if d in relevant:
                    partial = partial or reduction_seen
                else:
                    reduction_seen = True
        if partial:
            out.add(lvl.level)
    if reduction_seen:
        out.add(fm.levels[-1].level)
    return frozenset(out)


def _fixed_op(sched: OpSchedule, fm: FixedMapping, problem: LoopProblem, profile: HardwareProfile, bits: int,
              folds: int = 0) -> OpSchedule:
    """``sched`` costed by ``fm``; ``folds``: the array folds that each pay the profile's fill/drain (presets)."""
    _check_levels(fm, profile)
    counts: NestCounts = count_accesses(problem, fm)
    if counts.compute_instances > profile.compute.macs_per_cycle:
        raise MappingError(
            f"fixed mapping of layer {fm.layer!r}: fanout of {counts.compute_instances} PEs exceeds the array's "
            f"{profile.compute.macs_per_cycle} MACs per cycle"
        )
    costs = level_costs(profile, bits)
    check_capacity(counts, costs, bits)
    partial = partial_output_levels(problem, fm)
    psum_bits = max(bits, profile.compute.accumulator_bits)
    traffic: dict[tuple[str, str, str], float] = {}
    for c in counts.counts:
        width = psum_bits if c.operand == "outputs" and c.level in partial else bits
        for direction, n in (("read", c.reads), ("write", c.fills + c.updates)):
            if n:
                key = (c.level, c.operand, direction)
                traffic[key] = traffic.get(key, 0.0) + float(n * c.instances * width)
    tiles = []
    for i, lm in enumerate(fm.levels[1:], start=1):
        ext: dict[str, int] = {}
        for inner in fm.levels[i:]:
            for d, f in (*inner.temporal, *inner.spatial):
                ext[d] = min(ext.get(d, 1) * f, problem.bound[d])  # an uneven split's full tile
        words = sum(c.tile_words for c in counts.counts if c.level == lm.level)
        order = "".join(d for d, f in lm.temporal if f > 1)
        steps = math.prod(f for outer in fm.levels[:i] for _, f in outer.temporal)
        tiles.append(Tile(lm.level, FrozenMap(ext), order, steps, float(words * bits), float(costs[lm.level].capacity_words * bits)))
    dram_steps = math.prod(f for _, f in fm.levels[0].temporal)
    fill_drain = profile.compute.array.fill_drain_cycles if profile.compute.array is not None else 0.0
    return replace(
        sched, mapping="fixed", tiles=tuple(tiles), traffic_bits=FrozenMap(traffic),
        compute_cycles=float(counts.compute_cycles + folds * fill_drain), steps=max(1, dram_steps),
    )


def apply_fixed_mappings(
    schedule: Schedule, workload: Workload, profile: HardwareProfile, mappings: Iterable[FixedMapping]
) -> Schedule:
    """``schedule`` with the ops named by ``mappings`` costed by their fixed mapping (see the module doc)."""
    by_layer: dict[str, FixedMapping] = {}
    for fm in mappings:
        if fm.layer is None:
            raise MappingError("a fixed mapping given to simulate() needs a layer name (FixedMapping.layer)")
        by_layer[fm.layer] = fm
    ops = list(schedule.ops)
    found = set()
    for i, sched in enumerate(ops):
        fm = by_layer.get(sched.layer)
        if fm is None or sched.mapping == "fused":
            continue
        op = workload.ops[sched.index]
        problem = op_problem(op, workload)
        if problem is None:
            raise MappingError(f"fixed mapping of layer {fm.layer!r}: op {op.aten} has no MAC loop nest to map")
        bits = op.mac_dtype.bits if op.mac_dtype is not None else 32
        ops[i] = _fixed_op(sched, fm, problem, profile, bits)
        found.add(fm.layer)
    missing = sorted(set(by_layer) - found)
    if missing:
        layers = sorted({s.layer for s in schedule.ops if s.macs})
        raise MappingError(f"fixed mappings name layers {missing} that the workload does not have; layers with MACs: {layers}")
    return replace(schedule, ops=tuple(ops))


def apply_dataflow_preset(schedule: Schedule, workload: Workload, profile: HardwareProfile, preset: str) -> Schedule:
    """``schedule`` with every op that has a MAC loop nest costed by the ``preset`` template on the profile's
    array (``fixed_templates.dataflow_template``); fused ops and ops without a loop nest keep their mapping."""
    key = preset_name(preset)
    if key is None:
        raise MappingError(f"unknown dataflow preset {preset!r}")
    rows, cols = array_geometry(profile, key)
    ops = list(schedule.ops)
    for i, sched in enumerate(ops):
        if not sched.macs or sched.mapping == "fused":
            continue
        op = workload.ops[sched.index]
        problem = op_problem(op, workload)
        if problem is None:
            continue
        bits = op.mac_dtype.bits if op.mac_dtype is not None else 32
        fm = dataflow_template(key, problem, rows, cols, template_levels(profile, bits, TEMPLATES[key].stationary), layer=sched.layer)
        ops[i] = replace(_fixed_op(sched, fm, problem, profile, bits, fold_steps(key, fm)), mapping=f"fixed-{key}")
    return replace(schedule, ops=tuple(ops))


def apply_mapping_option(schedule: Schedule, workload: Workload, profile: HardwareProfile, mapping) -> Schedule:
    """``simulate(mapping=...)``: a dataflow preset name, or fixed mappings (``resolve_mappings``)."""
    if preset_name(mapping) is not None:
        return apply_dataflow_preset(schedule, workload, profile, mapping)
    return apply_fixed_mappings(schedule, workload, profile, resolve_mappings(mapping))
