"""Op rules, one family at a time, on tiny modules: each expected number is written with its arithmetic."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from simulator.ops import OpKind
from simulator.trace import IGNORED_OPS, OP_RULES, register_op_rule, trace
from simulator.workload import Workload


class Fn(nn.Module):
    """Wraps a function of the inputs as a module (so it can be traced)."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def run(model: nn.Module, *inputs: torch.Tensor) -> Workload:
    return trace(model.eval(), inputs)


def arith_totals(w: Workload) -> Counter:
    """Total count per arithmetic operation over the workload."""
    c: Counter = Counter()
    for op in w.ops:
        for a in op.arith:
            c[a.operation] += a.count
    return c


# --- registry ------------------------------------------------------------------------------------


def test_registry_refuses_duplicates_non_packets_and_ignored_ops():
    """register_op_rule raises on a second rule for a packet, on an overload, and on an ignored op."""
    with pytest.raises(RuntimeError, match="duplicate"):
        register_op_rule(torch.ops.aten.mm)(lambda *a, **k: None)
    with pytest.raises(TypeError, match="packets"):
        register_op_rule(torch.ops.aten.mm.default)(lambda *a, **k: None)
    with pytest.raises(RuntimeError, match="IGNORED_OPS"):
        register_op_rule(torch.ops.aten.view)(lambda *a, **k: None)


def test_ignored_ops_have_reasons_and_no_rules():
    """Every deliberately free op states why, and none of them also has a rule."""
    assert all(isinstance(r, str) and len(r) > 3 for r in IGNORED_OPS.values())
    assert not set(IGNORED_OPS) & set(OP_RULES)


# --- convolution ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conv", "shape", "expected"),
    [
        # depthwise: out 1x8x10x10 = 800 outputs, each (8/8)*3*3 = 9 MACs
        (nn.Conv2d(8, 8, 3, padding=1, groups=8), (1, 8, 10, 10), 800 * 9),
        # dilation 2: out side 9 - 2*(3-1) = 5 -> 4*5*5 = 100 outputs, each 2*3*3 = 18
        (nn.Conv2d(2, 4, 3, dilation=2), (1, 2, 9, 9), 100 * 18),
        # stride 2, groups 2: out side (9-3)//2+1 = 4 -> 2*6*4*4 = 192 outputs, each (4/2)*3*3 = 18
        (nn.Conv2d(4, 6, 3, stride=2, groups=2), (2, 4, 9, 9), 192 * 18),
        # transposed: each of 4*5*5 = 100 input elements scattered into 2*3*3 = 18 outputs
        (nn.ConvTranspose2d(4, 2, 3, stride=2), (1, 4, 5, 5), 100 * 18),
        # 1-d, stride 2: out length (20-5)//2+1 = 8 -> 2*6*8 = 96 outputs, each 3*5 = 15
        (nn.Conv1d(3, 6, 5, stride=2), (2, 3, 20), 96 * 15),
        # 3-d: out 2x2x2 -> 3*8 = 24 outputs, each 2*27 = 54
        (nn.Conv3d(2, 3, 3), (1, 2, 4, 4, 4), 24 * 54),
    ],
)
def test_convolution_macs(conv, shape, expected):
    """Conv MACs = outputs x (C/groups) x kernel (transposed: inputs x (K/groups) x kernel)."""
    w = run(conv, torch.rand(shape))
    (op,) = w.ops
    assert op.macs == expected
    assert op.kind is OpKind.CONV and op.dims.transposed == isinstance(conv, nn.ConvTranspose2d)
    assert op.dims.macs == expected
    # the bias costs one add per output element
    assert arith_totals(w)["add"] == w.tensors[op.writes[0].tensor].numel


# --- matrix products -----------------------------------------------------------------------------


def test_linear_on_3d_input_and_einsum_and_matmul_variants():
    """linear / einsum / broadcasting matmul / matrix-vector all reduce to output elements x K."""
    # Linear 16 -> 8 on (2, 7, 16): 2*7*8 outputs x 16 = 1,792
    assert run(nn.Linear(16, 8), torch.rand(2, 7, 16)).total_macs == 2 * 7 * 8 * 16 == 1_792
    a, b = torch.rand(3, 4, 5), torch.rand(3, 5, 6)
    # einsum bij,bjk->bik arrives as aten.bmm: 3*4*6 outputs x 5 = 360
    w = run(Fn(lambda x, y: torch.einsum("bij,bjk->bik", x, y)), a, b)
    assert w.total_macs == 360 and [op.aten for op in w.ops if op.macs] == ["aten.bmm.default"]
    # broadcasting matmul (2,1,4,5) @ (3,5,6) -> (2,3,4,6): 144 outputs x 5 = 720
    assert run(Fn(torch.matmul), torch.rand(2, 1, 4, 5), torch.rand(3, 5, 6)).total_macs == 720
    # vector @ matrix (5) @ (5, 6): 6 outputs x 5 = 30; matrix @ vector (6, 5) @ (5): 30; dot: 5
    assert run(Fn(torch.matmul), torch.rand(5), torch.rand(5, 6)).total_macs == 30
    assert run(Fn(torch.matmul), torch.rand(6, 5), torch.rand(5)).total_macs == 30
    assert run(Fn(torch.dot), torch.rand(5), torch.rand(5)).total_macs == 5
    # baddbmm: 3*4*6 x 5 = 360 MACs plus 72 bias adds
    w = run(Fn(lambda c, x, y: torch.baddbmm(c, x, y)), torch.rand(3, 4, 6), a, b)
    assert w.total_macs == 360 and arith_totals(w)["add"] == 72


