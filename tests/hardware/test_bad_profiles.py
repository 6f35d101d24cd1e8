"""Bad profiles fail with one message naming the file, the key path, the expected and the found value."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.errors import ProfileError
from simulator.hardware import load_profile
from tests.conftest import TOY_PROFILE


def _expect(tmp_path: Path, text: str, key: str, expected: str, found: str) -> ProfileError:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    msg = str(err)
    assert msg.startswith(f"{path}: key '{key}': expected "), msg
    assert expected in msg and found in msg, msg
    assert (err.path, err.key) == (str(path), key)
    return err


@pytest.mark.parametrize(
    ("old", "new", "key", "expected", "found"),
    [
        # non-finite energies (TOML spells them inf / nan)
        ("mult = { value = 2,", "mult = { value = inf,", "energy.float32.mult.value", "a finite number", "inf"),
        ("add = { value = 1,", "add = { value = nan,", "energy.float32.add.value", "a finite number", "nan"),
        # negative energy
        ("value = 100, unit = \"pJ\"", "value = -100, unit = \"pJ\"", "memory.dram.read_energy.value", "a number >= 0", "-100"),
        # zero capacity
        ('capacity = { value = 1, unit = "KB"', 'capacity = { value = 0, unit = "KB"', "memory.sram.capacity.value", "a number > 0", "0"),
        # unknown unit
        ('capacity = { value = 1, unit = "KB"', 'capacity = { value = 1, unit = "kilobytes"', "memory.sram.capacity.unit", "one of", "'kilobytes'"),
        ('frequency = { value = 1, unit = "GHz"', 'frequency = { value = 1, unit = "GHZ"', "clock.frequency.unit", "'MHz'", "'GHZ'"),
        # typos in keys, at every depth
        ("[memory.sram]\nkind", "[memory.sram]\nkidn = \"sram\"\nkind", "memory.sram.kidn", "one of", "unknown key"),
        ("write_energy = { value = 10,", "write_energy = { valeu = 10,", "memory.sram.write_energy.valeu", "one of", "unknown key"),
        ("[clock]", "[clokc]\n[clock]", "clokc", "one of", "unknown key"),
        ("[energy.float32]", "[energy.flaot32]\nadd = { value = 1, unit = \"pJ\", source = \"t\" }\n[energy.float32]", "energy.flaot32", "a data type name", "'flaot32'"),
        ("mult = { value = 2,", "mul = { value = 2,", "energy.float32.mul", "one of", "unknown key"),
        # bad enumerations and types
        ('zero_handling = "none"', 'zero_handling = "skipp"', "compute.zero_handling", "one of ['skip', 'gate', 'none']", "'skipp'"),
        ('kind = "sram"', 'kind = "cache"', "memory.sram.kind", "one of", "'cache'"),
        ("macs_per_cycle = { value = 10,", "macs_per_cycle = { value = 10.5,", "compute.macs_per_cycle.value", "a whole number", "10.5"),
        ('frequency = { value = 1, unit = "GHz", source = "test" }', "frequency = 1", "clock.frequency", "a table {value, unit, source}", "1"),
        # a rule that does not exist, or on the wrong level
        ('read_energy = { value = 10, unit = "pJ", source = "test" }', 'read_energy = { rule = "sqrt_capacty" }', "memory.sram.read_energy.rule", "one of ['mac_multiple', 'sqrt_capacity']", "'sqrt_capacty'"),
        ('read_energy = { value = 100, unit = "pJ", source = "test" }', 'read_energy = { rule = "sqrt_capacity" }', "memory.dram.read_energy.rule", "only on a level of kind 'sram'", "'dram'"),
        ('read_energy = { value = 10, unit = "pJ", source = "test" }', 'read_energy = { rule = "sqrt_capacity" }', "rules.sqrt_capacity", "at least one reference point", "'none'"),
        ('read_energy = { value = 10, unit = "pJ", source = "test" }', 'read_energy = { rule = "mac_multiple", of = "int16", factor = { value = 6, source = "t" } }', "memory.sram.read_energy.of", "mult and add energies", "int16: no energy.int16.mult"),
        ('read_energy = { value = 10, unit = "pJ", source = "test" }', 'read_energy = { rule = "mac_multiple", of = "float32", factor = { value = -6, source = "t" } }', "memory.sram.read_energy.factor.value", "a number >= 0", "-6"),
        ('read_energy = { value = 10, unit = "pJ", source = "test" }', 'read_energy = { rule = "mac_multiple", of = "fp32", factor = { value = 6, source = "t" } }', "memory.sram.read_energy.of", "a data type name", "'fp32'"),
    ],
)
def test_bad_value_is_named(tmp_path, old, new, key, expected, found):
    assert old in TOY_PROFILE
    _expect(tmp_path, TOY_PROFILE.replace(old, new, 1), key, expected, found)


def test_missing_key_is_named(tmp_path):
    text = TOY_PROFILE.replace('latency = { value = 10, unit = "cycle", source = "test" }\n', "")
    _expect(tmp_path, text, "memory.dram.latency", "present", "missing")
    _expect(tmp_path, TOY_PROFILE.replace('zero_handling = "none"\n', ""), "compute.zero_handling", "present", "missing")


def test_missing_source_is_named(tmp_path):
    text = TOY_PROFILE.replace('word = { value = 32, unit = "bit", source = "test" }', 'word = { value = 32, unit = "bit" }', 1)
    _expect(tmp_path, text, "memory.sram.word.source", "present", "missing")


def test_dram_inside_sram_is_rejected(tmp_path):
    sram, dram = TOY_PROFILE.split("[memory.sram]")[1].split("[memory.dram]")
    text = TOY_PROFILE.split("[memory.sram]")[0] + "[memory.dram]" + dram + "\n[memory.sram]" + sram
    _expect(tmp_path, text, "memory.sram", "innermost to outermost", "sram after dram")


def test_two_drams_or_no_dram_are_rejected(tmp_path):
    text = TOY_PROFILE.replace('[memory.dram]\nkind = "dram"', '[memory.dram]\nkind = "sram"')
    _expect(tmp_path, text, "memory", "the outermost level to be of kind 'dram'", "'sram'")


def test_extends_cycle_names_the_chain(tmp_path):
    (tmp_path / "a.toml").write_text('[profile]\nname = "a"\nextends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('[profile]\nname = "b"\nextends = "a.toml"\n')
    with pytest.raises(ProfileError) as info:
        load_profile(tmp_path / "a.toml")
    assert info.value.key == "profile.extends" and "without a cycle" in info.value.expected
    assert "a.toml -> " in str(info.value.found) and str(info.value.found).endswith("a.toml")


def test_self_extends_is_a_cycle(tmp_path):
    (tmp_path / "a.toml").write_text('[profile]\nname = "a"\nextends = "a.toml"\n')
    with pytest.raises(ProfileError, match="cycle"):
        load_profile(tmp_path / "a.toml")


def test_unknown_parent_and_unknown_name(tmp_path):
    (tmp_path / "a.toml").write_text('[profile]\nname = "a"\nextends = "horowitz99"\n')
    with pytest.raises(ProfileError, match=r"key 'profile'.*a shipped profile name.*'horowitz99'"):
        load_profile(tmp_path / "a.toml")
    with pytest.raises(ProfileError, match="no such file"):
        load_profile(tmp_path / "missing.toml")


def test_invalid_toml_is_named(tmp_path):
    _expect(tmp_path, TOY_PROFILE + "\n[memory.dram\n", "(file)", "valid TOML", "")


def test_whatif_extends_is_five_lines(tmp_path):
    """A what-if that only changes one key inherits everything else, sources included."""
    path = tmp_path / "w.toml"
    path.write_text(
        '[profile]\nname = "h45-hot-dram"\nextends = "horowitz45"\n[memory.dram]\n'
        'read_energy = { value = 1300, unit = "pJ", source = "Horowitz ISSCC 2014: 1.3 nJ per 64 bits" }\n'
    )
    p = load_profile(path)
    assert p.dram.read_energy_pj == 1300 and p.dram.write_energy_pj == 640
    assert p.op_energy_pj("mult", __import__("simulator.workload").workload.DataType("int", 32)) == 3.1
    assert p.sources["memory.dram.read_energy"].startswith("Horowitz ISSCC 2014")


def test_bad_rule_tables_are_named(tmp_path):
    ref = '[rules.sqrt_capacity.r32k]\ncapacity = { value = 32, unit = "KiB", source = "t" }\nword = { value = 64, unit = "bit", source = "t" }\n'
    _expect(tmp_path, TOY_PROFILE + "\n[rules.sqrt_capacty.r]\n", "rules.sqrt_capacty", "one of ['sqrt_capacity']", "unknown key")
    _expect(tmp_path, TOY_PROFILE + "\n" + ref, "rules.sqrt_capacity.r32k.energy", "present", "missing")
    bad_unit = ref + 'energy = { value = 20, unit = "pj", source = "t" }\n'
    _expect(tmp_path, TOY_PROFILE + "\n" + bad_unit, "rules.sqrt_capacity.r32k.energy.unit", "one of", "'pj'")
