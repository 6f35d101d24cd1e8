"""The typed trace -> mapping contract (``simulator.ops``): declared kinds, typed dims, coverage, and the
ops it brings into the mapper (transposed convolutions, bare scaled-dot-product attention)."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from simulator.jsonio import from_jsonable, to_jsonable
from simulator.mapping import GEMM_KINDS, OP_MAPPERS, STREAMING_KINDS, MappingError, gemm_view, map_workload
from simulator.mapping.mapper import map_streaming
from simulator.ops import (
    OP_KIND_DIMS,
    AttentionDims,
    ConvDims,
    GemmDims,
    NoDims,
    OpKind,
    RecurrentDims,
    TransformerLayerDims,
    format_dims,
)
from simulator.trace import trace
from simulator.trace.op_rules import RuleResult
from simulator.workload import FLOAT32, Op, TensorAccess, TensorInfo, make_workload
from tests.memsim.builders import level, make_profile

#: Register file large enough for one tile of every probe op; SRAM large enough to keep every weight.
PROFILE = make_profile([
    level("rf", "register_file", 8192, 1.0),
    level("sram", "sram", 10**7, 5.0),
    level("dram", "dram", 10**10, 640.0),
])


def _coverage_gaps() -> list[str]:
    """Declared kinds with neither a mapper nor a streaming reason (the coverage test asserts none)."""
    gaps = []
    for kind in OpKind:
        mapper = OP_MAPPERS.get(kind)
        if mapper is None:
            gaps.append(f"{kind.value}: no mapper")
        elif mapper is map_streaming and not STREAMING_KINDS.get(kind, "").strip():
            gaps.append(f"{kind.value}: streamed without a reason")
    return gaps


# --- the declared set ----------------------------------------------------------------------------


def test_every_kind_has_a_mapper_or_is_streaming_with_a_reason():
    assert _coverage_gaps() == []
    assert set(GEMM_KINDS) | set(STREAMING_KINDS) == set(OpKind)
    assert not set(GEMM_KINDS) & set(STREAMING_KINDS)
    assert all(OP_MAPPERS[k] is not map_streaming for k in GEMM_KINDS)


def test_coverage_check_fails_for_a_kind_without_a_mapper(monkeypatch):
    """The coverage check is not vacuous: remove one mapper and it names the kind."""
    monkeypatch.delitem(OP_MAPPERS, OpKind.CONV)
    assert _coverage_gaps() == ["conv: no mapper"]
    monkeypatch.setitem(OP_MAPPERS, OpKind.CONV, map_streaming)
    assert _coverage_gaps() == ["conv: streamed without a reason"]


class _EveryKind(nn.Module):
    """One module that makes the rules emit every declared kind."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 8)                                     # gather
        self.conv = nn.Conv2d(1, 2, 3, padding=1)                            # conv
        self.up = nn.ConvTranspose2d(2, 2, 2, stride=2)                      # conv (transposed)
        self.norm = nn.BatchNorm2d(2)                                        # norm
        self.pool = nn.MaxPool2d(2)                                          # pool
        self.layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)  # transformer_layer (fast path)
        self.fc = nn.Linear(8, 4)                                            # linear
        self.rnn = nn.LSTM(8, 4, batch_first=True)                           # recurrent (CPU: mkldnn_rnn_layer)

    def forward(self, tokens: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)                                               # (1, 4, 8)
        x = self.layer(x)
        q = x.view(1, 4, 2, 4).transpose(1, 2)                               # (1, 2, 4, 4)
        a = F.scaled_dot_product_attention(q, q, q, is_causal=True)         # attention
        scores = torch.matmul(x, x.transpose(1, 2)).softmax(-1)              # matmul, softmax
        y = self.pool(self.norm(self.up(torch.relu(self.conv(image)))))     # conv, elementwise, norm, pool
        pooled = y.sum(dim=(2, 3))                                           # reduce
        out = self.fc(torch.cat([x, a.transpose(1, 2).reshape(1, 4, 8)], 1))  # copy, linear
        return out.sum() + scores.sum() + pooled.sum() + self.rnn(x)[0].sum()


