"""The mapper: tile search by hand, GEMM views, fusion, residency, bad input, and the invariants
(hypothesis) of the whole map -> simulate -> price pipeline on random small workloads and profiles."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cost import OpCount
from simulator.energy import estimate_energy
from simulator.mapping import OP_MAPPERS, MappingError, gemm_view, map_workload, search_tile
from simulator.ops import ConvDims, GatherDims, OpKind
from simulator.memsim import closed_form_stats, simulate_schedule
from simulator.workload import FLOAT32, Op, TensorAccess, TensorEncoding, TensorInfo, make_workload
from tests.memsim.builders import chain_workload, level, make_profile

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- tile search by hand ------------------------------------------------------------------------


def test_everything_fits_one_tile():
    """A 4x4x4 GEMM in a large buffer: every operand crosses once, one reduction pass (energy 3).

    The one-step tile (4, 4, 4) and the four-step tile (4, 4, 1) with K innermost cost the same; the
    documented tie-break (most steps: overlap of transfers with compute) picks the four steps.
    """
    t = search_tile((1, 4, 4, 4), (32.0, 32.0, 32.0), (True, True, True), 1e6, (1.0, 1.0, 1.0, 1.0), (0.0, 0.0))
    assert (t.m, t.n, t.k, t.steps, t.order) == (4, 4, 1, 4, "MNK")
    assert (t.refetch_a, t.refetch_b, t.passes) == (1.0, 1.0, 1.0)
    assert t.energy_pj == pytest.approx(3.0)


def test_refetch_follows_the_loop_order():
    """M=2, N=2, K=1, 1-bit elements, 3 bits of buffer: only 1x1x1 tiles fit (footprint 1+1+1), 4 steps.

    Moving B costs 10, A costs 1: the best orders keep B stationary (NKM: B's innermost relevant loop K
    has only the relevant N outside it -> fetched once; A's innermost relevant loop M has the
    irrelevant N outside -> fetched twice): 2 x 1 + 1 x 10 = 12 pJ (order MNK would cost 2 + 20).
    """
    t = search_tile((1, 2, 2, 1), (1.0, 1.0, 1.0), (True, True, True), 3.0, (1.0, 10.0, 0.0, 0.0), (0.0, 0.0))
    assert (t.m, t.n, t.k, t.steps) == (1, 1, 1, 4)
    assert t.order == "NKM"
    assert (t.refetch_a, t.refetch_b, t.passes) == (2.0, 1.0, 1.0)
    assert t.energy_pj == pytest.approx(12.0)


def test_no_tile_fits():
    assert search_tile((1, 2, 2, 2), (32.0, 32.0, 32.0), (True, True, True), 95.0, (1, 1, 1, 1), (0, 0)) is None


def test_conv_as_implicit_gemm():
    """Conv N=1, K=8, C=4, G=1, 6x6 output, 3x3 kernel: M = 36 pixels, N = 8 channels, K = 4 x 9 = 36."""
    tensors = {
        "x": TensorInfo("x", "input", (1, 4, 8, 8), FLOAT32),
        "w": TensorInfo("w", "weight", (8, 4, 3, 3), FLOAT32),
        "y": TensorInfo("y", "activation", (1, 8, 6, 6), FLOAT32, producer=0),
    }
    op = Op(0, "conv", "conv", "aten.convolution.default", 36 * 8 * 36, FLOAT32,
            accesses=(TensorAccess("x", "inputs", "read", 256 * 32), TensorAccess("w", "weights", "read", 288 * 32),
                      TensorAccess("y", "outputs", "write", 288 * 32)),
            dims=ConvDims(batch=1, in_channels=4, out_channels=8, groups=1, input_size=(8, 8), output_size=(6, 6),
                          kernel_size=(3, 3), stride=(1, 1), padding=(0, 0), dilation=(1, 1)))
    view = gemm_view(op, make_workload("c", [op], tensors))
    assert (view.g, view.m, view.n, view.k, view.a, view.b) == (1, 36, 8, 36, "x", "w")


# --- fusion, residency, compression -------------------------------------------------------------

THREE_LEVEL = make_profile([
    level("rf", "register_file", 4096, 1.0, bandwidth=256.0),
    level("sram", "sram", 64000, 5.0, bandwidth=128.0, latency=1.0),
    level("dram", "dram", 10**9, 640.0, bandwidth=64.0, latency=50.0),
])


def test_relu_is_fused_into_its_producer():
    schedule = map_workload(chain_workload([(1, 16, 8)], relu=True), THREE_LEVEL)
    fc, relu = schedule.ops
    assert relu.mapping == "fused" and relu.fused_into == 0
    assert dict(relu.traffic_bits) == {}
    assert [o.operation for o in relu.operations] == ["compare"]
    # The linear op writes the ReLU's output (the model output) to DRAM once: 8 x 32 bits.
    assert fc.bits("dram", "outputs", "write") == 8 * 32
    unfused = map_workload(chain_workload([(1, 16, 8)], relu=True), THREE_LEVEL, fuse_elementwise=False)
    assert unfused.ops[1].bits("rf") > 0


def test_residency_threshold_and_cold_start():
    """Weights 16x8 + 8x4 floats = 160 x 32 = 5120 bits; peak live activations (16 + 8) x 32 = 768 bits."""
    workload = chain_workload([(1, 16, 8), (1, 8, 4)])
    need = 5120 + 768
    for capacity, resident in ((need, True), (need - 1, False)):
        profile = make_profile([level("sram", "sram", capacity, 5.0), level("dram", "dram", 10**9, 640.0)])
        schedule = map_workload(workload, profile)
        assert schedule.resident is resident
        assert schedule.min_sram_bits == need
        assert schedule.fit_margin_bits == capacity - need
    # Resident: the weights cross DRAM only in the cold start; steady state moves input (16) + output (4) words.
    profile = make_profile([level("sram", "sram", need, 5.0), level("dram", "dram", 10**9, 640.0)])
    schedule = map_workload(workload, profile)
    assert schedule.steady_dram_bits == (16 + 4) * 32
    assert dict(schedule.cold_start_traffic_bits) == {("dram", "weights", "read"): 5120, ("sram", "weights", "write"): 5120}
    report = estimate_energy(workload, schedule, closed_form_stats(schedule, profile), profile)
    # 5120 bits x (640 + 5) pJ / 32 bits
    assert report.cold_start_energy_pj == pytest.approx(5120 * 645 / 32)
    assert report.spilling_layers == ()


def test_compressed_weights_cost_decode_work():
    """W 64x32 at 25% density, 4-bit codes, 3-bit indices, 16-entry codebook; batch 2.

    512 stored entries, each used by both rows of the batch: 1024 codebook reads (2 x 2048 MACs x 0.25)
    and 1024 index adds (512 entries x 2 uses)."""
    enc = TensorEncoding(density=0.25, value_bits=4, index_bits=3, codebook_entries=16)
    schedule = map_workload(chain_workload([(2, 64, 32)], [enc]), THREE_LEVEL)
    ops = {o.operation: o for o in schedule.ops[0].operations}
    assert ops["codebook"].count == pytest.approx(1024)
    assert ops["index_add"].count == pytest.approx(1024) and ops["index_add"].dtype == "int3"
    assert ops["mac"].count == 2 * 64 * 32  # zero handling "none": MACs stay dense
    # On chip the weight is 512 x (4 + 3) + 16 x 32 bits; the compute array reads 7 bits per used entry.
    assert schedule.weight_onchip_bits == 512 * 7 + 512
    assert schedule.ops[0].bits("rf", "weights", "read") == pytest.approx(1024 * 7)


@pytest.mark.parametrize("mode, energy_macs, cycle_macs", [("skip", 512, 512), ("gate", 512, 2048), ("none", 2048, 2048)])
def test_zero_handling(mode, energy_macs, cycle_macs):
    """64x32 weights at 25% density, batch 1: 2048 dense MACs, 512 with a non-zero weight."""
    profile = make_profile(list(THREE_LEVEL.levels), macs_per_cycle=4, zero_handling=mode)
    enc = TensorEncoding(density=0.25, value_bits=8, index_bits=4)
    op = map_workload(chain_workload([(1, 64, 32)], [enc]), profile).ops[0]
    assert op.operations[0].count == energy_macs
    assert op.compute_cycles == cycle_macs / 4


def test_sram_too_small_names_the_op_and_capacity():
    profile = make_profile([level("sram", "sram", 200, 5.0), level("dram", "dram", 10**9, 640.0)])
    with pytest.raises(MappingError, match=r"op 0 'fc0'.*'sram'.*capacity needed: at least \d+ bits"):
        map_workload(chain_workload([(1, 64, 64)]), profile)


def test_unknown_kind_is_reported_not_skipped(monkeypatch):
    """A kind without a mapper is costed as streaming, listed in ``Schedule.unmapped``, and refused by strict."""
    workload = chain_workload([(1, 8, 8)])
    lookup = Op(1, "odd", "gather", "aten.index_select.default", 0, None,
                accesses=(TensorAccess("act:0:0", "inputs", "read", 8 * 32),), dims=GatherDims(rows=8, row_elements=1))
    tensors = dict(workload.tensors)
    from dataclasses import replace

    tensors["act:0:0"] = replace(tensors["act:0:0"], last_use=1)
    workload = make_workload("m", [*workload.ops, lookup], tensors)
    assert dict(map_workload(workload, THREE_LEVEL).unmapped) == {}
    monkeypatch.delitem(OP_MAPPERS, OpKind.GATHER)
    schedule = map_workload(workload, THREE_LEVEL)
    assert dict(schedule.unmapped) == {"gather": 1}
    assert schedule.ops[1].bits("rf", "inputs", "read") == 8 * 32  # costed as streaming, not dropped
    report = estimate_energy(workload, schedule, closed_form_stats(schedule, THREE_LEVEL), THREE_LEVEL)
    assert report.coverage.unmapped_kinds == (OpCount("gather", 1),)
    with pytest.raises(MappingError, match="no mapping rule for op kind 'gather'"):
        map_workload(workload, THREE_LEVEL, strict=True)


# --- invariants (hypothesis) ------------------------------------------------------------------

encodings = st.one_of(
    st.none(),
    st.builds(TensorEncoding, density=st.floats(0.05, 1.0), value_bits=st.integers(2, 16),
              index_bits=st.integers(0, 6), codebook_entries=st.sampled_from([0, 4, 16])),
)


@st.composite
def workloads(draw):
    n_layers = draw(st.integers(1, 3))
    batch = draw(st.integers(1, 4))
    widths = [draw(st.integers(1, 48)) for _ in range(n_layers + 1)]
    layers = [(batch, widths[i], widths[i + 1]) for i in range(n_layers)]
    return chain_workload(layers, [draw(encodings) for _ in layers], relu=draw(st.booleans()))


@st.composite
def profiles(draw, sram_bits=None, symmetric=False, leakage=True, register_file=None):
    def energy(lo, hi):
        read = draw(st.floats(lo, hi))
        return read, read if symmetric else draw(st.floats(lo, hi))

    levels = []
    if register_file if register_file is not None else draw(st.booleans()):
        levels.append(level("rf", "register_file", draw(st.integers(256, 4096)), *energy(0.5, 2.0),
                            bandwidth=draw(st.sampled_from([64.0, 256.0]))))
    levels.append(level("sram", "sram", sram_bits or draw(st.integers(2048, 2**17)), *energy(2.0, 20.0),
                        bandwidth=draw(st.sampled_from([32.0, 128.0])), latency=draw(st.sampled_from([0.0, 2.0])),
                        leakage_mw=draw(st.floats(0.0, 5.0)) if leakage else 0.0))
    levels.append(level("dram", "dram", 10**10, *energy(100.0, 700.0), bandwidth=draw(st.sampled_from([16.0, 64.0])),
                        latency=draw(st.sampled_from([0.0, 40.0])), leakage_mw=draw(st.floats(0.0, 20.0)) if leakage else 0.0))
    return make_profile(levels, macs_per_cycle=draw(st.sampled_from([1, 8])),
                        zero_handling=draw(st.sampled_from(["skip", "gate", "none"])))


def _report(workload, profile, engine="simpy"):
    schedule = map_workload(workload, profile)
    stats = simulate_schedule(schedule, profile) if engine == "simpy" else closed_form_stats(schedule, profile)
    return schedule, stats, estimate_energy(workload, schedule, stats, profile)


@PROPERTY
@given(workloads(), profiles())
def test_total_is_the_sum_of_the_breakdown(workload, profile):
    schedule, stats, report = _report(workload, profile)
    total = report.total_energy_pj
    assert all(v >= 0 for v in report.energy_pj.values())
    assert sum(report.energy_by("component").values()) == pytest.approx(total)
    assert sum(report.energy_by("layer").values()) == pytest.approx(total)
    assert sum(report.energy_by("operand").values()) == pytest.approx(total)
    # Each memory level's energy is its bits times its per-bit energies.
    for lv in profile.levels:
        expected = report.level_bits(lv.name, "read") * lv.read_energy_per_bit_pj + report.level_bits(lv.name, "write") * lv.write_energy_per_bit_pj
        assert sum(v for (_, c, _), v in report.energy_pj.items() if c == lv.name) == pytest.approx(expected)


@PROPERTY
@given(workloads(), profiles())
def test_dram_traffic_at_least_compulsory(workload, profile):
    schedule = map_workload(workload, profile)
    assert schedule.cold_dram_bits >= schedule.compulsory_dram_bits * (1 - 1e-12)
    assert schedule.steady_dram_bits <= schedule.cold_dram_bits


@PROPERTY
@given(workloads(), profiles(sram_bits=10**12))
def test_unlimited_sram_moves_only_compulsory_traffic(workload, profile):
    schedule = map_workload(workload, profile)
    assert schedule.resident
    assert schedule.cold_dram_bits == pytest.approx(schedule.compulsory_dram_bits)


@PROPERTY
@given(workloads(), st.data(), st.integers(2048, 2**16), st.integers(1, 2**16))
def test_more_sram_never_increases_dram_traffic(workload, data, small, extra):
    """Stated where the energy of the SRAM's tile choice is proportional to the DRAM bits it causes:
    symmetric read/write energies, no Huffman coding (DRAM and SRAM hold the same bits) and a register
    file below the SRAM. Without the register file the SRAM tile also sets the compute array's
    partial-sum traffic, and an energy-minimal mapping may trade a few DRAM bits for fewer SRAM accesses
    (hypothesis finds such cases); what never increases in every case is the energy, checked too."""
    profile_small = data.draw(profiles(sram_bits=small, symmetric=True, leakage=False, register_file=True))
    levels = list(profile_small.levels)
    sram_idx = [lv.kind for lv in levels].index("sram")
    from dataclasses import replace

    levels[sram_idx] = replace(levels[sram_idx], capacity_bits=small + extra)
    profile_big = replace(profile_small, levels=tuple(levels))
    s_small, _, r_small = _report(workload, profile_small, "closed-form")
    s_big, _, r_big = _report(workload, profile_big, "closed-form")
    assert s_big.steady_dram_bits <= s_small.steady_dram_bits * (1 + 1e-9)
    assert s_big.cold_dram_bits <= s_small.cold_dram_bits * (1 + 1e-9)
    assert r_big.total_energy_pj <= r_small.total_energy_pj * (1 + 1e-9)


@PROPERTY
@given(workloads(), profiles())
def test_latency_is_at_least_compute_and_bandwidth_bound(workload, profile):
    schedule, stats, report = _report(workload, profile)
    compute_bound = sum(op.compute_cycles for op in schedule.ops)
    assert report.cycles >= compute_bound * (1 - 1e-9)
    for lv in profile.levels:
        assert report.cycles >= report.level_bits(lv.name) / lv.bandwidth_bits_per_cycle * (1 - 1e-9)


@PROPERTY
@given(workloads(), profiles())
def test_simpy_lies_within_the_closed_form_bracket(workload, profile):
    """The stateful simulation (default engine) lies inside the closed form's bracket and moves the same
    bits, so all energy but leakage (priced on time) agrees; played in phases (one requestor, flat DRAM,
    no overlap) it equals today's closed form exactly, energy included."""
    schedule, sim_stats, sim = _report(workload, profile, "simpy")
    _, closed_stats, closed = _report(workload, profile, "closed-form")
    lower, upper = closed_stats.bracket
    assert sim_stats.bracket == (lower, upper)
    assert lower * (1 - 1e-9) <= sim.cycles <= upper * (1 + 1e-9)
    assert lower * (1 - 1e-9) <= closed.cycles <= upper * (1 + 1e-9)
    dynamic = lambda r: {k: v for k, v in r.energy_pj.items() if k[1] != "leakage"}  # noqa: E731
    assert dynamic(sim) == pytest.approx(dynamic(closed))
    assert sim.cold_start_energy_pj == pytest.approx(closed.cold_start_energy_pj)
    assert sim_stats.events > 0
    phased = estimate_energy(workload, schedule, simulate_schedule(schedule, profile, overlap=False), profile)
    assert phased.cycles == pytest.approx(closed.cycles)
    assert dict(phased.energy_pj) == pytest.approx(dict(closed.energy_pj))


