"""Dynamic-quantized linear layers (``torch.ao.quantization.quantize_dynamic``): MACs at the integer width.

``quantized::linear_dynamic(X, W_prepack)`` quantizes the float input on the fly to 8 bits, multiplies
by the int8 packed weight with int32 accumulation, and dequantizes the output:

- MACs = output elements x in_features, at the packed weight's width (int8; float16 for
  ``linear_dynamic_fp16``).
- the input's quantization: per input element a min and a max (2 compares), a scale (1 mult) and a
  zero-point add (1 add), at the input's float width;
- the output's dequantization: per output element a scale (1 mult) and the bias add (1 add).

The packed weight is a TorchBind object, not a tensor argument: its shape comes from ``unpack()``, and
the tracer stands its weight in as the second tensor argument (``<module>.weight``, int8 values or
float16), so the weight is read at its stored width.
"""

from __future__ import annotations

from typing import Any

import torch

from simulator.ops import GemmDims, OpKind
from simulator.trace.op_rules import RuleResult, TensorMeta, arith, data_type_of, register_op_rule
from simulator.workload import DataType

__all__ = ["linear_dynamic_fp16_rule", "linear_dynamic_rule"]

_q = torch.ops.quantized


def _packed_weight(packed: Any) -> torch.Tensor:
    unpack = getattr(packed, "unpack", None)
    if unpack is None:
        raise TypeError(f"quantized linear: expected a LinearPackedParamsBase as W_prepack, got {type(packed).__name__}")
    weight = unpack()[0]
    if weight.dim() != 2:
        raise ValueError(f"quantized linear: packed weight must be (out_features, in_features), got {tuple(weight.shape)}")
    return weight


@register_op_rule(_q.linear_dynamic, _q.linear_relu_dynamic)
def linear_dynamic_rule(x: TensorMeta, packed: Any, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """X (..., I) @ W (O, I)^T at the packed weight's width, plus quantize/dequantize arithmetic (module doc)."""
    weight = _packed_weight(packed)
    return _linear(x, weight, data_type_of(weight.dtype), out)


@register_op_rule(_q.linear_dynamic_fp16, _q.linear_relu_dynamic_fp16)
def linear_dynamic_fp16_rule(x: TensorMeta, packed: Any, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """X @ W^T with float16 packed weights (``unpack()`` hands them back as float32): MACs at float16."""
    return _linear(x, _packed_weight(packed), DataType("float", 16), out)


def _linear(x: TensorMeta, weight: torch.Tensor, mac_dtype: DataType, out: TensorMeta) -> RuleResult:
    n, k = weight.shape
    m = out.numel // max(n, 1)
    counts = arith(x.dtype, compare=2 * x.numel, mult=x.numel + out.numel, add=x.numel + out.numel)
    if mac_dtype.kind == "float":  # fp16 weights: no input quantization, only the bias add
        counts = arith(x.dtype, add=out.numel)
    return RuleResult(
        OpKind.LINEAR,
        macs=out.numel * k,
        mac_dtype=mac_dtype,
        arith=counts,
        dims=GemmDims(m=max(m, 1), k=k, n=n),
    )
