"""Playing schedules in phases (overlap=False): hand-computed cycles, equality with the closed form, event counts."""

from __future__ import annotations

import pytest

from simulator.cost import TimelineEvent
from simulator.frozen import FrozenMap
from simulator.mapping import OpSchedule, Schedule, map_workload
from simulator.mapping.residency import Footprint
from simulator.memsim import closed_form_stats, simulate_schedule
from tests.memsim.builders import chain_workload, level, make_profile

# SRAM 64 bits/cycle, latency 1; DRAM 32 bits/cycle, latency 10.
PROFILE = make_profile([
    level("sram", "sram", 8000, 10.0, bandwidth=64.0, latency=1.0),
    level("dram", "dram", 10**9, 100.0, bandwidth=32.0, latency=10.0),
])


def _schedule(op: OpSchedule) -> Schedule:
    return Schedule("hand", "test", (op,), Footprint(8000, 10**6, 0), "sram", 0, 4000.0, "dram")


def test_two_step_op_by_hand():
    """640 weight bits in 2 steps, 100 compute cycles, 64 output bits to DRAM.

    prologue: load 320 bits: port 0..10, arrives 20.
    bulk (1/2 of the rest): load 320 (port 20..30), store 32 (port 30..31); SRAM (640 w + 640 r + 64 r) / 2
    = 672 bits / 64 = 10.5 cycles (20..30.5); compute 50 (20..70) -> ends 70.
    last step: SRAM 672 bits 70..80.5 (+1 latency), compute 70..120 -> 120.
    epilogue: store 32 bits 120..121, arrives 131.
    """
    op = OpSchedule(
        index=0, layer="fc", kind="linear", aten="aten.mm", mapping="gemm", tiles=(),
        traffic_bits=FrozenMap({
            ("dram", "weights", "read"): 640.0, ("sram", "weights", "write"): 640.0,
            ("sram", "weights", "read"): 640.0, ("sram", "outputs", "read"): 64.0,
            ("dram", "outputs", "write"): 64.0,
        }),
        operations=(), macs=1000, compute_cycles=100.0, steps=2,
    )
    stats = simulate_schedule(_schedule(op), PROFILE, overlap=False)
    # Busy intervals are logged when they end.
    assert stats.timeline == (
        TimelineEvent("dram", 0, 10.0, "fc", "load weights (prologue)"),
        TimelineEvent("dram", 20.0, 30.0, "fc", "load weights (bulk)"),
        TimelineEvent("sram", 20.0, 30.5, "fc", "tile traffic (bulk)"),
        TimelineEvent("dram", 30.0, 31.0, "fc", "store outputs (bulk)"),
        TimelineEvent("compute", 20.0, 70.0, "fc", "linear (bulk)"),
        TimelineEvent("sram", 70.0, 80.5, "fc", "tile traffic (last step)"),
        TimelineEvent("compute", 70.0, 120.0, "fc", "linear (last step)"),
        TimelineEvent("dram", 120.0, 121.0, "fc", "store outputs (epilogue)"),
    )
    assert stats.cycles == 131.0
    assert stats.stall_cycles == 31.0
    assert dict(stats.busy_cycles) == {"sram": 21.0, "dram": 22.0, "compute": 100.0}
    assert closed_form_stats(_schedule(op), PROFILE).cycles == 131.0
    # The simulation moved exactly the schedule's bits.
    assert {k[1:]: v for k, v in stats.traffic_bits.items()} == dict(op.traffic_bits)


@pytest.mark.parametrize("overlap", [False, True])
def test_event_count_does_not_grow_with_batch(overlap):
    """Batch 1 vs 64 on a small SRAM: many more identical tile steps, the same number of SimPy events."""
    profile = make_profile([
        level("sram", "sram", 4096, 5.0, bandwidth=64.0, latency=1.0),
        level("dram", "dram", 10**9, 100.0, bandwidth=32.0, latency=10.0),
    ])
    events, steps = [], []
    for batch in (1, 64):
        schedule = map_workload(chain_workload([(batch, 64, 64), (batch, 64, 32)]), profile)
        stats = simulate_schedule(schedule, profile, overlap=overlap)
        events.append(stats.events)
        steps.append(sum(op.steps for op in schedule.ops))
    assert steps[1] > steps[0]
    assert events[0] == events[1]


def test_simpy_and_closed_form_agree_on_a_mapped_chain():
    profile = make_profile([
        level("rf", "register_file", 2048, 1.0, bandwidth=256.0),
        level("sram", "sram", 32768, 5.0, bandwidth=128.0, latency=2.0, leakage_mw=3.0),
        level("dram", "dram", 10**9, 640.0, bandwidth=32.0, latency=100.0, leakage_mw=10.0),
    ])
    schedule = map_workload(chain_workload([(4, 128, 64), (4, 64, 10)], relu=True), profile)
    sim, closed = simulate_schedule(schedule, profile, overlap=False), closed_form_stats(schedule, profile)
    assert sim.cycles == pytest.approx(closed.cycles)
    assert dict(sim.layer_cycles) == pytest.approx(dict(closed.layer_cycles))
    assert dict(sim.busy_cycles) == pytest.approx(dict(closed.busy_cycles))
    assert dict(sim.traffic_bits) == pytest.approx(dict(closed.traffic_bits))
