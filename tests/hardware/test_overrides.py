"""Sweep overrides by dotted key path, the resolved-table API, digests and the load cache."""

from __future__ import annotations

import pickle

import pytest

from simulator.errors import ProfileError
from simulator.hardware import SWEEP_OVERRIDE_SOURCE, load_profile, profile_digest, resolve_profile_table
from simulator.workload import DataType


def test_number_override_keeps_the_unit_and_marks_the_source():
    """memory.sram.capacity = 256 keeps unit MB: 256 MB = 256 × 8e6 bits."""
    p = load_profile("horowitz45", overrides={"memory.sram.capacity": 256})
    assert p.level("sram").capacity_bits == 256 * 8 * 10**6
    assert p.sources["memory.sram.capacity"] == SWEEP_OVERRIDE_SOURCE
    assert p.sources["memory.sram.read_energy"] != SWEEP_OVERRIDE_SOURCE
    assert load_profile("horowitz45").level("sram").capacity_bits == 8 * 8 * 10**6  # the cached one is untouched


def test_string_and_energy_overrides():
    p = load_profile(
        "horowitz45", overrides={"compute.zero_handling": "skip", "energy.int32.mult": 6.2, "clock.frequency": 400}
    )
    assert p.zero_handling == "skip"
    assert p.op_energy_pj("mult", DataType("int", 32)) == 6.2
    assert p.clock_hz == 400e6  # unit MHz kept


def test_override_changes_a_rule_derived_energy():
    """Sweeping the SRAM size of horowitz45-full moves its √capacity energy: 4× the bank -> 2× the energy."""
    base = load_profile("horowitz45-full").level("sram").read_energy_pj
    big = load_profile("horowitz45-full", overrides={"memory.sram.capacity": 32}).level("sram").read_energy_pj
    assert big == pytest.approx(2 * base)
    fewer_banks = load_profile("horowitz45-full", overrides={"memory.sram.banks": 16}).level("sram")
    assert fewer_banks.read_energy_pj == pytest.approx(2 * base)


def test_override_of_a_rule_reference_and_a_ladder_factor():
    p = load_profile("eyeriss", overrides={"memory.dram.read_energy.factor": 100})
    assert p.dram.read_energy_pj == pytest.approx(151.51)  # 100 × 1.5151 pJ (the 65 nm int16 MAC)
    assert p.sources["memory.dram.read_energy.factor"] == SWEEP_OVERRIDE_SOURCE
    q = load_profile("horowitz45-full", overrides={"rules.sqrt_capacity.sram_32k.energy": 40})
    assert q.level("sram").read_energy_pj == pytest.approx(2 * load_profile("horowitz45-full").level("sram").read_energy_pj)


def test_full_table_override_replaces_a_rule_entry():
    p = load_profile(
        "horowitz45-full",
        overrides={"memory.sram.read_energy": {"value": 7, "unit": "pJ", "source": "what-if"}},
    )
    assert p.level("sram").read_energy_pj == 7 and p.sources["memory.sram.read_energy"] == "what-if"


@pytest.mark.parametrize(
    ("overrides", "key", "found"),
    [
        ({"memory.sram.capacty": 1}, "memory.sram.capacty", "no key 'memory.sram.capacty'"),
        ({"memory.l2.capacity": 1}, "memory.l2.capacity", "no key 'memory.l2'"),
        ({"energy.int16.mult": 1}, "energy.int16.mult", "no key 'energy.int16'"),
        ({"compute.zero_handling.value": 1}, "compute.zero_handling.value", "no key 'compute.zero_handling.value'"),
    ],
)
def test_unknown_override_path_is_named(overrides, key, found):
    with pytest.raises(ProfileError) as info:
        load_profile("horowitz45", overrides=overrides)
    assert info.value.key == key and found in str(info.value.found)
    assert "an override path that exists" in str(info.value)


def test_bad_override_values_fail_like_bad_files():
    with pytest.raises(ProfileError, match=r"'memory\.sram\.capacity\.value': expected a number > 0, found 0"):
        load_profile("horowitz45", overrides={"memory.sram.capacity": 0})
    with pytest.raises(ProfileError, match=r"'compute\.zero_handling': expected one of"):
        load_profile("horowitz45", overrides={"compute.zero_handling": "sometimes"})
    with pytest.raises(ProfileError, match=r"'memory\.sram': expected a table"):
        load_profile("horowitz45", overrides={"memory.sram": 3})
    with pytest.raises(ProfileError, match="derived by a rule"):
        load_profile("horowitz45-full", overrides={"memory.sram.read_energy": 3})


def test_resolved_table_and_digest():
    """The resolved table is a fresh dict with extends merged; the digest tells variants apart."""
    t = resolve_profile_table("horowitz45-sram512k")
    assert t["memory"]["sram"]["capacity"]["value"] == 512 and t["energy"]["int32"]["mult"]["value"] == 3.1
    assert "extends" not in t["profile"]
    t["memory"]["sram"]["capacity"]["value"] = 1  # the caller's copy: the cache is not touched
    assert resolve_profile_table("horowitz45-sram512k")["memory"]["sram"]["capacity"]["value"] == 512
    v = resolve_profile_table("horowitz45", {"memory.sram.capacity": 2})
    assert v["memory"]["sram"]["capacity"] == {**resolve_profile_table("horowitz45")["memory"]["sram"]["capacity"], "value": 2, "source": SWEEP_OVERRIDE_SOURCE}
    d0 = profile_digest("horowitz45")
    assert d0 == profile_digest("horowitz45", {}) != profile_digest("horowitz45", {"memory.sram.capacity": 2})
    assert profile_digest("horowitz45", {"memory.sram.capacity": 2}) == profile_digest("horowitz45", {"memory.sram.capacity": 2})


def test_cache_returns_the_same_profile_until_the_file_changes(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[profile]\nname = "c1"\nextends = "horowitz45"\n')
    a = load_profile(path)
    assert load_profile(path) is a
    import os

    path.write_text('[profile]\nname = "c2"\nextends = "horowitz45"\n')
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # make sure the mtime moves
    assert load_profile(path).name == "c2"


def test_profiles_pickle_and_hash():
    """Profiles cross process boundaries (sweeps); the lookup memo is not part of equality or hash."""
    p = load_profile("horowitz45-full")
    p.op_energy_pj("mult", DataType("int", 16))  # fills the memo
    q = pickle.loads(pickle.dumps(p))
    assert q == p and hash(q) == hash(p)
    assert q.op_energy_pj("mult", DataType("int", 16)) == pytest.approx(0.8)
