"""The mapper: (Workload, HardwareProfile) -> Schedule. Residency, fusion, tiling and reuse of every op.

Pipeline, one step per line:

1. fuse: an elementwise op whose input was produced by the op just before it (and read by nobody else)
   is folded into that producer: the producer writes the elementwise op's output directly, the
   intermediate never reaches memory.
2. residency (``residency.py``, the one home of "what must be on chip"): if the model's ``Footprint``
   fits the global buffer (the outermost on-chip level), weights stay resident: the first inference
   loads them from DRAM once (cold start), every later one does not (steady state).
3. activations: otherwise half of the global buffer is reserved for activations; an activation (each
   in-place rewrite of a buffer decided apart) stays on chip from its producer to its last consumer
   when the live activations over that span fit that half (``residency.kept_activations``; so more
   SRAM can only keep more activations on chip), and spills to DRAM otherwise.
4. tiling: each op with MACs is tiled at every on-chip level by a vectorised search (``tiling.py``)
   minimising the objective (``objective.py``: energy by default) of the traffic across the boundary
   above that level; SRAM tiles are double buffered (half the capacity), register-file tiles are not.
5. streams: the result per op is its memory-access stream (bits per level, operand and direction) and
   its operation stream (MACs after zero handling, other arithmetic, decode work).

Op kinds are mapped through ``OP_MAPPERS`` (``registry.py``, keyed by ``simulator.ops.OpKind``), one
module per concern: ``conv`` (direct and transposed, ``conv.py``) / ``linear`` / ``matmul`` (``gemm.py``) as
one tiled GEMM, ``attention`` / ``transformer_layer`` / ``recurrent`` as their chain of GEMMs
(``transformer.py``), the kinds in ``STREAMING_KINDS`` (``streaming.py``, each with its reason) as
streaming ops; the operation stream (zero handling, decode work) is ``operations.py``, the shared
context and traffic accumulator ``context.py``. This module only wires them. Mappers read the typed dims record of their kind (``simulator.ops``). A kind without a
mapper, or an op a mapper cannot map (e.g. cross-attention with projections), is costed as a streaming
op and listed in ``Schedule.unmapped`` (``strict=True`` raises instead).

A profile's dataflow (``[compute] dataflow``) may replace the mapper of some kinds (``dataflows.DATAFLOW_MAPPERS``):
``eie-csc`` maps weight-times-vector ``linear`` / ``matmul`` ops as EIE's compressed sparse column execution
(``sparse_csc.py``), from the weights' non-zero patterns (``map_workload(weight_patterns=...)``); what it
declines goes to the dense mapper.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace

# The op mappers register themselves in OP_MAPPERS on import (conv, gemm, transformer, streaming).
from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.context import ACTIVATION_SHARE, MappingContext, huffman_symbol_count, op_name
from simulator.mapping.conv import map_conv
from simulator.mapping.dataflows import DATAFLOW_MAPPERS
from simulator.mapping.gemm import GemmView, gemm_view, map_gemm
from simulator.mapping.memo import MappedOp, OpMemo
from simulator.mapping.operands import offchip_bits, onchip_bits
from simulator.mapping.registry import OP_MAPPERS, OpMapper, register_op_mapper
from simulator.mapping.residency import footprint, global_buffer_bits, kept_activations, used_weights
from simulator.mapping.schedule import MappingError, OperationCount, OpSchedule, Schedule
from simulator.mapping.sparse_csc import WeightPattern
from simulator.mapping.streaming import STREAMING_KINDS, map_streaming
from simulator.mapping.objective import check_objective
from simulator.mapping.transformer import map_attention, map_recurrent
from simulator.ops import OpKind
from simulator.workload import Op, Workload


__all__ = [
    "ACTIVATION_SHARE",
    "DATAFLOW_MAPPERS",
    "GEMM_KINDS",
    "OP_MAPPERS",
    "STREAMING_KINDS",
    "GemmView",
    "OpMapper",
    "gemm_view",
    "map_attention",
    "map_conv",
    "map_gemm",
    "map_recurrent",
    "map_streaming",
    "map_workload",
    "register_op_mapper",
]

#: Kinds tiled as one GEMM or a chain of GEMMs.
GEMM_KINDS = (OpKind.CONV, OpKind.LINEAR, OpKind.MATMUL, OpKind.ATTENTION, OpKind.TRANSFORMER_LAYER, OpKind.RECURRENT)


def _fuse(workload: Workload, enabled: bool) -> tuple[dict[int, list[tuple[str, int]]], dict[int, set[str]], dict[int, int]]:
    """Effective writes per op, operands read for free (fused), and fused op -> op it was folded into.

    An elementwise op folds into the producer of the tensor it reads right after it. So does a softmax
    over the output of a matrix product (eager attention's scores, possibly scaled or masked first):
    it runs on the rows the Q·K^T GEMM just produced, as a fused attention kernel does, so eager and
    fused (SDPA) attention move the scores the same way (``tests/mapping/test_attention_forms.py``).
    """
    writes = {op.index: [(a.tensor, a.bits) for a in op.writes] for op in workload.ops}
    free: dict[int, set[str]] = defaultdict(set)
    fused: dict[int, int] = {}
    writer: dict[str, int] = {}
    for op in workload.ops:
        foldable = op.kind is OpKind.ELEMENTWISE or op.kind is OpKind.SOFTMAX
        if enabled and foldable and op.macs == 0:
            for access in op.reads:
                info = workload.tensors[access.tensor]
                root = writer.get(access.tensor)
                if op.kind is OpKind.SOFTMAX and (root is None or workload.ops[root].kind is not OpKind.MATMUL):
                    continue
                if (
                    root is not None
                    and info.kind == "activation"
                    and info.producer == op.index - 1
                    and info.last_use == op.index
                ):
                    writes[root] = [w for w in writes[root] if w[0] != access.tensor] + writes[op.index]
                    writes[op.index] = []
                    free[op.index].add(access.tensor)
                    fused[op.index] = root
                    break
        owner = fused.get(op.index, op.index)
        for access in op.writes:
            writer[access.tensor] = owner
    return writes, free, fused


def map_workload(
    workload: Workload,
    profile: HardwareProfile,
    *,
    fuse_elementwise: bool = True,
    strict: bool = False,
    independent_layers: bool = False,
    weight_patterns: Mapping[str, WeightPattern] | None = None,
    objective: str = "energy",
    memoise: bool = True,
) -> Schedule:
    """Map every op of ``workload`` onto ``profile``.

    Args:
        workload: the traced model.
        profile: the hardware; its levels innermost first, DRAM last.
        fuse_elementwise: fold elementwise ops into their producer (default on).
        strict: raise ``MappingError`` for op kinds without a mapping rule instead of costing them as
            streaming ops and listing them in ``Schedule.unmapped``.
        independent_layers: cost every op on its own as ZigZag and SCALE-Sim do: weights stream, every
            activation is read from and written to DRAM (nothing resident or kept on chip).
        weight_patterns: non-zero patterns of weights by tensor name, read by sparse dataflows
            (``[compute] dataflow = "eie-csc"``: each PE's work from the real weights); a weight without
            one is costed as balanced, and its op's mapping says so.
        objective: what each tile search minimises, ``"energy"`` (default), ``"latency"`` or ``"edp"``
            (``objective.py``: the scores and the tie-break rule).
        memoise: map identical ops once and reuse their schedule (``memo.py``: the key and why it is safe);
            False maps every op (the reference the memo is tested against).

    Raises:
        MappingError: a level cannot hold the smallest tile of an op (names the op, the level and the
            capacity needed), or (``strict``) an op kind has no mapping rule.
    """
    check_objective(objective)
    levels = profile.levels
    gb_idx = len(levels) - 2 if len(levels) > 1 else None
    fit = footprint(workload, global_buffer_bits(profile))
    weight_infos = [workload.tensors[name] for name in sorted(used_weights(workload))]
    weight_offchip = sum(offchip_bits(w) for w in weight_infos)
    # capacity 0 (no on-chip level) never fits; a global buffer that does not keep weights (v2 ``operands``)
    # cannot hold them resident either: they stream from DRAM.
    resident = fit.fits and not independent_layers and "weights" in levels[gb_idx].operands
    act_budget = float("inf") if resident else fit.capacity_bits * ACTIVATION_SHARE
    kept = kept_activations(workload, act_budget) if gb_idx is not None and not independent_layers else frozenset()

    writes, free, fused = _fuse(workload, fuse_elementwise)
    read_by: dict[str, int] = {}
    for op in workload.ops:
        for a in op.reads:
            if a.tensor not in free[op.index]:
                read_by.setdefault(a.tensor, op.index)
    written = {t for ws in writes.values() for t, _ in ws}
    final_outputs = frozenset(t for t in written if workload.tensors[t].last_use is None)
    ctx = MappingContext(workload, profile, resident, kept, act_budget, writes, free, read_by, final_outputs,
                   independent=independent_layers, patterns=dict(weight_patterns or {}), objective=objective)
    dataflow_mappers = DATAFLOW_MAPPERS.get(profile.compute.dataflow, FrozenMap())

    def map_one(op: Op, ctx: MappingContext) -> MappedOp:
        special = dataflow_mappers.get(op.kind)
        result = special(op, ctx) if special is not None else None
        mapper = OP_MAPPERS.get(op.kind)
        if result is None:
            result = mapper(op, ctx) if mapper is not None else None
        if result is not None:
            return MappedOp(result, False, None)
        label = op.kind.value
        if mapper is not None:
            label += f" (its mapper declined these {type(op.dims).__name__})"
        if strict:
            known = sorted(k.value for k in OP_MAPPERS)
            raise MappingError(f"{op_name(op)}: no mapping rule for op kind {label!r}; known kinds: {known}")
        return MappedOp(map_streaming(op, ctx), False, label)

    memo = OpMemo(enabled=memoise)
    scheduled: list[OpSchedule] = []
    unmapped: Counter[str] = Counter()
    for op in workload.ops:
        mapped = memo.map(op, ctx, map_one)
        result = mapped.schedule
        if mapped.unmapped is not None:
            unmapped[mapped.unmapped] += 1
        if op.index in fused:
            result = replace(result, mapping="fused", fused_into=fused[op.index])
        scheduled.append(result)

    # Compulsory: every weight and model input read once (only the part any op reads, for partial reads
    # such as an embedding lookup), every model output written once.
    read_share: dict[str, float] = defaultdict(float)
    for op in workload.ops:
        for a in op.reads:
            if a.tensor not in free[op.index]:
                info = workload.tensors[a.tensor]
                read_share[a.tensor] = max(read_share[a.tensor], min(1.0, a.bits / max(info.dense_bits, 1)))
    inputs = {t for t in read_by if workload.tensors[t].kind == "input"}
    compulsory = (
        sum(offchip_bits(w) * (1.0 if resident else read_share[w.name]) for w in weight_infos)
        + sum(workload.tensors[t].dense_bits for t in inputs)
        + sum(bits for ws in writes.values() for t, bits in ws if t in final_outputs)
    )
    cold_traffic: dict[tuple[str, str, str], float] = defaultdict(float)
    cold_ops: list[OperationCount] = []
    if resident:
        dram, gb = levels[-1], levels[gb_idx]
        for w in weight_infos:
            cold_traffic[(dram.name, "weights", "read")] += offchip_bits(w)
            cold_traffic[(gb.name, "weights", "write")] += onchip_bits(w)
            symbols = huffman_symbol_count(w)
            if symbols:
                cold_ops.append(OperationCount("huffman_symbol", f"int{w.encoding.value_bits}", symbols, "weights"))
    return Schedule(
        model_name=workload.model_name,
        profile_name=profile.name,
        ops=tuple(scheduled),
        footprint=replace(
            fit, spilling_layers=tuple(dict.fromkeys(op.module for op in workload.ops if op.module in ctx.spilling))
        ),
        global_buffer=levels[gb_idx].name if gb_idx is not None else None,
        weight_offchip_bits=weight_offchip,
        activation_budget_bits=act_budget,
        dram=levels[-1].name,
        kept_activations=kept,
        cold_start_traffic_bits=FrozenMap(cold_traffic),
        cold_start_operations=tuple(cold_ops),
        compulsory_dram_bits=float(compulsory),
        unmapped=FrozenMap(unmapped),
        independent_layers=independent_layers,
    )