# --- attention -----------------------------------------------------------------------------------

B, L, E, H, FFN = 2, 5, 16, 4, 32
# Q, K, V projections 3*B*L*E*E = 7,680; Q K^T and P V 2 * B*H*L*L*(E/H) = 1,600; out projection B*L*E*E = 2,560
MHA_MACS = 3 * B * L * E * E + 2 * B * H * L * L * (E // H) + B * L * E * E
# plus the two feed-forward linears 2 * B*L*E*FFN = 10,240
LAYER_MACS = MHA_MACS + 2 * B * L * E * FFN


@pytest.fixture
def fastpath():
    """Restores PyTorch's MHA fast-path switch after the test."""
    before = torch.backends.mha.get_fastpath_enabled()
    yield torch.backends.mha.set_fastpath_enabled
    torch.backends.mha.set_fastpath_enabled(before)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_same_macs_with_and_without_fast_path(fastpath, need_weights):
    """nn.MultiheadAttention in eval: 11,840 MACs whether the fused fast path runs or not."""
    assert MHA_MACS == 11_840
    torch.manual_seed(0)

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mha = nn.MultiheadAttention(E, H, batch_first=True)

        def forward(self, q):
            return self.mha(q, q, q, need_weights=need_weights)[0]

    model = SelfAttention()
    x = torch.rand(B, L, E)
    fastpath(True)
    fused = run(model, x)
    fastpath(False)
    unfused = run(model, x)
    assert [op.aten for op in fused.ops] == ["aten._native_multi_head_attention.default"]
    assert len(unfused.ops) > 5
    assert fused.total_macs == unfused.total_macs == MHA_MACS
    # both read every projection weight
    for w in (fused, unfused):
        assert {"mha.in_proj_weight", "mha.out_proj.weight"} <= {t.name for t in w.weights}
        assert set(w.macs_by_module()) == {"mha"}


def test_transformer_encoder_layer_same_macs_with_and_without_fast_path(fastpath):
    """nn.TransformerEncoderLayer in eval: attention + feed-forward = 22,080 MACs, fused or not."""
    assert LAYER_MACS == 22_080
    layer = nn.TransformerEncoderLayer(E, H, FFN, batch_first=True, activation="gelu").eval()
    x = torch.rand(B, L, E)
    fastpath(True)
    fused = run(layer, x)
    fastpath(False)
    unfused = run(layer, x)
    assert [op.aten for op in fused.ops] == ["aten._transformer_encoder_layer_fwd.default"]
    assert fused.total_macs == unfused.total_macs == LAYER_MACS
    # the unfused path attributes the projections to their submodules
    by_module = unfused.macs_by_module()
    assert by_module["linear1"] == by_module["linear2"] == B * L * E * FFN == 5_120
    # F.multi_head_attention_forward uses out_proj's weight without calling the module
    assert by_module["self_attn"] == MHA_MACS
    # same number of exp (softmax + GELU) in both paths: 2*4*5*5 = 200 scores + 2*5*32 = 320 GELU inputs
    assert arith_totals(fused)["exp"] == arith_totals(unfused)["exp"] == 200 + 320


def test_scaled_dot_product_attention():
    """SDPA (B, H, L, E) x (B, H, S, E): Q K^T and P V, 2 * B*H*L*S*E MACs; softmax over B*H*L*S scores."""
    q, kv = torch.rand(2, 3, 5, 8), torch.rand(2, 3, 7, 8)
    w = run(Fn(lambda a, b: F.scaled_dot_product_attention(a, b, b)), q, kv)
    assert w.total_macs == 2 * (2 * 3 * 5 * 7 * 8) == 3_360
    assert arith_totals(w)["exp"] == 2 * 3 * 5 * 7 == 210
    (op,) = w.ops
    assert op.kind == "attention" and len(op.writes) == 1  # the logsumexp output is not traffic


# --- normalisation, pooling, activations, softmax ----------------------------------------------


def test_norms():
    """Batch norm folds to scale+shift; layer/group norm compute statistics per row."""
    x = torch.rand(2, 4, 3, 3)  # 72 elements, 4 channels
    bn = run(nn.BatchNorm2d(4), x)
    # per element 1 mult + 1 add; per channel 2 mult + 2 add + 1 div (rsqrt)
    assert arith_totals(bn) == {"mult": 72 + 8, "add": 72 + 8, "div": 4}
    assert [t.name for t in bn.weights] == ["weight", "bias", "running_mean", "running_var"]
    ln = run(nn.LayerNorm(6), torch.rand(2, 3, 6))  # 36 elements, 6 rows, affine
    assert arith_totals(ln) == {"add": 4 * 36, "mult": 3 * 36, "div": 3 * 6}
    gn = run(nn.GroupNorm(2, 4), x)  # rows = 2 samples x 2 groups = 4
    assert arith_totals(gn) == {"add": 4 * 72, "mult": 3 * 72, "div": 3 * 4}
    for w in (bn, ln, gn):
        (op,) = w.ops
        assert op.kind == "norm" and len(op.writes) == 1  # saved mean / rstd are not inference traffic


def test_pools():
    """Max/avg pools: window - 1 compares/adds per output; adaptive windows exactly as PyTorch's."""
    x = torch.rand(1, 1, 4, 4)
    assert arith_totals(run(nn.MaxPool2d(2), x)) == {"compare": 4 * 3}  # 4 outputs x (2*2 - 1)
    assert arith_totals(run(nn.AvgPool2d(2), x)) == {"add": 4 * 3, "div": 4}
    # adaptive 5 -> 3 per side: windows [0,2) [1,4) [3,5) = 2 + 3 + 2 = 7 -> 7*7 = 49 elements over 9 outputs
    assert arith_totals(run(nn.AdaptiveAvgPool2d(3), torch.rand(1, 1, 5, 5))) == {"add": 49 - 9, "div": 9}
    # global average pool arrives as aten.mean: 25 - 1 adds and 1 div
    assert arith_totals(run(nn.AdaptiveAvgPool2d(1), torch.rand(1, 1, 5, 5))) == {"add": 24, "div": 1}
    # max pool indices are an auxiliary output, not written traffic
    (op,) = run(nn.MaxPool2d(2), x).ops
    assert len(op.writes) == 1


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (nn.ReLU(), {"compare": 10}),
        (nn.ReLU6(), {"compare": 20}),
        (nn.GELU(), {"exp": 10, "mult": 40, "add": 20}),
        (nn.SiLU(), {"exp": 10, "add": 10, "div": 10, "mult": 10}),
        (nn.Sigmoid(), {"exp": 10, "add": 10, "div": 10}),
        (nn.Tanh(), {"mult": 10, "exp": 10, "add": 20, "div": 10}),
        (nn.Hardswish(), {"add": 10, "compare": 20, "mult": 20}),
        (nn.Softmax(-1), {"compare": 10, "add": 20, "exp": 10, "div": 10}),  # 2 rows of 5
        (nn.LogSoftmax(-1), {"compare": 10, "add": 30, "exp": 10 + 2}),  # + one log per row
    ],
)
def test_activations_and_softmax_per_element(module, expected):
    """Each activation costs its declared count per element (here 10 elements)."""
    w = run(module, torch.rand(2, 5))
    assert dict(arith_totals(w)) == expected
    assert w.total_macs == 0


