"""``pjsim profiles list|show``: every shipped profile is listed; show prints values, derived rows and sources."""

from __future__ import annotations

from click.testing import CliRunner

from simulator.cli.cmd_profiles import command
from simulator.hardware import list_profiles


def test_list_shows_every_shipped_profile():
    result = CliRunner().invoke(command, ["list"])
    assert result.exit_code == 0, result.output
    for name in list_profiles():
        assert name in result.output
    assert "horowitz45-sram512k" in result.output and "512 KB" in result.output


def test_show_prints_listed_and_derived_energies_with_sources():
    result = CliRunner().invoke(command, ["show", "horowitz45-full"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "int16.mult" in out and "0.8 pJ" in out and "derived: int mult ∝ bits² from int8.mult 0.2 pJ" in out
    assert "Horowitz, ISSCC 2014, Fig. 1.1.9" in out
    assert "19.53 pJ" in out  # the √capacity SRAM
    assert "memory.sram.read_energy" in out and "SRAM energy ∝ √capacity" in out


def test_show_unknown_profile_fails_with_the_profile_error():
    result = CliRunner().invoke(command, ["show", "horowitz99"])
    assert result.exit_code != 0
    assert "horowitz99" in str(result.exception)
