"""stack_layers (issue 16's speed fix): a 2-block trace repeated to N blocks costs what the N-block trace costs."""

from __future__ import annotations

import dataclasses

import pytest

from models.llama import LLAMA_TINY, build_llama
from simulator import simulate
from simulator.hardware import load_profile, with_sram_bits
from simulator.trace import trace
from simulator.trace.stack import stack_layers


@pytest.mark.parametrize("start,tokens", [(0, 8), (8, 1)])
def test_stacked_trace_costs_the_same_as_the_full_trace(start, tokens):
    model = build_llama(dataclasses.replace(LLAMA_TINY, layers=5))
    full = trace(model.step(start), (*model.token_inputs(1, tokens), *model.empty_cache(1, start + tokens)))
    two = model.shallow(2)
    w2 = trace(two.step(start), (*two.token_inputs(1, tokens), *two.empty_cache(1, start + tokens)))
    stacked = stack_layers(w2, "model.layers.0", "model.layers.1", model.LAYER_PREFIX, 5)
    assert len(stacked.ops) == len(full.ops)
    # activation numbers count the model inputs too (the 2-block trace has fewer), so only the count of
    # activations matches; weights and inputs by name
    assert len(stacked.tensors) == len(full.tensors)
    assert {t for t in stacked.tensors if not t.startswith("act:")} == {t for t in full.tensors if not t.startswith("act:")}
    assert stacked.total_macs == full.total_macs
    assert [op.aten for op in stacked.ops] == [op.aten for op in full.ops]
    assert [op.module for op in stacked.ops] == [op.module for op in full.ops]
    for hw in (load_profile("horowitz45-full"), with_sram_bits(load_profile("horowitz45-full"), 1_000_000)):
        a = simulate(full, hw, engine="closed-form", timeline=False)
        b = simulate(stacked, hw, engine="closed-form", timeline=False)
        assert b.total_energy_pj == pytest.approx(a.total_energy_pj, rel=1e-12)
        assert b.latency_s == pytest.approx(a.latency_s, rel=1e-12)


def test_stack_refuses_different_blocks():
    model = build_llama(dataclasses.replace(LLAMA_TINY, layers=2))
    w = trace(model, model.token_inputs(1, 4))
    with pytest.raises(ValueError, match="missing or not contiguous"):
        stack_layers(w, "model.layers.0", "layers.1", "layers.{}", 4)
