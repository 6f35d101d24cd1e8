"""Profiles: the shipped ones load with a source on every number; bad files fail naming file, key, expected, found."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.errors import ProfileError
from simulator.hardware import list_profiles, load_profile, profile_path, resolve_profile_table
from simulator.workload import DataType
from tests.conftest import TOY_PROFILE


def _numeric_entries(table, prefix=""):
    """Every numeric entry ``{value, ...}`` of a resolved profile table, by key path."""
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and "value" in value:
            yield path, value
        elif isinstance(value, dict):
            yield from _numeric_entries(value, path)


@pytest.mark.parametrize("name", list_profiles())
def test_every_shipped_profile_loads_with_sources(name):
    """Each shipped profile loads; every numeric entry in its resolved table has a non-empty source."""
    profile = load_profile(name)
    entries = dict(_numeric_entries(resolve_profile_table(name)))
    assert entries, name
    for path, entry in entries.items():
        assert isinstance(entry.get("source"), str) and entry["source"].strip(), f"{name}: {path} has no source"
        assert profile.sources[path] == entry["source"].strip(), path
    # every loaded quantity (listed or rule-derived) has a source, and nothing else does
    expected = {"clock.frequency", "compute.macs_per_cycle", "compute.accumulator_bits"}
    expected |= {f"energy.{k}" for k in profile.compute.op_energy_pj}
    for lvl in profile.levels:
        expected |= {f"memory.{lvl.name}.{q}" for q in ("capacity", "word", "read_energy", "write_energy", "bandwidth", "latency", "leakage")}
    assert expected <= set(profile.sources), expected - set(profile.sources)
    assert all(source.strip() for source in profile.sources.values())


def test_shipped_profiles_have_a_header_comment():
    """Each shipped file opens with a comment saying what it models and its limits."""
    for name in list_profiles():
        text = profile_path(name).read_text()
        assert text.startswith(f"# {name}:"), name
        assert "What it models" in text, name
        assert "imit" in text, name  # "Limits" / "Limit:" / "limits"


def test_horowitz45_reproduces_the_lecture_table():
    """The seven numbers of Han et al. 2015 Fig. 1, exactly."""
    p = load_profile("horowitz45")
    assert p.op_energy_pj("add", DataType("int", 32)) == 0.1
    assert p.op_energy_pj("add", DataType("float", 32)) == 0.9
    assert p.op_energy_pj("mult", DataType("int", 32)) == 3.1
    assert p.op_energy_pj("mult", DataType("float", 32)) == 3.7
    assert p.level("rf").read_energy_pj == 1 and p.level("rf").word_bits == 32
    assert p.level("sram").read_energy_pj == 5 and p.level("sram").word_bits == 32
    assert p.level("dram").read_energy_pj == 640 and p.level("dram").word_bits == 32


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def _expect_error(path: Path, key: str, expected: str, found: str) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    msg = str(info.value)
    assert str(path) in msg and f"'{key}'" in msg, msg
    assert expected in msg and found in msg, msg


def test_missing_key_is_named(tmp_path):
    text = re.sub(r"read_energy = \{ value = 100.*\n", "", TOY_PROFILE)
    _expect_error(_write(tmp_path, text), "memory.dram.read_energy", "present", "missing")


def test_negative_energy_is_named(tmp_path):
    text = TOY_PROFILE.replace("mult = { value = 2,", "mult = { value = -2,")
    _expect_error(_write(tmp_path, text), "energy.float32.mult.value", "a number >= 0", "-2")


def test_wrong_type_is_named(tmp_path):
    text = TOY_PROFILE.replace("add = { value = 1,", 'add = { value = "one",')
    _expect_error(_write(tmp_path, text), "energy.float32.add.value", "a number", "'one'")


def test_unknown_key_is_named(tmp_path):
    text = TOY_PROFILE.replace("zero_handling", "zero_handlin")
    _expect_error(_write(tmp_path, text), "compute.zero_handlin", "one of", "unknown key")


def test_empty_source_is_rejected(tmp_path):
    text = TOY_PROFILE.replace('capacity = { value = 1, unit = "KB", source = "test" }', 'capacity = { value = 1, unit = "KB", source = "" }')
    _expect_error(_write(tmp_path, text), "memory.sram.capacity.source", "non-empty", "''")


def test_levels_out_of_order_are_rejected(tmp_path):
    sram, dram = TOY_PROFILE.split("[memory.sram]")[1].split("[memory.dram]")
    text = TOY_PROFILE.split("[memory.sram]")[0] + "[memory.dram]" + dram + "\n[memory.sram]" + sram
    _expect_error(_write(tmp_path, text), "memory.sram", "innermost to outermost", "sram after dram")


def test_extends_overrides_a_key(tmp_path):
    """A what-if is a few lines: extend horowitz45 and double nothing but the SRAM."""
    path = _write(
        tmp_path,
        '[profile]\nname = "h45-16mb"\nextends = "horowitz45"\n[memory.sram]\n'
        'capacity = { value = 16, unit = "MB", source = "what-if" }\n',
    )
    p = load_profile(path)
    assert p.name == "h45-16mb"
    assert p.level("sram").capacity_bits == 16 * 8 * 10**6
    assert p.level("sram").read_energy_pj == 5
    assert p.sources["memory.sram.capacity"] == "what-if"


def test_extends_cycle_is_rejected(tmp_path):
    (tmp_path / "a.toml").write_text('[profile]\nname = "a"\nextends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('[profile]\nname = "b"\nextends = "a.toml"\n')
    with pytest.raises(ProfileError, match="cycle"):
        load_profile(tmp_path / "a.toml")
