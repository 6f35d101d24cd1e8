"""LeNet-300-100 on a 512 KB SRAM: dense float32 streams its weights, Deep-Compressed it stays resident.

The compression record is built by hand (8% density, 6-bit shared weights from a 64-entry codebook of
32-bit values, 5-bit relative indices; biases dense) and applied by tracing with ``record=``.
The energy ratio is checked against the arithmetic of the weight traffic, which is all that differs.
"""

from __future__ import annotations

import pytest

from simulator.api import simulate, trace_model
from simulator.frozen import FrozenMap
from simulator.hardware import load_profile
from simulator.workload import CompressionRecord, TensorEncoding

PROFILE = "horowitz45-sram512k"  # horowitz45 (DRAM 640, SRAM 5, RF 1 pJ per 32 bits) with 512 KB of SRAM
WEIGHTS = 266_200
BIASES = 410
DENSE_BITS = (WEIGHTS + BIASES) * 32  # 8,531,520 bits = 1.066 MB
KEPT = round(0.08 * 235_200) + round(0.08 * 30_000) + round(0.08 * 1_000)  # 21,296 stored entries
ONCHIP_BITS = KEPT * (6 + 5) + 3 * 64 * 32 + BIASES * 32  # entries + 3 codebooks + dense biases = 253,520


@pytest.fixture(scope="module")
def reports():
    encoding = TensorEncoding(density=0.08, value_bits=6, index_bits=5, codebook_entries=64, codebook_value_bits=32)
    record = CompressionRecord(FrozenMap({f"fc{i}.weight": encoding for i in (1, 2, 3)}), ("hand-built",))
    profile = load_profile(PROFILE)
    dense = simulate(trace_model("lenet_300_100"), profile)
    compressed = simulate(trace_model("lenet_300_100", record=record), profile)
    return dense, compressed, profile


def test_dense_does_not_fit_and_streams(reports):
    dense, _, profile = reports
    assert dense.sram_capacity_bits == 512_000 * 8
    assert dense.fits_on_chip is False
    assert dense.min_sram_bits > dense.sram_capacity_bits
    assert dense.spilling_layers == ("fc1", "fc2", "fc3")
    assert dense.level_bits("dram") >= DENSE_BITS  # every weight read from DRAM every inference
    assert dense.cold_start_energy_pj == 0.0


def test_compressed_fits_and_stays_resident(reports):
    _, compressed, profile = reports
    assert compressed.fits_on_chip is True
    assert compressed.spilling_layers == ()
    assert compressed.traffic_bits.get(("dram", "weights", "read"), 0.0) == 0.0
    # The cold start loads the encoded weights once: 253,520 bits x (640 + 5) pJ / 32 bits.
    assert compressed.cold_start_dram_bits == ONCHIP_BITS
    assert compressed.cold_start_energy_pj == pytest.approx(ONCHIP_BITS * (640 + 5) / 32)


def test_energy_factor_is_the_weight_traffic(reports):
    dense, compressed, profile = reports
    codebook_pj = profile.compute.op_energy_pj["decode.codebook"]
    index_add_pj = profile.op_energy_pj("add", __import__("simulator.workload", fromlist=["DataType"]).DataType("int", 5))

    def weight_free(report):
        return {k: v for k, v in report.energy_by("component", "operand").items() if "weights" not in k}

    # Compute, activations and outputs cost the same in both: only the weights' path differs.
    assert weight_free(dense) == pytest.approx(weight_free(compressed))
    others = sum(weight_free(dense).values())
    # Dense, streaming: DRAM read (640/32 pJ/bit), SRAM write + read (2 x 5/32), RF write + one read per MAC (2 x 1/32).
    dense_weights = DENSE_BITS * (640 + 2 * 5 + 2 * 1) / 32
    # Compressed, resident: SRAM read once, RF write once, the array reads 11 bits per used entry (+ dense biases);
    # one codebook read per used weight and one 5-bit index add per used entry.
    rf_reads = KEPT * 11 + BIASES * 32
    compressed_weights = ONCHIP_BITS * (5 + 1) / 32 + rf_reads * 1 / 32 + KEPT * (codebook_pj + index_add_pj)
    assert dense.energy_by("operand")[("weights",)] == pytest.approx(dense_weights)
    assert compressed.energy_by("operand")[("weights",)] == pytest.approx(compressed_weights)
    factor = dense.total_energy_pj / compressed.total_energy_pj
    assert factor == pytest.approx((others + dense_weights) / (others + compressed_weights))
    assert factor > 50  # about 84x: the DRAM weight stream (170.6 uJ) is gone
