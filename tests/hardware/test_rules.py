"""Derivation rules on hand-computed examples, the lecture's numbers, and monotonicity properties."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import ProfileError
from simulator.hardware import load_profile
from simulator.hardware.rules import (
    BIT_WIDTH_RULES,
    derive_op_energy,
    power_law_from_references,
    sqrt_capacity_energy,
)
from simulator.workload import DataType

INT = lambda bits: DataType("int", bits)  # noqa: E731
FLOAT = lambda bits: DataType("float", bits)  # noqa: E731
KIB = 8 * 1024  # bits in a KiB

#: Horowitz ISSCC 2014 SRAM points: (capacity bits, word bits, pJ per access, label).
HOROWITZ_SRAM = [(8 * KIB, 64, 10.0, "8k"), (32 * KIB, 64, 20.0, "32k"), (1024 * KIB, 64, 100.0, "1m")]


def test_horowitz45_lecture_numbers_are_exact():
    """The seven numbers of Han 2015 Fig. 1, read back exactly (no rule touches a listed row)."""
    p = load_profile("horowitz45")
    assert p.op_energy_pj("add", INT(32)) == 0.1
    assert p.op_energy_pj("add", FLOAT(32)) == 0.9
    assert p.op_energy_pj("mult", INT(32)) == 3.1
    assert p.op_energy_pj("mult", FLOAT(32)) == 3.7
    assert (p.level("rf").read_energy_pj, p.level("rf").word_bits) == (1, 32)
    assert (p.level("sram").read_energy_pj, p.level("sram").word_bits) == (5, 32)
    assert (p.level("dram").read_energy_pj, p.level("dram").word_bits) == (640, 32)
    assert p.op_energy("add", INT(32)).rule == ""  # listed, not derived


def test_int_mult_bits_squared_from_the_8bit_row():
    """horowitz45-full: 8-bit mult listed 0.2 pJ; 16-bit mult derived 0.2 × (16/8)² = 0.8 pJ."""
    p = load_profile("horowitz45-full")
    assert p.op_energy_pj("mult", INT(8)) == 0.2
    v = p.op_energy("mult", INT(16))
    assert v.energy_pj == pytest.approx(0.2 * (16 / 8) ** 2) == pytest.approx(0.8)
    assert v.rule == "int mult ∝ bits²"
    assert "int8.mult 0.2 pJ" in v.source and v.source.startswith("derived:")
    # 24 bit: nearest listed row at or below is int8: 0.2 × 3² = 1.8 pJ (< the 32-bit row 3.1, no cap)
    assert p.op_energy_pj("mult", INT(24)) == pytest.approx(1.8)
    # 64 bit: from the 32-bit row: 3.1 × 2² = 12.4 pJ
    assert p.op_energy_pj("mult", INT(64)) == pytest.approx(12.4)
    # 4 bit: below the narrowest row, scaled down from int8: 0.2 × (4/8)² = 0.05 pJ
    assert p.op_energy_pj("mult", INT(4)) == pytest.approx(0.05)


def test_int_add_linear_in_bits_and_capped_by_the_next_row():
    """horowitz45-full adds: int8 0.03, int16 0.05, int32 0.1 pJ listed."""
    p = load_profile("horowitz45-full")
    assert p.op_energy_pj("add", INT(12)) == pytest.approx(0.03 * 12 / 8)  # 0.045 pJ
    v14 = p.op_energy("add", INT(14))  # 0.03 × 14/8 = 0.0525 > int16's 0.05 -> capped at 0.05
    assert v14.energy_pj == pytest.approx(0.05) and "capped at the next listed row int16.add" in v14.source
    assert p.op_energy_pj("add", INT(24)) == pytest.approx(0.05 * 24 / 16)  # 0.075 pJ
    # horowitz45 lists only 32-bit rows: 8-bit add = 0.1 × 8/32 = 0.025 pJ, 8-bit mult = 3.1 / 16 = 0.19375 pJ
    h = load_profile("horowitz45")
    assert h.op_energy_pj("add", INT(8)) == pytest.approx(0.025)
    assert h.op_energy_pj("mult", INT(8)) == pytest.approx(3.1 / 16)


def test_compare_is_priced_as_add():
    """compare = add of the same type, whether the add is listed or itself derived."""
    p = load_profile("horowitz45")
    assert p.op_energy_pj("compare", FLOAT(32)) == 0.9
    v = p.op_energy("compare", INT(8))  # add derived: 0.1 × 8/32
    assert v.energy_pj == pytest.approx(0.025) and "compare priced as add" in v.source and "int add ∝ bits" in v.source


def test_float_exp_and_decode_are_never_derived():
    """A value neither listed nor derivable is a ProfileError naming the key path."""
    p = load_profile("horowitz45")
    with pytest.raises(ProfileError, match=r"'energy\.float16\.mult'.*never derived"):
        p.op_energy_pj("mult", FLOAT(16))
    with pytest.raises(ProfileError, match=r"'energy\.float32\.exp'"):
        p.op_energy_pj("exp", FLOAT(32))
    eie = load_profile("eie")
    with pytest.raises(ProfileError, match=r"'energy\.decode\.huffman_symbol'"):
        eie.decode_energy_pj("huffman_symbol")
    with pytest.raises(ProfileError, match=r"'energy\.float32\.add'"):
        eie.op_energy_pj("add", FLOAT(32))


def test_decode_energies():
    """Codebook lookup and Huffman symbol decode are listed per step."""
    p = load_profile("horowitz45")
    assert p.decode_energy_pj("codebook") == 1.0
    assert p.decode_energy_pj("huffman_symbol") == pytest.approx(1.1)
    assert load_profile("eie").decode_energy_pj("codebook") == 0.5


def test_sram_sqrt_capacity_hand_examples():
    """Horowitz: 32 KB SRAM 20 pJ per 64-bit access -> per 32-bit access 20 / 2 = 10 pJ."""
    e32k, how = sqrt_capacity_energy(32 * KIB, 32, HOROWITZ_SRAM)
    assert e32k == pytest.approx(20 / 2) and "listed" in how
    # 128 KB per 64-bit access, from the 32 KB point: 20 × √(128/32) = 40 pJ (below the 1 MB cap of 100)
    assert sqrt_capacity_energy(128 * KIB, 64, HOROWITZ_SRAM)[0] == pytest.approx(40.0)
    # 16 KB per 64 bits from the 8 KB point: 10 × √2 = 14.14 pJ
    assert sqrt_capacity_energy(16 * KIB, 64, HOROWITZ_SRAM)[0] == pytest.approx(10 * math.sqrt(2))
    # 900 KB: 20 × √(900/32) = 106 > 100 -> capped at the 1 MB point's 100 pJ
    e900, how = sqrt_capacity_energy(900 * KIB, 64, HOROWITZ_SRAM)
    assert e900 == pytest.approx(100.0) and "capped" in how
    # 4 MB: 100 × √4 = 200 pJ per 64 bits; 2 KB: 10 × √(1/4) = 5 pJ
    assert sqrt_capacity_energy(4096 * KIB, 64, HOROWITZ_SRAM)[0] == pytest.approx(200.0)
    assert sqrt_capacity_energy(2 * KIB, 64, HOROWITZ_SRAM)[0] == pytest.approx(5.0)


SQRT_PROFILE = textwrap.dedent(
    """
    [profile]
    name = "sqrt-test"
    extends = "horowitz45-full"
    [memory.sram]
    capacity = {{ value = {kib}, unit = "KiB", source = "test" }}
    banks = {{ value = {banks}, source = "test" }}
    """
)


def test_sqrt_capacity_rule_in_a_profile(tmp_path: Path):
    """A 32 KiB single-bank SRAM with 32-bit words costs 20 / 2 = 10 pJ; its source names rule and row."""
    path = tmp_path / "p.toml"
    path.write_text(SQRT_PROFILE.format(kib=32, banks=1))
    p = load_profile(path)
    sram = p.level("sram")
    assert sram.read_energy_pj == pytest.approx(10.0) and sram.write_energy_pj == pytest.approx(10.0)
    assert p.sources["memory.sram.read_energy"].startswith("derived: SRAM energy ∝ √capacity")
    assert "rules.sqrt_capacity.sram_32k" in p.sources["memory.sram.read_energy"]
    # 8 banks of 32 KiB = 256 KiB: one access costs one 32 KiB bank's 10 pJ
    path.write_text(SQRT_PROFILE.format(kib=256, banks=8))
    assert load_profile(path).level("sram").read_energy_pj == pytest.approx(10.0)


def test_horowitz45_full_sram_energy():
    """8 MB in 64 banks: bank 125,000 B = 122.07 KiB -> 20 × √(122.07/32) / 2 = 19.53 pJ per 32 bits."""
    p = load_profile("horowitz45-full")
    bank_kib = 8e6 / 64 / 1024
    assert p.level("sram").read_energy_pj == pytest.approx(20 * math.sqrt(bank_kib / 32) / 2)
    assert p.level("sram").read_energy_pj == pytest.approx(19.53, abs=0.01)


def test_eyeriss_ladder():
    """Eyeriss: MAC = (0.8 + 0.05 pJ at 45 nm) x 1.783 (65 nm, 1.0 V by C V^2) = 1.426 + 0.0891 = 1.515 pJ;
    RF 1x, array 2x, GLB 6x, DRAM 200x (Chen, Emer, Sze, ISCA 2016, Table IV)."""
    p = load_profile("eyeriss")
    mac = p.mac_energy_pj(INT(16))
    assert mac == pytest.approx(0.85 * (65 / 45) * (1.0 / 0.9) ** 2, rel=1e-3)
    ladder = {lvl.name: lvl.read_energy_pj / mac for lvl in p.levels}
    assert ladder == pytest.approx({"rf": 1, "array": 2, "glb": 6, "dram": 200})
    assert p.level("dram").read_energy_pj == pytest.approx(303.02)
    assert "200 × one int16 MAC" in p.sources["memory.dram.read_energy"]
    assert p.sources["memory.dram.read_energy.factor"].startswith("Chen, Emer, Sze, ISCA 2016, Table IV")
    assert (p.compute.macs_per_cycle, p.clock_hz, p.level("glb").capacity_bits) == (168, 200e6, 108_000 * 8)


def test_memory_energy_per_bit_at_the_access_width():
    """Moving n bits costs n × energy / word: 8 bits through a 32-bit 640 pJ DRAM = 160 pJ."""
    dram = load_profile("horowitz45").dram
    assert dram.access_energy_pj(8) == pytest.approx(160.0)
    assert dram.access_energy_pj(64, "write") == pytest.approx(1280.0)


# ---------------------------------------------------------------------------------------------------------
# Properties: derived energies never decrease with bits or capacity when the listed rows do not.

_widths = st.lists(st.integers(1, 64), min_size=1, max_size=4, unique=True).map(sorted)


@st.composite
def _monotone_rows(draw):
    widths = draw(_widths)
    steps = draw(st.lists(st.floats(0.0, 5.0), min_size=len(widths), max_size=len(widths)))
    energies, total = [], draw(st.floats(0.001, 1.0))
    for s in steps:
        total += s
        energies.append(total)
    return list(zip(widths, energies))


@settings(max_examples=50, deadline=None)
@given(rows=_monotone_rows(), operation=st.sampled_from(["add", "mult", "compare"]))
def test_derived_int_energy_is_monotone_in_bits(rows, operation):
    table = {f"int{b}.{'add' if operation == 'compare' else operation}": e for b, e in rows}
    values = [derive_op_energy(table, {}, operation, "int", b, "t").energy_pj for b in range(1, 97)]
    assert all(b >= a - 1e-12 for a, b in zip(values, values[1:])), values
    for b, e in rows:  # listed rows stay exact
        assert values[b - 1] == e


@settings(max_examples=50, deadline=None)
@given(
    points=st.lists(st.integers(1, 4096), min_size=1, max_size=4, unique=True).map(sorted),
    growth=st.lists(st.floats(0.0, 3.0), min_size=4, max_size=4),
    word=st.sampled_from([8, 16, 32, 64, 128]),
)
def test_derived_sram_energy_is_monotone_in_capacity(points, growth, word):
    energy, refs = 1.0, []
    for kib, g in zip(points, growth):
        energy += g
        refs.append((kib * KIB, 64, energy, f"{kib}k"))
    caps = sorted({c for c in range(1, 8192, 37)} | {p for p in points})
    values = [sqrt_capacity_energy(c * KIB, word, refs)[0] for c in caps]
    assert all(b >= a - 1e-9 for a, b in zip(values, values[1:]))


@settings(max_examples=50, deadline=None)
@given(bits=st.integers(1, 128), more=st.integers(1, 64))
def test_shipped_full_profile_is_monotone(bits, more):
    """On horowitz45-full (Horowitz's own rows) int add and mult never get cheaper with more bits."""
    p = load_profile("horowitz45-full")
    for op in ("add", "mult"):
        assert p.op_energy_pj(op, INT(bits + more)) >= p.op_energy_pj(op, INT(bits))


def test_nearest_on_either_side_would_not_be_monotone():
    """Why the rule starts below: from int16 a 13-bit add would cost 0.05 × 13/16 = 0.041 < 0.045 at 12 bits."""
    rule = BIT_WIDTH_RULES[("int", "add")]
    assert rule.scale(0.05, 13, 16) < rule.scale(0.03, 12, 8)
    refs = [(8, 0.03, "int8.add"), (16, 0.05, "int16.add")]
    assert power_law_from_references(rule, 13, refs)[0] > power_law_from_references(rule, 12, refs)[0]
