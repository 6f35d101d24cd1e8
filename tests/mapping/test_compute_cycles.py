"""One home for compute cycles (``simulator.mapping.compute``): the mapper's schedule and the no-reuse
baseline count the same compute cycles for every op, on an array profile and on a v1 (MACs/cycle) one."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from simulator.api import resolve_precision, trace_model
from simulator.energy import estimate_no_reuse
from simulator.hardware import load_profile
from simulator.mapping import map_workload
from simulator.mapping.compute import op_compute_cycles


class _Net(nn.Module):
    """A 3-channel conv (under-uses a 32 x 32 K x C array), a pool, a residual add and a linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.conv(x))
        y = self.pool(y + y)
        return self.fc(y.flatten(1))


@pytest.mark.parametrize("profile_name", ["zigzag-tpu-like", "horowitz45"])
def test_baseline_and_mapper_count_the_same_compute_cycles(profile_name):
    hw = load_profile(profile_name)
    workload, hw = resolve_precision(trace_model(_Net(), (torch.randn(1, 3, 16, 16),)), hw, None)
    schedule = map_workload(workload, hw)
    for op, mapped in zip(workload.ops, schedule.ops):
        assert mapped.compute_cycles == pytest.approx(op_compute_cycles(op, workload, hw), rel=1e-12), op.aten
    conv = next(s for s in schedule.ops if s.kind == "conv")
    if hw.compute.array is not None:
        # 16 x 16 pixels x 16 filters x 3 channels x 9 taps on 32 K-lanes x 32 C-lanes: one fold of 16 x 3 lanes,
        # 256 pixels x 9 taps = 2,304 cycles (not MACs / 1024 = 108), plus the bias adds: 4,096 / 1,024 lanes = 4.
        assert conv.compute_cycles == pytest.approx(2304 + 4)
    # The baseline is compute-bound with a DRAM fast enough: its cycles are the same per-op compute cycles.
    fast = replace(hw, levels=(*hw.levels[:-1], replace(hw.dram, bandwidth_bits_per_cycle=1e18)))
    assert estimate_no_reuse(workload, fast).cycles == pytest.approx(sum(s.compute_cycles for s in schedule.ops))
