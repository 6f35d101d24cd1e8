"""Arithmetic lands under the component its profile rule prices it as (kills "compare priced under the wrong component")."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from simulator.api import simulate
from simulator.trace import trace


@pytest.mark.parametrize("engine", ["simpy", "baseline"])
def test_compare_is_compute_energy(engine):
    """2x2 max-pool of a 4x4 float32 map: 4 outputs x 3 compares = 12 compares; horowitz45 prices a compare as
    a float32 add (declared rule compare = add: 0.9 pJ), so compute holds 12 x 0.9 = 10.8 pJ and nothing is decode."""
    workload = trace(nn.Sequential(nn.MaxPool2d(2)).eval(), torch.zeros(1, 1, 4, 4), model_name="pool")
    report = simulate(workload, "horowitz45", engine=engine)
    by_component = {c: pj for (c,), pj in report.energy_by("component").items()}
    assert by_component["compute"] == pytest.approx(12 * 0.9)
    assert "decode" not in by_component
