"""ZigZag 3.9.1's latency of one layer on a replayed ZigZag mapping, from the profile's ports and the loop nest.

ZigZag does not play transfers: it gives every data-transfer link (an operand's movement at one memory in one
direction: ``tl``/``fl`` to/from the level below, ``th``/``fh`` to/from the level above, ``PORT_DIRECTIONS``) a
period, a count of periods, the cycles one period's data takes on its port (``real``) and the cycles the mapping
allows for it (``allowed``), and sums the excess per physical port. pjsim's memsim pools a level's bandwidth across
operands; on ZigZag's ``gemm_l1`` the outputs' partial sums go in and out of l1 on one 2048-bit port every cycle,
which only a per-port model sees. The steps, each citing the ZigZag 3.9.1 function it follows
(``zigzag/cost_model/cost_model.py``):

1-2. The links with their periods, counts, ``real`` and ``allowed`` cycles: ``zigzag_links.transfer_links``.
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
from simulator.mapping.zigzag_links import Link, transfer_links

__all__ = ["ZigZagLatency", "zigzag_latency"]

_INPUTS = ("inputs", "weights")


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
    transfers = transfer_links(problem, fm, profile, bits, psum_bits, read_latch)
    total, links = transfers.temporal_cycles, [x for x in transfers.links if x.port is not None]
    depth = {op: 1 + max((x.depth for x in transfers.links if x.operand == op), default=-1)
             for op in ("outputs", *_INPUTS)}
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
        minimum = [math.ceil(transfers.innermost_tile_bits[x.operand] / port.bandwidth_bits_per_cycle) for x in once]
        left = _reduce_ordered([float(x.real_cycles) for x in once], [float(m) for m in minimum], surplus)
        for x, cycles in [*zip(once, left), *((x, x.real_cycles) for x in group if x.period_count > 1)]:
            cc[(x.operand, x.depth, x.direction)] = (cycles, two_inputs)

    parts = {op: {"own": 0.0, "half": 0.0, "shared": 0.0} for op in _INPUTS}
    for op in _INPUTS:  # calc_onloading_combined
        for j in range(depth[op] - 1):
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
                     for j in range(depth["outputs"] - 1))
    return ZigZagLatency(total, stall, onloading, offloading, FrozenMap(port_stall), tuple(links))
