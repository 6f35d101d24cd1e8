"""The closed form (no simpy): the phase timing of ``closed_form_stats`` and the bracket ``cycle_bracket``.

``closed_form_stats``: per phase of ``phases.op_phases`` every port serves its transfers back to back,
the last one's data arrives one latency later; the compute array runs its cycles; the phase lasts as
long as the slowest of them; ops run one after the other. With one stream per port this is exactly
what the phase model (``simulate_schedule(..., overlap=False)``) does; it is the fast engine for sweeps.

``cycle_bracket``: bounds any schedule-respecting play of the schedule must lie within.
* lower (perfect overlap): every resource is one-at-a-time, so the run lasts at least as long as the
  compute array's total and as the busiest port's total service time at its best (a DRAM device at its
  peak: every burst a row hit, no refresh; DRAM shared by all requestors);
* upper (no overlap between compute and transfers, nor between ops): per op, the compute cycles plus
  every level's service time for all its bits (the DRAM device's sequential streams with their row
  misses at row ends and refresh, and with several requestors every burst interleaved with another's
  under the scheduler: the worst the engine plays) plus the latencies that cannot hide behind
  other work: one chain (DRAM read + on-chip + DRAM write latency) per round of steps the staging buffer
  cannot overlap — ``ceil(T / (slots - 1))`` rounds with ``slots`` step slots in the buffer, ``T``
  when one slot is all it holds — times the number of requestors. (A work-conserving play always has some
  piece of work or a latency of the chain in progress.) Before issue 15's rework the upper bound charged
  every step its latencies (``T x latency``): ~1,000x loose on LeNet-300-100.
Transfers are timed by ``service`` (flat bandwidth/latency, or the DRAM device), as in the simulation.
"""

from __future__ import annotations

import math
from collections import defaultdict

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.schedule import Schedule
from simulator.memsim.dram import DramCounts, DramDevice
from simulator.memsim.phases import op_phases
from simulator.memsim.service import level_timings
from simulator.memsim.stats import COMPUTE_RESOURCE, MemoryStats
from simulator.memsim.steps import staging_capacity_bits, step_footprint_bits

__all__ = ["closed_form_stats", "cycle_bracket", "sum_dram_counts"]


def cycle_bracket(schedule: Schedule, profile: HardwareProfile, dram: DramDevice | None = None,
                  cores: int = 1, shared_levels: tuple[str, ...] = (), scheduler: str | None = None) -> tuple[float, float]:
    """(lower, upper) cycles of ``cores`` requestors each playing ``schedule`` (see the module docstring)."""
    timings = level_timings(profile, dram, scheduler)
    # Each core stages in its share of a shared global buffer (as the engine plays it).
    capacity = staging_capacity_bits(schedule) / (cores if schedule.global_buffer in shared_levels else 1)
    compute = 0.0
    port_best: dict[str, float] = defaultdict(float)
    upper = 0.0
    for op in schedule.ops:
        steps = max(1, op.steps)
        compute += op.compute_cycles
        upper += op.compute_cycles
        bits_at: dict[tuple[str, bool], float] = defaultdict(float)
        for (level, _, direction), bits in op.traffic_bits.items():
            if bits > 0:
                bits_at[(level, level == schedule.dram and direction == "write")] += bits
        chain = 0.0
        for (level, write), bits in bits_at.items():
            t = timings[level]
            port_best[level] += t.peak_cycles(bits)
            upper += t.worst_service_cycles(bits, write, cores)
            chain += t.latency(write)
        slot = min(math.ceil(step_footprint_bits(op, schedule.dram, schedule.global_buffer)), capacity)
        slots = int(capacity // slot) if slot > 0 and not math.isinf(capacity) else steps + 1
        rounds = steps if slots < 2 else math.ceil(steps / (slots - 1))
        upper += rounds * chain
    # Each core has its own on-chip ports; the DRAM port (and any shared level's) serves every core.
    shared = {schedule.dram, *shared_levels}
    busiest = max((v * (cores if name in shared else 1) for name, v in port_best.items()), default=0.0)
    lower = max(compute, busiest)
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
            arrival: dict[str, float] = defaultdict(float)  # served back to back in order; each its own latency
            for t in phase.transfers:
                write = all(d == "write" for _, _, d, _ in t.parts)
                per_port[t.level] += timings[t.level].service_cycles(t.bits, write)
                arrival[t.level] = max(arrival[t.level], per_port[t.level] + timings[t.level].latency(write))
                counts = timings[t.level].dram_counts(t.bits, write)
                if counts is not None:
                    dram_counts.append(counts)
            ends = [phase.compute_cycles]
            for name, cycles in per_port.items():
                busy[name] += cycles
                ends.append(arrival[name])
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
