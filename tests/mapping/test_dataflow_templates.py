"""Dataflow presets (os / ws / is / rs) as fixed-mapping templates (``simulator.mapping.fixed_templates``).

Counts on a tiny layer are worked out by hand in each test's docstring; on SCALE-Sim's own test layer the
templates' SRAM reads are compared with ``mapping/systolic.py`` (which equals SCALE-Sim 3.0.0 there, see
``tests/validation/test_scalesim_systolic.py``).
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.mapping.fixed import LoopProblem
from simulator.mapping.fixed_templates import TemplateLevels, dataflow_template, preset_name
from simulator.mapping.loopnest import count_accesses
from simulator.mapping.schedule import MappingError
from simulator.mapping.systolic import SystolicLayer, run_layer

ALL = frozenset({"weights", "inputs", "outputs"})
LEVELS = TemplateLevels("dram", "sram", ALL, 1 << 20, "rf", ALL)


def conv(k=4, c=4, oy=2, ox=2, fy=1, fx=1, stride=1, b=1) -> LoopProblem:
    """A conv's loop nest with ``fixed_apply.op_problem``'s projections."""
    bounds = {"B": b, "G": 1, "K": k, "C": c, "OY": oy, "OX": ox, "FY": fy, "FX": fx}
    proj = (
        ("weights", (((1, "G"),), ((1, "K"),), ((1, "C"),), ((1, "FY"),), ((1, "FX"),))),
        ("inputs", (((1, "B"),), ((1, "G"),), ((1, "C"),), ((stride, "OY"), (1, "FY")), ((stride, "OX"), (1, "FX")))),
        ("outputs", (((1, "B"),), ((1, "G"),), ((1, "K"),), ((1, "OY"),), ((1, "OX"),))),
    )
    return LoopProblem("conv", tuple(bounds.items()), proj)


def totals(problem, mapping) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(level, operand) -> (reads, fills, updates) summed over the level's instances."""
    counts = count_accesses(problem, mapping)
    return {(c.level, c.operand): (c.reads * c.instances, c.fills * c.instances, c.updates * c.instances) for c in counts.counts}


def test_output_stationary_tiny_layer_by_hand():
    """1x1 conv K=4, C=4, 2x2 output pixels on a 2x2 array: rows take OX=2, cols K=2; each PE accumulates its
    output over C=4 in its register, folds K 2 x OY 2 in the SRAM. 64 MACs / 4 PEs = 16 cycles.
    SRAM weights: 2 columns read one weight per cycle each, multicast down the rows: 2 x 16 = 32 (16 weights,
    each read once per OY fold). Inputs: 2 rows x 16 = 32 (16 inputs, once per K fold). Outputs: 16 written
    once each, never read back. RF outputs: 16 updates per PE, 12 reads (the first MAC of each output reads
    nothing), over 4 PEs. DRAM: every word once."""
    p = conv()
    fm = dataflow_template("os", p, 2, 2, LEVELS)
    assert fm.levels[1].spatial == (("OX", 2), ("K", 2))
    assert fm.levels[2].temporal == (("C", 4),) and fm.levels[2].keeps == {"outputs"}
    t = totals(p, fm)
    assert t[("sram", "weights")] == (32, 16, 0)
    assert t[("sram", "inputs")] == (32, 16, 0)
    assert t[("sram", "outputs")] == (0, 0, 16)
    assert t[("rf", "outputs")] == (48, 0, 64)
    assert t[("dram", "weights")] == (16, 0, 0) and t[("dram", "inputs")] == (16, 0, 0) and t[("dram", "outputs")] == (0, 0, 16)
    assert count_accesses(p, fm).compute_cycles == 16


