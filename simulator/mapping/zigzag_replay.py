"""A ZigZag mapping file replayed as fixed mappings (``zigzag_mapping``) and priced as ZigZag prices them.

``apply_zigzag_mapping(schedule, workload, profile, path)`` replaces the search's mapping of every op with MACs by
the ``FixedMapping`` its ZigZag entry gives (``zigzag_mapping.zigzag_mapping``), costed by
``fixed_apply.apply_fixed_mappings`` (loop-nest counts, tiles, compute cycles), and then prices the counted
traffic with three rules of ZigZag 3.9.1's cost model that the fixed-mapping path does not apply:

- **Partial-sum width** (``zigzag.mapping.mapping.Mapping.gen_data_precision_dict``; pjsim's own rule in
  ``mapping/precision.py``: partial sums move at ``max(output bits, accumulator_bits)`` until their final write):
  output traffic at a level is at the partial-sum width when a reduction loop (a dim that does not index the
  outputs) iterates at that level or above it, else at the output width. ``fixed_apply`` prices every operand at
  the MAC width; this is the rule it would need (see ``operand_bits``).
- **Read latch** (``read_latch=True``; ZigZag's ``access_same_data_considered_as_no_access=True``, the default of
  ``zigzag.api.get_hardware_performance_zigzag``, applied in ``Mapping.calc_data_access``): an input or weight word
  read from its innermost level stays at the read port while the innermost loops that do not index it iterate
  (``TemporalMapping.mac_level_data_stationary_cycle``), so the array's reads of that level are divided by their
  product, when one array step's words of that operand fit the level's read port. pjsim's loop-nest counts
  (Timeloop's convention) read once per use; ``read_latch=False`` keeps them.
- **Output counts** (``zigzag_outputs=True``; ZigZag's memory energy counts every link per period,
  ``CostModelEvaluation._calc_memory_access`` over ``Mapping.calc_req_mem_bw_and_data_transfer_rate``'s periods:
  ``zigzag_links``): a memory holding partial sums reads each one down every period, the first (zero) one too,
  and is read to send its outputs up every period (pjsim's loop-nest counts skip the first read and count the
  drain only as the parent's update). Outputs' traffic is those links' bits, at the partial-sum width where the
  data are partial sums (``get_psum_flags``). ``zigzag_outputs=False`` keeps the loop-nest counts.

And it times the op as ZigZag does when the profile declares its memories' ports (``[memory.<name>.ports]``):
**port stalls** (``mapping.zigzag_latency``: ZigZag 3.9.1's ``CostModelEvaluation.calc_latency``, each link's
period and per-port stall/slack): the op's array cycles become ZigZag's computation cycles with the stalls of its
busiest port (``latency_total0``: on ``gemm_l1`` the partial sums go in and out of l1 on one 2048-bit port, two
cycles per array step: 4,096 + 4,094; the array is held, not computing, for the stall, so the report's array
utilisation of the op is ZigZag's ``mac_utilization0``). memsim then plays the loads and stores at the outermost level as for every
mapping (ZigZag's own on/off-loading terms are ``ZigZagLatency.onloading_cycles`` / ``offloading_cycles``). Profiles
without ports keep the array's temporal cycles (``fixed_apply``), so nothing else changes.

The ops' ``mapping`` becomes ``"zigzag"``. ``simulate(mapping=zigzag_fixed_mappings(path, workload, profile))``
gives the same loop nests without these pricing rules and without the port timing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.fixed import FixedMapping, LoopProblem
from simulator.mapping.fixed_apply import apply_fixed_mappings, op_problem
from simulator.mapping.loopnest import count_accesses
from simulator.mapping.schedule import Schedule
from simulator.mapping.zigzag_latency import zigzag_latency
from simulator.mapping.zigzag_links import transfer_links
from simulator.mapping.zigzag_mapping import zigzag_mapping
from simulator.mapping.zigzag_yaml import entry_for, load_zigzag_mapping
from simulator.workload import Op, Workload

__all__ = ["apply_zigzag_mapping", "operand_bits", "read_latch_cycles", "replay_traffic_bits", "zigzag_fixed_mappings"]


def _bits(op: Op, profile: HardwareProfile) -> tuple[int, int]:
    """(operand bits, partial-sum bits) of ``op`` on ``profile`` (``mapping/precision.py``'s rule)."""
    bits = op.mac_dtype.bits if op.mac_dtype is not None else 32
    return bits, max(bits, profile.compute.accumulator_bits)


def zigzag_fixed_mappings(path: str | Path, workload: Workload, profile: HardwareProfile) -> tuple[FixedMapping, ...]:
    """The ``FixedMapping`` of every op with a MAC loop nest from the ZigZag mapping file at ``path`` (each op's
    entry: its module name, else ``default``); ``simulate(workload, profile, mapping=...)`` takes them."""
    entries = load_zigzag_mapping(path)
    out = []
    for op in workload.ops:
        problem = op_problem(op, workload) if op.macs else None
        if problem is not None:
            out.append(zigzag_mapping(entry_for(entries, problem.name), problem, profile, *_bits(op, profile)))
    return tuple(out)


def operand_bits(problem: LoopProblem, fm: FixedMapping, bits: int, psum_bits: int) -> dict[tuple[str, str], int]:
    """Width of each (level, operand)'s traffic: outputs at ``psum_bits`` at a level at or below a reduction loop.

    ZigZag 3.9.1's coarser rule (``get_psum_flags``), kept for replays so they price as ZigZag does; pjsim's own
    fixed mappings use ``fixed_apply.partial_output_levels``, which also sees when a reduction loop sits inside
    every output loop (the final write then goes up at the output width)."""
    reduction = {d for d in problem.bound if d not in problem.relevant("outputs")}
    out, partial = {}, False
    for lvl in fm.levels:  # outermost first
        partial = partial or any(d in reduction and f > 1 for d, f in lvl.temporal)
        for op in lvl.keeps:
            out[(lvl.level, op)] = psum_bits if op == "outputs" and partial else bits
    return out


def read_latch_cycles(problem: LoopProblem, fm: FixedMapping, operand: str) -> int:
    """Product of the innermost temporal loops (whatever their level) over dims that do not index ``operand``."""
    relevant = problem.relevant(operand)
    cycles = 1
    for d, f in (loop for lvl in reversed(fm.levels) for loop in reversed(lvl.temporal)):
        if d in relevant and f > 1:
            break
        cycles *= f
    return cycles


def replay_traffic_bits(problem: LoopProblem, fm: FixedMapping, profile: HardwareProfile, bits: int, psum_bits: int,
                        read_latch: bool = True, zigzag_outputs: bool = True) -> dict[tuple[str, str, str], float]:
    """Bits read and written per (level, operand) of ``fm``, priced by the rules of the module doc."""
    counts = count_accesses(problem, fm)
    width = operand_bits(problem, fm, bits, psum_bits)
    innermost = {op: next(lv.level for lv in reversed(fm.levels) if op in lv.keeps) for op in ("weights", "inputs")}
    traffic: dict[tuple[str, str, str], float] = {}
    for c in counts.counts:
        if zigzag_outputs and c.operand == "outputs":
            continue  # from ZigZag's links below
        reads = float(c.reads)
        if read_latch and innermost.get(c.operand) == c.level:
            fanout: dict[str, int] = {}  # the array step this level feeds: every fanout below it
            for d, f in (x for lv in fm.levels[fm.names.index(c.level):] for x in lv.spatial):
                fanout[d] = fanout.get(d, 1) * f
            per_step_bits = problem.footprint(c.operand, fanout) * bits
            if per_step_bits <= profile.level(c.level).word_bits_for(c.operand):
                reads /= read_latch_cycles(problem, fm, c.operand)
        for direction, n in (("read", reads), ("write", float(c.fills + c.updates))):
            if n:
                key = (c.level, c.operand, direction)
                traffic[key] = traffic.get(key, 0.0) + n * c.instances * width[(c.level, c.operand)]
    if zigzag_outputs:
        traffic.update(transfer_links(problem, fm, profile, bits, psum_bits, read_latch).bits("outputs"))
    return traffic


def apply_zigzag_mapping(schedule: Schedule, workload: Workload, profile: HardwareProfile, path: str | Path,
                         read_latch: bool = True, zigzag_outputs: bool = True) -> Schedule:
    """``schedule`` with every op that has a MAC loop nest costed by its ZigZag mapping entry (module doc)."""
    by_layer = {fm.layer: fm for fm in zigzag_fixed_mappings(path, workload, profile)}
    unfused = {s.layer for s in schedule.ops if s.layer in by_layer and s.mapping != "fused"}
    fixed = apply_fixed_mappings(schedule, workload, profile, [by_layer[layer] for layer in sorted(unfused)])
    ops = list(fixed.ops)
    for i, sched in enumerate(ops):
        if sched.mapping != "fixed" or sched.layer not in unfused:
            continue
        op = workload.ops[sched.index]
        problem, fm = op_problem(op, workload), by_layer[sched.layer]
        traffic = replay_traffic_bits(problem, fm, profile, *_bits(op, profile), read_latch=read_latch,
                                      zigzag_outputs=zigzag_outputs)
        latency = zigzag_latency(problem, fm, profile, *_bits(op, profile), read_latch=read_latch)
        cycles = sched.compute_cycles if latency is None else latency.computation_cycles
        ops[i] = replace(sched, mapping="zigzag", traffic_bits=FrozenMap(traffic), compute_cycles=cycles)
    return replace(fixed, ops=tuple(ops))
