"""Memory levels and the compute array as SimPy resources.

A ``Port`` is one memory level's access port: a ``simpy.Resource`` of capacity 1 that serves one
transfer at a time (first come, first served: requestors sharing it are served in request order),
holding it for the level's service time (``simulator.memsim.service``: ``bits / bandwidth``, or the DRAM
device's time for the burst stream); the data
arrives ``latency`` cycles after the port is released (the latency is pipelined: the next transfer
may use the port meanwhile). Streams that share a port therefore contend for its bandwidth.
The ``ComputeArray`` is a resource of capacity 1 that computes for a given number of cycles.
Every busy interval is logged as ``(resource, start_cycle, end_cycle, layer, what)``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simulator.hardware.profile import MemoryLevel
from simulator.memsim.dram import DramCounts
from simulator.memsim.service import LevelTiming
from simulator.memsim.stats import COMPUTE_RESOURCE

__all__ = ["ComputeArray", "CountingEnvironment", "Port"]

BusyLog = list[tuple[str, float, float, str, str]]


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it schedules."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.scheduled_events = 0

    def schedule(self, event: Any, priority: Any = 1, delay: Any = 0) -> None:  # type: ignore[override]
        self.scheduled_events += 1
        super().schedule(event, priority, delay)


class Port:
    """The port of one memory level: bandwidth-limited, one transfer at a time, pipelined latency."""

    def __init__(self, env: simpy.Environment, level: MemoryLevel | LevelTiming, log: BusyLog) -> None:
        self.env = env
        self.timing = (
            level if isinstance(level, LevelTiming)
            else LevelTiming(level.name, level.bandwidth_bits_per_cycle, level.latency_cycles)
        )
        self.name = self.timing.name
        self.latency_cycles = self.timing.latency_cycles
        self.resource = simpy.Resource(env, capacity=1)
        self.log = log
        self.busy_cycles = 0.0
        #: cycles transfers waited in the port's queue while another requestor held the port, per requestor
        self.queue_cycles: dict[int, float] = {}
        self.holder = -1
        #: device commands issued (DRAM with a device model)
        self.dram_counts: list[DramCounts] = []

    def transfer(self, bits: float, layer: str, what: str, write: bool = False, requestor: int = 0,
                 released: simpy.Event | None = None) -> Generator[Any, Any, None]:
        """Move ``bits`` through the port; ends when the data has arrived (after the latency).
        ``released`` (if given) succeeds when the port is free again (a DMA may issue its next request)."""
        asked = self.env.now
        behind_other = self.resource.count > 0 and self.holder != requestor
        with self.resource.request() as request:
            yield request
            start = self.env.now
            self.holder = requestor
            if behind_other:
                self.queue_cycles[requestor] = self.queue_cycles.get(requestor, 0.0) + start - asked
            duration = self.timing.service_cycles(bits, write)
            counts = self.timing.dram_counts(bits, write)
            if counts is not None:
                self.dram_counts.append(counts)
            yield self.env.timeout(duration)
            self.busy_cycles += duration
            self.log.append((self.name, start, self.env.now, layer, what))
        if released is not None:
            released.succeed()
        if self.latency_cycles:
            yield self.env.timeout(self.latency_cycles)


class ComputeArray:
    """The MAC array: one job at a time for a given number of cycles."""

    def __init__(self, env: simpy.Environment, log: BusyLog) -> None:
        self.env = env
        self.name = COMPUTE_RESOURCE
        self.resource = simpy.Resource(env, capacity=1)
        self.log = log
        self.busy_cycles = 0.0

    def compute(self, cycles: float, layer: str, what: str) -> Generator[Any, Any, None]:
        with self.resource.request() as request:
            yield request
            start = self.env.now
            yield self.env.timeout(cycles)
            self.busy_cycles += cycles
            self.log.append((self.name, start, self.env.now, layer, what))