def test_weight_stationary_tiny_layer_by_hand():
    """Same layer, WS: rows take C=2, cols K=2; each PE holds one weight while the 4 pixels stream (OY, OX in
    the PE), folds K 2 x C 2. RF weights: 4 fills per PE (one per fold), 16 reads per PE. SRAM weights: each of
    the 16 read once. Inputs: 2 rows x 16 cycles = 32 (once per K fold, multicast across columns). Outputs:
    2 columns x 16 = 32 updates (each output twice: once per C fold), 32 - 16 = 16 partial-sum reads."""
    p = conv()
    fm = dataflow_template("ws", p, 2, 2, LEVELS)
    assert fm.levels[1].spatial == (("C", 2), ("K", 2)) and fm.levels[2].keeps == {"weights"}
    t = totals(p, fm)
    assert t[("rf", "weights")] == (64, 16, 0)
    assert t[("sram", "weights")] == (16, 16, 0)
    assert t[("sram", "inputs")] == (32, 16, 0)
    assert t[("sram", "outputs")] == (16, 0, 32)


def test_input_stationary_tiny_layer_by_hand():
    """Same layer, IS: rows take C=2, cols OX=2; each PE holds one input while the K=4 filters stream, folds
    OY 2 x C 2. RF inputs: 4 fills per PE. SRAM inputs: each of the 16 once. Weights: 2 rows x 16 = 32 (once
    per OY fold, multicast across columns). Outputs: 2 columns x 16 = 32 updates (twice each: C folds)."""
    p = conv()
    fm = dataflow_template("is", p, 2, 2, LEVELS)
    assert fm.levels[1].spatial == (("C", 2), ("OX", 2)) and fm.levels[2].keeps == {"inputs"}
    t = totals(p, fm)
    assert t[("rf", "inputs")] == (64, 16, 0)
    assert t[("sram", "inputs")] == (16, 16, 0)
    assert t[("sram", "weights")] == (32, 16, 0)
    assert t[("sram", "outputs")] == (16, 0, 32)


def test_row_stationary_tiny_conv_by_hand():
    """3x3 conv, K=2, C=1, 2x2 output (4x4 input) on a 3x2 array: rows take FY=3 (filter rows), cols OY=2
    (output rows): Eyeriss's PE set. Each PE runs a 1-D conv: FX=3 in the PE, OX=2 slides just above it.
    RF weights: a PE holds a filter row (3 weights) across OX and refills per K fold: 6 PEs x 3 x 2 = 36
    fills. RF inputs: 3 words, then one new pixel per OX step: (3 + 1) per K fold x 2 x 6 = 48 fills.
    MACs: 72 = 6 PEs x 12 cycles."""
    p = conv(k=2, c=1, oy=2, ox=2, fy=3, fx=3)
    fm = dataflow_template("rs", p, 3, 2, LEVELS)
    assert fm.levels[1].spatial == (("FY", 3), ("OY", 2)) and fm.levels[2].temporal == (("FX", 3),)
    assert fm.levels[2].keeps == ALL
    t = totals(p, fm)
    assert t[("rf", "weights")][1] == 36
    assert t[("rf", "inputs")][1] == 48
    assert count_accesses(p, fm).compute_cycles == 12


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_scalesim_test_layer_sram_reads_equal_the_systolic_dataflow(dataflow):
    """SCALE-Sim's test layer (Inc5b_3x3: 7x7x192 input, 3x3, 384 filters, 5x5 output) on 32x32 with a 192 kB
    buffer: the template's SRAM reads of ifmap and filter equal ``systolic.run_layer``'s (= SCALE-Sim 3.0.0's
    SRAM IFMAP / Filter Reads): os 518,400 / 663,552, ws 518,400 / 663,552, is 43,200 / 663,552; its
    partial-sum updates equal SCALE-Sim's ofmap SRAM writes for ws / is (25 x 384 x 54 window folds).
    Where they differ: every dim here factors into 32 (OY 5 x OX 5 = 25 rows; K = 12 x 32; C = 6 x 32, so the
    template's 54 window folds = SCALE-Sim's ceil(1728 / 32)); the template keeps partial sums in the buffer,
    so its DRAM ofmap writes are 9,600 where SCALE-Sim drains every ofmap write (518,431 for ws / is)."""
    p = conv(k=384, c=192, oy=5, ox=5, fy=3, fx=3)
    levels = TemplateLevels("dram", "sram", ALL, 192 * 1024, "rf", ALL)
    t = totals(p, dataflow_template(dataflow, p, 32, 32, levels))
    run = run_layer(SystolicLayer(1, 7, 7, 192, 384, 3, 3, 1, 5, 5), dataflow, 32, 32, 65536, 65536)
    assert t[("sram", "inputs")][0] == run.sram_reads["ifmap"]
    assert t[("sram", "weights")][0] == run.sram_reads["filter"]
    if dataflow != "os":
        assert t[("sram", "outputs")][2] == run.sram_writes_ofmap == 518_400
    assert t[("dram", "outputs")][2] == 9_600


