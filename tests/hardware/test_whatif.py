"""What-if edits of a profile: ``with_sram_bits`` resizes the global buffer through the profile's own rules."""

from __future__ import annotations

import pytest

from simulator.hardware import global_buffer_name, load_profile, with_sram_bits


def test_sram_resize_follows_the_profile_rules():
    """Resizing the SRAM of a file profile re-derives rule-based energies (√capacity) and keeps flat ones."""
    flat = [with_sram_bits(load_profile("horowitz45"), kb * 8000).level("sram") for kb in (32, 512, 8000)]
    assert [lvl.capacity_bits for lvl in flat] == [32 * 8000, 512 * 8000, 8000 * 8000]
    assert {lvl.read_energy_pj for lvl in flat} == {5.0}  # the lecture's flat 5 pJ
    scaled = [with_sram_bits(load_profile("horowitz45-full"), kb * 8000).levels_of_kind("sram")[0] for kb in (32, 512, 8000)]
    energies = [lvl.read_energy_pj for lvl in scaled]
    assert energies == sorted(energies) and energies[0] < energies[-1]  # bigger SRAM, dearer access


def test_with_sram_bits_resizes_only_the_global_buffer():
    """The level that decides fit (the one just inside DRAM) changes; every other level stays as loaded."""
    profile = load_profile("horowitz45")
    resized = with_sram_bits(profile, 64_000)
    assert global_buffer_name(profile) == "sram"
    assert resized.level("sram").capacity_bits == 64_000
    assert [lv for lv in resized.levels if lv.name != "sram"] == [lv for lv in profile.levels if lv.name != "sram"]


@pytest.mark.parametrize("bits", [0, -8, 1.5])
def test_with_sram_bits_refuses_nonsense(bits):
    with pytest.raises(ValueError, match="positive whole number"):
        with_sram_bits(load_profile("horowitz45"), bits)


def test_with_sram_bits_names_the_levels_when_the_level_is_unknown():
    with pytest.raises(ValueError, match="no on-chip level 'l9'.*rf, sram"):
        with_sram_bits(load_profile("horowitz45"), 8000, level="l9")
