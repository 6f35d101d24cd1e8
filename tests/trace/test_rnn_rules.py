"""Recurrent layers, unannotated views and dynamic-quantized linears (issue 16, "recurrent layers and the rest").

Hand arithmetic: one layer of an LSTM/GRU costs tokens x G*H x (I + H) MACs (G = 4 gates for an
LSTM, 3 for a GRU; the input GEMM G*H x I plus the recurrent GEMM G*H x H per token).
"""

from __future__ import annotations

import warnings
from collections import Counter

import pytest
import torch
from torch import nn

from simulator.hardware import load_profile
from simulator.mapping import map_workload
from simulator.trace import trace
from simulator.workload import DataType


class _Seq(nn.Module):
    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0]


def _arith(wl) -> Counter:
    c: Counter = Counter()
    for op in wl.ops:
        for a in op.arith:
            c[(a.operation, a.dtype.name)] += a.count
    return c


def _lstm_macs(batch: int, steps: int, inputs: int, hidden: int, layers: int, gates: int) -> int:
    tokens = batch * steps
    first = tokens * gates * hidden * (inputs + hidden)
    rest = (layers - 1) * tokens * gates * hidden * (hidden + hidden)
    return first + rest


@pytest.mark.parametrize("cls, gates", [(nn.LSTM, 4), (nn.GRU, 3)])
def test_rnn_on_cpu_counts_what_meta_counts(cls, gates):
    torch.manual_seed(0)
    model = _Seq(cls(input_size=32, hidden_size=64, num_layers=2, batch_first=True)).eval()
    x = torch.randn(2, 10, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unsupported op warns: none may remain
        with torch.no_grad():
            cpu = trace(model, x)
            meta = trace(model.to("meta"), x.to("meta"))
    # 2 x 10 tokens; layer 1: G*64*(32+64), layer 2: G*64*(64+64). LSTM: 491,520 + 655,360 = 1,146,880.
    expected = _lstm_macs(2, 10, 32, 64, 2, gates)
    assert cpu.total_macs == meta.total_macs == expected
    assert not cpu.unsupported and not meta.unsupported
    # the fused CPU kernel counts the same gate arithmetic as the decomposed one
    assert _arith(cpu) == _arith(meta)


def test_lstm_cpu_takes_the_fused_layer_kernel():
    model = _Seq(nn.LSTM(16, 24)).eval()
    with torch.no_grad():
        wl = trace(model, torch.randn(7, 3, 16))
    fused = [op for op in wl.ops if "mkldnn_rnn_layer" in op.aten]
    if not fused:
        pytest.skip("this torch build does not route CPU LSTM through mkldnn_rnn_layer")
    (op,) = fused
    # 7 x 3 tokens x 4*24 gate rows x (16 + 24)
    assert op.macs == 21 * 96 * 40
    roles = {a.tensor: a.role for a in op.accesses}
    assert roles["rnn.weight_ih_l0"] == roles["rnn.weight_hh_l0"] == "weights"
    assert (op.dims.tokens, op.dims.input_size, op.dims.hidden_size, op.dims.gates) == (21, 16, 24, 4)
    # mapped as its two GEMMs (21 x 16 x 96 with W_ih, 21 x 24 x 96 with W_hh), not streamed
    schedule = map_workload(wl, load_profile("horowitz45-full"), strict=True)
    (s,) = [s for s in schedule.ops if "mkldnn_rnn_layer" in s.aten]
    assert s.mapping == "gemm" and s.macs == 21 * 16 * 96 + 21 * 24 * 96
    assert len(s.tiles) >= 2


def test_fused_cell_rules_match_the_cell_counts():
    from simulator.trace.op_rules import TensorMeta
    from simulator.trace.rules.rnn import fused_cell_rule

    f32 = DataType("float", 32)
    h, b = 8, 3
    lstm = fused_cell_rule(
        TensorMeta((b, 4 * h), f32), TensorMeta((b, 4 * h), f32), TensorMeta((b, h), f32),
        TensorMeta((4 * h,), f32), TensorMeta((4 * h,), f32), out=TensorMeta((b, h), f32),
    )
    counts = {(a.operation): a.count for a in lstm.arith}
    # adds: 8H bias + 4H gates + H cell + 3H sigmoid adds + 2*2H tanh adds = 20H per token
    assert counts["add"] == b * h * (8 + 4 + 1 + 3 + 4)
    assert counts["exp"] == b * h * 5  # 3 sigmoid + 2 tanh
    assert lstm.write_outputs == (0, 1)
    gru = fused_cell_rule(
        TensorMeta((b, 3 * h), f32), TensorMeta((b, 3 * h), f32), TensorMeta((b, h), f32), out=TensorMeta((b, h), f32)
    )
    assert {a.operation: a.count for a in gru.arith}["exp"] == b * h * 3  # 2 sigmoid + 1 tanh
    assert gru.write_outputs == (0,)


def test_unsafe_split_is_a_view_that_owns_no_memory():
    class Split(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a, b = torch.ops.aten.unsafe_split.Tensor(x, 4, 1)
            return a * b

    wl = trace(Split(), torch.randn(2, 8))
    assert not wl.unsupported
    (op,) = wl.ops
    assert op.aten == "aten.mul.Tensor"
    read = {a.tensor for a in op.accesses if a.direction == "read"}
    assert read == {"input:0"}  # both halves are the input itself


@pytest.mark.parametrize("dtype, mac_name", [(torch.qint8, "int8"), (torch.float16, "float16")])
def test_dynamic_quantized_linear_is_priced_at_its_packed_width(dtype, mac_name):
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 8)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=dtype)
    wl = trace(q, torch.randn(4, 16))
    assert not wl.unsupported
    assert wl.total_macs == 4 * 16 * 32 + 4 * 32 * 8  # = 3,072, as the float model
    linears = [op for op in wl.ops if "linear_dynamic" in op.aten]
    assert len(linears) == 2 and {op.mac_dtype.name for op in linears} == {mac_name}
    # the packed weights are read at their stored width: 16 x 32 and 32 x 8 values of 8 (or 16) bits
    bits = 8 if dtype == torch.qint8 else 16
    reads = {a.tensor: a.bits for op in linears for a in op.accesses if a.role == "weights"}
    assert reads == {"0.weight": 16 * 32 * bits, "2.weight": 32 * 8 * bits}
    assert {wl.tensors[t].dtype.name for t in reads} == {mac_name}
    schedule = map_workload(wl, load_profile("horowitz45-full"), strict=True)
    assert [s.mapping for s in schedule.ops if "linear_dynamic" in s.aten] == ["gemm", "gemm"]