def test_partial_fold_reads_equal_scalesim_fc():
    """ResNet-18's fc (512 -> 1000) under OS: 1000 filters on 32 columns fold ceil(1000 / 32) = 32 times, the
    last fold 8 wide (31 x 32 + 8), as SCALE-Sim folds them: ifmap SRAM reads 512 x 32 = 16,384 and filter
    reads 512,000 equal ``systolic.run_layer`` (= SCALE-Sim 3.0.0). Under perfect factorisation the template
    unrolled K = 25 (40 folds, 20,480 ifmap reads). Cycles: 32 folds x 512 = 16,384 array steps; utilisation
    512,000 / (32 x 16,384) = 0.977 (the last fold idles 24 of 32 columns)."""
    p = conv(k=1000, c=512, oy=1, ox=1)
    fm = dataflow_template("os", p, 32, 32, LEVELS)
    assert fm.levels[1].spatial == (("K", 32),)
    t = totals(p, fm)
    run = run_layer(SystolicLayer(1, 1, 1, 512, 1000, 1, 1, 1, 1, 1), "os", 32, 32, 65536, 65536)
    assert run.sram_reads == {"ifmap": 16_384, "filter": 512_000}
    assert t[("sram", "inputs")][0] == 16_384 and t[("sram", "weights")][0] == 512_000
    counts = count_accesses(p, fm)
    assert counts.compute_cycles == 16_384 and counts.utilisation == pytest.approx(512_000 / (32 * 16_384))


def test_partial_pixel_and_filter_folds_by_hand():
    """A GEMM-shaped layer (``B`` = 49 flattened pixels, 40 filters, window C = 8) under OS on 32 x 32: rows take
    B = 32 (folds 32 + 17, SCALE-Sim's ceil(49 / 32) = 2), columns K = 32 (folds 32 + 8). 4 folds x 8 = 32
    array steps for 49 x 40 x 8 = 15,680 MACs (utilisation 15,680 / 32,768). SRAM reads (SCALE-Sim's demand
    counts, only the real lanes): inputs E x T x column folds = 49 x 8 x 2 = 784, weights T x M x row folds =
    8 x 40 x 2 = 640; each of the 1,960 outputs is drained once. RF outputs: one update per real MAC, 15,680,
    and 15,680 - 1,960 = 13,720 reads (the first MAC of each output reads nothing). Per RF instance the counts
    are the mean over the 1,024 PEs (the idle lanes of the partial folds move nothing)."""
    p = conv(k=40, c=8, oy=1, ox=1, b=49)
    fm = dataflow_template("os", p, 32, 32, LEVELS)
    assert fm.levels[1].spatial == (("B", 32), ("K", 32)) and fm.levels[1].temporal == (("K", 2), ("B", 2))
    t = totals(p, fm)
    assert t[("sram", "inputs")][0] == 784 and t[("sram", "weights")][0] == 640
    assert t[("sram", "outputs")] == (0, 0, 1_960)
    assert t[("rf", "outputs")] == (13_720, 0, 15_680)
    counts = count_accesses(p, fm)
    assert counts.compute_cycles == 32 and counts.compute_instances == 1024
    run = run_layer(SystolicLayer(49, 1, 1, 8, 40, 1, 1, 1, 1, 1), "os", 32, 32, 65536, 65536)
    assert run.sram_reads == {"ifmap": 784, "filter": 640} and run.folds == 4


