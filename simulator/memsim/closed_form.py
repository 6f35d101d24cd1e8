"""The same phases as the SimPy model, timed in closed form (no simpy): closed_form_stats(schedule, profile).

Per phase: every port serves its transfers back to back (bits / bandwidth each), the last one's data
arrives one latency later; the compute array runs its cycles; the phase lasts as long as the slowest
of them. With one stream per port this is exactly what the discrete-event model does; it is the
reference the SimPy model is checked against.
"""

from __future__ import annotations

from collections import defaultdict

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.schedule import Schedule
from simulator.memsim.phases import op_phases
from simulator.memsim.stats import COMPUTE_RESOURCE, MemoryStats

__all__ = ["closed_form_stats"]


def closed_form_stats(schedule: Schedule, profile: HardwareProfile) -> MemoryStats:
    """Counts straight from the schedule and the phase timing in closed form."""
    levels = {lv.name: lv for lv in profile.levels}
    traffic: dict[tuple[str, str, str, str], float] = defaultdict(float)
    layer_cycles: dict[str, float] = defaultdict(float)
    busy: dict[str, float] = defaultdict(float)
    total = 0.0
    for op in schedule.ops:
        for (level, operand, direction), bits in op.traffic_bits.items():
            traffic[(op.layer, level, operand, direction)] += bits
        op_cycles = 0.0
        for phase in op_phases(op, schedule.dram):
            per_port: dict[str, float] = defaultdict(float)
            for t in phase.transfers:
                per_port[t.level] += t.bits / levels[t.level].bandwidth_bits_per_cycle
            ends = [phase.compute_cycles]
            for name, cycles in per_port.items():
                busy[name] += cycles
                ends.append(cycles + levels[name].latency_cycles)
            busy[COMPUTE_RESOURCE] += phase.compute_cycles
            op_cycles += max(ends)
        layer_cycles[op.layer] += op_cycles
        total += op_cycles
    for lv in profile.levels:
        busy.setdefault(lv.name, 0.0)
    busy.setdefault(COMPUTE_RESOURCE, 0.0)
    return MemoryStats(
        method="closed-form",
        traffic_bits=FrozenMap(traffic),
        cycles=total,
        layer_cycles=FrozenMap(layer_cycles),
        busy_cycles=FrozenMap(busy),
    )
