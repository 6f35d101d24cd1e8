"""bfloat16 is its own data type: traced as ``bfloat16`` and priced by a listed row or the declared sibling rule.

Hand arithmetic (simulator.hardware.rules, "bfloat16 from float16"): significand p = 8 (bf16) vs 11
(fp16) bits; from Horowitz's float16 rows (45 nm: mult 1.1 pJ, add 0.4 pJ) a bf16 mult costs
1.1 x (8/11)^2 = 0.5818 pJ and an add 0.4 x 8/11 = 0.2909 pJ.
"""

from __future__ import annotations

import math

import pytest
import torch

from simulator.hardware import load_profile
from simulator.hardware.rules import derive_op_energy
from simulator.trace import trace
from simulator.workload import DataType

BF16 = DataType("bfloat", 16)


def test_bfloat16_is_its_own_type():
    assert BF16.name == "bfloat16"
    assert DataType.parse("bfloat16") == BF16
    assert DataType.parse("float16") == DataType("float", 16)
    model = torch.nn.Linear(8, 4).to(torch.bfloat16)
    wl = trace(model, torch.randn(2, 8, dtype=torch.bfloat16))
    (op,) = wl.ops
    assert op.mac_dtype == BF16


def test_bfloat16_derived_from_float16_by_the_significand_rule():
    p = load_profile("horowitz45-full")
    mult = p.op_energy("mult", BF16)
    assert math.isclose(mult.energy_pj, 1.1 * (8 / 11) ** 2, rel_tol=1e-12)
    assert "bfloat16 from float16" in mult.source
    assert math.isclose(p.op_energy_pj("add", BF16), 0.4 * 8 / 11, rel_tol=1e-12)
    assert p.op_energy_pj("compare", BF16) == p.op_energy_pj("add", BF16)
    assert p.op_energy_pj("mult", BF16) < p.op_energy_pj("mult", DataType("float", 16))


def test_a_listed_bfloat16_row_wins_over_the_rule():
    table = {"float16.mult": 1.1, "bfloat16.mult": 0.7}
    v = derive_op_energy(table, {"energy.bfloat16.mult": "datasheet"}, "mult", "bfloat", 16, "x.toml")
    assert (v.energy_pj, v.source, v.rule) == (0.7, "datasheet", "")


def test_bfloat16_without_a_float16_row_is_refused():
    from simulator.errors import ProfileError

    with pytest.raises(ProfileError, match="float16"):
        derive_op_energy({"float32.mult": 3.7}, {}, "mult", "bfloat", 16, "x.toml")