def test_seven_by_seven_outputs_on_32_rows():
    """Layer4's 7 x 7 outputs under OS on 32 rows: the rows take OY 4 x OX 7 = 28 lanes, folds OY 4 + 3
    (2 row folds, as SCALE-Sim's 49 = 32 + 17; perfect factorisation took 7 lanes, 7 folds). A 3 x 3 conv
    C = 2, K = 1: the first fold reads the 6 x 9 x 2 = 108 inputs its 4 x 7 outputs need, the second 5 x 9 x 2
    = 90 (rows 4-8), of which rows 4-5 were already held: the slide brings 3 new rows x 9 x 2 = 54; DRAM
    reads 9 x 9 x 2 = 162 inputs once. SRAM input reads: 49 outputs x 18 window = 882 (real lanes only)."""
    p = conv(k=1, c=2, oy=7, ox=7, fy=3, fx=3)
    levels = TemplateLevels("dram", "sram", ALL, 1 << 20, "rf", ALL)
    fm = dataflow_template("os", p, 32, 32, levels)
    assert dict(fm.levels[1].spatial) == {"OY": 4, "OX": 7}
    assert ("OY", 2) in fm.levels[1].temporal
    t = totals(p, fm)
    assert t[("sram", "inputs")] == (882, 162, 0)
    assert t[("dram", "inputs")][0] == 162
    small = TemplateLevels("dram", "sram", ALL, 200, "rf", ALL)  # 154 words a fold, 229 the layer: OY folds at the DRAM
    fm = dataflow_template("os", p, 32, 32, small)
    assert fm.levels[0].temporal == (("OY", 2),)
    assert totals(p, fm)[("sram", "inputs")][1] == 108 + 54


def test_buffer_split_and_refusals():
    """A buffer too small for the whole layer keeps the innermost fold loops that fit and leaves the rest at
    DRAM; one that cannot hold a fold's window streams it (the window's outer loops iterate at the DRAM inside
    every fold, the PE keeping its outputs across them); one that cannot hold a fold's tile with a one-element
    window (8 weights, 8 inputs, 64 outputs = 80 words) is refused naming the layer, level and words."""
    p = conv(k=64, c=64, oy=8, ox=8)
    small = TemplateLevels("dram", "sram", ALL, 4096, "rf", ALL)
    fm = dataflow_template("os", p, 8, 8, small)
    assert fm.levels[0].temporal  # some folds at DRAM
    counts = count_accesses(p, fm)
    assert counts.get("sram", "weights").tile_words + counts.get("sram", "inputs").tile_words + counts.get("sram", "outputs").tile_words <= 4096
    tiny = TemplateLevels("dram", "sram", ALL, 100, "rf", ALL)  # C = 64 window: 8 + 8 + 64 words per channel
    fm = dataflow_template("os", p, 8, 8, tiny)
    assert fm.levels[0].temporal == (("K", 8), ("OY", 8), ("C", 32)) and fm.levels[2].temporal == (("C", 2),)
    counts = count_accesses(p, fm)
    assert counts.get("rf", "outputs").fills == 0 and counts.get("dram", "outputs").updates == 64 * 64
    assert counts.get("dram", "weights").reads == 64 * 64 * 8  # the window refetched once per pixel fold
    with pytest.raises(MappingError, match=r"preset 'os' on layer 'conv1': one fold's tile at level 'sram' needs "
                       r"\{'weights': 8, 'inputs': 8, 'outputs': 64\} words > capacity 50"):
        dataflow_template("os", p, 8, 8, TemplateLevels("dram", "sram", ALL, 50, "rf", ALL), layer="conv1")
    with pytest.raises(MappingError, match="unknown dataflow preset 'xs'"):
        dataflow_template("xs", p, 8, 8, LEVELS)
    assert preset_name("Output-Stationary") == "os" and preset_name("conv.toml") is None


