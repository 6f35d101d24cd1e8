"""Linear quantization: at most 2^n levels, zero exact, error within half a step; activation hooks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from simulator.compress import ActivationQuantize, LinearQuantize, quantize_tensor
from simulator.compress.base import TRANSFORMS


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("per_channel", [True, False])
def test_levels_zero_and_error(symmetric, per_channel):
    torch.manual_seed(0)
    x = torch.randn(8, 30)
    x[0, :5] = 0
    q = quantize_tensor(x, 4, symmetric, per_channel)
    rows = q if per_channel else q.reshape(1, -1)
    for row in rows:
        assert len(torch.unique(row)) <= 16
    assert bool((q[0, :5] == 0).all())
    span = (x.abs().amax(1, keepdim=True) * 2 / 14) if per_channel and symmetric else None
    if span is not None:
        assert bool(((q - x).abs() <= span / 2 + 1e-6).all())


def test_transforms_registered_and_compose():
    assert {"prune", "share", "quantize", "huffman", "quantize-activations"} <= set(TRANSFORMS)
    model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 2))
    qmodel, rec = LinearQuantize(bits=6).apply(model)
    assert rec.encodings["0.weight"].value_bits == 6 and len(torch.unique(qmodel[0].weight)) <= 64
    amodel, rec2 = ActivationQuantize(bits=3, calibration=torch.randn(64, 10)).apply(qmodel, rec)
    assert rec2.steps[0].startswith("linear quantization") and "activations" in rec2.steps[1]
    out = amodel[0](torch.randn(100, 10))
    assert len(torch.unique(out)) <= 8


def test_per_tensor_quantized_model_packs_bit_exact(tmp_path):
    from simulator.storage import pack, read_record, unpack

    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 4))
    qmodel, rec = LinearQuantize(bits=4, symmetric=False).apply(model)
    pack(qmodel, rec, tmp_path / "q.pjc")
    state = unpack(tmp_path / "q.pjc")
    assert torch.equal(state["0.weight"], qmodel[0].weight.detach())
    packed = read_record(tmp_path / "q.pjc").encodings["0.weight"]
    assert packed.value_bits == 4 and packed.codebook_entries == 16  # all 2^4 entries, as the record says
    assert packed.stored_bits(1200) == rec.encodings["0.weight"].stored_bits(1200) == 1200 * 4 + 16 * 32
