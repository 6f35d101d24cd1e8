"""Op rules: pure functions from the shapes and dtypes of an aten call to its cost.

Conventions: one MAC = one multiply + one accumulate (FLOPs in Han et al.'s sense = 2 x MACs).
A rule sees ``TensorMeta`` (shape, dtype) in place of every tensor argument, never data, so it works
on the meta device. It returns a ``RuleResult``: the op family, MACs and their data type, other
arithmetic, which tensor arguments are read in full, and the loop bounds the mapper tiles over.

Rules live in ``OP_RULES`` keyed by ``OpOverloadPacket`` (``aten.addmm``); ``register_op_rule``
refuses duplicates. Ops that are free on purpose are in ``IGNORED_OPS`` with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from simulator.frozen import FrozenMap
from simulator.workload import ArithCount, DataType

__all__ = [
    "IGNORED_OPS",
    "OP_RULES",
    "RuleResult",
    "TensorMeta",
    "data_type_of",
    "register_op_rule",
]

aten = torch.ops.aten


@dataclass(frozen=True, slots=True)
class TensorMeta:
    """Shape and dtype of one tensor argument, all a rule may look at."""

    shape: tuple[int, ...]
    dtype: DataType

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The cost of one aten call, before any mapping.

    Attributes:
        kind: op family for the mapper (``"conv"``, ``"linear"``, ``"matmul"``, ``"elementwise"``).
        macs: multiply-accumulates.
        mac_dtype: data type of the MACs (None if no MACs).
        arith: other arithmetic.
        read_args: positions (in the flattened tensor-argument list) of tensors read in full; None = all.
        dims: loop bounds for the mapper.
    """

    kind: str
    macs: int = 0
    mac_dtype: DataType | None = None
    arith: tuple[ArithCount, ...] = ()
    read_args: tuple[int, ...] | None = None
    dims: FrozenMap[str, int] = field(default_factory=FrozenMap)


Rule = Callable[..., RuleResult]

#: aten packet -> rule. Filled by ``register_op_rule``.
OP_RULES: dict[Any, Rule] = {}

#: aten packets that cost nothing on purpose, with the reason.
IGNORED_OPS: dict[Any, str] = {
    aten.t: "view: a transpose re-indexes the same storage",
    aten.view: "view: reshape of the same storage",
    aten._unsafe_view: "view: reshape of the same storage",
    aten.reshape: "view when contiguous (copies are rare at inference and not modelled)",
    aten.permute: "view: re-indexes the same storage",
    aten.transpose: "view: re-indexes the same storage",
    aten.expand: "view: broadcast without copying",
    aten.unsqueeze: "view",
    aten.squeeze: "view",
    aten.flatten: "view when contiguous",
    aten.alias: "view",
    aten.detach: "autograd bookkeeping, no data movement",
    aten.empty: "allocation only",
    aten.zeros: "allocation only (initialisation not modelled)",
}


def register_op_rule(*targets: Any) -> Callable[[Rule], Rule]:
    """Register ``rule`` for each aten packet in ``targets``; refuses duplicates and non-packets."""

    def decorator(rule: Rule) -> Rule:
        for target in targets:
            if not isinstance(target, torch._ops.OpOverloadPacket):
                raise TypeError(f"op rules are keyed by aten packets (aten.mm), got {target!r}")
            if target in OP_RULES:
                raise RuntimeError(f"duplicate op rule registration for {target}")
            if target in IGNORED_OPS:
                raise RuntimeError(f"{target} is in IGNORED_OPS ({IGNORED_OPS[target]}); remove it there first")
            OP_RULES[target] = rule
        return rule

    return decorator


_TORCH_DTYPES: dict[torch.dtype, DataType] = {
    torch.float32: DataType("float", 32),
    torch.float64: DataType("float", 64),
    torch.float16: DataType("float", 16),
    torch.bfloat16: DataType("float", 16),
    torch.int8: DataType("int", 8),
    torch.uint8: DataType("int", 8),
    torch.int16: DataType("int", 16),
    torch.int32: DataType("int", 32),
    torch.int64: DataType("int", 64),
    torch.bool: DataType("int", 1),
}


def data_type_of(dtype: torch.dtype) -> DataType:
    """pjsim's ``DataType`` for a torch dtype."""
    try:
        return _TORCH_DTYPES[dtype]
    except KeyError:
        return DataType("float" if dtype.is_floating_point else "int", torch.finfo(dtype).bits if dtype.is_floating_point else torch.iinfo(dtype).bits)


# --- matrix products --------------------------------------------------------------------------


@register_op_rule(aten.mm)
def mm_rule(a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta | None = None) -> RuleResult:
    """(M x K) @ (K x N): M*K*N MACs."""
    m, k = a.shape
    n = b.shape[1]
    return RuleResult("matmul", macs=m * k * n, mac_dtype=a.dtype, dims=FrozenMap({"M": m, "K": k, "N": n}))


@register_op_rule(aten.addmm)
def addmm_rule(bias: TensorMeta, a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta | None = None) -> RuleResult:
    """bias + (M x K) @ (K x N): M*K*N MACs; the bias is folded into the accumulator's initial value.

    NB: the bias add is counted as M*N extra adds (one per output) at the output's dtype.
    """
    m, k = a.shape
    n = b.shape[1]
    return RuleResult(
        "linear",
        macs=m * k * n,
        mac_dtype=a.dtype,
        arith=(ArithCount("add", a.dtype, m * n),),
        dims=FrozenMap({"M": m, "K": k, "N": n}),
    )


@register_op_rule(aten.bmm)
def bmm_rule(a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta | None = None) -> RuleResult:
    """(B x M x K) @ (B x K x N): B*M*K*N MACs."""
    bsz, m, k = a.shape
    n = b.shape[2]
    return RuleResult("matmul", macs=bsz * m * k * n, mac_dtype=a.dtype, dims=FrozenMap({"B": bsz, "M": m, "K": k, "N": n}))


@register_op_rule(aten.convolution)
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
    *,
    out: TensorMeta,
) -> RuleResult:
    """Any N-d convolution: MACs = N * K * prod(out spatial) * (C / groups) * prod(kernel).

    The weight has shape (K, C/groups, *kernel), so MACs = numel(out) * numel(w) / K. For a transposed
    convolution the roles of input and output swap: MACs = numel(x) * numel(w[0]) (each input element
    is scattered through the kernel into C_out/groups channels).
    """
    k_out = w.shape[0]
    per_output = math.prod(w.shape[1:])
    macs = (x.numel * per_output) if transposed else (out.numel * per_output)
    spatial = out.shape[2:]
    dims = {"N": out.shape[0], "K": out.shape[1], "C": x.shape[1], "G": groups}
    dims.update({f"P{i}": s for i, s in enumerate(spatial)})
    dims.update({f"R{i}": s for i, s in enumerate(w.shape[2:])})
    arith = (ArithCount("add", x.dtype, out.numel),) if bias is not None else ()
    del k_out
    return RuleResult("conv", macs=macs, mac_dtype=x.dtype, arith=arith, dims=FrozenMap(dims))


# --- elementwise ---------------------------------------------------------------------------------


def _elementwise_rule(operation: str, per_element: int = 1) -> Rule:
    """A rule factory: ``per_element`` ``operation``s per output element, no MACs."""

    def rule(*args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
        return RuleResult("elementwise", arith=(ArithCount(operation, out.dtype, per_element * out.numel),))

    rule.__doc__ = f"{per_element} {operation} per output element."
    return rule


register_op_rule(aten.relu, aten.relu_)(_elementwise_rule("compare"))
