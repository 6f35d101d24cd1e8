"""The stateful pipeline (overlap=True): buffer slots, prefetch across ops, back-pressure, hand-computed cycles.

Profile: SRAM 64 bits/cycle, latency 1; DRAM 32 bits/cycle, latency 10 (as in test_engine.py).
"""

from __future__ import annotations

import pytest

from simulator.cost import TimelineEvent
from simulator.frozen import FrozenMap
from simulator.mapping import OpSchedule, Schedule, map_workload
from simulator.mapping.residency import Footprint
from simulator.memsim import closed_form_stats, simulate_schedule
from tests.memsim.builders import chain_workload, level, make_profile

PROFILE = make_profile([
    level("sram", "sram", 8000, 10.0, bandwidth=64.0, latency=1.0),
    level("dram", "dram", 10**9, 100.0, bandwidth=32.0, latency=10.0),
])


def _schedule(*ops: OpSchedule, buffer_bits: int = 8000) -> Schedule:
    not_resident = Footprint(capacity_bits=buffer_bits, weight_onchip_bits=buffer_bits + 1, peak_activation_bits=0)
    return Schedule("hand", "test", ops, not_resident, "sram", 0, 4000.0, "dram")


def _op(index: int, traffic: dict, compute: float, steps: int = 1) -> OpSchedule:
    return OpSchedule(index=index, layer=f"l{index}", kind="linear", aten="aten.mm", mapping="gemm", tiles=(),
                      traffic_bits=FrozenMap(traffic), operations=(), macs=1, compute_cycles=compute, steps=steps)


def test_two_step_op_double_buffers_through_slots():
    """640 weight bits in 2 steps, 100 compute cycles, 64 output bits to DRAM; slot = 352 bits per step.
    DMA: step 1 load 0..10 (arrives 20), step 2 load 10..20 (the latency is pipelined; a second slot is free).
    Compute: step 1 20..70 (SRAM 672 bits 20..30.5), store 70..71; step 2 70..120 (SRAM 70..80.5), store
    120..121 arrives 131. Bracket: lower max(100, 22, 21) = 100; upper = compute 100 + service (DRAM reads
    20 + writes 2 + SRAM 21) + one round of latencies (the 8000-bit buffer holds 22 slots of 352 bits:
    ceil(2 / 21) = 1 round of DRAM read 10 + SRAM 1 + DRAM write 10) = 164."""
    op = _op(0, {("dram", "weights", "read"): 640.0, ("sram", "weights", "write"): 640.0,
                 ("sram", "weights", "read"): 640.0, ("sram", "outputs", "read"): 64.0,
                 ("dram", "outputs", "write"): 64.0}, 100.0, steps=2)
    stats = simulate_schedule(_schedule(op), PROFILE)
    assert stats.timeline == (
        TimelineEvent("dram", 0, 10.0, "l0", "load weights"),
        TimelineEvent("dram", 10.0, 20.0, "l0", "load weights"),
        TimelineEvent("sram", 20.0, 30.5, "l0", "tile traffic"),
        TimelineEvent("compute", 20.0, 70.0, "l0", "linear"),
        TimelineEvent("dram", 70.0, 71.0, "l0", "store outputs"),
        TimelineEvent("sram", 70.0, 80.5, "l0", "tile traffic"),
        TimelineEvent("compute", 70.0, 120.0, "l0", "linear"),
        TimelineEvent("dram", 120.0, 121.0, "l0", "store outputs"),
    )
    assert stats.cycles == 131.0
    assert stats.bracket == (100.0, 164.0)
    assert stats.stall_cycles_by_cause["dram"] == 20.0
    assert stats.buffer_peak_bits == 704.0  # two 352-bit slots in flight
    assert {k[1:]: v for k, v in stats.traffic_bits.items()} == dict(op.traffic_bits)


WEIGHTS_ONLY = {("dram", "weights", "read"): 320.0, ("sram", "weights", "write"): 320.0}


def test_next_ops_weights_load_while_the_previous_op_computes():
    """Two ops, 320 weight bits (10 port cycles + 10 latency) and 100 compute cycles each.
    Phases (no overlap): 20 + 100 per op = 240. Pipeline: B's weights load 10..20 (arrive 30) while A
    computes 20..120; B computes 120..220. Bracket: lower 200, upper 200 + per op (10 DRAM + 5 SRAM write
    service cycles) + one round of latencies (10 + 1): 200 + 2 x 26 = 252."""
    ops = (_op(0, WEIGHTS_ONLY, 100.0), _op(1, WEIGHTS_ONLY, 100.0))
    phases = simulate_schedule(_schedule(*ops), PROFILE, overlap=False)
    assert phases.cycles == 240.0
    pipe = simulate_schedule(_schedule(*ops), PROFILE)
    assert pipe.cycles == 220.0
    assert pipe.bracket == (200.0, 252.0)
    assert dict(pipe.layer_cycles) == {"l0": 120.0, "l1": 100.0}
    assert sum(pipe.layer_cycles.values()) == pipe.cycles