@pytest.fixture(scope="module")
def every_kind():
    torch.manual_seed(0)
    model = _EveryKind().eval()
    with torch.no_grad():
        return trace(model, (torch.tensor([[1, 2, 3, 4]]), torch.rand(1, 1, 4, 4)))


def test_every_declared_kind_is_emitted_by_a_rule_and_mapped(every_kind):
    """No dead vocabulary: each kind comes out of a rule; each such op maps with ``strict=True``."""
    assert {op.kind for op in every_kind.ops} == set(OpKind)
    assert not every_kind.unsupported
    schedule = map_workload(every_kind, PROFILE, strict=True)
    assert dict(schedule.unmapped) == {}
    mapped = {op.kind for op in schedule.ops if op.mapping == "gemm"}
    assert mapped == {k.value for k in GEMM_KINDS}


def test_dims_match_their_kind_in_every_traced_op(every_kind):
    for op in every_kind.ops:
        assert type(op.dims) is OP_KIND_DIMS[op.kind], op
        if isinstance(op.dims, (GemmDims, ConvDims, RecurrentDims)):
            assert op.dims.macs == op.macs, op  # the dims describe exactly the products the rule counted


def test_undeclared_kinds_and_wrong_dims_are_refused():
    with pytest.raises(TypeError, match="OpKind"):
        RuleResult("conv_transpose")
    with pytest.raises(TypeError, match="'conv' carries ConvDims dims, got GemmDims"):
        RuleResult(OpKind.CONV, dims=GemmDims(m=1, k=1, n=1))
    with pytest.raises(ValueError, match=r"op 3 'fc' \(aten.mm.default\): op kind 'mystery' is not declared"):
        Op(3, "fc", "mystery", "aten.mm.default", 0, None)
    with pytest.raises(TypeError, match="'linear' carries GemmDims dims, got NoDims"):
        Op(3, "fc", "linear", "aten.mm.default", 4, FLOAT32)
    op = Op(3, "fc", "linear", "aten.mm.default", 4, FLOAT32, dims=GemmDims(m=1, k=4, n=1))
    assert op.kind is OpKind.LINEAR  # a declared kind given as a string is converted
    assert isinstance(Op(0, "", "copy", "aten.cat.default", 0, None).dims, NoDims)
    with pytest.raises(ValueError, match="divisible by groups=2"):
        ConvDims(1, 3, 4, 2, (4,), (4,), (1,), (1,), (0,), (1,))
    with pytest.raises(ValueError, match="projections=True"):
        TransformerLayerDims(AttentionDims(1, 1, 1, 2, 2, 4, 4), ffn_width=8)


def test_dims_as_text():
    assert format_dims(GemmDims(m=2, k=4, n=3)) == "m=2;k=4;n=3;batch=1"
    att = AttentionDims(1, 2, 2, 4, 4, 4, 4, projections=True)
    assert format_dims(TransformerLayerDims(att, 16)).endswith("attention.projections=true;ffn_width=16")


def test_ops_with_typed_dims_survive_json_and_pickle(every_kind):
    """Saved results and sweep workers carry ops: the kind comes back as an OpKind, the dims as their record."""
    for op in every_kind.ops:
        back = from_jsonable(json.loads(json.dumps(to_jsonable(op))))
        assert back == op and back.kind is op.kind and type(back.dims) is type(op.dims)
        assert pickle.loads(pickle.dumps(op)) == op


# --- transposed convolution ------------------------------------------------------------------------


