"""Tracing on the meta device: same workload as on real tensors, no weight memory, model left untouched."""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn
from torch.nn.utils import prune

from models import model_spec
from simulator.trace import trace


def test_meta_trace_equals_real_trace_and_leaves_model_untouched():
    """LeNet-5 traced with device='meta' has the real trace's ops, MACs and peak; its weights stay on CPU."""
    spec = model_spec("lenet5")
    model = spec.factory().eval()
    before = model.conv1.weight.detach().clone()
    real = trace(model, spec.example_input())
    meta = trace(model, spec.example_input(), device="meta")
    assert [(o.aten, o.module, o.macs, o.accesses) for o in meta.ops] == [
        (o.aten, o.module, o.macs, o.accesses) for o in real.ops
    ]
    assert meta.peak_activation_bits == real.peak_activation_bits
    # the same tensors; only real tensors carry a measured activation density
    assert {n: replace(t, measured_density=None) for n, t in real.tensors.items()} == dict(meta.tensors)
    assert all(t.measured_density is None for t in meta.tensors.values())
    assert model.conv1.weight.device.type == "cpu" and torch.equal(model.conv1.weight, before)


def test_model_built_on_meta_traces():
    """A model constructed under torch.device('meta') traces directly (inputs are moved to meta)."""
    spec = model_spec("resnet18")
    with torch.device("meta"):
        model = spec.factory().eval()
    w = trace(model, spec.example_input())
    assert w.total_macs == 1_814_073_344
    assert all(t.encoding is None for t in w.weights)  # no values, nothing detected


def test_meta_keeps_encodings_detected_from_real_weights():
    """device='meta' on a pruned real model still reports the mask's density for the effective weight."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    prune.l1_unstructured(model[0], "weight", amount=0.75)
    w = trace(model.eval(), torch.rand(3, 10), device="meta")
    assert w.tensors["0.weight"].encoding.density == 0.25
    assert {t.name for t in w.weights} == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert model[0].weight_orig.device.type == "cpu"


def test_tied_weights_are_one_tensor_on_meta():
    """A weight shared by two layers is one tensor, on real and on meta tensors."""

    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(8, 8, bias=False)
            self.b = nn.Linear(8, 8, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    for device in (None, "meta"):
        w = trace(Tied(), torch.rand(1, 8), device=device)
        assert len(w.weights) == 1 and w.parameter_count == 64
        assert w.total_macs == 2 * 64
