"""Precision (simulator/mapping/precision.py, simulate(precision=...)): float models costed at declared
integer widths, partial sums at the accumulator width, the integer-only shipped profiles usable."""

from __future__ import annotations

import pytest

from simulator.api import resolve_precision, simulate
from simulator.hardware import Precision, load_profile
from simulator.mapping import map_workload
from simulator.mapping.precision import at_precision
from simulator.workload import DataType
from tests.memsim.builders import chain_workload, level, make_profile

INT8 = DataType("int", 8)


def _profile(sram_bits: int = 1 << 30, accumulator_bits: int = 32):
    from dataclasses import replace

    p = make_profile([level("rf", "register_file", 1 << 12, 1.0), level("sram", "sram", sram_bits, 5.0),
                      level("dram", "dram", 1 << 40, 640.0)], extra_energy={"int8.add": 0.03, "int8.mult": 0.2})
    return replace(p, compute=replace(p.compute, accumulator_bits=accumulator_bits))


def test_int8_operands_move_a_quarter_of_the_float32_bits():
    """Same mapping problem at int8: every weight, input and output crosses each boundary in 8/32 of the bits
    (accumulator = output width here, and the RF is large enough that no partial sum spills)."""
    w = chain_workload([(16, 64, 32), (16, 32, 8)])
    p = _profile(accumulator_bits=8)
    dense = map_workload(w, p)
    narrow = map_workload(at_precision(w, Precision(INT8, INT8)), p)
    for f, q in zip(dense.ops, narrow.ops):
        for key, bits in f.traffic_bits.items():
            if key[0] == "dram":
                assert q.traffic_bits[key] == pytest.approx(bits / 4), key
    assert all(t.dtype == INT8 for t in at_precision(w, Precision(INT8, INT8)).tensors.values())


def test_partial_sums_spill_at_the_accumulator_width():
    """One int8 linear layer M=4, K=4096, N=4 (128 output bits) with a 256-bit register file and 32-bit accumulators.

    By hand: the RF tile must hold A + B + partial sums at 32 bits: (2 x 4 + 4 x 2) x 8 + 2 x 2 x 32 = 256 bits, so
    the reduction runs in 4096 / 4 = 1024 chunks; every chunk but the last writes and reads back 16 x 32 bits,
    the last writes 16 x 8: RF output writes = 128 + 1023 x 512 = 523,904 bits; reads = 1023 x 512 + 128 (the final
    value moving up to the SRAM) = 523,904. At the output width (8-bit accumulator) they would be 4x smaller.
    """
    from dataclasses import replace

    w = at_precision(chain_workload([(4, 4096, 4)]), Precision(INT8, INT8))
    p = make_profile([level("rf", "register_file", 256, 1.0), level("sram", "sram", 1 << 20, 5.0),
                      level("dram", "dram", 1 << 40, 640.0)], extra_energy={"int8.add": 0.03, "int8.mult": 0.2})
    p = replace(p, compute=replace(p.compute, accumulator_bits=32))
    op = map_workload(w, p).ops[0]
    assert dict(op.tiles[0].sizes) == {"M": 2, "N": 2, "K": 4}
    assert op.traffic_bits[("rf", "outputs", "write")] == pytest.approx(128 + 1023 * 512)
    assert op.traffic_bits[("rf", "outputs", "read")] == pytest.approx(1023 * 512 + 128)
    assert op.traffic_bits[("dram", "outputs", "write")] == pytest.approx(128)


def test_precision_parse():
    assert Precision.parse("int8") == Precision(INT8, INT8)
    assert Precision.parse("w=int4, a=int8, acc=32") == Precision(DataType("int", 4), INT8, 32)
    with pytest.raises(ValueError, match="unknown part 'x'"):
        Precision.parse("x=int8")
    with pytest.raises(ValueError, match="accumulator bits"):
        Precision.parse("acc=big")


def test_run_precision_overrides_the_profile_and_sets_the_accumulator():
    w = chain_workload([(4, 8, 4)])
    p = load_profile("npu-ethos-n77")
    assert p.compute.precision == Precision(INT8, INT8)
    w16, p16 = resolve_precision(w, p, "w=int16,a=int16,acc=48")
    assert {t.dtype for t in w16.tensors.values()} == {DataType("int", 16)}
    assert p16.compute.accumulator_bits == 48


@pytest.mark.parametrize("profile, precision", [("npu-ethos-n77", "int8"), ("eyeriss", "int16"), ("eie", None)])
def test_integer_profiles_cost_float_models(profile, precision):
    """The integer-only shipped profiles used to refuse float models (energy.float32.mult: no entry)."""
    r = simulate(chain_workload([(8, 64, 32), (8, 32, 10)]), profile, precision=precision, engine="closed-form")
    assert r.total_energy_pj > 0