def test_conv_transpose_is_mapped_as_a_gemm_with_hand_computed_traffic():
    """ConvTranspose2d(4 -> 2, kernel 2, stride 2, no bias) on a 1x4x3x3 input -> 1x2x6x6 output.

    MACs: each of the 4*3*3 = 36 input elements is scattered into K/G * kernel = 2*2*2 = 8 outputs: 288.
    GEMM (scatter form): M = 9 input pixels, N = 2 channels * 4 kernel taps = 8, K = 4 input channels.
    Operands: x 36 floats = 1,152 bits, w 4*2*2*2 = 32 floats = 1,024 bits, y 72 floats = 2,304 bits;
    together 4,480 bits fit the 8,192-bit register file in one tile (one step, one reduction pass).
    Weights are resident in the SRAM (their DRAM load is the cold start), x is the model input, y the output.
    Register file: every MAC reads one input and one weight word: 288 * 32 = 9,216 bits each; x, w enter
    once (1,152 / 1,024 bits), y is written once and read once on its way up (2,304 bits).
    SRAM: x passes through (1,152 in from DRAM, 1,152 out to the rf), w is read once (1,024), y in and out once.
    DRAM: x read once (1,152), y written once (2,304). A streaming mapping would read w at the rf only once.
    """
    torch.manual_seed(0)
    w = trace(nn.ConvTranspose2d(4, 2, 2, stride=2, bias=False).eval(), torch.rand(1, 4, 3, 3))
    (op,) = w.ops
    assert op.kind is OpKind.CONV and op.dims.transposed and op.macs == 288
    view = gemm_view(op, w)
    assert (view.g, view.m, view.n, view.k) == (1, 9, 8, 4) and view.b == "weight"
    schedule = map_workload(w, PROFILE, strict=True)
    (s,) = schedule.ops
    assert s.mapping == "gemm" and dict(schedule.unmapped) == {}
    assert dict(s.traffic_bits) == {
        ("rf", "inputs", "read"): 9216.0, ("rf", "weights", "read"): 9216.0,
        ("rf", "inputs", "write"): 1152.0, ("rf", "weights", "write"): 1024.0,
        ("rf", "outputs", "write"): 2304.0, ("rf", "outputs", "read"): 2304.0,
        ("sram", "inputs", "write"): 1152.0, ("sram", "inputs", "read"): 1152.0,
        ("sram", "weights", "read"): 1024.0,
        ("sram", "outputs", "write"): 2304.0, ("sram", "outputs", "read"): 2304.0,
        ("dram", "inputs", "read"): 1152.0, ("dram", "outputs", "write"): 2304.0,
    }
    cold = {("dram", "weights", "read"): 1024.0, ("sram", "weights", "write"): 1024.0}
    assert dict(schedule.cold_start_traffic_bits) == cold


def test_overlapping_grouped_conv_transpose_is_mapped():
    """ConvTranspose2d(4 -> 6, kernel 3, stride 2, padding 1, output_padding 1, groups 2) on 1x4x5x5.

    MACs: 4*5*5 = 100 input elements, each scattered into K/G * 3*3 = 3*9 = 27 outputs: 2,700.
    GEMM per group: M = 25 pixels, N = 27, K = 2; 2 groups: 2*25*27*2 = 2,700. Output 6x10x10.
    """
    conv = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False).eval()
    w = trace(conv, torch.rand(1, 4, 5, 5))
    (op,) = w.ops
    assert op.macs == 2_700
    assert op.dims.output_size == (10, 10) and op.dims.stride == (2, 2) and op.dims.padding == (1, 1)
    view = gemm_view(op, w)
    assert (view.g, view.m, view.n, view.k) == (2, 25, 27, 2)
    (s,) = map_workload(w, PROFILE, strict=True).ops
    assert s.mapping == "gemm" and s.macs == 2_700


