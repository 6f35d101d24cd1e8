"""Ops that are a chain of GEMMs inside one op: attention, transformer encoder layers, fused recurrent layers.

Each is mapped from its typed dims (``AttentionDims``, ``TransformerLayerDims``, ``RecurrentDims``) as
the GEMMs it executes; the tensors between them (q, k, v, scores, context, hidden, gates, states) never
appear in the workload and live on chip when they fit the activation share of the global buffer, in
DRAM otherwise (``map_gemm_chain``).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.mapping.flash import scores_on_chip
from simulator.mapping.context import MappingContext, Traffic
from simulator.mapping.gemm import GemmView, tile_gemm
from simulator.mapping.operations import gemm_schedule
from simulator.mapping.registry import register_op_mapper
from simulator.mapping.schedule import OpSchedule
from simulator.ops import AttentionDims, OpKind, RecurrentDims, TransformerLayerDims
from simulator.workload import DataType, Op, TensorInfo, Workload

__all__ = [
    "GEMM_CHAINS", "INTERNAL", "GemmChain", "attention_chain", "map_attention", "map_gemm_chain", "map_recurrent",
    "op_chain", "recurrent_chain",
]


@dataclass(frozen=True)
class GemmChain:
    """An op as its GEMMs: each view with the tensors it writes (internal names in elements, the op's
    outputs in bits), the MAC type, the operands streamed once (``extras``) and the op's operand reads."""

    gemms: list[tuple[GemmView, list[tuple[str, int | float]]]]
    dtype: DataType
    extras: list[str]
    reads: list[str]


def _outputs(op: Op, ctx: MappingContext) -> list[tuple[str, float]]:
    return [(t, float(bits)) for t, bits in ctx.writes[op.index]]


@register_op_mapper(OpKind.ATTENTION, OpKind.TRANSFORMER_LAYER)
def map_attention(op: Op, ctx: MappingContext) -> OpSchedule | None:
    """Attention and transformer encoder layers as their chain of GEMMs (``attention_chain``)."""
    chain = op_chain(op, ctx.workload, _outputs(op, ctx))
    return map_gemm_chain(op, ctx, chain.gemms, chain.dtype, chain.extras, chain.reads) if chain else None


@register_op_mapper(OpKind.RECURRENT)
def map_recurrent(op: Op, ctx: MappingContext) -> OpSchedule | None:
    """A fused recurrent layer as its two GEMMs over all tokens (``recurrent_chain``)."""
    chain = op_chain(op, ctx.workload, _outputs(op, ctx))
    return map_gemm_chain(op, ctx, chain.gemms, chain.dtype, chain.extras, chain.reads) if chain else None


