"""The array's own accesses (``mapping/array_access.py``): broadcast over shared axes, per-PE copies, the output
register as the accumulator, port granularity; sibling levels tiled as one tier (``hierarchy.tiers``); the profile
keys behind them (``shared_axes``, ``min_access``, ``operand_word``).

Reference numbers: ZigZag 3.9.1's own per-layer counts for ResNet-18 on its tpu_like / edge_tpu_like examples
(``benchmarks/results/peers/zigzag-*.json``, ``mem_energy_by_direction_pj``), divided by the yaml's per-access costs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.errors import ProfileError
from simulator.hardware import load_profile
from simulator.mapping.array_access import accumulates_per_mac, array_access, min_access
from simulator.mapping.hierarchy import tiers

#: ResNet-18 layer1.0.conv1 and conv1 as loop nests (``spatial.conv_loop_nest``'s names).
LAYER1 = {"B": 1, "G": 1, "K": 64, "C": 64, "OY": 56, "OX": 56, "FY": 3, "FX": 3}
CONV1 = {"B": 1, "G": 1, "K": 64, "C": 3, "OY": 112, "OX": 112, "FY": 7, "FX": 7}


def test_tpu_like_inputs_broadcast_over_k_weights_and_partial_sums_per_pe():
    """tpu_like (D1 K 32, D2 C 32): inputs come from the shared SRAM, one read per 32 MACs (ZigZag layer1.0.conv1:
    sram_2MB I rd_out_to_low 5,872,849.92 pJ = 14,112 x 2048 bit = MACs / 32 x 8 bit); the weight RF is per PE (one
    read per MAC: rf_128B W rd_out_to_low 10,982,522.88 pJ = MACs x 0.095 pJ); the 16-bit output RF is per PE, so
    each output has a partial sum in each of the 32 C lanes (rf_2B O rd_out_to_high 134,873.088 pJ = 200,704
    outputs x 32 x 0.021 pJ)."""
    acc = array_access(load_profile("zigzag-tpu-like"), LAYER1, ("inputs", "weights"))
    assert (acc.a, acc.b, acc.o) == (1 / 32, 1.0, 1.0)
    assert acc.copies == (1.0, 1.0, 32.0)
    assert acc.lanes_mnk == (1, 32, 32)


def test_first_conv_uses_three_c_lanes():
    acc = array_access(load_profile("zigzag-tpu-like"), CONV1, ("inputs", "weights"))
    assert acc.a == 1 / 32 and acc.copies[2] == 3.0 and acc.lanes_mnk == (1, 32, 3)


def test_edge_tpu_like_weight_register_shared_by_ox_oy_output_register_by_c():
    """edge_tpu_like: rf_1B served_dimensions [D3, D4] (OX 4, OY 4): a weight read serves 16 MACs (ZigZag conv1:
    rf_1B W rd_out_to_low 73,758.72 pJ = MACs / 16 x 0.01); rf_2B served [D2] (C 8): the adder tree reduces 8 lanes."""
    acc = array_access(load_profile("zigzag-edge-tpu-like"), LAYER1, ("inputs", "weights"))
    assert (acc.a, acc.b, acc.o) == (1 / 8, 1 / 16, 1 / 8)
    assert acc.copies == (1.0, 1.0, 1.0) and acc.lanes_mnk == (16, 8, 8)
    assert 118_013_952 / 16 * 0.01 == pytest.approx(73_758.72, rel=1e-12)


def test_v1_profiles_keep_one_access_per_mac():
    """Without ``shared_axes`` (every shipped v1 profile) nothing changes: one access per MAC, no copies."""
    for name in ("horowitz45", "scalesim-32x32-os"):
        acc = array_access(load_profile(name), LAYER1, ("inputs", "weights"))
        assert (acc.a, acc.b, acc.o, acc.copies) == (1.0, 1.0, 1.0, (1.0, 1.0, 1.0))
        assert not accumulates_per_mac(load_profile(name))


def test_output_register_is_the_accumulator():
    assert accumulates_per_mac(load_profile("zigzag-tpu-like"))
    assert accumulates_per_mac(load_profile("zigzag-gemm-l1"))


def test_min_access_rounds_narrow_cycles_up():
    """tpu_like conv1 reads 3 inputs (24 bit) a cycle from sram_2MB, whose ports have bandwidth_min 64: ZigZag's
    sram_2MB I rd_out_to_low is 15,987,202.56 pJ = 1,229,312 cycles x 64 bit x 416.16 / 2048 pJ per bit."""
    p = load_profile("zigzag-tpu-like")
    cycles = 1_229_312
    bits = min_access(p, "inputs", cycles, 118_013_952 / 32 * 8)
    assert bits == cycles * 64
    assert bits * 416.16 / 2048 == pytest.approx(15_987_202.56, rel=1e-12)
    assert min_access(p, "inputs", 10, 10_000) == 10_000  # wide enough: priced as moved


def test_tiers_group_sibling_levels():
    """Levels keeping disjoint operands sit side by side in the loop nest; v1 levels each form their own tier."""
    names = lambda p: [[p.levels[i].name for i in t.levels] for t in tiers(p)]  # noqa: E731
    assert names(load_profile("horowitz45")) == [["rf"], ["sram"]]
    assert names(load_profile("zigzag-tpu-like")) == [["rf_w", "rf_o"], ["sram"]]
    edge = load_profile("zigzag-edge-tpu-like")
    assert names(edge) == [["rf_w", "rf_o"], ["sram_w", "sram"]]
    inner = tiers(edge)[0]
    assert dict(inner.parent) == {"weights": 2, "outputs": 3}


BASE = """
[profile]
name = "axes"
extends = "zigzag-tpu-like"
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "axes.toml"
    p.write_text(BASE + text)
    return p


def test_shared_axes_must_name_array_axes(tmp_path):
    with pytest.raises(ProfileError, match=r"memory.sram.shared_axes.*D1.*D2"):
        load_profile(_write(tmp_path, '[memory.sram]\nshared_axes = ["D9"]\n'))


def test_operand_word_prices_an_operand_at_its_own_port(tmp_path):
    """zigzag-gemm-l1: l1 moves inputs on 512-bit ports and outputs on a 2048-bit port (gemm_l1.yaml rw_port_1..3)."""
    l1 = load_profile("zigzag-gemm-l1").levels[-1]
    assert l1.energy_per_bit_pj("inputs", "read") == pytest.approx(22.9 / 512)
    assert l1.energy_per_bit_pj("outputs", "read") == pytest.approx(22.9 / 2048)
    assert l1.energy_per_bit_pj("outputs", "write") == pytest.approx(52.01 / 2048)
    with pytest.raises(ProfileError, match=r"memory.sram.operand_word"):
        load_profile(_write(tmp_path, '[memory.sram.operand_word]\npsums = { value = 8, unit = "bit", source = "x" }\n'))