convs = st.builds(
    lambda transposed, spatial, cin_g, cout_g, groups, kernel, stride, dilation: (
        (nn.ConvTranspose1d, nn.ConvTranspose2d)[spatial - 1] if transposed else (nn.Conv1d, nn.Conv2d)[spatial - 1],
        spatial, cin_g * groups, cout_g * groups, groups, kernel, stride, dilation,
    ),
    st.booleans(), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
    st.integers(1, 3), st.integers(1, 2), st.integers(1, 2),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(convs, st.integers(1, 2), st.integers(5, 7))
def test_conv_gemm_view_has_exactly_the_traced_macs(conv, batch, side):
    """Any conv (direct or transposed, 1-d/2-d, groups, stride, dilation): G*M*N*K == ConvDims.macs == traced MACs."""
    cls, spatial, cin, cout, groups, kernel, stride, dilation = conv
    module = cls(cin, cout, kernel, stride=stride, dilation=dilation, groups=groups, bias=False).eval()
    w = trace(module, torch.rand(batch, cin, *([side] * spatial)))
    (op,) = w.ops
    view = gemm_view(op, w)
    assert view is not None and view.b == "weight"
    assert view.g * view.m * view.n * view.k == op.dims.macs == op.macs


# --- scaled dot-product attention ------------------------------------------------------------------


def test_bare_attention_is_mapped_as_two_batched_gemms():
    """SDPA q (2, 3, 5, 8), k = v (2, 3, 7, 8), causal: scores 2*3 groups of 5 x 8 x 7, values 6 groups of 5 x 7 x 8.

    MACs: 2 * (6 * 5 * 7 * 8) = 3,360. The 6*5*7 = 210 scores (6,720 bits) are internal to the op.
    """
    q, kv = torch.rand(2, 3, 5, 8), torch.rand(2, 3, 7, 8)

    class Attend(nn.Module):
        def forward(self, a, b):
            return F.scaled_dot_product_attention(a, b, b, is_causal=True)

    w = trace(Attend(), (q, kv))
    (op,) = w.ops
    assert op.dims == AttentionDims(batch=2, heads=3, kv_heads=3, query_length=5, key_length=7, head_dim=8,
                                    value_head_dim=8, causal=True)
    schedule = map_workload(w, PROFILE, strict=True)
    (s,) = schedule.ops
    assert s.mapping == "gemm" and s.macs == 3_360 and len(s.tiles) == 2
    # each MAC reads one word of each operand at the register file (q, k; then scores, v)
    assert s.bits("rf", "inputs", "read") == pytest.approx(2 * 3_360 * 32)


def test_an_op_its_mapper_declines_is_reported_and_refused_by_strict():
    """Cross-attention with projections (S = 5 != L = 3) has no GEMM chain here: costed as streaming,
    listed in ``Schedule.unmapped`` with the reason, refused by ``strict=True``."""
    tensors = {
        "x": TensorInfo("x", "input", (1, 3, 8), FLOAT32, last_use=0),
        "y": TensorInfo("y", "activation", (1, 3, 8), FLOAT32, producer=0),
    }
    dims = AttentionDims(batch=1, heads=2, kv_heads=2, query_length=3, key_length=5, head_dim=4, value_head_dim=4,
                         projections=True)
    op = Op(0, "cross", "attention", "aten._native_multi_head_attention.default", 1_000, FLOAT32,
            accesses=(TensorAccess("x", "inputs", "read", 24 * 32), TensorAccess("y", "outputs", "write", 24 * 32)),
            dims=dims)
    workload = make_workload("cross", [op], tensors)
    schedule = map_workload(workload, PROFILE)
    assert dict(schedule.unmapped) == {"attention (its mapper declined these AttentionDims)": 1}
    assert schedule.ops[0].mapping == "streaming" and schedule.ops[0].bits("rf", "inputs", "read") == 24 * 32
    with pytest.raises(MappingError, match=r"op 0 'cross'.*no mapping rule for op kind 'attention \(its mapper"):
        map_workload(workload, PROFILE, strict=True)


@pytest.mark.parametrize("name", ["lenet5", "mobilenet_v2"])
def test_zoo_models_map_completely_under_strict(name):
    """Every op of a zoo model (depthwise and pointwise convs included) has a mapper that accepts it."""
    from simulator import load_profile
    from simulator.api import trace_model

    workload = trace_model(name, device="meta")
    schedule = map_workload(workload, load_profile("horowitz45-sram512k"), strict=True)
    assert dict(schedule.unmapped) == {}
    assert sum(op.macs for op in schedule.ops if op.mapping == "gemm") == workload.total_macs
