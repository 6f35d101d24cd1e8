"""Convolution of any dimensionality, stride, padding, dilation and groups, including transposed.

The weight has shape (K, C/groups, *kernel) (transposed: (C, K/groups, *kernel)). Every output
element of a direct convolution takes (C/groups) x prod(kernel) MACs, so MACs = numel(out) x
numel(w) / K; depthwise (groups = C = K) is the special case C/groups = 1. A transposed convolution
scatters each input element through the kernel into K/groups channels: MACs = numel(x) x
numel(w) / C. Padding and dilation change only the output size, which the rule reads from ``out``.
NB: MACs against padded zeros are counted (as dense hardware executes them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from simulator.frozen import FrozenMap
from simulator.trace.op_rules import RuleResult, TensorMeta, arith, aten, register_op_rule

__all__ = ["convolution_rule"]


@register_op_rule(aten.convolution, aten._convolution)
def convolution_rule(
    x: TensorMeta,
    w: TensorMeta,
    bias: TensorMeta | None,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    transposed: bool,
    output_padding: Sequence[int],
    groups: int,
    *args: Any,
    out: TensorMeta,
    **kwargs: Any,
) -> RuleResult:
    """MACs = numel(out) * prod(w.shape[1:]) (direct) or numel(x) * prod(w.shape[1:]) (transposed)."""
    per_element = math.prod(w.shape[1:])
    macs = (x.numel if transposed else out.numel) * per_element
    dims = {"N": out.shape[0], "K": out.shape[1], "C": x.shape[1], "G": groups}
    dims.update({f"P{i}": s for i, s in enumerate(out.shape[2:])})
    dims.update({f"R{i}": s for i, s in enumerate(w.shape[2:])})
    dims.update({f"stride{i}": s for i, s in enumerate(stride)})
    dims.update({f"pad{i}": s for i, s in enumerate(padding)})
    dims.update({f"dilation{i}": s for i, s in enumerate(dilation)})
    return RuleResult(
        "conv_transpose" if transposed else "conv",
        macs=macs,
        mac_dtype=x.dtype,
        arith=arith(out.dtype, add=out.numel if bias is not None else 0),
        dims=FrozenMap(dims),
    )
