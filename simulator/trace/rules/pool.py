"""Pooling: max, average and adaptive pooling in 1, 2 and 3 dimensions.

A max pool with a window of k elements costs k - 1 compares per output; an average pool k - 1 adds
and one div per output. NB: windows are counted at full size even where they overlap the padding.
Adaptive pooling derives its windows from the input and output sizes exactly as PyTorch does
(start = floor(i*in/out), end = ceil((i+1)*in/out)), so the counts are exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from simulator.ops import OpKind, PoolDims
from simulator.trace.op_rules import Rule, RuleResult, TensorMeta, arith, aten, register_op_rule

__all__ = ["adaptive_window_elements", "pool_rule"]


def _window(kernel_size: Sequence[int] | int, spatial: int) -> int:
    if isinstance(kernel_size, int):
        return kernel_size**spatial
    ks = list(kernel_size)
    if len(ks) == 1 and spatial > 1:
        ks = ks * spatial
    return math.prod(ks)


def pool_rule(operation: str, spatial: int) -> Rule:
    """A rule factory for a ``spatial``-d pool: (k - 1) ``operation``s per output (+1 div for average)."""

    def rule(x: TensorMeta, kernel_size: Sequence[int] | int, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
        k = _window(kernel_size, spatial)
        counts = {operation: (k - 1) * out.numel}
        if operation == "add":
            counts["div"] = out.numel
        return RuleResult(
            OpKind.POOL,
            arith=arith(x.dtype, **counts),
            write_outputs=(0,),
            dims=PoolDims(window_elements=max(k, 1), outputs=max(out.numel, 1)),
        )

    rule.__doc__ = f"{spatial}-d pool: (window - 1) {operation} per output."
    return rule


register_op_rule(aten.max_pool1d, aten.max_pool1d_with_indices)(pool_rule("compare", 1))
register_op_rule(aten.max_pool2d, aten.max_pool2d_with_indices)(pool_rule("compare", 2))
register_op_rule(aten.max_pool3d, aten.max_pool3d_with_indices)(pool_rule("compare", 3))
register_op_rule(aten.avg_pool1d)(pool_rule("add", 1))
register_op_rule(aten.avg_pool2d)(pool_rule("add", 2))
register_op_rule(aten.avg_pool3d)(pool_rule("add", 3))


def adaptive_window_elements(in_sizes: Sequence[int], out_sizes: Sequence[int]) -> int:
    """Sum over all output positions of their window sizes, for one channel of one sample."""
    total = 1
    for n_in, n_out in zip(in_sizes, out_sizes):
        total *= sum(-(-((i + 1) * n_in) // n_out) - (i * n_in) // n_out for i in range(n_out))
    return total


def _adaptive_rule(operation: str) -> Rule:
    def rule(x: TensorMeta, output_size: Sequence[int], *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
        spatial = len(output_size)
        out_sizes = out.shape[-spatial:]
        planes = out.numel // max(math.prod(out_sizes), 1)
        windows = planes * adaptive_window_elements(x.shape[-spatial:], out_sizes)
        counts = {operation: windows - out.numel}
        if operation == "add":
            counts["div"] = out.numel
        return RuleResult(
            OpKind.POOL,
            arith=arith(x.dtype, **counts),
            write_outputs=(0,),
            dims=PoolDims(window_elements=max(windows // max(out.numel, 1), 1), outputs=max(out.numel, 1)),
        )

    rule.__doc__ = f"Adaptive pool: (window - 1) {operation} per output, windows as PyTorch computes them."
    return rule


register_op_rule(aten._adaptive_avg_pool2d, aten._adaptive_avg_pool3d, aten.adaptive_avg_pool1d)(_adaptive_rule("add"))
register_op_rule(aten.adaptive_max_pool1d, aten.adaptive_max_pool2d, aten.adaptive_max_pool3d)(
    _adaptive_rule("compare")
)
