"""Play a Schedule on SimPy state: simulate_schedule(schedule, profile, ...) -> MemoryStats.

Two models, both on the same ports (``levels.Port``, timed by ``service``):

* ``overlap=True`` (default), the stateful pipeline: per requestor (core) a DMA process loads each
  step's DRAM reads into a slot of the global buffer (``buffers.StagingBuffer``, a ``simpy.Container`` of
  the buffer's free capacity), a compute process takes loaded steps from a ``simpy.Store``, runs the
  compute array and the on-chip levels' traffic, and hands the step to a write-back process that stores
  its DRAM writes and frees the slot. Double buffering, stalls and back-pressure follow from occupancy;
  the DMA moves on to the next op's first step as soon as there is room, loading its weights while the
  previous op still computes (inputs read from DRAM wait for the previous op's write-back). Steps are
  played one by one (``fidelity="full"``) or in a bounded window with steady-state groups (``steps``).
  ``cores=N`` runs N requestors (batch split: each core plays the whole schedule for its own inference)
  with their own buffer, array and on-chip ports, sharing the DRAM port (and any ``shared_levels``): whole
  transfers first come first served, and on a DRAM device model a transfer that arrives while another
  core's is in service pays what the controller's scheduler costs to interleave them (``"fcfs"``: nothing;
  ``"round-robin"``: the row misses of two streams on one bank; ``"fr-fcfs"``: row hits first, little;
  ``service.LevelTiming.interleave_penalty``), counted as waiting for another core.
* ``overlap=False``: ops run one after the other through the four phases of ``phases.op_phases``; with
  a flat DRAM this is exactly ``closed_form.closed_form_stats``.

Either way the bits of every transfer are counted as they are played, and the result carries the
closed form's bracket (``closed_form.cycle_bracket``) it must lie within.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator
from typing import Any

import simpy

from simulator.cost import TimelineEvent
from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.schedule import OpSchedule, Schedule
from simulator.memsim.buffers import StagingBuffer
from simulator.memsim.closed_form import cycle_bracket, sum_dram_counts
from simulator.memsim.dram import DramDevice
from simulator.memsim.levels import ComputeArray, CountingEnvironment, Port
from simulator.memsim.phases import Phase, op_phases
from simulator.memsim.service import LevelTiming, level_timings
from simulator.memsim.stats import COMPUTE_RESOURCE, MemoryStats
from simulator.memsim.steps import StepGroup, op_step_groups, staging_capacity_bits
from simulator.memsim.usage import utilisation_series

__all__ = ["simulate_schedule"]


def simulate_schedule(schedule: Schedule, profile: HardwareProfile, *, timeline: bool = True, overlap: bool = True,
                      fidelity: str = "window", dram: DramDevice | None = None, cores: int = 1,
                      shared_levels: tuple[str, ...] | None = None, scheduler: str | None = None) -> MemoryStats:
    """Run steady-state inference of ``schedule`` through the SimPy model of ``profile``.

    Args:
        schedule: the mapper's output.
        profile: the hardware (levels give bandwidth and latency, compute the array).
        timeline: keep every busy interval (for the Gantt chart).
        overlap: the stateful pipeline (True) or ops one after the other in phases (False).
        fidelity: ``"window"`` (bounded events) or ``"full"`` (every step; for verification).
        dram: a DRAM device model behind the profile's DRAM level (None: the level's flat bandwidth/latency).
        cores: requestors sharing the DRAM (batch split: one inference each); needs ``overlap``.
        shared_levels: on-chip levels (by name) whose port every core shares, like the DRAM's (a shared
            SRAM); None: the profile's (``shared = true`` levels); each other level is one per core. A shared
            global buffer's staging room is split equally between the cores (the mapper tiles for all of it).
        scheduler: how the DRAM controller interleaves the cores' transfers (``DRAM_SCHEDULERS``; None: the
            profile's ``[memory.<dram>] scheduler``); it costs time with a device model and several cores.

    Returns:
        ``MemoryStats`` with the traffic the simulation moved, latency, busy cycles, stalls, bracket, timeline.
    """
    if cores < 1:
        raise ValueError(f"cores must be >= 1, got {cores}")
    if cores > 1 and not overlap:
        raise ValueError("several cores need the stateful pipeline (overlap=True)")
    shared_levels = profile.shared_levels if shared_levels is None else tuple(shared_levels)
    unknown = set(shared_levels) - {lv.name for lv in profile.levels}
    if unknown:
        raise ValueError(f"shared_levels names no level of profile {profile.name!r}: {sorted(unknown)}")
    env = CountingEnvironment()
    log: list[tuple[str, float, float, str, str]] | None = [] if timeline else None
    timings = level_timings(profile, dram, scheduler)
    dram_port = Port(env, timings[schedule.dram], log)
    traffic: dict[tuple[str, str, str, str], float] = defaultdict(float)
    play = _Pipeline if overlap else _Phases
    runner = play(env, schedule, profile, timings, dram_port, log, traffic, fidelity, cores)
    if overlap:
        runner.shared = {name: Port(env, timings[name], log) for name in shared_levels if name != schedule.dram}
        runner.start()
    env.run()
    runner.check_finished()
    lower, upper = cycle_bracket(schedule, profile, dram=dram, cores=cores, shared_levels=shared_levels,
                                 scheduler=scheduler)
    counts = sum_dram_counts(dram_port.dram_counts)
    bin_cycles, series = utilisation_series({s.name: s.intervals for s in runner.servers()}, float(env.now))
    dram_energy = dram.energy_breakdown_pj(counts) if (dram is not None and counts is not None) else {}
    return MemoryStats(
        method="simpy" if overlap else "simpy-phases",
        traffic_bits=FrozenMap(traffic),
        cycles=float(env.now),
        layer_cycles=FrozenMap(runner.layer_cycles),
        busy_cycles=FrozenMap(runner.busy()),
        events=env.scheduled_events,
        timeline=tuple(TimelineEvent(*entry) for entry in sorted(log, key=lambda e: e[2])) if log is not None else (),
        lower_bound_cycles=lower,
        upper_bound_cycles=upper,
        stall_cycles_by_cause=FrozenMap(runner.stalls()),
        requestors=cores,
        fidelity=fidelity if overlap else "phases",
        dram_model=dram.name if dram is not None else "flat",
        dram_scheduler=timings[schedule.dram].scheduler,
        dram_row_hit_rate=counts.row_hit_rate if counts is not None else None,
        dram_energy_by_command_pj=FrozenMap(dram_energy),
        buffer_peak_bits=runner.buffer_peak_bits,
        buffer_occupancy=runner.occupancy,
        utilisation_bin_cycles=bin_cycles,
        utilisation_over_time=FrozenMap(series),
    )


class _Phases:
    """Ops one after the other, each through the phases of ``phases.op_phases`` (no buffer state)."""

    def __init__(self, env, schedule, profile, timings, dram_port, log, traffic, fidelity, cores) -> None:
        self.env, self.traffic = env, traffic
        self.ports = {name: (dram_port if name == schedule.dram else Port(env, t, log)) for name, t in timings.items()}
        self.array = ComputeArray(env, log)
        self.layer_cycles: dict[str, float] = defaultdict(float)
        self.buffer_peak_bits = 0.0
        self.occupancy: tuple[tuple[float, float], ...] = ()
        self.dram = schedule.dram
        env.process(self.inference(schedule))

    def run_phase(self, op: OpSchedule, phase: Phase) -> Generator[Any, Any, None]:
        jobs = []
        for t in phase.transfers:
            write = all(d == "write" for _, _, d, _ in t.parts)
            jobs.append(self.env.process(self.ports[t.level].transfer(t.bits, op.layer, f"{t.what} ({phase.name})", write)))
            for level, operand, direction, bits in t.parts:
                self.traffic[(op.layer, level, operand, direction)] += bits
        if phase.compute_cycles > 0:
            jobs.append(self.env.process(self.array.compute(phase.compute_cycles, op.layer, f"{op.kind} ({phase.name})")))
        yield self.env.all_of(jobs)

    def inference(self, schedule: Schedule) -> Generator[Any, Any, None]:
        for op in schedule.ops:
            start = self.env.now
            for phase in op_phases(op, schedule.dram):
                yield from self.run_phase(op, phase)
            self.layer_cycles[op.layer] += self.env.now - start

    def check_finished(self) -> None:
        """Phases cannot deadlock (no buffer state): nothing to check."""

    def servers(self) -> list:
        return [*self.ports.values(), self.array]

    def busy(self) -> dict[str, float]:
        busy = {name: port.busy_cycles for name, port in self.ports.items()}
        busy[COMPUTE_RESOURCE] = self.array.busy_cycles
        return busy

    def stalls(self) -> dict[str, float]:
        return {"memory": max(0.0, self.env.now - self.array.busy_cycles)}


class _Core:
    """One requestor: its staging buffer, compute array and on-chip ports; DMA, compute, write-back processes.

    Ports and the array are booked by reservation (``levels``): a process books its transfers now and
    waits on one timeout for the latest release or arrival it needs."""

    def __init__(self, pipe: _Pipeline, index: int) -> None:
        env, schedule = pipe.env, pipe.schedule
        self.pipe, self.index, self.env = pipe, index, env
        tag = "" if pipe.cores == 1 else f"core{index}."
        self.ports = {
            name: (pipe.dram_port if name == schedule.dram else pipe.shared[name] if name in pipe.shared else Port(env, LevelTiming(
                f"{tag}{t.name}", t.bandwidth_bits_per_cycle, t.flat_latency_cycles), pipe.log))
            for name, t in pipe.timings.items()
        }
        self.array = ComputeArray(env, pipe.log)
        self.array.name = f"{tag}{COMPUTE_RESOURCE}"
        # A shared global buffer is partitioned equally between the cores (each stages its own steps).
        split = pipe.cores if schedule.global_buffer in pipe.shared else 1
        self.buffer = StagingBuffer(env, schedule.global_buffer or "buffer", staging_capacity_bits(schedule) / split)
        n = len(schedule.ops)
        self.ready = [simpy.Store(env) for _ in range(n)]
        self.written = [env.event() for _ in range(n)]
        self.pending = [len(g) for g in pipe.groups]
        self.complete = [0.0] * n
        self.wait_load = 0.0
        self.wait_onchip = 0.0
        env.process(self.dma())
        env.process(self.compute())

    def _wait(self, cycle: float) -> simpy.Event | None:
        return self.env.timeout(cycle - self.env.now) if cycle > self.env.now else None

    def _issue(self, op: OpSchedule, parts, write: bool) -> tuple[float, float]:
        """Book DRAM transfers of ``(operand, bits)``: (latest port release, latest arrival)."""
        dram, release, arrival = self.pipe.schedule.dram, float(self.env.now), float(self.env.now)
        direction, verb = ("write", "store") if write else ("read", "load")
        for operand, bits in parts:
            self.pipe.traffic[(op.layer, dram, operand, direction)] += bits
            r, a = self.ports[dram].reserve(bits, op.layer, f"{verb} {operand}", write, self.index)
            release, arrival = max(release, r), max(arrival, a)
        return release, arrival

    def dma(self) -> Generator[Any, Any, None]:
        """Per step group: reserve a slot, issue the first step's share of the loads (the group may start
        when it arrives), then the rest of the group (its ``loaded`` event). Non-weight reads of an op's
        first step wait for the previous op's write-back; weights never wait (prefetch). The DMA issues
        its next request once the port has taken the previous ones (the latency is pipelined)."""
        ops = self.pipe.schedule.ops
        for i, op in enumerate(ops):
            for g in self.pipe.groups[i]:
                yield from self.buffer.reserve(g.slot_bits)
                first_share = 1.0 / g.steps
                reads = [(o, b * first_share) for o, b in g.dram_reads]
                late = [(o, b) for o, b in reads if o != "weights"]
                if g.first and i > 0 and late and not self.written[i - 1].triggered:
                    _, early = self._issue(op, [(o, b) for o, b in reads if o == "weights"], False)
                    yield self.written[i - 1]  # the producer's outputs must be in DRAM first
                    release, arrived = self._issue(op, late, False)
                    arrived = max(arrived, early)
                else:
                    release, arrived = self._issue(op, reads, False)
                loaded = self.env.event() if g.steps > 1 else None
                yield self.ready[i].put((arrived, loaded))
                if (wait := self._wait(release)) is not None:
                    yield wait
                if loaded is not None:
                    yield from self.buffer.reserve(self._rest_slot_bits(g))
                    rest = 1.0 - first_share
                    release, arrived_rest = self._issue(op, [(o, b * rest) for o, b in g.dram_reads], False)
                    if (wait := self._wait(arrived_rest)) is not None:
                        wait.callbacks.append(lambda _, ev=loaded: ev.succeed())
                    else:
                        loaded.succeed()
                    if (wait := self._wait(release)) is not None:
                        yield wait

    def _rest_slot_bits(self, g: StepGroup) -> float:
        """Room the rest of a group holds while it loads: one slot per step, at most as many as the buffer
        has besides the group's first slot and one slot for the next group's first step (steps played one
        by one keep the DMA running ahead of the compute by as many slots as there are)."""
        if g.slot_bits <= 0 or g.steps < 2:
            return 0.0
        slots = int(self.buffer.capacity_bits // g.slot_bits) - 2
        return max(0, min(g.steps - 1, slots)) * g.slot_bits

    def _book(self, op: OpSchedule, g: StepGroup, share: float) -> tuple[float, float]:
        """Book ``share`` of the group's on-chip traffic and compute, concurrently, from now: (cycle the array
        and the on-chip ports are free again, cycle the data has all arrived: the outputs are ready)."""
        start = float(self.env.now)
        free = done = start
        if g.compute_cycles > 0:
            free = done = self.array.reserve(g.compute_cycles * share, op.layer, op.kind)
        for lv, parts in g.onchip:
            bits = 0.0
            for o, d, b in parts:
                self.pipe.traffic[(op.layer, lv, o, d)] += b * share
                bits += b * share
            release, arrival = self.ports[lv].reserve(bits, op.layer, "tile traffic", False, self.index)
            free, done = max(free, release), max(done, arrival)
        return free, done

    def _run(self, op: OpSchedule, g: StepGroup, share: float) -> Generator[Any, Any, float]:
        """``share`` of the group's work (``_book``); waits until the array and the on-chip ports are free
        again (the next step may start: on-chip latency is pipelined like the DRAM's), returns ``done``."""
        start = float(self.env.now)
        free, done = self._book(op, g, share)
        if (wait := self._wait(free)) is not None:
            yield wait
        self.wait_onchip += max(0.0, free - start - g.compute_cycles * share)
        return done

    def compute(self) -> Generator[Any, Any, None]:
        """Per step group: wait for its first step, compute all but its last step, wait for the rest of
        its data, compute the last step (a group of identical steps streams through its slot); each part's
        DRAM writes go to a write-back process. The head part's writes stream out while it computes (from
        its first step's outputs on, as steps played one by one would write them back), so a group's
        write-back is not exposed after its last step."""
        ops = self.pipe.schedule.ops
        for i, op in enumerate(ops):
            for g in self.pipe.groups[i]:
                asked = self.env.now
                arrived, loaded = yield self.ready[i].get()
                if (wait := self._wait(arrived)) is not None:
                    yield wait
                self.wait_load += self.env.now - asked
                if loaded is not None:
                    head = 1.0 - 1.0 / g.steps
                    start = float(self.env.now)
                    free, done = self._book(op, g, head)
                    first_out = start + (done - start) / (g.steps - 1)
                    self.env.process(self.write_back(i, op, g, head, first_out, final=False, loaded=loaded,
                                                     last_out=done))
                    if (wait := self._wait(free)) is not None:
                        yield wait
                    self.wait_onchip += max(0.0, free - start - g.compute_cycles * head)
                    asked = self.env.now
                    yield loaded
                    self.wait_load += self.env.now - asked
                done = yield from self._run(op, g, 1.0 / g.steps)
                self.env.process(self.write_back(i, op, g, 1.0 / g.steps, done, final=True))

    def write_back(self, i: int, op: OpSchedule, g: StepGroup, share: float, ready: float, final: bool,
                   loaded: simpy.Event | None = None, last_out: float | None = None) -> Generator[Any, Any, None]:
        """From cycle ``ready``, store ``share`` of the group's DRAM writes; the head part (``final`` False)
        starts at its first step's outputs and ends no earlier than its last step's outputs (``last_out``)
        plus that step's own store, then frees the room the rest of the group reserved (once it has been
        reserved: ``loaded``); the final part frees the group's first slot."""
        if (wait := self._wait(ready)) is not None:
            yield wait
        if g.dram_writes:
            parts = [(o, b * share) for o, b in g.dram_writes]
            _, arrived = self._issue(op, parts, True)
            if last_out is not None:
                timing = self.ports[self.pipe.schedule.dram].timing
                one_step = sum(b for _, b in parts) / max(1, g.steps - 1)
                arrived = max(arrived, last_out + timing.service_cycles(one_step, True) + timing.latency(True))
            if (wait := self._wait(arrived)) is not None:
                yield wait
        elif last_out is not None and (wait := self._wait(last_out)) is not None:
            yield wait
        if not final:
            if loaded is not None:
                yield loaded
            yield from self.buffer.release(self._rest_slot_bits(g))
            return
        yield from self.buffer.release(g.slot_bits)
        self.pending[i] -= 1
        if self.pending[i] == 0:
            if i > 0:
                yield self.written[i - 1]
            self.complete[i] = self.env.now
            self.written[i].succeed()


class _Pipeline:
    """The stateful model: one ``_Core`` per requestor sharing the DRAM port."""

    def __init__(self, env, schedule, profile, timings, dram_port, log, traffic, fidelity, cores) -> None:
        self.env, self.schedule, self.timings, self.dram_port = env, schedule, timings, dram_port
        self.log, self.traffic, self.cores = log, traffic, cores
        self.groups = [op_step_groups(op, schedule.dram, schedule.global_buffer, fidelity) for op in schedule.ops]
        self.shared: dict[str, Port] = {}
        self.core_list: list[_Core] = []

    def start(self) -> None:
        """Create the cores (after ``shared`` is set: the ports every core uses besides the DRAM's)."""
        self.core_list = [_Core(self, c) for c in range(self.cores)]

    @property
    def layer_cycles(self) -> dict[str, float]:
        """Each op's completion (latest over cores) past the previous one's, charged to its layer: sums to the latency."""
        out: dict[str, float] = defaultdict(float)
        previous = 0.0
        for i, op in enumerate(self.schedule.ops):
            done = max(previous, max(core.complete[i] for core in self.core_list))
            out[op.layer] += done - previous
            previous = done
        if self.schedule.ops:
            out[self.schedule.ops[-1].layer] += max(0.0, float(self.env.now) - previous)
        return out

    def check_finished(self) -> None:
        """Raise if the run ended with an op not written back on some core (a deadlock in the model)."""
        for core in self.core_list:
            for i, done in enumerate(core.written):
                if not done.triggered:
                    op = self.schedule.ops[i]
                    raise RuntimeError(
                        f"memsim deadlock: core {core.index} stopped at op {i} ({op.layer!r}, {op.steps} steps) with "
                        f"{core.buffer.container.level} of {core.buffer.capacity_bits} buffer bits reserved")

    def servers(self) -> list:
        """Every port and array once (the DRAM port is shared by the cores)."""
        seen = {}
        for core in self.core_list:
            for s in (*core.ports.values(), core.array):
                seen[id(s)] = s
        return list(seen.values())

    def busy(self) -> dict[str, float]:
        busy: dict[str, float] = {}
        for core in self.core_list:
            for port in core.ports.values():
                busy[port.name] = port.busy_cycles
            busy[core.array.name] = core.array.busy_cycles
        return busy

    def stalls(self) -> dict[str, float]:
        """Cycles by cause, summed over cores: compute waiting for a load (DRAM), for the on-chip levels
        (SRAM), DMA waiting for a buffer slot, DRAM transfers queued behind another core."""
        queued_other = (sum(sum(p.queue_cycles.values()) for p in (self.dram_port, *self.shared.values()))
                        if self.cores > 1 else 0.0)
        return {
            "dram": sum(c.wait_load for c in self.core_list),
            "sram": sum(c.wait_onchip for c in self.core_list),
            "buffer_slot": sum(c.buffer.wait_cycles for c in self.core_list),
            "other_core": queued_other,
        }

    @property
    def buffer_peak_bits(self) -> float:
        return max(c.buffer.peak_bits for c in self.core_list)

    @property
    def occupancy(self) -> tuple[tuple[float, float], ...]:
        return tuple(self.core_list[0].buffer.occupancy)