def test_elementwise_broadcasting_is_fusable():
    """(4, 1) + (1, 5) broadcasts to 20 outputs: 20 adds, kind 'elementwise' (fusable by the mapper)."""
    w = run(Fn(torch.add), torch.rand(4, 1), torch.rand(1, 5))
    (op,) = w.ops
    assert op.kind == "elementwise" and arith_totals(w) == {"add": 20}
    assert [a.bits for a in op.reads] == [4 * 32, 5 * 32] and op.writes[0].bits == 20 * 32


# --- data movement -------------------------------------------------------------------------------


def test_embedding_reads_only_looked_up_rows():
    """An embedding lookup of 2x3 indices into a 100x8 table reads 6 rows = 6*8*32 bits of the table."""
    emb = nn.Embedding(100, 8)
    w = run(emb, torch.tensor([[1, 2, 3], [4, 5, 6]]))
    (op,) = w.ops
    reads = {a.tensor: a.bits for a in op.reads}
    assert reads["weight"] == 6 * 8 * 32 == 1_536
    assert reads["input:0"] == 6 * 64  # int64 indices
    assert op.kind == "gather" and op.macs == 0 and not op.arith


def test_cat_is_a_copy_and_views_are_free():
    """cat reads both inputs and writes the result; view/transpose/flatten emit no op at all."""
    w = run(Fn(lambda a, b: torch.cat([a.view(3, 2).t(), b.flatten(1)], dim=0)), torch.rand(2, 3), torch.rand(2, 3))
    (op,) = w.ops
    assert op.aten == "aten.cat.default" and op.kind == "copy" and not op.arith
    assert sorted(a.tensor for a in op.reads) == ["input:0", "input:1"]  # views keep their base's name
    assert [a.bits for a in op.reads] == [6 * 32, 6 * 32] and op.writes[0].bits == 12 * 32
