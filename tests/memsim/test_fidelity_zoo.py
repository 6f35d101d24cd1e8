"""Window vs full fidelity on zoo models (issue 15: the extrapolation's error < 1% on the zoo).

Every op of LeNet-5, ResNet-18 and MobileNetV2 on horowitz45-sram512k (weights and activations stream,
thousands of steps per op) with at most ``MAX_STEPS`` steps, played alone at both fidelities, with the
flat DRAM and the LPDDR4 device. Whole-model numbers, and ops with more steps (LeNet-5's 288,000 to
1,600,000-step layers), are measured by ``benchmarks/bench_memsim.py`` (``RESULTS-memsim.md``).
Before the head write-back of a step group streamed out while it computed, a MobileNetV2 op was 2.3% off
(the group's stores exposed after its last step), a ResNet-18 op 0.96%.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_memsim import per_op_errors
from simulator.api import trace_model
from simulator.hardware import load_profile
from simulator.mapping import map_workload
from simulator.memsim.dram_presets import DRAM_PRESETS

MAX_STEPS = 20_000


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lenet5", "resnet18", "mobilenet_v2"])
@pytest.mark.parametrize("dram", [None, "lpddr4-3200"])
def test_window_within_one_percent_of_full_on_every_op(name, dram):
    profile = load_profile("horowitz45-sram512k")
    schedule = map_workload(trace_model(name), profile)
    result = per_op_errors(schedule, profile, DRAM_PRESETS[dram] if dram else None, max_steps=MAX_STEPS)
    assert len(result["errors"]) >= 4  # LeNet-5: 4 of 7 ops; ResNet-18: 67 of 68; MobileNetV2: 144 of 151
    worst = max(result["errors"])
    assert worst < 0.01, f"{name}: worst per-op window error {worst:.4%}"
    assert abs(result["window_cycles"] - result["full_cycles"]) < 0.01 * result["full_cycles"]
