"""Typed example inputs (``models.input_spec``): the grammar, its errors, and deterministic values."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models.input_spec import InputSpec, make_inputs, parse_input_spec


def test_grammar():
    assert parse_input_spec("x:float32[8,3,224,224]") == InputSpec("x", torch.float32, (8, 3, 224, 224))
    assert parse_input_spec("float16[1,4]", 2) == InputSpec("input2", torch.float16, (1, 4))
    assert parse_input_spec("ids:int64[1,128]:0..1000") == InputSpec("ids", torch.int64, (1, 128), 0, 1000)


@pytest.mark.parametrize("text, words", [
    ("x:float32[8,3", "expected NAME:DTYPE[D0,D1,...]"),
    ("x:flot32[8,3]", "unknown dtype 'flot32'"),
    ("x:float32[8,0]", "positive dimensions"),
    ("x:float32[2,3]:0..5", "integer inputs"),
    ("ids:int64[1,4]:5..5", "empty value range"),
])
def test_errors_quote_the_spec(text, words):
    with pytest.raises(ValueError) as err:
        parse_input_spec(text)
    assert text in str(err.value) and words in str(err.value)


def test_token_ids_are_drawn_below_the_vocabulary_and_repeat():
    net = nn.Sequential(nn.Embedding(50, 8), nn.Linear(8, 2))
    (ids,) = make_inputs(["ids:int64[4,64]"], net)
    assert ids.dtype == torch.int64 and ids.shape == (4, 64)
    assert 0 <= int(ids.min()) and int(ids.max()) < 50 and len(ids.unique()) > 25  # spread over [0, 50)
    assert torch.equal(ids, make_inputs(["ids:int64[4,64]"], net)[0])  # seeded
    (ranged,) = make_inputs(["ids:int32[2,100]:7..9"], net)
    assert ranged.dtype == torch.int32 and set(ranged.unique().tolist()) == {7, 8}


def test_several_inputs_and_batch_override():
    x, mask = make_inputs(["x:float32[1,3,8,8]", "mask:bool[1,8]"], batch_size=8)
    assert x.shape == (8, 3, 8, 8) and mask.shape == (8, 8) and mask.dtype == torch.bool
    assert 0.0 <= float(x.min()) and float(x.max()) < 1.0


def test_api_takes_input_specs_for_a_module():
    """``trace_model``/``simulate`` accept ``inputs=`` for an ``nn.Module`` as for a model argument."""
    from simulator.api import trace_model

    net = nn.Sequential(nn.Embedding(100, 8), nn.Linear(8, 4))
    workload = trace_model(net, inputs=["ids:int64[3,10]"])
    assert workload.batch_size == 3 and sum(op.macs for op in workload.ops) == 3 * 10 * 8 * 4
