"""Memory levels and the compute array as SimPy resources served by reservation.

A ``Port`` is one memory level's access port: it serves one transfer at a time, first come first served
(requestors sharing it are served in request order; on a DRAM device a transfer that arrives while another
requestor's is in service also pays what the controller's scheduler costs to interleave the two:
``LevelTiming.interleave_penalty``), holding it for the level's service time
(``simulator.memsim.service``: ``bits / bandwidth``, or the DRAM device's pipelined stream time); the data
arrives ``latency`` cycles after the port is released (the latency is pipelined: the next transfer may
use the port meanwhile). Streams that share a port therefore contend for its bandwidth.

Why reservations, not a ``simpy.Resource``: a first-come-first-served server of capacity one is fully
described by the time it next becomes free, so a transfer asked at ``now`` starts at
``max(now, free_at)`` and the process waits on ONE timeout for its release or arrival (a Resource costs a
request, a grant, a release and a process per transfer: 3-6 events). The played times are the same; the
engine's event count drops several-fold. The ``ComputeArray`` is served the same way.
Every busy interval is logged as ``(resource, start_cycle, end_cycle, layer, what)`` (when a log is kept:
the timeline), and every port keeps its busy intervals (``intervals``, back-to-back ones merged) for the
bandwidth-over-time series (``simulator.memsim.usage``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Any

import simpy

from simulator.hardware.profile import MemoryLevel
from simulator.memsim.dram import DramCounts
from simulator.memsim.service import LevelTiming
from simulator.memsim.stats import COMPUTE_RESOURCE

__all__ = ["ComputeArray", "CountingEnvironment", "Port"]

#: Busy intervals for the timeline; None keeps none (``timeline=False``: full fidelity in bounded memory).
BusyLog = list[tuple[str, float, float, str, str]] | None


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it schedules."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.scheduled_events = 0

    def schedule(self, event: Any, priority: Any = 1, delay: Any = 0) -> None:  # type: ignore[override]
        self.scheduled_events += 1
        super().schedule(event, priority, delay)


class _Server:
    """One-at-a-time server by reservation: ``free_at``, busy time, busy intervals."""

    def __init__(self, env: simpy.Environment, name: str, log: BusyLog) -> None:
        self.env, self.name, self.log = env, name, log
        self.free_at = 0.0
        self.busy_cycles = 0.0
        self.intervals: list[tuple[float, float]] = []

    def _book(self, duration: float, layer: str, what: str) -> tuple[float, float]:
        start = max(float(self.env.now), self.free_at)
        end = start + duration
        self.free_at = end
        self.busy_cycles += duration
        if duration > 0:
            if self.intervals and self.intervals[-1][1] == start:  # back to back: one interval (bounded memory)
                self.intervals[-1] = (self.intervals[-1][0], end)
            else:
                self.intervals.append((start, end))
            if self.log is not None:
                self.log.append((self.name, start, end, layer, what))
        return start, end

    def wait_until(self, cycle: float) -> simpy.Event:
        """One timeout that fires at ``cycle`` (now if it is past)."""
        return self.env.timeout(max(0.0, cycle - self.env.now))


class Port(_Server):
    """The port of one memory level: bandwidth-limited, one transfer at a time, pipelined latency."""

    def __init__(self, env: simpy.Environment, level: MemoryLevel | LevelTiming, log: BusyLog) -> None:
        timing = (level if isinstance(level, LevelTiming)
                  else LevelTiming(level.name, level.bandwidth_bits_per_cycle, level.latency_cycles))
        super().__init__(env, timing.name, log)
        self.timing = timing
        self.latency_cycles = timing.latency_cycles
        #: cycles transfers waited behind another requestor's transfers, per requestor
        self.queue_cycles: dict[int, float] = {}
        self.last_requestor = -1
        #: whether the scheduler costs time to interleave requestors (a device, not "fcfs"); then the
        #: booked transfers not yet served: [start, end, bursts not yet paired, requestor]
        self.interleaves = timing.device is not None and timing.scheduler != "fcfs"
        self.pending: deque[list] = deque()
        #: device commands issued (DRAM with a device model), summed as they are issued (bounded memory)
        self.dram_counts: list[DramCounts] = []

    def reserve(self, bits: float, layer: str, what: str, write: bool = False,
                requestor: int = 0) -> tuple[float, float]:
        """Book a transfer of ``bits`` asked now: (cycle the port is released, cycle the data arrives)."""
        now = float(self.env.now)
        extra, mine = 0.0, self.timing.burst_count(bits) if self.interleaves else 0.0
        if self.free_at > now and self.last_requestor != requestor:
            waited = self.free_at - now
            if self.interleaves:  # the controller interleaves this transfer with the others' (its scheduler's cost)
                extra, mine = self._interleave(bits, mine, write, requestor, now)
            self.queue_cycles[requestor] = self.queue_cycles.get(requestor, 0.0) + waited + extra
        self.last_requestor = requestor
        counts = self.timing.dram_counts(bits, write)
        if counts is not None:
            self._count(counts)
        start, end = self._book(self.timing.service_cycles(bits, write) + extra, layer, what)
        if mine > 0 and end > start:
            self.pending.append([start, end, mine, requestor])
        return end, end + self.timing.latency(write)

    def _interleave(self, bits: float, mine: float, write: bool, requestor: int, now: float) -> tuple[float, float]:
        """Pair this transfer's bursts with the other requestors' bursts still pending (not served yet, not
        paired yet; each burst is paired once); returns (extra port cycles, this transfer's unpaired bursts)."""
        while self.pending and self.pending[0][1] <= now:
            self.pending.popleft()
        others = 0.0
        for entry in self.pending:
            start, end, unpaired, who = entry
            if who != requestor:
                left = unpaired * min(1.0, (end - now) / (end - start))
                others += left
        extra, pairs, counts = self.timing.interleave_penalty(bits, others, write)
        if counts is not None:
            self._count(counts)
        need = pairs
        for entry in self.pending:
            if need <= 0:
                break
            if entry[3] != requestor:
                take = min(need, entry[2] * min(1.0, (entry[1] - now) / (entry[1] - entry[0])))
                entry[2] -= take
                need -= take
        return extra, mine - pairs

    def _count(self, counts: DramCounts) -> None:
        """Add ``counts`` to the one running total kept in ``dram_counts``."""
        self.dram_counts[:] = [self.dram_counts[0] + counts] if self.dram_counts else [counts]

    def transfer(self, bits: float, layer: str, what: str, write: bool = False, requestor: int = 0,
                 released: simpy.Event | None = None) -> Generator[Any, Any, None]:
        """Move ``bits`` through the port; ends when the data has arrived (after the latency).
        ``released`` (if given) succeeds when the port is free again (a DMA may issue its next request)."""
        release, arrival = self.reserve(bits, layer, what, write, requestor)
        if released is not None:
            self.wait_until(release).callbacks.append(lambda _: released.succeed())
        yield self.wait_until(arrival)


class ComputeArray(_Server):
    """The MAC array: one job at a time for a given number of cycles."""

    def __init__(self, env: simpy.Environment, log: BusyLog) -> None:
        super().__init__(env, COMPUTE_RESOURCE, log)

    def reserve(self, cycles: float, layer: str, what: str) -> float:
        """Book ``cycles`` of compute asked now; returns the cycle it ends."""
        return self._book(cycles, layer, what)[1]

    def compute(self, cycles: float, layer: str, what: str) -> Generator[Any, Any, None]:
        yield self.wait_until(self.reserve(cycles, layer, what))