@settings(max_examples=60, deadline=None)
@given(
    dims=st.tuples(*[st.sampled_from([1, 2, 3, 4, 6, 8, 12, 16]) for _ in range(4)], st.sampled_from([1, 3])),
    rows=st.sampled_from([1, 2, 4, 8, 16]), cols=st.sampled_from([1, 2, 3, 8, 32]),
    dataflow=st.sampled_from(["os", "ws", "is", "rs"]),
)
def test_templates_are_valid_mappings_with_compulsory_traffic(dims, rows, cols, dataflow):
    """Any layer on any array: factors multiply to the bounds, the fanout fits the array, MACs = PEs x cycles,
    DRAM reads at least every distinct weight and input, DRAM output updates at least every output."""
    k, c, oy, ox, f = dims
    p = conv(k=k, c=c, oy=oy, ox=ox, fy=f, fx=f)
    fm = dataflow_template(dataflow, p, rows, cols, LEVELS)
    fm.check(p)
    counts = count_accesses(p, fm)
    assert counts.compute_instances <= rows * cols
    # every fold is a full step of the array: cycles = prod ceil(bound / lanes) x the PE's loops, >= MACs / PEs
    assert counts.compute_instances * counts.compute_cycles >= p.macs
    assert counts.compute_cycles == math.prod(f for lvl in fm.levels for _, f in lvl.temporal)
    if all(b % max(dict(lv.spatial).get(d, 1) for lv in fm.levels) == 0 for d, b in p.bounds):
        assert counts.compute_instances * counts.compute_cycles == p.macs
    full = {d: b for d, b in p.bounds}
    assert counts.get("dram", "weights").reads >= p.footprint("weights", full)
    assert counts.get("dram", "inputs").reads >= p.footprint("inputs", full)
    assert counts.get("dram", "outputs").updates >= p.footprint("outputs", full)
    assert math.prod(f for lvl in fm.levels for _, f in lvl.spatial) == counts.compute_instances


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 6 * 6, 10)), torch.zeros(1, 3, 8, 8)


@pytest.mark.parametrize("preset", ["os", "ws", "is", "rs"])
def test_simulate_with_a_preset_on_any_array_profile(preset):
    """``simulate(mapping=preset)`` maps every MAC op with the template on ZigZag's tpu_like array, its
    4-axis edge_tpu_like array and SCALE-Sim's profile; every conv/linear op is costed by the template. The PE
    level is the register that serves the stationary operand (tpu_like: ``rf_o`` for os, ``rf_w`` for ws)."""
    from simulator.api import simulate

    model, x = _net()
    profiles = ("zigzag-tpu-like", "scalesim-32x32-os", "zigzag-edge-tpu-like")  # edge: 4 axes = 64 x 16
    if preset == "rs":
        profiles = ("zigzag-tpu-like", "scalesim-32x32-os")  # edge_tpu_like: refused (test below)
    for profile in profiles:
        report = simulate(model, profile, x, mapping=preset, layers="independent", engine="closed-form")
        assert report.total_energy_pj > 0
    from simulator.api import resolve_precision, trace_model
    from simulator.hardware import load_profile
    from simulator.mapping import map_workload
    from simulator.mapping.fixed_apply import apply_dataflow_preset

    wl, hw = resolve_precision(trace_model(model, x), load_profile(profiles[0]), None)
    sched = apply_dataflow_preset(map_workload(wl, hw, independent_layers=True), wl, hw, preset)
    assert [op.mapping for op in sched.ops if op.macs] == [f"fixed-{preset}"] * 2


def test_row_stationary_refused_on_a_one_word_register():
    """ZigZag's edge_tpu_like keeps one 8-bit weight per PE (``rf_w``, 8 bits per instance:
    zigzag/hardware/edge_tpu_like.yaml), so
    row stationary, which keeps a filter row (FX = 3 weights) in the PE, is refused naming the level and bits."""
    from simulator.api import simulate

    model, x = _net()
    with pytest.raises(MappingError, match=r"does not fit level 'rf_w': tile weights 3 words = 24 bits > capacity 8 bits"):
        simulate(model, "zigzag-edge-tpu-like", x, mapping="rs", layers="independent", engine="closed-form")


def test_preset_needs_an_array_and_cli_option(tmp_path):
    from click.testing import CliRunner

    from simulator.api import simulate
    from simulator.cli.main import cli

    model, x = _net()
    with pytest.raises(MappingError, match=r"preset 'ws' needs a compute array.*'horowitz45'"):
        simulate(model, "horowitz45", x, mapping="ws", engine="closed-form")
    result = CliRunner().invoke(cli, ["simulate", "lenet5", "--profile", "scalesim-32x32-os", "--mapping", "ws",
                                      "--independent-layers", "--engine", "closed-form", "--no-layers"])
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(cli, ["simulate", "lenet5", "--mapping", "xx"])
    assert bad.exit_code != 0 and "neither a dataflow preset" in bad.output
