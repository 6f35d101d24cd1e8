"""Convolution of any dimensionality, stride, padding, dilation and groups, including transposed.

The weight has shape (K, C/groups, *kernel) (transposed: (C, K/groups, *kernel)). Every output
element of a direct convolution takes (C/groups) x prod(kernel) MACs, so MACs = numel(out) x
numel(w) / K; depthwise (groups = C = K) is the special case C/groups = 1. A transposed convolution
scatters each input element through the kernel into K/groups channels: MACs = numel(x) x
numel(w) / C. Padding and dilation change only the output size, which the rule reads from ``out``.
NB: MACs against padded zeros are counted (as dense hardware executes them).

Both emit ``OpKind.CONV`` with a ``ConvDims`` record; ``ConvDims.transposed`` tells them apart, and
the mapper tiles a transposed convolution as the GEMM it is (see ``simulator.mapping.gemm.gemm_view``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.ops import ConvDims, OpKind
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
    spatial = len(w.shape) - 2
    dims = ConvDims(
        batch=out.shape[0],
        in_channels=x.shape[1],
        out_channels=out.shape[1],
        groups=int(groups),
        input_size=tuple(x.shape[2:]),
        output_size=tuple(out.shape[2:]),
        kernel_size=tuple(w.shape[2:]),
        stride=_per_dim(stride, spatial),
        padding=_per_dim(padding, spatial),
        dilation=_per_dim(dilation, spatial),
        transposed=bool(transposed),
    )
    return RuleResult(
        OpKind.CONV,
        macs=dims.macs,
        mac_dtype=x.dtype,
        arith=arith(out.dtype, add=out.numel if bias is not None else 0),
        dims=dims,
    )


def _per_dim(values: Sequence[int] | int, spatial: int) -> tuple[int, ...]:
    """A stride/padding/dilation argument as one int per spatial dimension (aten may pass one value for all)."""
    if isinstance(values, int):
        return (int(values),) * spatial
    out = tuple(int(v) for v in values)
    return out * spatial if len(out) == 1 and spatial > 1 else out