def attention_chain(op: Op, workload: Workload, outputs: list[tuple[str, float]]) -> GemmChain | None:
    """Attention and transformer encoder layers as their chain of GEMMs, from ``AttentionDims``.

    Bare scaled-dot-product attention (no projections; q, k, v are the op's first three inputs):
    scores per head (B*H groups of L x E x S, k shared by H / Hkv query heads), then the weighted values
    (B*H groups of L x S x Ev). With projections (``nn.MultiheadAttention`` / ``TransformerEncoderLayer``
    fast paths; self-attention only, S = L, one input): q, k, v projection (B*L x E x 3E), scores per
    head (B*H groups of L x E/H x S), weighted values (B*H groups of L x S x E/H), output projection
    (B*L x E x E), and for a layer the feed-forward pair (B*L x E x F, B*L x F x E). The tensors between
    them (q, k, v, scores, context, hidden) live on chip when they fit the activation share of the
    global buffer, in DRAM otherwise. Other attention ops get no mapping here (and are reported).
    NB: grouped-query k/v are tiled as if each query head had its own copy, at their real bits.
    """
    if op.macs <= 0:
        return None
    dims = op.dims
    if isinstance(dims, TransformerLayerDims):
        att, ffn = dims.attention, dims.ffn_width
    elif isinstance(dims, AttentionDims):
        att, ffn = dims, 0
    else:
        return None
    reads = list(dict.fromkeys(a.tensor for a in op.reads))
    inputs = [t for t in reads if workload.tensors[t].kind != "weight"]
    weights = [t for t in reads if workload.tensors[t].kind == "weight"]
    if not outputs:
        return None
    b, length, h = att.batch, att.query_length, att.heads
    heads = b * h
    if not att.projections:
        if not inputs:
            return None
        q, k, v = _qkv(op, workload, inputs, att)
        gemms = [
            (GemmView(heads, length, att.key_length, att.head_dim, q, k),
             [("scores", heads * length * att.key_length)]),
            (GemmView(heads, length, att.value_head_dim, att.key_length, "scores", v), outputs),
        ]
        return GemmChain(gemms, workload.tensors[q].dtype, [t for t in reads if t not in (q, k, v)], reads)
    e = att.embed
    if att.key_length != length or len(inputs) != 1:
        return None
    x = inputs[0]

    def weight_of(numel: int, taken: set[str]) -> str | None:
        for w in weights:
            if w not in taken and workload.tensors[w].numel == numel:
                taken.add(w)
                return w
        return None

    taken: set[str] = set()
    w_in, w_out = weight_of(3 * e * e, taken), weight_of(e * e, taken)
    w_1 = weight_of(ffn * e, taken) if ffn else None
    w_2 = weight_of(ffn * e, taken) if ffn else None
    if w_in is None or w_out is None or (ffn and (w_1 is None or w_2 is None)):
        return None
    rows = b * length
    gemms = [
        (GemmView(1, rows, 3 * e, e, x, w_in), [("q", rows * e), ("k", rows * e), ("v", rows * e)]),
        (GemmView(heads, length, length, att.head_dim, "q", "k"), [("scores", heads * length * length)]),
        (GemmView(heads, length, att.head_dim, length, "scores", "v"), [("context", rows * e)]),
    ]
    if ffn:
        gemms += [
            (GemmView(1, rows, e, e, "context", w_out), [("attended", rows * e)]),
            (GemmView(1, rows, ffn, e, "attended", w_1), [("hidden", rows * ffn)]),
            (GemmView(1, rows, e, ffn, "hidden", w_2), outputs),
        ]
    else:
        gemms.append((GemmView(1, rows, e, e, "context", w_out), outputs))
    return GemmChain(gemms, workload.tensors[x].dtype, [w for w in weights if w not in taken], [x, *weights])


