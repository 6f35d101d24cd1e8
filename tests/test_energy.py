"""The no-reuse baseline on a hand-built workload (no torch needed)."""

from __future__ import annotations

import pytest

from simulator.energy import estimate_no_reuse
from simulator.frozen import FrozenMap
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
        dims=FrozenMap({"M": 1, "K": 4, "N": 3}),
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
