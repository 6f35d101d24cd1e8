"""Aliasing in the tracer and the one liveness (``Workload.lifetimes`` / ``live_bits_per_op``).

In-place outputs (``relu_``, ``add_``, ``out=``) get ``TensorInfo.alias_of`` from the aten schema's
alias annotations and own no memory; free views share their base's name; outputs no op writes or
reads (max pool's int64 indices) are never materialised. Every expected number is written out.
"""

from __future__ import annotations

import torch
from torch import nn

from simulator.trace import trace
from tests.trace.folded_resnet import folded_int8_resnet18

F32 = 32


class _InPlace(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(4, 8), nn.Linear(4, 8), nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(x)          # op 0 addmm: writes h (8 floats)
        h.add_(self.fc2(x))      # op 1 addmm: writes g (8); op 2 add_: h += g, in place
        return self.fc3(torch.relu_(h))  # op 3 relu_: in place; op 4 addmm: writes y (2)


def test_in_place_outputs_alias_their_input_and_own_no_memory():
    w = trace(_InPlace().eval(), torch.randn(1, 4))
    assert [op.aten for op in w.ops] == [
        "aten.addmm.default", "aten.addmm.default", "aten.add_.Tensor", "aten.relu_.default", "aten.addmm.default",
    ]
    h = w.ops[0].writes[0].tensor
    add_out, relu_out = w.ops[2].writes[0].tensor, w.ops[3].writes[0].tensor
    assert w.tensors[add_out].alias_of == h
    assert w.tensors[relu_out].alias_of == h  # the owner, not the add_ output it was computed from
    assert w.owner_of(relu_out) == h
    # op 0: x (4 floats, read again by fc2) + h (8)       = 12 floats
    # op 1: x + h + g (8)                                  = 20
    # op 2: h + g (read by add_); add_'s output is h       = 16
    # op 3: h (relu_ writes h itself)                      =  8
    # op 4: h (read by fc3) + y (2)                        = 10
    assert w.live_bits_per_op().tolist() == [12 * F32, 20 * F32, 16 * F32, 8 * F32, 10 * F32]
    assert w.peak_activation_bits == 20 * F32
    spans = w.lifetimes()
    assert add_out not in spans.names and relu_out not in spans.names
    # The alias keeps its owner alive: h is read last (through relu_'s output) by op 4.
    i = spans.names.index(h)
    assert (spans.start[i], spans.end[i]) == (0, 4)


class _View(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(4, 8), nn.Linear(4, 8), nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = self.fc1(x).view(2, 4)            # op 0 addmm writes h (8); the view is free
        g = self.fc2(x)                       # op 1 addmm writes g (8)
        return self.fc3(v.reshape(1, 8) + g)  # op 2 add: reads h through the view, writes s (8); op 3 addmm: y (2)


def test_a_view_owns_no_memory_and_keeps_its_base_alive():
    w = trace(_View().eval(), torch.randn(1, 4))
    assert len(w.ops) == 4
    h = w.ops[0].writes[0].tensor
    assert h in {a.tensor for a in w.ops[2].reads}  # the view is read under its base's name
    assert all(t.shape != (2, 4) for t in w.tensors.values())  # no tensor record for the view
    # op 0: x (4) + h (8) = 12; op 1: x + h + g (8) = 20; op 2: h + g + s (8) = 24; op 3: s + y (2) = 10
    assert w.live_bits_per_op().tolist() == [12 * F32, 20 * F32, 24 * F32, 10 * F32]


class _OutVariant(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        buf = torch.empty_like(a)             # free allocation: no op writes it ...
        return torch.mul(torch.add(a, b, out=buf), 2.0)  # ... but add.out does, through its alias


def test_out_variant_aliases_its_out_argument_and_materialises_it():
    w = trace(_OutVariant(), (torch.randn(3), torch.randn(3)))
    add, mul = w.ops
    assert add.aten == "aten.add.out"
    out = w.tensors[add.writes[0].tensor]
    assert out.alias_of is not None and w.tensors[out.alias_of].producer == 0
    assert out.alias_of in w.lifetimes().names  # written through its alias: materialised
    # op 0: a + b + buf (3 floats each) = 9; op 1: buf (read) + the product (3) = 6
    assert w.live_bits_per_op().tolist() == [9 * F32, 6 * F32]


def test_max_pool_indices_own_no_memory():
    w = trace(nn.MaxPool2d(2).eval(), torch.randn(1, 1, 4, 4))
    (op,) = w.ops
    assert op.aten == "aten.max_pool2d_with_indices.default"
    indices = [t for t in w.tensors.values() if t.dtype.bits == 64]
    assert len(indices) == 1 and indices[0].producer == 0 and indices[0].last_use is None
    assert indices[0].name not in w.lifetimes().names
    # input 16 floats + output 4 floats; the 4 int64 indices (256 bits) are never written by the op
    assert w.peak_activation_bits == (16 + 4) * F32


def test_bn_folded_int8_resnet18_peak_by_hand():
    """Batch 1, 224 x 224, int8 activations (8 bits per element).

    conv1 (7x7/2, BN folded): reads the input 3*224*224 = 150,528 B and writes 64*112*112 = 802,816 B
      -> 953,344 B live.
    relu_ (in place): the conv1 output only -> 802,816 B.
    max pool (3x3/2): the conv1 output + 64*56*56 = 200,704 B; its int64 indices are never used
      -> 1,003,520 B, the peak.
    Every later op has less: layer1's blocks hold at most identity + two 200,704 B maps (602,112 B);
    the downsampling blocks hold input 200,704 + three 100,352 B maps (layer2) and less after.
    Before aliases and unwritten outputs were told apart the peak was 2,609,152 B (the relu_ output
    counted again: 802,816 B; the indices: 200,704 x 8 B = 1,605,632 B): 2.6x.
    """
    model, x = folded_int8_resnet18()
    w = trace(model, x)
    assert w.unsupported == {}
    assert {t.dtype.name for t in w.tensors.values() if t.kind != "weight" and t.dtype.bits != 64} >= {"int8"}
    live_bytes = w.live_bits_per_op() // 8
    assert live_bytes[0] == 150_528 + 802_816
    assert w.ops[1].aten == "aten.relu_.default" and live_bytes[1] == 802_816
    assert w.ops[2].aten == "aten.max_pool2d_with_indices.default" and live_bytes[2] == 802_816 + 200_704
    assert w.peak_activation_bits == 1_003_520 * 8
    assert int(live_bytes[3:].max()) == 602_112
