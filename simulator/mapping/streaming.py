"""Streaming ops: kinds without MACs, each operand once through the hierarchy (``STREAMING_KINDS`` says why).

``map_streaming`` is also the fallback for an op no mapper maps (listed in ``Schedule.unmapped``).
"""

from __future__ import annotations

import math

from simulator.frozen import FrozenMap
from simulator.mapping.context import MappingContext, Traffic, edge_traffic, op_name, role_of
from simulator.mapping.operations import arith_operations
from simulator.mapping.registry import register_op_mapper
from simulator.mapping.spatial import arith_cycles
from simulator.mapping.schedule import MappingError, OperationCount, OpSchedule
from simulator.ops import OpKind
from simulator.workload import Op

__all__ = ["STREAMING_KINDS", "map_streaming"]

#: Kinds without MACs mapped as streaming ops on purpose (operands once through the hierarchy), with the reason.
STREAMING_KINDS: FrozenMap[OpKind, str] = FrozenMap({
    OpKind.ELEMENTWISE: "a fixed count of operations per element and no reuse: each operand crosses the hierarchy "
    "once (and not at all when fused into its producer)",
    OpKind.NORM: "per-element scale and shift with per-row statistics; the input is read once, no MACs to tile",
    OpKind.POOL: "each input feeds at most the few overlapping windows around it, served from the innermost level; "
    "read once, no MACs to tile",
    OpKind.REDUCE: "each input element is combined once into its output",
    OpKind.SOFTMAX: "per-row max, exponentials and sum over a row read once",
    OpKind.GATHER: "reads only the rows (values) it looks up, once; no arithmetic",
    OpKind.COPY: "moves data once (copies, concatenation, padding, layout changes, nearest upsampling); no arithmetic",
})



@register_op_mapper(*STREAMING_KINDS)
def map_streaming(op: Op, ctx: MappingContext) -> OpSchedule:
    """Read every operand once from its home down to the compute array, write every output once up to its home."""
    traffic = Traffic(ctx, op)
    reads = [t for t in dict.fromkeys(a.tensor for a in op.reads) if t not in ctx.free_reads[op.index]]
    streamed_bits = 0.0
    for tensor in reads:
        home = ctx.home(tensor)
        traffic.through(tensor, role_of(op, tensor), home)
        if home == ctx.dram_idx:
            streamed_bits += traffic.bits_at(tensor, ctx.dram_idx)
            if ctx.workload.tensors[tensor].kind != "input":
                ctx.spilling.add(op.module)
    for tensor, bits in ctx.writes[op.index]:
        home = ctx.home(tensor)
        traffic.add(0, "outputs", "write", bits)
        for child in range(0, home):
            traffic.up(bits, child, child + 1)
        if home == ctx.dram_idx:
            streamed_bits += bits
            if tensor not in ctx.final_outputs:
                ctx.spilling.add(op.module)
    edge_traffic(op, ctx, traffic, reads)
    steps = 1
    if ctx.gb_idx is not None and streamed_bits:
        budget, factor = ctx.budget(ctx.gb_idx)
        element = max(ctx.workload.tensors[t].dtype.bits for t in [*reads, *(t for t, _ in ctx.writes[op.index])])
        if budget < element:
            level = ctx.levels[ctx.gb_idx]
            raise MappingError(
                f"{op_name(op)}: memory level '{level.name}' cannot buffer one {element}-bit element "
                f"(x{factor} double-buffered) in the {budget:.0f} bits it offers per tile set; capacity "
                f"needed: at least {math.ceil(element * level.capacity_bits / max(budget, 1e-9))} bits"
            )
        steps = max(1, math.ceil(streamed_bits / budget))
    e_macs = float(op.macs)
    operations = arith_operations(op)
    if op.macs:
        operations.insert(0, OperationCount("mac", op.mac_dtype.name if op.mac_dtype else "float32", e_macs))
    work = e_macs + sum(a.count for a in op.arith)
    return OpSchedule(
        index=op.index, layer=op.module, kind=op.kind.value, aten=op.aten,
        mapping="fused" if ctx.free_reads[op.index] else "streaming", tiles=(),
        traffic_bits=traffic.frozen(), operations=tuple(operations), macs=op.macs,
        compute_cycles=arith_cycles(ctx.profile.compute, work), steps=steps,
    )
