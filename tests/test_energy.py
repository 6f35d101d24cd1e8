"""The no-reuse baseline on a hand-built workload (no torch needed)."""

from __future__ import annotations

import pytest

from simulator.energy import estimate_no_reuse
from simulator.ops import GemmDims
from simulator.workload import FLOAT32, Op, TensorAccess, TensorEncoding, TensorInfo, make_workload


def _workload(encoding=None):
    tensors = {
        "x": TensorInfo("x", "input", (1, 4), FLOAT32),
        "w": TensorInfo("w", "weight", (4, 3), FLOAT32, encoding=encoding),
        "y": TensorInfo("y", "activation", (1, 3), FLOAT32, producer=0),
    }
    op = Op(
        index=0, module="fc", kind="linear", aten="aten.mm.default", macs=12, mac_dtype=FLOAT32,
        accesses=(
            TensorAccess("x", "inputs", "read", 4 * 32),
            TensorAccess("w", "weights", "read", 12 * 32),
            TensorAccess("y", "outputs", "write", 3 * 32),
        ),
        dims=GemmDims(m=1, k=4, n=3),
    )
    return make_workload("toy", [op], tensors)


def test_no_reuse_energy_by_hand(toy_profile):
    """12 MACs x (2+1) pJ = 36; DRAM reads (4+12) words x 100 = 1600; write 3 words x 200 = 600."""
    r = estimate_no_reuse(_workload(), toy_profile)
    assert r.energy_pj[("fc", "compute", "none")] == pytest.approx(36)
    assert r.energy_pj[("fc", "dram", "inputs")] == pytest.approx(400)
    assert r.energy_pj[("fc", "dram", "weights")] == pytest.approx(1200)
    assert r.energy_pj[("fc", "dram", "outputs")] == pytest.approx(600)
    assert r.total_energy_pj == pytest.approx(36 + 1600 + 600)
    # cycles: max(12 MACs / 10 per cycle -> 2, 19 words * 32 bits / 32 bits per cycle = 19) = 19
    assert r.cycles == pytest.approx(19)


def test_compressed_weights_move_fewer_bits(toy_profile):
    """Weights at 50% density, 4-bit codes, 2-bit indices, 16-entry codebook: 6*(4+2) + 16*32 = 548 bits."""
    enc = TensorEncoding(density=0.5, value_bits=4, index_bits=2, codebook_entries=16)
    r = estimate_no_reuse(_workload(enc), toy_profile)
    assert r.weight_stored_bits == 548
    assert r.energy_pj[("fc", "dram", "weights")] == pytest.approx(548 / 32 * 100)


def test_fit_verdict_uses_weights_plus_peak_activations(toy_profile):
    """12 weights + (4 + 3) live activations = 19 words = 608 bits <= 1 KB SRAM."""
    r = estimate_no_reuse(_workload(), toy_profile)
    assert r.min_sram_bits == 19 * 32
    assert r.fits_on_chip is True


def test_sum_of_reports_adds_energy_and_cycles(toy_profile):
    r = estimate_no_reuse(_workload(), toy_profile)
    both = r + r
    assert both.total_energy_pj == pytest.approx(2 * r.total_energy_pj)
    assert both.cycles == pytest.approx(2 * r.cycles)


# --- the mapped model: estimate_energy on a schedule (no torch, no simpy) ------------------------

from simulator.energy import CONVENTIONS, estimate_energy, operation_energy_pj  # noqa: E402
from simulator.mapping import OperationCount, map_workload  # noqa: E402
from simulator.memsim import closed_form_stats  # noqa: E402


def test_mapped_energy_by_hand(toy_profile):
    """Toy profile: 1 KB SRAM (10 pJ / 32 bits), DRAM read 100 / write 200 pJ per 32 bits, no RF.

    Weights 12 words + live activations 7 words = 608 bits fit 8000: resident.
    Steady state: DRAM reads the input once (4 words x 100 = 400) and writes the output once
    (3 x 200 = 600); SRAM: input written (4 x 10 = 40), output written by the array and read for the
    store (3 x 10 x 2 = 60); the array reads weight and input per MAC (12 x 10 x 2 = 240);
    12 MACs x 3 pJ = 36. Total 1376 pJ. Cold start: 12 weight words x (100 + 10) = 1320 pJ.
    """
    workload = _workload()
    schedule = map_workload(workload, toy_profile)
    report = estimate_energy(workload, schedule, closed_form_stats(schedule, toy_profile), toy_profile)
    assert report.energy_pj[("fc", "dram", "inputs")] == pytest.approx(400)
    assert report.energy_pj[("fc", "dram", "outputs")] == pytest.approx(600)
    assert report.energy_pj[("fc", "sram", "inputs")] == pytest.approx(40 + 120)
    assert report.energy_pj[("fc", "sram", "weights")] == pytest.approx(120)
    assert report.energy_pj[("fc", "sram", "outputs")] == pytest.approx(60)
    assert report.energy_pj[("fc", "compute", "none")] == pytest.approx(36)
    assert report.total_energy_pj == pytest.approx(1376)
    assert report.cold_start_energy_pj == pytest.approx(1320)
    assert report.fits_on_chip and report.min_sram_bits == 608
    assert report.compulsory_dram_bits == (12 + 4 + 3) * 32
    assert report.conventions == CONVENTIONS


def test_decode_energies_fall_back_to_declared_rules(toy_profile):
    """No decode entries and no int5 add in the toy profile: a codebook read is one read of a 32-bit value
    from the innermost level (10 pJ), a 5-bit index add is derived from the profile's integer-add rule."""
    assert operation_energy_pj(OperationCount("codebook", "float32", 1, "weights"), toy_profile) == pytest.approx(10.0)
    with pytest.raises(Exception, match="int"):
        # the toy profile lists no integer add at all
        operation_energy_pj(OperationCount("index_add", "int5", 1, "weights"), toy_profile)


def test_leakage_is_power_times_simulated_time(toy_profile):
    """1 mW on SRAM and 2 mW on DRAM for the inference's cycles at 1 GHz: 3 mW x t."""
    from dataclasses import replace

    levels = tuple(replace(lv, leakage_mw=1.0 if lv.kind == "sram" else 2.0) for lv in toy_profile.levels)
    profile = replace(toy_profile, levels=levels)
    workload = _workload()
    schedule = map_workload(workload, profile)
    stats = closed_form_stats(schedule, profile)
    report = estimate_energy(workload, schedule, stats, profile)
    assert report.energy_pj[("fc", "leakage", "none")] == pytest.approx(3.0 * stats.cycles * 1e-9 * 1e9)