def recurrent_chain(op: Op, workload: Workload, outputs: list[tuple[str, float]]) -> GemmChain | None:
    """A fused recurrent layer as its two GEMMs over all tokens, from ``RecurrentDims``.

    The input GEMM (tokens x I x G*H, weight W_ih) writes the gate pre-activations and the hidden
    states fed back; the recurrent GEMM (tokens x H x G*H, weight W_hh) reads those states and writes
    the layer's outputs. The states live on chip when they fit the activation budget. NB: the states
    are charged as written by the input GEMM (they are produced step by step by the gate arithmetic).
    """
    d = op.dims
    if not isinstance(d, RecurrentDims) or op.macs <= 0:
        return None
    reads = list(dict.fromkeys(a.tensor for a in op.reads))
    infos = workload.tensors
    gh = d.gates * d.hidden_size
    weights = [t for t in reads if infos[t].kind == "weight"]
    w_ih = next((w for w in weights if infos[w].numel == gh * d.input_size), None)
    w_hh = next((w for w in weights if w != w_ih and infos[w].numel == gh * d.hidden_size), None)
    elements = {a.tensor: a.bits // max(infos[a.tensor].dtype.bits, 1) for a in op.reads}
    x = next((t for t in reads if infos[t].kind != "weight" and elements[t] == d.tokens * d.input_size), None)
    if w_ih is None or w_hh is None or x is None or not outputs:
        return None
    gemms = [
        (GemmView(1, d.tokens, gh, d.input_size, x, w_ih), [("gates", d.tokens * gh), ("states", d.tokens * d.hidden_size)]),
        (GemmView(1, d.tokens, gh, d.hidden_size, "states", w_hh), outputs),
    ]
    return GemmChain(gemms, infos[x].dtype, [t for t in reads if t not in (x, w_ih, w_hh)], reads)


def _qkv(op: Op, workload: Workload, inputs: list[str], att: AttentionDims) -> tuple[str, str, str]:
    """q, k, v of a bare attention op among its distinct inputs (in argument order; a repeated tensor,
    as in ``sdpa(x, kv, kv)``, appears once): q first, k next, v the next input of v's size (else k).
    NB: ``sdpa(x, x, v)`` is read as q = x, k = v; the products are the same, only tile shapes differ."""
    q = inputs[0]
    k = inputs[1] if len(inputs) > 1 else q
    v_elements = att.batch * att.kv_heads * att.key_length * att.value_head_dim
    elements = {a.tensor: a.bits // max(workload.tensors[a.tensor].dtype.bits, 1) for a in op.reads}
    v = inputs[2] if len(inputs) > 2 and elements[inputs[2]] == v_elements else k
    return q, k, v


#: Names of the tensors a chain of GEMMs keeps inside one op (never in the workload).
INTERNAL = ("q", "k", "v", "scores", "context", "attended", "hidden", "gates", "states")


def map_gemm_chain(
    op: Op,
    ctx: MappingContext,
    gemms: list[tuple[GemmView, list[tuple[str, int | float]]]],
    dtype: DataType,
    extras: list[str],
    reads: list[str],
) -> OpSchedule | None:
    """Tile a chain of GEMMs inside one op; outputs named in ``INTERNAL`` (given in elements) are its
    internal tensors, on chip when they fit the activation budget; the others (in bits) the op's outputs."""
    total = sum(v.g * v.m * v.n * v.k for v, _ in gemms)
    if abs(total - op.macs) > 0.01 * op.macs:
        return None
    prefix = f"{op.index}:"
    ctx.internal.clear()
    for _, outs in gemms:
        for name, numel in outs:
            if name in INTERNAL:
                info = TensorInfo(prefix + name, "activation", (int(numel),), dtype, producer=op.index,
                                  last_use=op.index)
                on_chip = ctx.gb_idx is not None and (ctx.resident or info.dense_bits <= ctx.act_budget_bits
                                                      or scores_on_chip(name, ctx.profile))
                home = ctx.gb_idx if on_chip else ctx.dram_idx
                ctx.internal[prefix + name] = (info, home)
                if home == ctx.dram_idx:
                    ctx.spilling.add(op.module)

    def named(t: str) -> str:
        return prefix + t if prefix + t in ctx.internal else t

    traffic = Traffic(ctx, op)
    results = []
    try:
        for v, outs in gemms:
            sub = GemmView(v.g, v.m, v.n, v.k, named(v.a), named(v.b))
            sub_out = [(named(t), float(ctx.info(named(t)).dense_bits) if named(t) in ctx.internal else bits) for t, bits in outs]
            results.append(tile_gemm(op, ctx, traffic, sub, sub_out, sub.g * sub.m * sub.n * sub.k))
        return gemm_schedule(op, ctx, traffic, results, extras, reads)
    finally:
        ctx.internal.clear()



#: Op kind -> its GEMM chain.
GEMM_CHAINS = {OpKind.ATTENTION: attention_chain, OpKind.TRANSFORMER_LAYER: attention_chain,
               OpKind.RECURRENT: recurrent_chain}


def op_chain(op: Op, workload: Workload, outputs: list[tuple[str, float]]) -> GemmChain | None:
    """The GEMM chain of an op (the mappers above and ``compute.op_compute_cycles`` read this one), None
    when its kind has none, its operands do not fit, or the chain's MACs are not the op's (within 1%)."""
    build = GEMM_CHAINS.get(op.kind)
    chain = build(op, workload, outputs) if build is not None else None
    if chain is None:
        return None
    total = sum(v.g * v.m * v.n * v.k for v, _ in chain.gemms)
    return None if abs(total - op.macs) > 0.01 * op.macs else chain
