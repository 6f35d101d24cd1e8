"""Play a Schedule on SimPy resources: simulate_schedule(schedule, profile) -> MemoryStats.

Each op runs the phases of ``phases.op_phases`` (double-buffered pipeline with grouped identical
steps) on one ``Port`` per memory level and the ``ComputeArray``; ops run one after the other.
The bits of every transfer are counted as it is played, so the counts in ``MemoryStats`` are what
the simulation moved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator
from typing import Any

from simulator.cost import TimelineEvent
from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.schedule import OpSchedule, Schedule
from simulator.memsim.levels import ComputeArray, CountingEnvironment, Port
from simulator.memsim.phases import Phase, op_phases
from simulator.memsim.stats import COMPUTE_RESOURCE, MemoryStats

__all__ = ["simulate_schedule"]


def simulate_schedule(schedule: Schedule, profile: HardwareProfile, *, timeline: bool = True) -> MemoryStats:
    """Run one steady-state inference of ``schedule`` through the SimPy model of ``profile``.

    Args:
        schedule: the mapper's output.
        profile: the hardware (levels give bandwidth and latency, compute the array).
        timeline: keep every busy interval (for the Gantt chart).

    Returns:
        ``MemoryStats`` with the traffic the simulation moved, latency, busy cycles, event count, timeline.
    """
    env = CountingEnvironment()
    log: list[tuple[str, float, float, str, str]] = []
    ports = {level.name: Port(env, level, log) for level in profile.levels}
    array = ComputeArray(env, log)
    traffic: dict[tuple[str, str, str, str], float] = defaultdict(float)
    layer_cycles: dict[str, float] = defaultdict(float)

    def run_phase(op: OpSchedule, phase: Phase) -> Generator[Any, Any, None]:
        jobs = []
        for t in phase.transfers:
            jobs.append(env.process(ports[t.level].transfer(t.bits, op.layer, f"{t.what} ({phase.name})")))
            for level, operand, direction, bits in t.parts:
                traffic[(op.layer, level, operand, direction)] += bits
        if phase.compute_cycles > 0:
            jobs.append(env.process(array.compute(phase.compute_cycles, op.layer, f"{op.kind} ({phase.name})")))
        yield env.all_of(jobs)

    def inference() -> Generator[Any, Any, None]:
        for op in schedule.ops:
            start = env.now
            for phase in op_phases(op, schedule.dram):
                yield from run_phase(op, phase)
            layer_cycles[op.layer] += env.now - start

    env.process(inference())
    env.run()
    busy = {name: port.busy_cycles for name, port in ports.items()}
    busy[COMPUTE_RESOURCE] = array.busy_cycles
    return MemoryStats(
        method="simpy",
        traffic_bits=FrozenMap(traffic),
        cycles=float(env.now),
        layer_cycles=FrozenMap(layer_cycles),
        busy_cycles=FrozenMap(busy),
        events=env.scheduled_events,
        timeline=tuple(TimelineEvent(*entry) for entry in log) if timeline else (),
    )
