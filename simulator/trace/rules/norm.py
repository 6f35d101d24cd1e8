"""Normalisation: batch norm (inference and training), layer norm, group norm, RMS norm.

Batch norm at inference uses running statistics, so it folds into one scale and one shift per
channel: per element 1 mult + 1 add; per channel rsqrt(var + eps) (add + div), the scale gamma x
rstd (mult) and the shift beta - mean x scale (mult + add). In training mode the statistics are
computed from the batch like layer norm's.

Layer/group norm compute statistics per row (the normalised group of n elements): per element the
mean's accumulate (add), centring (add), square-and-accumulate (mult + add) and scaling by the rstd
(mult), i.e. 3 add + 2 mult; per row 2 div (mean, variance) + 1 div (rsqrt). An affine transform
adds 1 mult + 1 add per element. RMS norm skips the centring: per element 1 add + 2 mult; per row
2 div. Only the normalised output is written; the saved statistics are for backward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.ops import OpKind
from simulator.trace.op_rules import RuleResult, TensorMeta, arith, aten, register_op_rule
from simulator.workload import ArithCount, DataType

__all__ = ["batch_norm_arith", "layer_norm_arith"]


def layer_norm_arith(elements: int, rows: int, affine: bool, dtype: DataType) -> tuple[ArithCount, ...]:
    """Arithmetic of normalising ``elements`` values in ``rows`` groups with runtime statistics."""
    a = 1 if affine else 0
    return arith(dtype, add=(3 + a) * elements, mult=(2 + a) * elements, div=3 * rows)


def batch_norm_arith(elements: int, channels: int, dtype: DataType) -> tuple[ArithCount, ...]:
    """Arithmetic of an inference batch norm folded to a per-channel scale and shift."""
    return arith(dtype, mult=elements + 2 * channels, add=elements + 2 * channels, div=channels)


def _batch_norm(x: TensorMeta, weight: TensorMeta | None, training: bool) -> RuleResult:
    channels = x.shape[1] if len(x.shape) > 1 else 1
    if training:
        counts = layer_norm_arith(x.numel, channels, weight is not None, x.dtype)
    else:
        counts = batch_norm_arith(x.numel, channels, x.dtype)
    return RuleResult(OpKind.NORM, arith=counts, write_outputs=(0,))


@register_op_rule(
    aten.native_batch_norm, aten._native_batch_norm_legit_functional, aten.cudnn_batch_norm, aten.miopen_batch_norm
)
def native_batch_norm_rule(
    x: TensorMeta,
    weight: TensorMeta | None,
    bias: TensorMeta | None,
    running_mean: Any,
    running_var: Any,
    training: bool,
    *args: Any,
    out: TensorMeta,
    **kwargs: Any,
) -> RuleResult:
    """Batch norm with an explicit ``training`` flag."""
    return _batch_norm(x, weight, bool(training))


@register_op_rule(aten._native_batch_norm_legit)
def batch_norm_legit_rule(
    x: TensorMeta, weight: TensorMeta | None, bias: TensorMeta | None, *args: Any, out: TensorMeta, **kwargs: Any
) -> RuleResult:
    """``_native_batch_norm_legit`` (with or without running stats): the first bool is ``training``."""
    training = next((a for a in args if isinstance(a, bool)), True)
    return _batch_norm(x, weight, training)


@register_op_rule(aten._native_batch_norm_legit_no_training, aten._batch_norm_no_update)
def batch_norm_no_training_rule(
    x: TensorMeta, weight: TensorMeta | None, *args: Any, out: TensorMeta, **kwargs: Any
) -> RuleResult:
    """Inference batch norm (running statistics)."""
    return _batch_norm(x, weight, False)


@register_op_rule(aten._batch_norm_with_update)
def batch_norm_with_update_rule(
    x: TensorMeta, weight: TensorMeta | None, *args: Any, out: TensorMeta, **kwargs: Any
) -> RuleResult:
    """Training batch norm that updates the running statistics."""
    return _batch_norm(x, weight, True)


@register_op_rule(aten.native_layer_norm)
def layer_norm_rule(
    x: TensorMeta,
    normalized_shape: Sequence[int],
    weight: TensorMeta | None,
    *args: Any,
    out: TensorMeta,
    **kwargs: Any,
) -> RuleResult:
    """Layer norm over the last ``len(normalized_shape)`` dims."""
    n = 1
    for s in normalized_shape:
        n *= int(s)
    rows = x.numel // max(n, 1)
    counts = layer_norm_arith(x.numel, rows, weight is not None, x.dtype)
    return RuleResult(OpKind.NORM, arith=counts, write_outputs=(0,))


@register_op_rule(aten.native_group_norm)
def group_norm_rule(
    x: TensorMeta,
    weight: TensorMeta | None,
    bias: TensorMeta | None,
    n: int,
    c: int,
    hw: int,
    groups: int,
    *args: Any,
    out: TensorMeta,
    **kwargs: Any,
) -> RuleResult:
    """Group norm: statistics per (sample, group)."""
    counts = layer_norm_arith(x.numel, int(n) * int(groups), weight is not None, x.dtype)
    return RuleResult(OpKind.NORM, arith=counts, write_outputs=(0,))


@register_op_rule(aten._fused_rms_norm, aten.rms_norm)
def rms_norm_rule(
    x: TensorMeta,
    normalized_shape: Sequence[int],
    weight: TensorMeta | None = None,
    *args: Any,
    out: TensorMeta,
    **kwargs: Any,
) -> RuleResult:
    """RMS norm: per element 1 add + 2 mult (+1 mult with a weight); per row 2 div."""
    n = 1
    for s in normalized_shape:
        n *= int(s)
    rows = x.numel // max(n, 1)
    w = 1 if weight is not None else 0
    return RuleResult(
        OpKind.NORM, arith=arith(x.dtype, add=x.numel, mult=(2 + w) * x.numel, div=2 * rows), write_outputs=(0,)
    )
