"""The trace -> mapping contract: the declared op kinds and the typed dims record of each kind.

A trace rule (``simulator.trace.rules``) says what family an aten call belongs to with an ``OpKind``
and hands the mapper the loop bounds it needs as a frozen dims record; the mapper
(``simulator.mapping``) dispatches on the kind and reads typed fields. ``OP_KIND_DIMS`` is the one
place that ties a kind to its dims type, and ``Op`` (``simulator.workload``) refuses any other pairing,
so a rule cannot emit a kind nobody declared nor dims the mapper cannot read.

No torch import here: the contract is shared by the tracer (torch) and the mapper (numpy only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any

from simulator.frozen import FrozenMap

__all__ = [
    "AttentionDims",
    "ConvDims",
    "GatherDims",
    "GemmDims",
    "NoDims",
    "NO_DIMS",
    "OP_KIND_DIMS",
    "OpDims",
    "OpKind",
    "PoolDims",
    "RecurrentDims",
    "TransformerLayerDims",
    "check_dims",
    "dims_items",
    "format_dims",
    "op_kind",
]


class OpKind(str, Enum):
    """The op families a trace rule may emit (the mapper keys its registry by them).

    A ``str`` enum: ``OpKind.CONV == "conv"``, so it prints, sorts and serialises as its value.
    """

    CONV = "conv"
    LINEAR = "linear"
    MATMUL = "matmul"
    ATTENTION = "attention"
    TRANSFORMER_LAYER = "transformer_layer"
    RECURRENT = "recurrent"
    ELEMENTWISE = "elementwise"
    NORM = "norm"
    POOL = "pool"
    REDUCE = "reduce"
    SOFTMAX = "softmax"
    GATHER = "gather"
    COPY = "copy"

    def __str__(self) -> str:
        return self.value


def op_kind(value: OpKind | str, where: str = "op") -> OpKind:
    """``value`` as an ``OpKind``; a clear ``ValueError`` naming ``where`` for an undeclared kind."""
    if isinstance(value, OpKind):
        return value
    try:
        return OpKind(value)
    except ValueError:
        known = ", ".join(k.value for k in OpKind)
        raise ValueError(
            f"{where}: op kind {value!r} is not declared in simulator.ops.OpKind (known: {known})"
        ) from None


def _positive(record: Any, *names: str) -> None:
    for name in names:
        value = getattr(record, name)
        if isinstance(value, tuple):
            if any(not isinstance(v, int) or v <= 0 for v in value):
                raise ValueError(f"{type(record).__name__}.{name} must be positive integers, got {value!r}")
        elif not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{type(record).__name__}.{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class NoDims:
    """No loop bounds: streaming kinds (elementwise, norm, reduce, softmax, copy) read and write each operand once."""


NO_DIMS = NoDims()


@dataclass(frozen=True, slots=True)
class GemmDims:
    """``batch`` independent products ``O[m, n] = A[m, k] @ B[k, n]`` (linear, mm, bmm, mv, dot)."""

    m: int
    k: int
    n: int
    batch: int = 1

    def __post_init__(self) -> None:
        _positive(self, "m", "k", "n", "batch")

    @property
    def macs(self) -> int:
        return self.batch * self.m * self.k * self.n


@dataclass(frozen=True, slots=True)
class ConvDims:
    """A convolution of any dimensionality (1-d, 2-d, 3-d), direct or transposed.

    Attributes:
        batch: N.
        in_channels: C (channels of the input ``x``).
        out_channels: K (channels of the output).
        groups: G; C and K are both divisible by it.
        input_size: spatial size of the input.
        output_size: spatial size of the output.
        kernel_size: spatial size of the kernel.
        stride, padding, dilation: per spatial dimension, as given to the aten call.
        transposed: a transposed convolution (``ConvTranspose*d``): each input pixel is scattered
            through the kernel into K/G channels.
    """

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    transposed: bool = False

    def __post_init__(self) -> None:
        _positive(self, "batch", "in_channels", "out_channels", "groups", "input_size", "output_size", "kernel_size")
        spatial = len(self.kernel_size)
        for name in ("input_size", "output_size", "stride", "padding", "dilation"):
            if len(getattr(self, name)) != spatial:
                raise ValueError(
                    f"ConvDims.{name} must have {spatial} entries (one per kernel dimension), "
                    f"got {getattr(self, name)!r}"
                )
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"ConvDims: channels ({self.in_channels} in, {self.out_channels} out) must be divisible by "
                f"groups={self.groups}"
            )

    @property
    def kernel_elements(self) -> int:
        return math.prod(self.kernel_size)

    @property
    def macs(self) -> int:
        """Direct: outputs x (C/G) x kernel; transposed: inputs x (K/G) x kernel (the scatter)."""
        per_tap = self.kernel_elements * self.batch
        if self.transposed:
            return per_tap * self.in_channels * math.prod(self.input_size) * (self.out_channels // self.groups)
        return per_tap * self.out_channels * math.prod(self.output_size) * (self.in_channels // self.groups)


@dataclass(frozen=True, slots=True)
class AttentionDims:
    """Scaled dot-product attention, bare (SDPA kernels) or with its projections (``nn.MultiheadAttention``).

    Attributes:
        batch: samples (every leading dimension of q other than the heads).
        heads: query heads H.
        kv_heads: key/value heads (H for multi-head attention, fewer for grouped-query attention).
        query_length: L.
        key_length: S.
        head_dim: E per head of q and k.
        value_head_dim: Ev per head of v.
        causal: the kernel was asked for a causal mask (the dense products are still counted;
            ``kernel_macs`` is what a causal kernel performs).
        projections: the op includes the q, k, v and output projections (embed = heads x head_dim).
    """

    batch: int
    heads: int
    kv_heads: int
    query_length: int
    key_length: int
    head_dim: int
    value_head_dim: int
    causal: bool = False
    projections: bool = False

    def __post_init__(self) -> None:
        _positive(self, "batch", "heads", "kv_heads", "query_length", "key_length", "head_dim", "value_head_dim")

    @property
    def embed(self) -> int:
        return self.heads * self.head_dim

    @property
    def visible_scores(self) -> int:
        """Scores one (batch, head) computes: L x S dense; under a causal mask only those with key <= query.

        PyTorch's ``is_causal`` keeps the lower triangle aligned top-left (``tril`` of an L x S matrix):
        query i sees keys 0..i, so sum over i of min(i + 1, S) = L(L+1)/2 when L <= S.
        """
        length, keys = self.query_length, self.key_length
        if not self.causal:
            return length * keys
        if length <= keys:
            return length * (length + 1) // 2
        return keys * (keys + 1) // 2 + (length - keys) * keys

    @property
    def dense_macs(self) -> int:
        """Q·K^T and P·V over every score (what the trace counts, as the unfused math path executes)."""
        return self.batch * self.heads * self.query_length * self.key_length * (self.head_dim + self.value_head_dim)

    @property
    def kernel_macs(self) -> int:
        """The MACs a causal kernel performs (element-level skipping; a block-sparse kernel performs
        slightly more, up to ``dense_macs``); equal to ``dense_macs`` without a causal mask."""
        return self.batch * self.heads * self.visible_scores * (self.head_dim + self.value_head_dim)


@dataclass(frozen=True, slots=True)
class TransformerLayerDims:
    """A fused transformer encoder layer: self-attention with projections plus a feed-forward pair."""

    attention: AttentionDims
    ffn_width: int

    def __post_init__(self) -> None:
        _positive(self, "ffn_width")
        if not self.attention.projections:
            raise ValueError("TransformerLayerDims.attention must include its projections (projections=True)")


@dataclass(frozen=True, slots=True)
class RecurrentDims:
    """One direction of one recurrent layer (LSTM: 4 gates, GRU: 3, RNN: 1) over ``tokens`` = steps x batch.

    Per token: the input GEMM (gates*hidden x input_size) and the recurrent GEMM (gates*hidden x hidden).
    """

    tokens: int
    input_size: int
    hidden_size: int
    gates: int

    def __post_init__(self) -> None:
        _positive(self, "tokens", "input_size", "hidden_size", "gates")

    @property
    def macs(self) -> int:
        return self.tokens * self.gates * self.hidden_size * (self.input_size + self.hidden_size)


@dataclass(frozen=True, slots=True)
class PoolDims:
    """A pool: ``outputs`` output elements, each reducing ``window_elements`` inputs (the mean for adaptive pools)."""

    window_elements: int
    outputs: int

    def __post_init__(self) -> None:
        _positive(self, "window_elements", "outputs")


@dataclass(frozen=True, slots=True)
class GatherDims:
    """A lookup of ``rows`` rows of ``row_elements`` values (an embedding reads whole rows, ``gather`` single values)."""

    rows: int
    row_elements: int

    def __post_init__(self) -> None:
        _positive(self, "rows", "row_elements")


OpDims = NoDims | GemmDims | ConvDims | AttentionDims | TransformerLayerDims | RecurrentDims | PoolDims | GatherDims

#: The dims record each kind carries: the one place tying a kind to what the mapper may read.
OP_KIND_DIMS: FrozenMap[OpKind, type] = FrozenMap(
    {
        OpKind.CONV: ConvDims,
        OpKind.LINEAR: GemmDims,
        OpKind.MATMUL: GemmDims,
        OpKind.ATTENTION: AttentionDims,
        OpKind.TRANSFORMER_LAYER: TransformerLayerDims,
        OpKind.RECURRENT: RecurrentDims,
        OpKind.ELEMENTWISE: NoDims,
        OpKind.NORM: NoDims,
        OpKind.POOL: PoolDims,
        OpKind.REDUCE: NoDims,
        OpKind.SOFTMAX: NoDims,
        OpKind.GATHER: GatherDims,
        OpKind.COPY: NoDims,
    }
)


def check_dims(kind: OpKind, dims: Any, where: str = "op") -> None:
    """Raise ``TypeError`` naming ``where`` unless ``dims`` is the record ``OP_KIND_DIMS`` declares for ``kind``."""
    expected = OP_KIND_DIMS[kind]
    if type(dims) is not expected:
        raise TypeError(
            f"{where}: op kind {kind.value!r} carries {expected.__name__} dims, "
            f"got {type(dims).__name__} ({dims!r:.120})"
        )


def dims_items(dims: OpDims) -> tuple[tuple[str, Any], ...]:
    """``(name, value)`` pairs of a dims record, nested records flattened with a dotted prefix."""
    out: list[tuple[str, Any]] = []
    for f in fields(dims):
        value = getattr(dims, f.name)
        if hasattr(value, "__dataclass_fields__"):
            out.extend((f"{f.name}.{k}", v) for k, v in dims_items(value))
        else:
            out.append((f.name, value))
    return tuple(out)


def format_dims(dims: OpDims) -> str:
    """The text form of a dims record for tables and CSV: ``m=2;k=4;n=3;batch=1``, tuples as ``6x6``."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return "x".join(str(v) for v in value)
        return str(value)

    return ";".join(f"{name}={text(value)}" for name, value in dims_items(dims))


assert set(OP_KIND_DIMS) == set(OpKind), "every OpKind needs its dims record in OP_KIND_DIMS"
