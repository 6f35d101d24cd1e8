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


def test_activation_density_flag_is_applied_and_recorded(tmp_path):
    """``--activation-density``: a what-if density for every layer or per layer, recorded in the report."""
    outs = {}
    for name, extra in (("traced", []), ("all", ["--activation-density", "0.35"]),
                        ("one", ["--activation-density", "fc1=0.5"])):
        out = tmp_path / f"{name}.json"
        result = CliRunner().invoke(command, ["lenet_300_100", "--profile", "eyeriss", "--no-layers", "--json",
                                              str(out), *extra])
        assert result.exit_code == 0, result.output
        outs[name] = json.loads(out.read_text())
    # Eyeriss gates zero activations: fewer non-zeros, less MAC and scratchpad energy.
    assert outs["all"]["total_energy_pj"] < outs["one"]["total_energy_pj"] < outs["traced"]["total_energy_pj"]
    assert "=0.35" in json.dumps(outs["all"]) and "fc1=0.5" in json.dumps(outs["one"])


def test_bad_activation_density_is_a_usage_error():
    for bad in ("1.5", "fc1=x", "nolayer=0.3"):
        result = CliRunner().invoke(command, ["lenet_300_100", "--activation-density", bad, "--no-layers"])
        assert result.exit_code == 2, (bad, result.output)
