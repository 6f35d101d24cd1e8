"""Data movement: copies, concatenation, padding, embedding lookups and gathers.

These ops do no arithmetic, but unlike views they move data: a copy reads its source and writes a
new tensor. NB: ``cat``/``stack`` are counted as a copy; hardware that lets producers write straight
into the concatenated buffer avoids it. A gather (embedding, index_select) reads only the rows it
looks up, so the table is a partial read: (output elements) x (table dtype bits).
"""

from __future__ import annotations

from typing import Any

from simulator.frozen import FrozenMap
from simulator.ops import GatherDims, OpKind
from simulator.trace.op_rules import RuleResult, TensorMeta, aten, register_op_rule

__all__ = ["copy_rule", "embedding_rule", "gather_rule"]


@register_op_rule(
    aten.clone,
    aten._to_copy,
    aten.cat,
    aten.stack,
    aten.constant_pad_nd,
    aten.reflection_pad1d,
    aten.reflection_pad2d,
    aten.replication_pad1d,
    aten.replication_pad2d,
    aten.repeat,
    aten.flip,
    aten.roll,
    aten.tril,
    aten.triu,
    aten.contiguous,
)
def copy_rule(*args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """A copy: reads its inputs, writes the output, no arithmetic."""
    return RuleResult(OpKind.COPY)


@register_op_rule(aten.copy_, aten.copy)
def copy_into_rule(dst: TensorMeta, src: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """dst.copy_(src): reads ``src`` only (position 1); ``dst`` is overwritten."""
    return RuleResult(OpKind.COPY, read_args=(1,))


@register_op_rule(aten.embedding)
def embedding_rule(table: TensorMeta, indices: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """Looks up ``indices`` rows: reads the indices and numel(out) table values, no arithmetic."""
    return RuleResult(
        OpKind.GATHER,
        read_args=(1,),
        partial_reads=FrozenMap({0: out.numel * table.dtype.bits}),
        dims=GatherDims(rows=max(indices.numel, 1), row_elements=max(table.shape[-1], 1)),
    )


@register_op_rule(aten.index_select, aten.gather, aten.index, aten.take_along_dim)
def gather_rule(src: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """Gathers numel(out) values of the first argument (a partial read); index tensors are read in full."""
    n_index = sum(1 for a in args if isinstance(a, TensorMeta))
    n_index += sum(1 for a in args if isinstance(a, (list, tuple)) for t in a if isinstance(t, TensorMeta))
    return RuleResult(
        OpKind.GATHER,
        read_args=tuple(range(1, 1 + n_index)),
        partial_reads=FrozenMap({0: min(out.numel, src.numel) * src.dtype.bits}),
        dims=GatherDims(rows=max(min(out.numel, src.numel), 1), row_elements=1),
    )


register_op_rule(
    aten.lift_fresh_copy,
    aten.upsample_nearest1d,
    aten.upsample_nearest2d,
    aten.upsample_nearest3d,
    aten._upsample_nearest_exact1d,
    aten._upsample_nearest_exact2d,
    aten._upsample_nearest_exact3d,
    aten.im2col,
    aten.col2im,
    aten.pixel_shuffle,
    aten.pixel_unshuffle,
    aten.channel_shuffle,
    aten.repeat_interleave,
)(copy_rule)
