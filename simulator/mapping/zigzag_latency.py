"""ZigZag 3.9.1's latency of one layer on a replayed ZigZag mapping, from the profile's ports and the loop nest.

ZigZag does not play transfers: it gives every data-transfer link (an operand's movement at one memory in one
direction: ``tl``/``fl`` to/from the level below, ``th``/``fh`` to/from the level above, ``PORT_DIRECTIONS``) a
period, a count of periods, the cycles one period's data takes on its port (``real``) and the cycles the mapping
allows for it (``allowed``), and sums the excess per physical port. pjsim's memsim pools a level's bandwidth across
operands; on ZigZag's ``gemm_l1`` the outputs' partial sums go in and out of l1 on one 2048-bit port every cycle,
which only a per-port model sees. The steps, each citing the ZigZag 3.9.1 function it follows
(``zigzag/mapping/*.py``, ``zigzag/cost_model/cost_model.py``):

1. Loops per memory of each operand, with the irrelevant loops at the bottom of a memory merged into the one below
   (``TemporalMapping.innermost_stationary_loop_merge_down``; those at the bottom of the innermost memory are the
   array's stationary cycles, the read latch of ``zigzag_replay``); cycles per memory (``calc_cycle_cabl_level``);
   top relevant / irrelevant loop products (``calc_top_r_and_ir_loop``); partial-sum flags (``get_psum_flags``,
   temporal reduction loops only: a spatial reduction is summed in the same cycle).
2. Per link: period, period count, bits per period (``Mapping.calc_req_mem_bw_and_data_transfer_rate``; bits per
   instance of the memory, as its ports are per instance), ``real = ceil(bits / port bandwidth)``
   (``calculate_real_data_transfer_cycles``), ``allowed`` = the period where the memory is double-buffered, else
   the period over the top irrelevant loops (``calculate_allowed_transfer_cycles``, ``calc_double_buffer_flag``).
3. Per port: one link: ``(real - allowed) x (count - 1)``; several: positive parts plus what the windows overlap
   beyond their union (``combine_data_transfer_rate_per_physical_port``, ``__calc_mem_updating_window_union``,
   ``PortActivity``); the layer's stall is the largest port's (ports work in parallel).
4. Loading before and draining after the computation (``calc_data_loading_latency``: ``calc_loading_single_port``,
   ``reduce_ordered``, ``calc_onloading_combined``, ``calc_offloading_combined``).
5. ``latency = temporal cycles + stall + onloading + offloading`` (``calc_overall_latency``'s ``latency_total2``;
   no systolic drain: the profiles declare no systolic axis).

Links without a declared port are not timed (as in ZigZag, where an unallocated link has no port). Not modelled:
``cycles_per_op`` > 1 (bit-serial arrays), ``force_double_buffering`` (the GEMM profiles' l1 qualifies anyway).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.fixed import FixedMapping, LoopProblem

__all__ = ["Link", "ZigZagLatency", "zigzag_latency"]

#: ZigZag's operand order for the double-buffer pass (``layer_operands``: output first).
_ORDER = ("outputs", "inputs", "weights")
_INPUTS = ("inputs", "weights")


@dataclass(frozen=True, slots=True)
class Link:
    """One timed data-transfer link of one instance of ``level`` (ZigZag's ``PortActivity``)."""

    level: str
    port: str
    operand: str
    direction: str
    period_cycles: int
    period_count: int
    bits_per_period: int
    real_cycles: int
    allowed_cycles: int

    @property
    def stall_or_slack_cycles(self) -> int:
        return (self.real_cycles - self.allowed_cycles) * (self.period_count - 1)

    @property
    def window_cycles(self) -> int:
        return self.allowed_cycles * (self.period_count - 1)


@dataclass(frozen=True, slots=True)
class ZigZagLatency:
    """The latency terms of ``calc_overall_latency``; ``port_stall_cycles`` per (level, port)."""

    temporal_cycles: int
    stall_cycles: float
    onloading_cycles: float
    offloading_cycles: float
    port_stall_cycles: FrozenMap
    links: tuple[Link, ...]

    @property
    def computation_cycles(self) -> float:
        """Cycles of the computation with its port stalls (ZigZag's ``latency_total0``)."""
        return self.temporal_cycles + self.stall_cycles

    @property
    def total_cycles(self) -> float:
        return self.computation_cycles + self.onloading_cycles + self.offloading_cycles


@dataclass(frozen=True, slots=True)
class _Chain:
    """One operand's memories innermost first: fm indices, merged loops (innermost first), original loops."""

    keepers: tuple[int, ...]
    loops: tuple[tuple[tuple[str, int], ...], ...]
    original: tuple[tuple[tuple[str, int], ...], ...]


def _chain(problem: LoopProblem, fm: FixedMapping, operand: str) -> _Chain:
    keepers = tuple(i for i in reversed(range(len(fm.levels))) if operand in fm.levels[i].keeps)
    owned: list[list[tuple[str, int]]] = [[] for _ in keepers]
    for i in reversed(range(len(fm.levels))):  # a bypassing level's loops belong to the keeper above it
        j = next(j for j, k in enumerate(keepers) if k <= i)
        owned[j] += [loop for loop in reversed(fm.levels[i].temporal) if loop[1] > 1]
    original = tuple(tuple(x) for x in owned)
    relevant = problem.relevant(operand)
    changed = True
    while changed:  # innermost_stationary_loop_merge_down
        changed = False
        for j in range(1, len(owned)):
            while owned[j] and owned[j][0][0] not in relevant:
                owned[j - 1].append(owned[j].pop(0))
                changed = True
    return _Chain(keepers, tuple(tuple(x) for x in owned), original)


def _top(loops: tuple[tuple[str, int], ...], dims: frozenset[str], inside: bool) -> int:
    """Product of the outermost consecutive loops whose dim is (``inside``) / is not in ``dims``."""
    out = 1
    for d, f in reversed(loops):
        if (d in dims) != inside:
            break
        out *= f
    return out


def _extents(loops, fm: FixedMapping, from_index: int) -> dict[str, int]:
    """Dim extents of ``loops`` and every spatial fanout at fm levels ``from_index`` and below."""
    out: dict[str, int] = {}
    for d, f in [*loops, *(x for lv in fm.levels[from_index:] for x in lv.spatial)]:
        out[d] = out.get(d, 1) * f
    return out


def _union(links: list[Link]) -> int:
    """``__calc_mem_updating_window_union``: the cycles some link's window covers, over the longest period."""
    for link in links:
        if link.period_cycles == link.allowed_cycles:
            return link.period_cycles * link.period_count
    longest = max(links, key=lambda x: x.period_cycles)  # first of the longest, as ZigZag picks it
    t = np.arange(longest.period_cycles)
    busy = np.zeros(t.shape, dtype=bool)
    for link in links:
        busy |= (t % link.period_cycles) < link.allowed_cycles
    return int(busy.sum()) * longest.period_count


def _reduce_ordered(cycles: list[float], minimum: list[float], surplus: float) -> list[float]:
    """``CostModelEvaluation.reduce_ordered``: the surplus cuts the largest loads first, down to their minimum."""
    out = list(cycles)
    for i in sorted(range(len(out)), key=lambda i: out[i], reverse=True):
        cut = min(max(0.0, out[i] - minimum[i]), max(0.0, surplus))
        out[i] -= cut
        surplus -= cut
    return out


def zigzag_latency(problem: LoopProblem, fm: FixedMapping, profile: HardwareProfile, bits: int, psum_bits: int,
                   read_latch: bool = True) -> ZigZagLatency | None:
    """ZigZag's latency of ``fm`` (module doc); None when no level of ``fm`` declares ports."""
    if not any(profile.level(lv.level).ports for lv in fm.levels):
        return None
    total = math.prod(f for lv in fm.levels for _, f in lv.temporal)
    chains = {op: _chain(problem, fm, op) for op in _ORDER}
    c_out = chains["outputs"]
    reduction = frozenset(problem.bound) - problem.relevant("outputs")
    n_out = len(c_out.keepers)
    psum = [any(d in reduction for j in range(k, n_out) for d, _ in c_out.original[j]) for k in range(n_out)] + [False]

    def prec(op: str, arch: int) -> int:  # width of op's data at arch level (0: the array, j + 1: memory j)
        return psum_bits if op == "outputs" and psum[arch] else bits

    tile, down, cyc, top_ir, db = {}, {}, {}, {}, {}
    shared: dict[str, float] = {}
    indiv: dict[tuple[str, int], float] = {}
    for op, ch in chains.items():
        rel = problem.relevant(op)
        n = len(ch.keepers)
        tile[op] = [problem.footprint(op, _extents(sum(ch.loops[: j + 1], ()), fm, ch.keepers[j])) for j in range(n)]
        down[op] = [problem.footprint(op, _extents(sum(ch.loops[:j], ()), fm, ch.keepers[j])) for j in range(n)]
        stationary = _top(ch.loops[0][::-1], rel, inside=False) if op in _INPUTS and read_latch and n else 1
        cyc[op] = [stationary] + [math.prod(f for j in range(k + 1) for _, f in ch.loops[j]) for k in range(n)]
        top_ir[op] = [1] + [_top(ch.loops[j], rel, inside=False) for j in range(n)]
        for j, k in enumerate(ch.keepers):
            lv = profile.level(fm.levels[k].level)
            eff = tile[op][j] * prec(op, j + 1) // _top(ch.loops[j], rel, inside=True)
            indiv[(op, j)] = eff / (lv.capacity_bits / lv.instances)
            shared[lv.name] = shared.get(lv.name, 0.0) + indiv[(op, j)]
    for op, ch in chains.items():  # calc_double_buffer_flag, operands in ZigZag's order
        db[op] = [False]
        for j, k in enumerate(ch.keepers):
            name = fm.levels[k].level
            if shared[name] <= 0.5:
                db[op].append(True)
            elif indiv[(op, j)] <= 1 - shared[name]:
                db[op].append(True)
                shared[name] += indiv[(op, j)]
            else:
                db[op].append(False)

    links: list[Link] = []
    for op, ch in chains.items():
        n = len(ch.keepers)
        for j, k in enumerate(ch.keepers):
            lv = profile.level(fm.levels[k].level)
            wanted = [("tl", down[op][j], prec(op, j), cyc[op][j], j)] if op in _INPUTS else (
                [("fl", down[op][j], prec(op, j), cyc[op][j], j)]
                + ([("tl", down[op][j], prec(op, j), cyc[op][j], j)] if psum[j] else []))
            if j < n - 1 and (op in _INPUTS or psum[j + 1]):
                wanted.append(("fh", tile[op][j], prec(op, j + 1), cyc[op][j + 1], j + 1))
            if j < n - 1 and op == "outputs":
                wanted.append(("th", tile[op][j], prec(op, j + 1), cyc[op][j + 1], j + 1))
            for direction, elems, width, period, arch in wanted:
                port = lv.port_for(op, direction)
                count = total // period
                if port is None or count == 0:
                    continue
                allowed = period if db[op][arch] else int(period / top_ir[op][arch])
                links.append(Link(lv.name, port.name, op, direction, period, count, elems * width,
                                  math.ceil(elems * width / port.bandwidth_bits_per_cycle), allowed))

    by_port: dict[tuple[str, str], list[Link]] = {}
    for link in links:
        by_port.setdefault((link.level, link.port), []).append(link)
    port_stall: dict[tuple[str, str], float] = {}
    for key, group in by_port.items():
        if len(group) == 1:
            port_stall[key] = group[0].stall_or_slack_cycles
        else:
            ss = [x.stall_or_slack_cycles for x in group]
            overlap = sum(s for s in ss if s <= 0) + sum(x.window_cycles for x in group) - _union(group)
            port_stall[key] = sum(s for s in ss if s > 0) + max(0, overlap)
    stall = max([0, *port_stall.values()])

    # calc_loading_single_port: what each link still moves before / after the computation.
    cc: dict[tuple[str, int, str], tuple[float, bool]] = {}
    for (level, port_name), group in by_port.items():
        port = next(p for p in profile.level(level).ports if p.name == port_name)
        two_inputs = {op for op, _ in port.serves} >= set(_INPUTS)
        group = [x for x in group if not (x.operand == "outputs" and x.direction in ("tl", "fh"))]
        once = [x for x in group if x.period_count == 1]
        busy_bw = sum(int(x.bits_per_period / x.period_cycles) for x in group if x.period_count > 1)
        surplus = max(0.0, (port.bandwidth_bits_per_cycle - busy_bw) / port.bandwidth_bits_per_cycle * (total + stall))
        minimum = [math.ceil(tile[x.operand][0] * prec(x.operand, 1) / port.bandwidth_bits_per_cycle) for x in once]
        left = _reduce_ordered([float(x.real_cycles) for x in once], [float(m) for m in minimum], surplus)
        for x, cycles in [*zip(once, left), *((x, x.real_cycles) for x in group if x.period_count > 1)]:
            j = chains[x.operand].keepers.index(next(k for k in chains[x.operand].keepers
                                                       if fm.levels[k].level == x.level))
            cc[(x.operand, j, x.direction)] = (cycles, two_inputs)

    parts = {op: {"own": 0.0, "half": 0.0, "shared": 0.0} for op in _INPUTS}
    for op in _INPUTS:  # calc_onloading_combined
        for j in range(len(chains[op].keepers) - 1):
            a, b = cc.get((op, j, "fh"), (0, False)), cc.get((op, j + 1, "tl"), (0, False))
            longest = max(a[0], b[0])
            if a[1] and b[1]:
                parts[op]["shared"] += longest
            elif not a[1] and not b[1]:
                parts[op]["own"] += longest
            else:
                parts[op]["half"] = longest  # ZigZag assigns (not adds) the half-shared part
    i, w = parts["inputs"], parts["weights"]
    onloading = min(i["shared"] + max(w["shared"] + w["half"] + w["own"], i["half"] + i["own"]),
                    w["shared"] + max(i["shared"] + i["half"] + i["own"], w["half"] + w["own"]))
    offloading = sum(max(cc.get(("outputs", j, "th"), (0, False))[0], cc.get(("outputs", j + 1, "fl"), (0, False))[0])
                     for j in range(n_out - 1))
    return ZigZagLatency(total, stall, onloading, offloading, FrozenMap(port_stall), tuple(links))