def test_a_full_buffer_holds_the_prefetch_back():
    """The same two ops with a 320-bit buffer: B's slot frees only when A is done (120), so B loads
    120..130, arrives 140, computes 140..240: back-pressure costs the overlap (the DMA, free once A's load
    left the port at 10, waited 110 cycles for room)."""
    ops = (_op(0, WEIGHTS_ONLY, 100.0), _op(1, WEIGHTS_ONLY, 100.0))
    stats = simulate_schedule(_schedule(*ops, buffer_bits=320), PROFILE)
    assert stats.cycles == 240.0
    assert stats.stall_cycles_by_cause["buffer_slot"] == 110.0


def test_inputs_from_dram_wait_for_the_producers_write_back():
    """A writes 320 output bits to DRAM (store 100..110, arrives 120); B reads them: its load waits for
    the write-back (port 120..130, arrives 140) even though the buffer has room; B computes 140..240."""
    a = _op(0, {**WEIGHTS_ONLY, ("dram", "outputs", "write"): 320.0}, 100.0)
    b = _op(1, {("dram", "inputs", "read"): 320.0}, 100.0)
    stats = simulate_schedule(_schedule(a, b), PROFILE)
    # A: weights 0..10 arrive 20, compute 20..120, store 120..130 arrives 140; B loads 140..150, arrives 160.
    assert stats.cycles == 260.0


def test_two_cores_share_the_dram_port():
    """Two cores each play the two-op weights-only schedule: their DRAM loads queue on one port
    (A0 0..10, A1 10..20, B0 20..30, B1 30..40 in request order), compute runs in parallel."""
    ops = (_op(0, WEIGHTS_ONLY, 100.0), _op(1, WEIGHTS_ONLY, 100.0))
    one = simulate_schedule(_schedule(*ops), PROFILE)
    two = simulate_schedule(_schedule(*ops), PROFILE, cores=2)
    # core 0: A arrives 20, compute 20..120, 120..220; core 1: A loads 10..20, arrives 30: 30..130, 130..230.
    assert two.cycles == 230.0 > one.cycles
    assert two.requestors == 2
    assert two.level_bits("dram") == 2 * one.level_bits("dram")
    lower, upper = two.bracket
    assert lower <= two.cycles <= upper
    assert two.stall_cycles_by_cause["other_core"] > 0


def test_mapped_chain_pipeline_within_bracket_and_full_fidelity_close():
    profile = make_profile([
        level("rf", "register_file", 2048, 1.0, bandwidth=256.0),
        level("sram", "sram", 32768, 5.0, bandwidth=128.0, latency=2.0, leakage_mw=3.0),
        level("dram", "dram", 10**9, 640.0, bandwidth=32.0, latency=100.0, leakage_mw=10.0),
    ])
    schedule = map_workload(chain_workload([(16, 256, 128), (16, 128, 10)], relu=True), profile)
    window = simulate_schedule(schedule, profile)
    full = simulate_schedule(schedule, profile, fidelity="full")
    closed = closed_form_stats(schedule, profile)
    for s in (window, full, closed):
        assert s.lower_bound_cycles * (1 - 1e-9) <= s.cycles <= s.upper_bound_cycles * (1 + 1e-9)
    assert dict(window.traffic_bits) == pytest.approx(dict(full.traffic_bits))
    assert window.cycles == pytest.approx(full.cycles, rel=0.05)
    assert full.events >= window.events


def test_many_fractional_slots_never_deadlock():
    """13 steps of 12,853,248 / 13 = 988,711.38... bits each (ResNet-18's layer1.0.bn1 on a 512 KB SRAM):
    with float amounts the buffer level drifted a rounding error below the last release, which then
    waited forever; slots are whole bits now, and a run that stops early raises."""
    traffic = {("dram", "inputs", "read"): 6422528.0, ("dram", "weights", "read"): 8192.0,
               ("dram", "outputs", "write"): 6422528.0}
    ops = (_op(0, traffic, 1000.0, steps=13), _op(1, {}, 10.0), _op(2, traffic, 1000.0, steps=13))
    for fidelity in ("full", "window"):
        stats = simulate_schedule(_schedule(*ops, buffer_bits=4096000), PROFILE, fidelity=fidelity)
        assert stats.level_bits("dram") == pytest.approx(2 * sum(traffic.values()))
        assert stats.lower_bound_cycles <= stats.cycles <= stats.upper_bound_cycles