def test_measured_activation_density_scales_skipped_macs():
    """skip: a 50% dense input halves the MACs (and their cycles); none: it changes nothing."""
    from dataclasses import replace

    workload = chain_workload([(1, 64, 32)])
    tensors = dict(workload.tensors)
    tensors["input:0"] = replace(tensors["input:0"], measured_density=0.5)
    sparse_input = make_workload("sparse", workload.ops, tensors)
    for mode, expected in (("skip", 1024), ("none", 2048)):
        profile = make_profile(list(THREE_LEVEL.levels), macs_per_cycle=1, zero_handling=mode)
        op = map_workload(sparse_input, profile).ops[0]
        assert op.operations[0].count == expected
        assert op.compute_cycles == expected


def test_huffman_symbols_decoded_per_load_from_dram():
    """A Huffman-coded 32x32 weight at 50% density (512 entries, value and index streams coded):
    streaming, it is decoded every inference (2 x 512 symbols per load); resident, once in the cold start."""
    enc = TensorEncoding(density=0.5, value_bits=4, index_bits=4, mean_code_bits=2.5, mean_index_code_bits=3.0)
    workload = chain_workload([(1, 32, 32)], [enc])
    small = make_profile([level("sram", "sram", 4000, 5.0), level("dram", "dram", 10**9, 640.0)])
    streaming = map_workload(workload, small)
    assert not streaming.resident
    ops = {o.operation: o.count for o in streaming.ops[0].operations}
    assert ops["huffman_symbol"] == 1024
    # DRAM holds the coded stream (512 x 5.5 bits), SRAM the fixed-width one (512 x 8 bits).
    assert streaming.ops[0].bits("dram", "weights", "read") == 512 * 5.5
    resident = map_workload(workload, make_profile([level("sram", "sram", 10**6, 5.0), level("dram", "dram", 10**9, 640.0)]))
    assert "huffman_symbol" not in {o.operation for o in resident.ops[0].operations}
    assert [o.count for o in resident.cold_start_operations] == [1024]


@PROPERTY
@given(workloads(), st.data(), st.integers(2048, 2**16), st.integers(1, 2**16))
def test_more_sram_never_increases_energy(workload, data, small, extra):
    """Any profile without leakage (leakage grows with time, which more SRAM need not shorten)."""
    from dataclasses import replace

    profile_small = data.draw(profiles(sram_bits=small, leakage=False))
    levels = tuple(replace(lv, capacity_bits=small + extra) if lv.kind == "sram" else lv for lv in profile_small.levels)
    _, _, r_small = _report(workload, profile_small, "closed-form")
    _, _, r_big = _report(workload, replace(profile_small, levels=levels), "closed-form")
    assert r_big.total_energy_pj <= r_small.total_energy_pj * (1 + 1e-9)
