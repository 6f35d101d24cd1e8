"""A user's fixed mapping moves partial sums at the accumulator width until their final write (issue 13:
"partial sums move at the accumulator width until their final write"; ``fixed_apply.partial_output_levels``).

Hand count on ``scalesim-32x32-os`` (int8 operands, 32-bit accumulators): ``Linear(8, 4)`` on a batch of 2,
8 outputs, the reduction C = 8 split 2 at DRAM x 4 in the register file.
"""

from __future__ import annotations

import pytest
import torch

from simulator.api import resolve_precision, trace_model
from simulator.hardware import load_profile
from simulator.mapping import map_workload
from simulator.mapping.fixed import FixedMapping, LevelMapping, LoopProblem
from simulator.mapping.fixed_apply import apply_fixed_mappings, partial_output_levels


@pytest.fixture(scope="module")
def layer():
    model, x = torch.nn.Sequential(torch.nn.Linear(8, 4, bias=False)), torch.zeros(2, 8)
    return resolve_precision(trace_model(model, x), load_profile("scalesim-32x32-os"), None)


def _dram_outputs(layer, dram_loops) -> dict:
    wl, hw = layer
    fm = FixedMapping((LevelMapping("dram", dram_loops), LevelMapping("rf", (("B", 2), ("C", 4)))), layer="0")
    op = apply_fixed_mappings(map_workload(wl, hw, independent_layers=True), wl, hw, [fm]).ops[0]
    return {k[2]: v for k, v in op.traffic_bits.items() if k[:2] == ("dram", "outputs")}


def test_reduction_outside_the_output_loop_spills_partial_sums_at_32_bits(layer):
    """DRAM loops C 2 (outer) x K 4: each of the 8 outputs is written twice (16 updates) and read back once
    (the first read elided: 8 reads), all partial-sum traffic at 32 bits: 512 bits written, 256 read."""
    assert _dram_outputs(layer, (("C", 2), ("K", 4))) == {"write": 16 * 32, "read": 8 * 32}


def test_reduction_inside_the_output_loop_writes_final_outputs_at_8_bits(layer):
    """DRAM loops K 4 (outer) x C 2: the register file keeps each output tile across the C loop, so each output
    goes to DRAM once, final, at the 8-bit output width: 64 bits, no read back."""
    assert _dram_outputs(layer, (("K", 4), ("C", 2))) == {"write": 8 * 8}


def test_partial_levels_rule():
    proj = lambda *dims: tuple(((1, d),) for d in dims)
    problem = LoopProblem("p", (("B", 2), ("K", 4), ("C", 8)),
                          (("inputs", proj("B", "C")), ("weights", proj("C", "K")), ("outputs", proj("B", "K"))))
    nest = lambda top, mid: FixedMapping((LevelMapping("d", top), LevelMapping("s", mid), LevelMapping("r", (("B", 2),))))
    # the innermost level "r" serves the MACs: partial whenever the nest reduces over time
    assert partial_output_levels(problem, nest((("C", 2), ("K", 4)), (("C", 4),))) == {"d", "s", "r"}
    assert partial_output_levels(problem, nest((("K", 4), ("C", 2)), (("C", 4),))) == {"r"}
    assert partial_output_levels(problem, nest((("K", 4),), (("C", 8),))) == {"r"}
    assert partial_output_levels(problem, nest((("K", 2),), (("C", 8), ("K", 2)))) == {"s", "r"}
    no_reduction = LoopProblem("q", (("B", 2), ("K", 4)), (("inputs", proj("B")), ("weights", proj("K")),
                                                              ("outputs", proj("B", "K"))))
    assert partial_output_levels(no_reduction, nest((("K", 4),), ())) == frozenset()