def test_dram_device_behind_the_port_by_hand():
    """8 KB of weights from the DDR4-3200 preset, core clock = DRAM clock (1.6 GHz, 1 cycle = 1 tCK).
    Pipelined (a controller with requests outstanding): the port is held for the stream's steady rate,
    128 bursts x tBURST 4 = 512 tCK (the next row's ACT hides behind the bursts on another bank),
    stretched by refresh at its average rate 12,480 / (12,480 - 22 - 560); the data arrives the first
    access's latency later: tRCD 22 + CL 22 = 44 tCK; then 1 compute cycle.
    Energy (DRAMPower, preset currents): one ACT per 8 KB row (128 bursts x 16 / 2048) 1,872 + its PRE
    2,772, 128 RD x 2,784 pJ, refresh 512 / 11,898 of one REF (8 x 1.2 V x (250 - 52) mA x 560 x 0.625 ns
    = 665,280 pJ, plus its share of a precharge) and background 499.2 mW over the port time; 127 of 128
    bursts hit the open row."""
    from simulator.memsim.dram_presets import DDR4_3200_X64

    profile = make_profile([
        level("sram", "sram", 10**6, 10.0, bandwidth=64.0, latency=1.0),
        level("dram", "dram", 10**9, 100.0, bandwidth=32.0, latency=10.0),
    ], clock_hz=1.6e9)
    op = _op(0, {("dram", "weights", "read"): 8 * 1024 * 8.0}, 1.0)
    stats = simulate_schedule(_schedule(op, buffer_bits=10**6), profile, dram=DDR4_3200_X64)
    busy = 12480 - 22 - 560
    tck = 512 * 12480 / busy
    assert stats.busy_cycles["dram"] == pytest.approx(tck)
    assert stats.cycles == pytest.approx(tck + 44 + 1.0)
    assert stats.dram_row_hit_rate == pytest.approx(127 / 128)
    assert stats.dram_model == "ddr4-3200-x64"
    refreshes = 512 / busy
    expected_pj = 1872 + 2772 * (1 + refreshes) + 128 * 2784 + 665280 * refreshes + 499.2 * tck * 0.625
    assert stats.dram_energy_pj == pytest.approx(expected_pj, rel=1e-3)
    flat = simulate_schedule(_schedule(op, buffer_bits=10**6), profile)
    assert flat.busy_cycles["dram"] == 8 * 1024 * 8 / 32.0 and flat.dram_energy_pj is None


def test_an_op_without_dram_reads_does_not_hold_the_prefetch_back():
    """A (weights 320, compute 100, outputs 320 to DRAM), a fused op with no traffic, then C (weights
    only): C's weights load right after A's (10..20), not after A's write-back; only reads of
    activations from DRAM wait for it. A: 20..120 compute, store 120..130 (arrives 140); the empty op
    computes 120..121; C computes 121..221; the run ends at 221."""
    a = _op(0, {**WEIGHTS_ONLY, ("dram", "outputs", "write"): 320.0}, 100.0)
    empty = _op(1, {}, 1.0)
    c = _op(2, WEIGHTS_ONLY, 100.0)
    stats = simulate_schedule(_schedule(a, empty, c), PROFILE)
    loads = [e for e in stats.timeline if e.what == "load weights"]
    assert [(e.start_cycle, e.end_cycle) for e in loads] == [(0, 10.0), (10.0, 20.0)]
    assert stats.cycles == 221.0


def test_two_cores_sharing_one_sram_queue_on_its_port():
    """6,400 SRAM bits (100 cycles at 64 bits/cycle, latency 1) and 10 compute cycles per core. Private
    SRAMs: both cores' traffic runs 0..100 in parallel, data in at 101. One shared SRAM: core 0 0..100
    (in at 101), core 1 queued behind it 100..200 (in at 201): 100 cycles waiting for another core, and
    the lower bound counts the shared SRAM's total of both cores (200)."""
    ops = (_op(0, {("sram", "weights", "read"): 6400.0}, 10.0),)
    private = simulate_schedule(_schedule(*ops), PROFILE, cores=2)
    shared = simulate_schedule(_schedule(*ops), PROFILE, cores=2, shared_levels=("sram",))
    assert private.cycles == 101.0
    assert shared.cycles == 201.0
    assert shared.stall_cycles_by_cause["other_core"] == 100.0
    assert shared.bracket[0] == 200.0 and private.bracket[0] == 100.0
    assert shared.bracket[0] <= shared.cycles <= shared.bracket[1]
    with pytest.raises(ValueError, match="shared_levels names no level"):
        simulate_schedule(_schedule(*ops), PROFILE, cores=2, shared_levels=("l2",))
