"""``simulate(mapping=...)`` / ``pjsim simulate --mapping``: fixed mappings replace the search for the layers they name."""

from __future__ import annotations

import pytest
import torch

from simulator.api import resolve_precision, simulate, trace_model
from simulator.hardware import load_profile
from simulator.mapping import map_workload
from simulator.mapping.fixed import FixedMapping, LevelMapping
from simulator.mapping.fixed_apply import apply_fixed_mappings
from simulator.mapping.schedule import MappingError

def _conv1d_oc():
    """Timeloop tutorial exercise 03's problem as a torch layer: Conv1D_OC K=32, R=3, P=16 (input 18)."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv1d(1, 32, 3, bias=False))
    return model, torch.zeros(1, 1, 18)


def _ex03(rf_temporal=(("K", 2), ("FX", 3))):
    """03-model-conv1d+oc-3level/map/conv1d+oc-3level.map.yaml with pjsim's dim names (P -> OX, R -> FX)."""
    return FixedMapping(
        (LevelMapping("MainMemory"), LevelMapping("GlobalBuffer", (("K", 16), ("OX", 16))), LevelMapping("RegisterFile", rf_temporal)),
        layer="0",
    )


def test_traced_conv1d_with_the_tutorial_mapping_moves_timeloops_counts():
    """Traffic (8-bit words) equals 03-model-conv1d+oc-3level/ref-output/no-bypass/timeloop-model.stats.txt:
    reads = Scalar reads; writes = Scalar fills + Scalar updates (per level and data space)."""
    model, x = _conv1d_oc()
    wl, hw = resolve_precision(trace_model(model, x), load_profile("timeloop-tutorial-3level"), None)
    sched = apply_fixed_mappings(map_workload(wl, hw, independent_layers=True), wl, hw, [_ex03()]).ops[0]
    words = {k: v / 8 for k, v in sched.traffic_bits.items()}
    expected = {  # (level, operand): (reads, fills + updates) from the stats file above
        ("MainMemory", "weights"): (96, 0), ("MainMemory", "inputs"): (18, 0), ("MainMemory", "outputs"): (0, 512),
        ("GlobalBuffer", "weights"): (96, 96), ("GlobalBuffer", "inputs"): (288, 18), ("GlobalBuffer", "outputs"): (0, 512),
        ("RegisterFile", "weights"): (1536, 96), ("RegisterFile", "inputs"): (1536, 288), ("RegisterFile", "outputs"): (1024, 1536),
    }
    for (level, operand), (reads, writes) in expected.items():
        assert words.get((level, operand, "read"), 0) == reads, (level, operand)
        assert words.get((level, operand, "write"), 0) == writes, (level, operand)
    assert sched.mapping == "fixed" and sched.compute_cycles == 1536  # Timeloop: Cycles 1536


def test_simulate_with_a_fixed_mapping_and_its_refusals():
    model, x = _conv1d_oc()
    report = simulate(model, "timeloop-tutorial-3level", x, mapping=_ex03(), layers="independent", engine="closed-form")
    assert report.total_energy_pj > 0
    # RegisterFile tile K=32 x R=3: weights 96 + inputs 3 + outputs 32 words = 1048 bits > 512 bits.
    too_big = _ex03(rf_temporal=(("K", 32), ("FX", 3)))
    too_big = FixedMapping((too_big.levels[0], LevelMapping("GlobalBuffer", (("OX", 16),)), too_big.levels[2]), layer="0")
    with pytest.raises(MappingError, match=r"level 'RegisterFile': tile weights 96 words, inputs 3 words, outputs 32 words = 1048 bits > capacity 512 bits"):
        simulate(model, "timeloop-tutorial-3level", x, mapping=too_big, engine="closed-form")
    with pytest.raises(MappingError, match=r"name layers \['conv9'\].*layers with MACs: \['0'\]"):
        simulate(model, "timeloop-tutorial-3level", x, mapping=FixedMapping(_ex03().levels, layer="conv9"), engine="closed-form")
    with pytest.raises(MappingError, match="level 'SRAM' is not in profile"):
        simulate(model, "timeloop-tutorial-3level", x, mapping=FixedMapping((LevelMapping("MainMemory"), LevelMapping("SRAM", (("K", 32), ("OX", 16), ("FX", 3)))), layer="0"), engine="closed-form")


MAPPING_TOML = """
[[mapping]]
layer = "conv1"                      # lenet5's first conv: K=20 C=1 OY=OX=24 FY=FX=5
[[mapping.level]]
name = "dram"
temporal = [["K", 20]]
[[mapping.level]]
name = "sram"
temporal = [["OY", 24], ["OX", 24]]
[[mapping.level]]
name = "rf"
temporal = [["FY", 5], ["FX", 5]]
"""


def test_cli_mapping_option(tmp_path):
    from click.testing import CliRunner

    from simulator.cli.main import cli

    path = tmp_path / "m.toml"
    path.write_text(MAPPING_TOML)
    r = CliRunner().invoke(cli, ["simulate", "lenet5", "--mapping", str(path), "--engine", "closed-form"])
    assert r.exit_code == 0, r.output
    path.write_text(MAPPING_TOML.replace('["K", 20]', '["K", 10]'))
    r = CliRunner().invoke(cli, ["simulate", "lenet5", "--mapping", str(path), "--engine", "closed-form"])
    assert isinstance(r.exception, MappingError)  # the entry point prints it as one line, exit 1
    assert "factors of 'K' multiply to 10, bound is 20" in str(r.exception)
