"""EIE's compressed sparse column dataflow (simulator/mapping/sparse_csc.py): hand-counted tiny cases,
load imbalance from the real weights, the filler rule against the storage format's, the profile keys."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.api import simulate, trace_model, with_activation_density
from simulator.compress.sparse import count_fillers
from simulator.errors import ProfileError
from simulator.hardware import load_profile
from simulator.hardware.profile import CSCConfig
from simulator.mapping.sparse_csc import (
    WeightPattern, active_columns, pe_column_entries, pointer_reload, queue_cycles, run_csc,
)

# A 12 x 3 weight on 4 PEs with 1-bit relative indices (a run of 2 zeros needs a filler), queue depth 2.
TINY = CSCConfig(pes=4, relative_index_bits=1, pointer_bits=16, queue_depth=2)


def _tiny_pattern() -> WeightPattern:
    mask = np.zeros((12, 3), dtype=bool)
    mask[[0, 9], 0] = True  # row 0 -> PE 0 local 0; row 9 -> PE 1 local 2 (2 zeros before: 1 filler)
    mask[[2, 4, 8], 1] = True  # row 2 -> PE 2 local 0; rows 4, 8 -> PE 0 local 1, 2 (1 zero before: none)
    mask[11, 2] = True  # row 11 -> PE 3 local 2 (1 filler)
    return WeightPattern.from_mask(mask)


def test_tiny_layer_pe_assignment_by_hand():
    entries, nonzeros = pe_column_entries(_tiny_pattern(), TINY)
    # rows [columns], PEs across: stored entries incl. fillers, and the non-zeros alone.
    assert entries.tolist() == [[1, 2, 0, 0], [2, 0, 1, 0], [0, 0, 0, 2]]
    assert nonzeros.tolist() == [[1, 1, 0, 0], [2, 0, 1, 0], [0, 0, 0, 1]]


def test_tiny_layer_cycles_and_accesses_by_hand():
    run = run_csc(_tiny_pattern(), 2 / 3, TINY)
    # Active columns: round(2/3 x 3) = 2, strided: floor(0 x 1.5) = 0, floor(1 x 1.5) = 1.
    assert active_columns(3, 2 / 3).tolist() == [0, 1]
    # Work per PE (at least one cycle per popped activation): col 0 [1, 2, 1, 1], col 1 [2, 1, 1, 1].
    # Col 0 broadcast at 0, PEs finish [1, 2, 1, 1]; col 1 broadcast at 1, PEs start [1, 2, 1, 1],
    # finish [3, 3, 2, 2]: 3 cycles.
    assert run.cycles == 3.0
    assert run.entries_read == 3 + 3  # col 0: 1 + 2, col 1: 2 + 1
    assert run.nonzeros_read == 2 + 3
    assert run.pointer_reads == 2 * 2 * 4  # start + end pointer, 2 active columns, 4 PEs
    assert run.total_entries == 8
    assert run.ideal_cycles == pytest.approx(8 * (2 / 3) / 4)
    assert run.pe_entries.tolist() == [3, 2, 1, 0]


def test_queue_depth_one_stalls_the_broadcast():
    # PE 0 works 3 cycles on activation 0; with a 1-entry queue activation 2 can only be sent when every
    # PE has started activation 1: PE 0 starts it at 3, so the last activation is sent at 3, not 2.
    work = np.array([[3, 1], [1, 1], [1, 1]])
    assert queue_cycles(work, 1) == 5.0  # PE 0: 0-3, 3-4, 4-5
    assert queue_cycles(work, 8) == 5.0
    # PE 0 is slow early, PE 1 late. Depth 1: activation 2 waits until PE 0 starts activation 1 (at 3),
    # so PE 1 runs 3-6; depth 2: it is sent at 2, PE 1 runs 2-5 while PE 0 finishes at 5.
    late = np.array([[3, 1], [1, 1], [1, 3]])
    assert queue_cycles(late, 1) == 6.0
    assert queue_cycles(late, 2) == 5.0


def _fc(rows_of_nonzeros: list[int], outputs: int = 64 * 64, inputs: int = 64) -> torch.nn.Module:
    lin = torch.nn.Linear(inputs, outputs, bias=False)
    with torch.no_grad():
        lin.weight.zero_()
        lin.weight[rows_of_nonzeros, :] = 1.0
    return torch.nn.Sequential(lin)


def test_nonzeros_in_one_pe_run_64x_slower_than_balanced():
    """64 non-zeros per column either one in each PE's rows (rows 0..63) or all in PE 0's (rows 0, 64, ...):
    the same MACs, 64 cycles vs 64 x 64; measured through simulate() on the real weights."""
    x = torch.ones(1, 64)
    balanced = simulate(_fc(list(range(64))), "eie", example_inputs=x, timeline=False)
    one_pe = simulate(_fc([64 * i for i in range(64)]), "eie", example_inputs=x, timeline=False)
    assert balanced.metadata["dataflow"] == one_pe.metadata["dataflow"] == "eie-csc"
    assert balanced.busy_cycles["compute"] == pytest.approx(64.0)
    assert one_pe.busy_cycles["compute"] == pytest.approx(64.0 * 64.0)


def test_zero_activations_are_skipped_and_the_density_is_recorded():
    model = _fc(list(range(64)))
    full = simulate(model, "eie", example_inputs=torch.ones(1, 64), timeline=False)
    quarter = simulate(model, "eie", example_inputs=torch.ones(1, 64), timeline=False, activation_density={"0": 0.25})
    assert quarter.busy_cycles["compute"] == pytest.approx(16.0)
    assert quarter.metadata["activation density (set)"] == "0=0.25"
    # Measured during tracing: three quarters of the inputs are zero.
    x = torch.zeros(1, 64)
    x[0, :16] = 1.0
    measured = simulate(model, "eie", example_inputs=x, timeline=False)
    assert measured.busy_cycles["compute"] == pytest.approx(16.0)
    assert full.total_energy_pj > quarter.total_energy_pj


def test_activation_density_names_a_missing_layer():
    w = trace_model(_fc([0]), torch.ones(1, 64))
    with pytest.raises(ValueError, match="no layer 'fc9'.*layers: \\['0'\\]"):
        with_activation_density(w, {"fc9": 0.5})
    with pytest.raises(ValueError, match="density in \\(0, 1\\]"):
        with_activation_density(w, {"0": 1.5})


def test_a_workload_without_patterns_is_costed_balanced_and_says_so():
    w = trace_model(_fc([64 * i for i in range(64)]), torch.ones(1, 64))
    report = simulate(w, "eie", timeline=False)
    assert report.metadata["dataflow"] == "eie-csc (no weight pattern: balanced)"


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 40), cols=st.integers(1, 6), pes=st.integers(1, 5), bits=st.integers(1, 3),
    seed=st.integers(0, 2**16), density=st.floats(0.0, 1.0),
)
def test_fillers_follow_the_storage_rule_per_pe_column(rows, cols, pes, bits, seed, density):
    """Per (column, PE) the fillers are ``count_fillers`` of its local rows (no trailing run: the column's
    end pointer ends it); non-zeros are conserved."""
    mask = np.random.default_rng(seed).random((rows, cols)) < density
    cfg = CSCConfig(pes=pes, relative_index_bits=bits, pointer_bits=16, queue_depth=2)
    entries, nonzeros = pe_column_entries(WeightPattern.from_mask(mask), cfg)
    assert nonzeros.sum() == mask.sum()
    for c in range(cols):
        for p in range(pes):
            local = np.nonzero(mask[p::pes, c])[0]
            expected = count_fillers(local, bits, int(local[-1]) + 1) if local.size else 0
            assert entries[c, p] - nonzeros[c, p] == expected


def test_eie_profile_selects_the_dataflow():
    hw = load_profile("eie")
    assert hw.compute.dataflow == "eie-csc"
    assert hw.compute.csc == CSCConfig(pes=64, relative_index_bits=4, pointer_bits=16, queue_depth=8,
                                       pointer_capacity=16384,  # 32 KB / 16-bit pointers
                                       pointer_overflow="stream")
    assert "Han et al." in hw.sources["compute.csc.queue_depth"]
    assert load_profile("horowitz45").compute.dataflow == "dense"


def test_bad_dataflow_keys_are_named(tmp_path):
    text = (load_profile("eie").path and open(load_profile("eie").path, encoding="utf-8").read())
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('dataflow = "eie-csc"', 'dataflow = "row-stationary"'), encoding="utf-8")
    with pytest.raises(ProfileError, match="compute.dataflow"):
        load_profile(bad)
    bad.write_text(text.replace('dataflow = "eie-csc"\n', ""), encoding="utf-8")
    with pytest.raises(ProfileError, match="compute.csc"):
        load_profile(bad)
    bad.write_text(text.replace("queue_depth = { value = 8,", "queue_depth = { value = 0,"), encoding="utf-8")
    with pytest.raises(ProfileError, match="compute.csc.queue_depth"):
        load_profile(bad)
    bad.write_text(text.replace('pointer_overflow = "stream"', 'pointer_overflow = "prefetch"'), encoding="utf-8")
    with pytest.raises(ProfileError, match="compute.csc.pointer_overflow"):
        load_profile(bad)


def test_pointer_sram_overflow_reloads_the_excess_by_hand():
    """A PE needs cols + 1 pointers; with capacity C it reloads cols + 1 - C per vector (0 when they fit)."""
    cap4 = replace(TINY, pointer_capacity=4)
    assert pointer_reload(3, cap4) == 0  # 4 pointers fit exactly
    assert pointer_reload(5, cap4) == 2  # 6 needed, 4 resident
    assert pointer_reload(10**6, TINY) == 0  # capacity 0: unbounded
    eie = load_profile("eie").compute.csc
    assert pointer_reload(25088, eie) == 25089 - 16384 == 8705  # VGG-16 fc6 on EIE's 32 KB pointer SRAM
    assert pointer_reload(9216, eie) == 0  # AlexNet fc6 fits
    assert run_csc(_tiny_pattern(), 2 / 3, cap4).pointers_reloaded == 0


def _small_pointer_sram(strategy: str):
    hw = load_profile("eie")
    return hw, replace(hw, compute=replace(hw.compute, csc=replace(hw.compute.csc, pointer_capacity=33,
                                                                   pointer_overflow=strategy)))


def test_pointer_overflow_strategies_by_hand():
    """64 inputs, all active, one entry per column (the identity: 1 cycle per column and PE), on a pointer SRAM
    of 33 pointers; one pointer of all 64 PEs is 64 x 16 bit = 4 cycles at EIE's 256 bit/cycle.
    reload-idle: p[33..64] (32 per PE) loaded before, PEs 64 cycles. stream: p[k] (k >= 33) arrives at
    (k - 32) x 4; column j needs p[j + 1], so column 63 is broadcast at 32 x 4 = 128 and ends at 129.
    stream-active: the 32 columns j >= 32 fetch (start, end) pairs, 8 cycles each: column 63 at 256, ends 257.
    on-chip: 64 cycles, nothing from DRAM."""
    pattern = WeightPattern.from_mask(np.eye(64, dtype=bool))
    expected = {"reload-idle": (64.0, 32, True), "stream": (129.0, 32, False), "stream-active": (257.0, 64, False),
                "on-chip": (64.0, 0, False)}
    for strategy, (cycles, pointers, idle) in expected.items():
        cfg = _small_pointer_sram(strategy)[1].compute.csc
        run = run_csc(pattern, 1.0, cfg, 256.0)
        assert (run.cycles, run.pointers_reloaded, run.reload_idle) == (cycles, pointers, idle), strategy
        assert run_csc(pattern, 1.0, cfg, 256.0, "on-chip").cycles == 64.0  # the override wins
    # Double-buffered halves of a 34-pointer SRAM (17 each): columns 0-15 resident, passes 16-31, 32-47, 48-63
    # of 17 pointers = 68 cycles each. Pass 1 loaded at 68 (its columns run 68-84); pass 2 at 68 + 68 = 136
    # (pass 0 ended at 16); pass 3 at 136 + 68 = 204 (pass 1 ended at 84 < 136): columns 204-219, end 220.
    pattern_cfg = replace(_small_pointer_sram("double-buffer")[1].compute.csc, pointer_capacity=34)
    run = run_csc(pattern, 1.0, pattern_cfg, 256.0)
    assert (run.cycles, run.pointers_reloaded) == (220.0, 3 * 17)
    # The gather variant: passes of 17 // 2 = 8 active columns, 16 pointers = 64 cycles each; 48 columns
    # beyond the resident 16 make 6 passes; pass k is loaded at 64 k (its half freed in time), so the last
    # pass's 8 columns run 384-392.
    run = run_csc(pattern, 1.0, pattern_cfg, 256.0, "double-buffer-active")
    assert (run.cycles, run.pointers_reloaded) == (392.0, 2 * 48)
    # A layer that fits is never touched, whatever the strategy.
    fits = replace(TINY, pointer_capacity=4, pointer_overflow="stream")
    assert run_csc(_tiny_pattern(), 2 / 3, fits, 1.0).cycles == 3.0


def test_pointer_overflow_costs_dram_traffic_and_idle_pe_time():
    """64 inputs (65 pointers) on a pointer SRAM of 33, "reload-idle": 32 pointers x 64 PEs x 16 bit = 32,768
    bits reloaded from DRAM per vector; at EIE's 25.6 GB/s / 800 MHz = 256 bit/cycle that is 128 cycles more
    of the layer (the DRAM reads precede the compute), while the PEs' busy time stays the balanced layer's 64
    cycles. "stream": the same DRAM reads, and the PEs' time is the stream's 129 cycles."""
    hw, small = _small_pointer_sram("reload-idle")
    assert hw.dram.bandwidth_bits_per_cycle == pytest.approx(256.0)
    model, x = _fc(list(range(64))), torch.ones(1, 64)
    fits = simulate(model, hw, example_inputs=x, timeline=False)
    spills = simulate(model, small, example_inputs=x, timeline=False)
    assert fits.busy_cycles["compute"] == pytest.approx(64.0)
    assert spills.busy_cycles["compute"] == pytest.approx(64.0)
    assert spills.cycles - fits.cycles == pytest.approx(128.0, abs=1.0)
    run = run_csc(WeightPattern.from_mask(np.eye(64, dtype=bool)), 1.0, small.compute.csc)
    assert run.reload_bits(small.compute.csc) == 32 * 64 * 16

    def dram_weight_reads(report):
        return sum(v for (_, lev, operand, d), v in report.layer_traffic_bits.items()
                   if lev == hw.dram.name and operand == "weights" and d == "read")

    assert dram_weight_reads(spills) - dram_weight_reads(fits) == pytest.approx(32 * 64 * 16)
    assert "pointer SRAM overflow: 32 pointers per PE" in spills.metadata["dataflow"]
    assert "with the PEs idle" in spills.metadata["dataflow"]
    streamed = simulate(model, _small_pointer_sram("stream")[1], example_inputs=x, timeline=False)
    assert streamed.busy_cycles["compute"] == pytest.approx(129.0)
    assert dram_weight_reads(streamed) == pytest.approx(dram_weight_reads(spills))
    assert "streamed during compute (stream)" in streamed.metadata["dataflow"]
    # One DRAM pipeline step per streamed pointer: the simulated layer overlaps the load with the compute
    # instead of adding the 128 load cycles before it.
    assert streamed.cycles < spills.cycles - 100
