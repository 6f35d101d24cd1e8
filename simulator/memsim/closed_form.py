"""The closed form (no simpy): the phase timing of ``closed_form_stats`` and the bracket ``cycle_bracket``.

``closed_form_stats``: per phase of ``phases.op_phases`` every port serves its transfers back to back,
the last one's data arrives one latency later; the compute array runs its cycles; the phase lasts as
long as the slowest of them; ops run one after the other. With one stream per port this is exactly
what the phase model (``simulate_schedule(..., overlap=False)``) does; it is the fast engine for sweeps.

``cycle_bracket``: bounds any schedule-respecting play of the schedule must lie within.
* lower (perfect overlap): every resource is one-at-a-time, so the run lasts at least as long as the
  compute array's total and as the busiest port's total service time (DRAM shared by all requestors);
* upper (no overlap): the run is never longer than doing every piece of work one after the other, each
  step's transfers with their full latency: per op and per stream ``T x (service(bits / T) + latency)``
  plus the compute cycles, times the number of requestors. (A work-conserving play always has some
  piece of work in progress, so it is at most the sum of all pieces.)
Transfers are timed by ``service`` (flat bandwidth/latency, or the DRAM device), as in the simulation.
"""

from __future__ import annotations

from collections import defaultdict

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.schedule import Schedule
from simulator.memsim.dram import DramCounts, DramDevice
from simulator.memsim.phases import op_phases
from simulator.memsim.service import level_timings
from simulator.memsim.stats import COMPUTE_RESOURCE, MemoryStats

__all__ = ["closed_form_stats", "cycle_bracket", "sum_dram_counts"]


def cycle_bracket(schedule: Schedule, profile: HardwareProfile, dram: DramDevice | None = None,
                  cores: int = 1) -> tuple[float, float]:
    """(lower, upper) cycles of ``cores`` requestors each playing ``schedule`` (see the module docstring)."""
    timings = level_timings(profile, dram)
    compute = 0.0
    port_total: dict[str, float] = defaultdict(float)
    upper = 0.0
    for op in schedule.ops:
        steps = max(1, op.steps)
        compute += op.compute_cycles
        upper += op.compute_cycles
        onchip: dict[str, float] = defaultdict(float)
        for (level, _, direction), bits in op.traffic_bits.items():
            if bits <= 0:
                continue
            t = timings[level]
            write = direction == "write"
            if level == schedule.dram:
                port_total[level] += t.service_cycles(bits, write)
                upper += steps * (t.service_cycles(bits / steps, write) + t.latency_cycles)
            else:
                onchip[level] += bits
        for level, bits in onchip.items():
            t = timings[level]
            port_total[level] += t.service_cycles(bits)
            upper += steps * (t.service_cycles(bits / steps) + t.latency_cycles)
    # Each core has its own on-chip ports; the DRAM port serves every core.
    busiest = max(port_total.values(), default=0.0)
    lower = max(compute, busiest, port_total.get(schedule.dram, 0.0) * cores)
    return lower, upper * cores


def closed_form_stats(schedule: Schedule, profile: HardwareProfile, dram: DramDevice | None = None) -> MemoryStats:
    """Counts straight from the schedule, the phase timing in closed form, and the bracket."""
    timings = level_timings(profile, dram)
    traffic: dict[tuple[str, str, str, str], float] = defaultdict(float)
    layer_cycles: dict[str, float] = defaultdict(float)
    busy: dict[str, float] = defaultdict(float)
    total = 0.0
    dram_counts: list[DramCounts] = []
    for op in schedule.ops:
        for (level, operand, direction), bits in op.traffic_bits.items():
            traffic[(op.layer, level, operand, direction)] += bits
        op_cycles = 0.0
        for phase in op_phases(op, schedule.dram):
            per_port: dict[str, float] = defaultdict(float)
            for t in phase.transfers:
                write = all(d == "write" for _, _, d, _ in t.parts)
                per_port[t.level] += timings[t.level].service_cycles(t.bits, write)
                counts = timings[t.level].dram_counts(t.bits, write)
                if counts is not None:
                    dram_counts.append(counts)
            ends = [phase.compute_cycles]
            for name, cycles in per_port.items():
                busy[name] += cycles
                ends.append(cycles + timings[name].latency_cycles)
            busy[COMPUTE_RESOURCE] += phase.compute_cycles
            op_cycles += max(ends)
        layer_cycles[op.layer] += op_cycles
        total += op_cycles
    for lv in profile.levels:
        busy.setdefault(lv.name, 0.0)
    busy.setdefault(COMPUTE_RESOURCE, 0.0)
    lower, upper = cycle_bracket(schedule, profile, dram)
    counts = sum_dram_counts(dram_counts)
    return MemoryStats(
        method="closed-form",
        traffic_bits=FrozenMap(traffic),
        cycles=total,
        layer_cycles=FrozenMap(layer_cycles),
        busy_cycles=FrozenMap(busy),
        lower_bound_cycles=lower,
        upper_bound_cycles=upper,
        dram_model=dram.name if dram is not None else "flat",
        stall_cycles_by_cause=FrozenMap({"memory": max(0.0, total - busy[COMPUTE_RESOURCE])}),
        dram_row_hit_rate=counts.row_hit_rate if counts is not None else None,
        dram_energy_by_command_pj=FrozenMap(dram.energy_breakdown_pj(counts) if (dram and counts) else {}),
    )


def sum_dram_counts(counts: list[DramCounts]) -> DramCounts | None:
    """The commands of several played streams together (None when there were none)."""
    if not counts:
        return None
    fields = ("activates", "precharges", "reads", "writes", "refreshes", "row_hits", "row_misses")
    return DramCounts(*(sum(getattr(c, f) for c in counts) for f in fields), cycles=sum(c.cycles for c in counts))
