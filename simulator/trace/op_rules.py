"""Op rules: the registry and the records a rule sees and returns.

Conventions: one MAC = one multiply + one accumulate (FLOPs in Han et al.'s sense = 2 x MACs).
Other arithmetic is counted by operation (``add``, ``mult``, ``compare``, ``exp``, ``div``) and data
type; a subtraction is an ``add``, transcendental functions (exp, log, erf, tanh's exponential) are
``exp``, a square root or reciprocal square root is priced as a ``div``.

A rule sees ``TensorMeta`` (shape, dtype) in place of every tensor argument, never data, so it works
on the meta device. It is called as ``rule(*args, out=<TensorMeta of the first output>, **kwargs)``
and returns a ``RuleResult``: the op family, MACs and their data type, other arithmetic, which
tensor arguments are read (in full or in part), which outputs are written, and the loop bounds the
mapper tiles over.

Rules live in ``OP_RULES`` keyed by ``OpOverloadPacket`` (``aten.addmm``); ``register_op_rule``
refuses duplicates and ops that are in ``IGNORED_OPS`` (ops that are free on purpose, each with the
reason). The rule families themselves are in ``simulator.trace.rules``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from simulator.frozen import FrozenMap
from simulator.ops import NO_DIMS, OpDims, OpKind, check_dims
from simulator.workload import ArithCount, DataType

__all__ = [
    "ARITH_OPERATIONS",
    "IGNORED_OPS",
    "OP_RULES",
    "Rule",
    "RuleResult",
    "TensorMeta",
    "UNANNOTATED_VIEWS",
    "arith",
    "data_type_of",
    "merge_arith",
    "register_op_rule",
]

aten = torch.ops.aten

#: The arithmetic operations a rule may count besides MACs.
ARITH_OPERATIONS = ("add", "mult", "compare", "exp", "div")


@dataclass(frozen=True, slots=True)
class TensorMeta:
    """Shape and dtype of one tensor argument, all a rule may look at."""

    shape: tuple[int, ...]
    dtype: DataType

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def bits(self) -> int:
        return self.numel * self.dtype.bits


@dataclass(frozen=True, slots=True)
class RuleResult:
    """The cost of one aten call, before any mapping.

    Attributes:
        kind: op family for the mapper, from the declared set ``simulator.ops.OpKind``;
            ``OpKind.ELEMENTWISE`` ops may be fused into their producer by the mapper.
        macs: multiply-accumulates.
        mac_dtype: data type of the MACs (None if no MACs).
        arith: other arithmetic.
        read_args: positions (in the flattened tensor-argument list: positional arguments in order,
            lists expanded, then keyword arguments) of tensors read in full; None = all.
        partial_reads: position -> bits read, for tensors read only in part (an embedding reads only
            the rows it looks up); such a position must not also be in ``read_args``.
        write_outputs: positions of the output tensors actually written (None = all); auxiliary
            outputs such as max-pool indices or a norm's saved statistics are not inference traffic.
        dims: loop bounds for the mapper: the typed record ``simulator.ops.OP_KIND_DIMS`` declares
            for ``kind`` (checked here, so a rule returning the wrong record fails at once).
    """

    kind: OpKind
    macs: int = 0
    mac_dtype: DataType | None = None
    arith: tuple[ArithCount, ...] = ()
    read_args: tuple[int, ...] | None = None
    partial_reads: FrozenMap[int, int] = field(default_factory=FrozenMap)
    write_outputs: tuple[int, ...] | None = None
    dims: OpDims = NO_DIMS

    def __post_init__(self) -> None:
        if not isinstance(self.kind, OpKind):
            raise TypeError(f"RuleResult.kind must be an OpKind (simulator.ops), got {self.kind!r}")
        check_dims(self.kind, self.dims, "RuleResult")


Rule = Callable[..., RuleResult]

#: aten packet -> rule. Filled by ``register_op_rule`` (the families in ``simulator.trace.rules``).
OP_RULES: dict[Any, Rule] = {}

_VIEW = "view: re-indexes the same storage, no arithmetic and no traffic"
_ALLOC = "allocation: creating or initialising a buffer is not modelled as traffic"

#: aten packets that cost nothing on purpose, with the reason.
IGNORED_OPS: dict[Any, str] = {
    aten.t: _VIEW,
    aten.view: _VIEW,
    aten._unsafe_view: _VIEW,
    aten._reshape_alias: _VIEW,
    aten.reshape: "view when contiguous; a non-contiguous reshape arrives as an explicit aten.clone",
    aten.permute: _VIEW,
    aten.transpose: _VIEW,
    aten.expand: "view: broadcast without copying",
    aten.unsqueeze: _VIEW,
    aten.squeeze: _VIEW,
    aten.squeeze_: _VIEW,
    aten.unsqueeze_: _VIEW,
    aten.t_: _VIEW,
    aten.transpose_: _VIEW,
    aten.as_strided_: _VIEW,
    aten.detach_: "autograd bookkeeping, no data movement",
    aten.flatten: "view when contiguous",
    aten.unflatten: _VIEW,
    aten.alias: _VIEW,
    aten.as_strided: _VIEW,
    aten.slice: _VIEW,
    aten.select: _VIEW,
    aten.narrow: _VIEW,
    aten.split: _VIEW,
    aten.split_with_sizes: _VIEW,
    aten.unsafe_split: _VIEW,
    aten.unsafe_split_with_sizes: _VIEW,
    aten.unsafe_chunk: _VIEW,
    aten.tensor_split: _VIEW,
    aten.hsplit: _VIEW,
    aten.vsplit: _VIEW,
    aten.dsplit: _VIEW,
    aten.swapaxes: _VIEW,
    aten.swapdims: _VIEW,
    aten.movedim: _VIEW,
    aten.view_as: _VIEW,
    aten.expand_as: "view: broadcast without copying",
    aten.unbind: _VIEW,
    aten.chunk: _VIEW,
    aten.diagonal: _VIEW,
    aten.unfold: _VIEW,
    aten.view_as_real: _VIEW,
    aten.view_as_complex: _VIEW,
    aten.detach: "autograd bookkeeping, no data movement",
    aten.lift_fresh: "wraps a constant created in forward; no data movement",
    aten.empty: _ALLOC,
    aten.empty_like: _ALLOC,
    aten.empty_strided: _ALLOC,
    aten.new_empty: _ALLOC,
    aten.new_empty_strided: _ALLOC,
    aten.zeros: _ALLOC,
    aten.zeros_like: _ALLOC,
    aten.new_zeros: _ALLOC,
    aten.ones: _ALLOC,
    aten.ones_like: _ALLOC,
    aten.new_ones: _ALLOC,
    aten.full: _ALLOC,
    aten.full_like: _ALLOC,
    aten.new_full: _ALLOC,
    aten.scalar_tensor: _ALLOC,
    aten.arange: _ALLOC,
    aten.fill_: _ALLOC,
    aten.zero_: _ALLOC,
    aten.resize_: _ALLOC,
    aten._local_scalar_dense: "reads one scalar to the host (.item()); negligible",
    aten._assert_async: "a runtime check, no arithmetic",
    aten._assert_tensor_metadata: "a runtime check, no arithmetic",
    aten.sym_size: "shape query",
    aten.sym_stride: "shape query",
    aten.sym_numel: "shape query",
}


#: Views whose aten schema carries no alias annotation (the ``unsafe_`` variants skip autograd's
#: view tracking): the tracer names their outputs as aliases of the input all the same. Without this,
#: ``matmul``'s ``bmm`` -> ``_unsafe_view`` left the bmm's output unread (a false model output, written
#: to DRAM) and the view a tensor nobody produced.
UNANNOTATED_VIEWS = frozenset(
    {aten._unsafe_view, aten.unsafe_split, aten.unsafe_split_with_sizes, aten.unsafe_chunk}
)


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


def arith(dtype: DataType, **counts: int) -> tuple[ArithCount, ...]:
    """``ArithCount``s at ``dtype`` for the non-zero ``counts`` (keys from ``ARITH_OPERATIONS``)."""
    out = []
    for operation, count in counts.items():
        if operation not in ARITH_OPERATIONS:
            raise ValueError(f"unknown arithmetic operation {operation!r}; expected one of {ARITH_OPERATIONS}")
        if count:
            out.append(ArithCount(operation, dtype, int(count)))
    return tuple(out)


def merge_arith(counts: tuple[ArithCount, ...]) -> tuple[ArithCount, ...]:
    """``counts`` with the same (operation, dtype) summed, zero counts dropped (a fused op's parts in one list)."""
    merged: dict[tuple[str, DataType], int] = {}
    for c in counts:
        merged[(c.operation, c.dtype)] = merged.get((c.operation, c.dtype), 0) + c.count
    return tuple(ArithCount(op, dt, n) for (op, dt), n in merged.items() if n)


_TORCH_DTYPES: dict[torch.dtype, DataType] = {
    torch.float32: DataType("float", 32),
    torch.float64: DataType("float", 64),
    torch.float16: DataType("float", 16),
    torch.bfloat16: DataType("bfloat", 16),
    torch.int8: DataType("int", 8),
    torch.uint8: DataType("int", 8),
    torch.int16: DataType("int", 16),
    torch.int32: DataType("int", 32),
    torch.int64: DataType("int", 64),
    torch.bool: DataType("int", 1),
    torch.qint8: DataType("int", 8),
    torch.quint8: DataType("int", 8),
    torch.qint32: DataType("int", 32),
    torch.quint4x2: DataType("int", 4),
    torch.quint2x4: DataType("int", 2),
}
for _name, _bits in (
    ("uint16", 16),
    ("uint32", 32),
    ("uint64", 64),
    ("float8_e4m3fn", 8),
    ("float8_e5m2", 8),
    ("int4", 4),
    ("uint4", 4),
    ("int2", 2),
    ("uint2", 2),
    ("int1", 1),
    ("uint1", 1),
):
    _dt = getattr(torch, _name, None)
    if _dt is not None:
        _TORCH_DTYPES[_dt] = DataType("float" if _name.startswith("float") else "int", _bits)


def data_type_of(dtype: torch.dtype) -> DataType:
    """pjsim's ``DataType`` for a torch dtype (quantized and sub-byte integer dtypes by their bits)."""
    try:
        return _TORCH_DTYPES[dtype]
    except KeyError:
        if dtype.is_complex:
            return DataType("float", dtype.itemsize * 8)
        kind = "float" if dtype.is_floating_point else "int"
        dt = DataType(kind, dtype.itemsize * 8)
        _TORCH_DTYPES[dtype] = dt
        return dt
