"""Property tests: MAC rules agree with an independent count made by PyTorch itself.

Convolving all-ones data with an all-ones kernel makes every output element equal to the number of
products summed into it, so the sum of the output is the number of multiply-accumulates actually
executed. The same holds for matrix products. Without padding (we count MACs against padded zeros
too) this must equal the traced MACs for any shape, stride, dilation and grouping.

An einsum may reach aten as a matrix product (MACs) or, when a contraction is trivial, as an
elementwise multiply followed by a sum (mults and adds); every product is then counted exactly once,
as a MAC or as a mult.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from simulator.trace import trace


class Conv(nn.Module):
    def __init__(self, transposed: bool, **kw) -> None:
        super().__init__()
        self.transposed, self.kw = transposed, kw

    def forward(self, x, w):
        fn = F.conv_transpose2d if self.transposed else F.conv2d
        return fn(x, w, **self.kw)


@settings(max_examples=40, deadline=None)
@given(
    groups=st.integers(1, 3),
    cin_per_group=st.integers(1, 3),
    cout_per_group=st.integers(1, 3),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    side=st.integers(7, 11),
    batch=st.integers(1, 2),
    transposed=st.booleans(),
)
def test_conv_macs_equal_products_counted_by_torch(
    groups, cin_per_group, cout_per_group, kernel, stride, dilation, side, batch, transposed
):
    """sum(conv(ones, ones)) == traced MACs, direct and transposed, for any groups/stride/dilation."""
    cin, cout = groups * cin_per_group, groups * cout_per_group
    x = torch.ones(batch, cin, side, side)
    # weight layout: direct (cout, cin/g, k, k); transposed (cin, cout/g, k, k)
    w = (
        torch.ones(cin, cout_per_group, kernel, kernel)
        if transposed
        else torch.ones(cout, cin_per_group, kernel, kernel)
    )
    model = Conv(transposed, stride=stride, dilation=dilation, groups=groups)
    counted = int(model(x, w).sum())
    assert trace(model, (x, w)).total_macs == counted


class Einsum(nn.Module):
    def __init__(self, equation: str) -> None:
        super().__init__()
        self.equation = equation

    def forward(self, a, b):
        return torch.einsum(self.equation, a, b)


@settings(max_examples=30, deadline=None)
@given(
    b=st.integers(1, 3),
    m=st.integers(1, 5),
    k=st.integers(1, 5),
    n=st.integers(1, 5),
    equation=st.sampled_from(["bmk,bkn->bmn", "bmk,kn->bmn", "mk,bkn->bmn", "bmk,bnk->bmn", "bmk,bmk->b"]),
)
def test_einsum_macs_equal_products_counted_by_torch(b, m, k, n, equation):
    """sum(einsum(ones, ones)) == traced MACs + mults, for batched, broadcast and transposed contractions."""
    shapes = {"b": b, "m": m, "k": k, "n": n}
    lhs = equation.split("->")[0].split(",")
    a, c = (torch.ones(*(shapes[ch] for ch in spec)) for spec in lhs)
    model = Einsum(equation)
    counted = int(model(a, c).sum())
    w = trace(model, (a, c))
    mults = sum(x.count for op in w.ops for x in op.arith if x.operation == "mult")
    assert w.total_macs + mults == counted
