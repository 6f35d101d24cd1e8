"""``pjsim simulate --precision``: integer profiles cost a float zoo model; a bad precision is a usage error."""

from __future__ import annotations

import json

from click.testing import CliRunner

from simulator.cli.cmd_simulate import command


def test_npu_int8_costs_a_float_model(tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(command, ["lenet_300_100", "--profile", "npu-ethos-n77", "--precision", "int8",
                                          "--no-layers", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["total_energy_pj"] > 0


def test_bad_precision_is_a_usage_error():
    result = CliRunner().invoke(command, ["lenet_300_100", "--precision", "w=int8,z=1"])
    assert result.exit_code == 2
    assert "unknown part 'z'" in result.output


def test_independent_layers_flag_costs_more_dram(tmp_path):
    """LeNet-300-100 fits horowitz45's 8 MB SRAM; layer by layer its activations still go through DRAM."""
    energies = []
    for extra in ([], ["--independent-layers"]):
        out = tmp_path / f"r{len(extra)}.json"
        result = CliRunner().invoke(command, ["lenet_300_100", "--no-layers", "--json", str(out), *extra])
        assert result.exit_code == 0, result.output
        energies.append(json.loads(out.read_text())["total_energy_pj"])
    assert energies[1] > energies[0]
