"""Profile format v2 memories: operand sets (bypass), update energy, read/write ports, instances; and the general
mapper routing each operand only through the levels that serve it."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.errors import ProfileError
from simulator.hardware import load_profile
from simulator.mapping import map_workload
from simulator.mapping.hierarchy import operand_levels, serving_level
from tests.memsim.builders import chain_workload

BASE = """
[profile]
name = "ops"
extends = "horowitz45"
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ops.toml"
    p.write_text(BASE + text)
    return p


def test_v1_levels_serve_every_operand():
    p = load_profile("horowitz45")
    assert all(lvl.operands == ("weights", "inputs", "outputs") and lvl.instances == 1 for lvl in p.levels)
    assert all(lvl.update_energy_pj is None and lvl.read_bandwidth_bits_per_cycle is None for lvl in p.levels)


def test_operands_ports_update_energy_and_instances(tmp_path):
    p = load_profile(_write(tmp_path, """
[memory.sram]
operands = ["outputs", "inputs"]
update_energy = { value = 7, unit = "pJ", source = "x" }
read_bandwidth = { value = 128, unit = "bit/cycle", source = "x" }
write_bandwidth = { value = 64, unit = "bit/cycle", source = "x" }
[memory.rf]
instances = { value = 4, source = "x" }
"""))
    sram = p.level("sram")
    assert sram.operands == ("inputs", "outputs")  # canonical order
    assert sram.update_energy_pj == 7 and p.sources["memory.sram.update_energy"] == "x"
    assert (sram.read_bandwidth_bits_per_cycle, sram.write_bandwidth_bits_per_cycle) == (128, 64)
    assert p.level("rf").instances == 4
    assert [lvl.name for lvl in operand_levels(p, "weights")] == ["rf", "dram"]
    assert serving_level(p, "weights", 1) == 2 and serving_level(p, "inputs", 1) == 1


@pytest.mark.parametrize("text,match", [
    ('[memory.sram]\noperands = ["weight"]', r"memory.sram.operands.*subset|memory.sram.operands.*operands from"),
    ('[memory.sram]\noperands = []', r"memory.sram.operands"),
    ('[memory.dram]\noperands = ["weights"]', r"memory.dram.operands.*all three operands"),
    ('[memory.rf]\ninstances = { value = 3, source = "x" }', r"memory.rf.instances.*dividing the capacity"),
])
def test_bad_v2_memory_keys_are_refused(tmp_path, text, match):
    with pytest.raises(ProfileError, match=match):
        load_profile(_write(tmp_path, text))


def test_mapper_routes_weights_around_a_level_that_does_not_serve_them(tmp_path):
    """Weights bypass the SRAM: none of their bits touch it; they go DRAM -> RF; inputs/outputs unchanged."""
    base = load_profile("horowitz45")
    bypass = load_profile(_write(tmp_path, '[memory.sram]\noperands = ["inputs", "outputs"]\n'))
    wl = chain_workload([(64, 256, 256)])
    s0, s1 = map_workload(wl, base), map_workload(wl, bypass)
    assert s0.ops[0].bits("sram", "weights") > 0
    assert s1.ops[0].bits("sram", "weights") == 0
    assert s1.ops[0].bits("rf", "weights", "write") > 0
    assert s1.ops[0].bits("dram", "weights", "read") >= 256 * 256 * 32  # at least compulsory
