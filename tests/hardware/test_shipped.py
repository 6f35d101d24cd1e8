"""The shipped profiles say what their headers say: the numbers agree with their own stated arithmetic."""

from __future__ import annotations

import pytest

from simulator.hardware import load_profile
from simulator.workload import DataType

INT8, INT16 = DataType("int", 8), DataType("int", 16)
KIB = 8 * 1024


def test_eie():
    """64 PEs at 800 MHz, 162 KB SRAM per PE, skips zeros, 16-bit arithmetic, SRAM from Table II power."""
    p = load_profile("eie")
    assert (p.compute.macs_per_cycle, p.clock_hz, p.zero_handling) == (64, 800e6, "skip")
    sram = p.level("sram")
    assert sram.capacity_bits == 64 * 162 * KIB and sram.banks == 64
    # SpmatRead 4.955 mW per PE; one 64-bit row serves 8 cycles at 800 MHz: 4.955e-3 × 8 / 800e6 J = 49.55 pJ
    assert sram.read_energy_pj == pytest.approx(4.955e-3 * 8 / 800e6 * 1e12)
    assert p.mac_energy_pj(INT16) == pytest.approx(0.8 + 0.05)
    # 64 PEs × 9.157 mW (Table II) = 0.586 W ≈ the paper's 0.59 W on FC7
    assert 64 * 9.157e-3 == pytest.approx(0.59, abs=0.005)


def test_mcu_energy_per_cycle_conversion():
    """3.3 mA × 3.0 V / 64 MHz = 154.7 pJ per cycle; one pipelined LDR = 1 cycle; QSPI word = 16 cycles."""
    p = load_profile("mcu-nrf52840")
    per_cycle_pj = 3.3e-3 * 3.0 / 64e6 * 1e12
    assert per_cycle_pj == pytest.approx(154.6875)
    assert p.level("sram").read_energy_pj == pytest.approx(per_cycle_pj, abs=0.05)
    assert p.op_energy_pj("add", DataType("float", 32)) == pytest.approx(per_cycle_pj, abs=0.05)
    assert p.mac_energy_pj(INT16) == pytest.approx(per_cycle_pj / 2, abs=0.05)  # SMLAD: 2 MACs per cycle
    assert p.dram.read_energy_pj == pytest.approx(16 * per_cycle_pj, abs=0.5)
    # QSPI 16 MB/s at 64 MHz = 2 bit/cycle, so 32 bits take 16 cycles: consistent with the energy
    assert p.dram.bandwidth_bits_per_cycle == pytest.approx(2.0)
    assert p.level("sram").capacity_bits == 256 * KIB


def test_npu_mac_energy_from_tops_per_watt():
    """5 TOPs/W = 0.2 pJ per op = 0.4 pJ per MAC (2 ops); 2048 MACs × 2 × 1 GHz ≈ 4 TOP/s."""
    p = load_profile("npu-ethos-n77")
    assert p.mac_energy_pj(INT8) == pytest.approx(2 / 5e12 * 1e12)
    assert 2 * p.compute.macs_per_cycle * p.clock_hz == pytest.approx(4e12, rel=0.03)
    with pytest.raises(Exception, match="float32"):
        p.mac_energy_pj(DataType("float", 32))  # an int8 NPU: float is neither listed nor derived


def test_sram512k_is_horowitz45_with_a_small_sram():
    small, base = load_profile("horowitz45-sram512k"), load_profile("horowitz45")
    assert small.level("sram").capacity_bits == 512 * 8000
    for a, b in zip(small.levels, base.levels):
        assert (a.read_energy_pj, a.write_energy_pj, a.word_bits) == (b.read_energy_pj, b.write_energy_pj, b.word_bits)
    assert small.compute == base.compute
    # dense LeNet-300-100 (1070 KB) does not fit, the compressed one (27 KB) does
    assert 27_000 * 8 < small.on_chip_sram_bits < 1_070_000 * 8 < base.on_chip_sram_bits
