"""Attention: the fused scaled-dot-product kernels and the fused multi-head-attention fast paths.

Scaled dot-product attention with q (..., L, E), k (..., S, E), v (..., S, Ev) computes Q K^T
(L x S x E MACs per batch-head), a scale and a softmax over L x S scores, and P V (L x S x Ev MACs).
NB: a causal or masked kernel may skip masked blocks; we count the dense products, as the unfused
math path executes them. An additive mask costs one add per score.

``nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer`` in eval mode without grad take fast
paths (``aten._native_multi_head_attention``, ``aten._transformer_encoder_layer_fwd``) that fold the
whole block into one aten call. Their rules count exactly the MACs of the unfused path (in, Q/K/V,
and out projections, both attention matmuls, and for the layer the two feed-forward linears), so a
model costs the same MACs whether or not the fast path is taken. The other arithmetic is composed
from the same helpers the unfused ops use (softmax, layer norm, activations, bias and residual adds).
"""

from __future__ import annotations

import math
from typing import Any

from simulator.frozen import FrozenMap
from simulator.trace.op_rules import RuleResult, TensorMeta, arith, aten, register_op_rule
from simulator.trace.rules.elementwise import activation_arith
from simulator.trace.rules.norm import layer_norm_arith
from simulator.trace.rules.reduce import softmax_arith
from simulator.workload import ArithCount, DataType

__all__ = ["mha_macs", "sdpa_rule"]


def _sdpa_parts(
    q: TensorMeta, k: TensorMeta, v: TensorMeta, masked: bool
) -> tuple[int, tuple[ArithCount, ...], dict[str, int]]:
    batch = math.prod(q.shape[:-2])
    length, e = q.shape[-2], q.shape[-1]
    s, ev = k.shape[-2], v.shape[-1]
    scores = batch * length * s
    macs = scores * e + scores * ev
    counts = softmax_arith(scores, q.dtype) + arith(q.dtype, mult=scores, add=scores if masked else 0)
    return macs, counts, {"B": batch, "L": length, "S": s, "E": e, "Ev": ev}


def _sdpa_result(q: TensorMeta, k: TensorMeta, v: TensorMeta, mask: Any) -> RuleResult:
    macs, counts, dims = _sdpa_parts(q, k, v, isinstance(mask, TensorMeta))
    return RuleResult(
        "attention", macs=macs, mac_dtype=q.dtype, arith=_merge(counts), write_outputs=(0,), dims=FrozenMap(dims)
    )


@register_op_rule(aten._scaled_dot_product_flash_attention_for_cpu, aten._scaled_dot_product_flash_attention)
def sdpa_rule(
    q: TensorMeta, k: TensorMeta, v: TensorMeta, *args: Any, out: TensorMeta, attn_mask: Any = None, **kwargs: Any
) -> RuleResult:
    """Fused SDPA (flash kernels): 2 x B*H*L*S*E MACs, a scale and a softmax over the scores."""
    return _sdpa_result(q, k, v, attn_mask)


@register_op_rule(
    aten._scaled_dot_product_attention_math,
    aten._scaled_dot_product_attention_math_for_mps,
    aten._scaled_dot_product_efficient_attention,
    aten._scaled_dot_product_cudnn_attention,
    aten._scaled_dot_product_fused_attention_overrideable,
)
def sdpa_with_bias_rule(
    q: TensorMeta, k: TensorMeta, v: TensorMeta, attn_bias: Any = None, *args: Any, out: TensorMeta, **kwargs: Any
) -> RuleResult:
    """Fused SDPA kernels whose fourth argument is the mask/bias."""
    return _sdpa_result(q, k, v, attn_bias)


def mha_macs(batch: int, length: int, source: int, embed: int) -> int:
    """MACs of multi-head attention: Q, K, V and output projections plus Q K^T and P V.

    (B*L*E*E) q-proj + 2 (B*S*E*E) k/v-proj + (B*L*E*E) out-proj + 2 (B*L*S*E) attention; the head
    count cancels because heads split E.
    """
    return 2 * batch * length * embed * embed + 2 * batch * source * embed * embed + 2 * batch * length * source * embed


def _mha_arith(batch: int, length: int, source: int, embed: int, heads: int, dtype: DataType) -> tuple[ArithCount, ...]:
    scores = batch * heads * length * source
    # bias adds of the q, k, v and out projections; the scale of the scores.
    bias_adds = batch * (2 * length + 2 * source) * embed
    return softmax_arith(scores, dtype) + arith(dtype, add=bias_adds, mult=scores)


def _merge(counts: tuple[ArithCount, ...]) -> tuple[ArithCount, ...]:
    merged: dict[tuple[str, DataType], int] = {}
    for c in counts:
        merged[(c.operation, c.dtype)] = merged.get((c.operation, c.dtype), 0) + c.count
    return tuple(ArithCount(op, dt, n) for (op, dt), n in merged.items() if n)


@register_op_rule(aten._native_multi_head_attention)
def native_mha_rule(
    query: TensorMeta,
    key: TensorMeta,
    value: TensorMeta,
    embed_dim: int,
    num_head: int,
    *args: Any,
    out: TensorMeta,
    need_weights: bool = True,
    average_attn_weights: bool = True,
    **kwargs: Any,
) -> RuleResult:
    """The ``nn.MultiheadAttention`` fast path: projections + attention, as ``mha_macs``."""
    positional = [a for a in args if isinstance(a, bool)]
    if positional:  # need_weights passed positionally after the mask
        need_weights = positional[0]
    batch, length, embed = query.shape if len(query.shape) == 3 else (1, *query.shape)
    source = key.shape[-2]
    counts = _mha_arith(batch, length, source, embed, num_head, query.dtype)
    if len(args) > 4 and isinstance(args[4], TensorMeta) or isinstance(kwargs.get("mask"), TensorMeta):
        counts += arith(query.dtype, add=batch * num_head * length * source)  # the additive attention mask
    if need_weights:
        # the returned weights averaged over heads: one add per score and head, one div per average.
        counts += arith(query.dtype, add=batch * num_head * length * source, div=batch * length * source)
    return RuleResult(
        "attention",
        macs=mha_macs(batch, length, source, embed),
        mac_dtype=query.dtype,
        arith=_merge(counts),
        write_outputs=(0, 1) if need_weights else (0,),
        dims=FrozenMap({"B": batch, "L": length, "S": source, "E": embed, "H": num_head}),
    )


@register_op_rule(aten._transformer_encoder_layer_fwd)
def transformer_encoder_layer_rule(
    src: TensorMeta,
    embed_dim: int,
    num_heads: int,
    qkv_weight: TensorMeta,
    qkv_bias: TensorMeta,
    proj_weight: TensorMeta,
    proj_bias: TensorMeta,
    use_gelu: bool,
    norm_first: bool,
    eps: float,
    norm_weight_1: TensorMeta,
    norm_bias_1: TensorMeta,
    norm_weight_2: TensorMeta,
    norm_bias_2: TensorMeta,
    ffn_weight_1: TensorMeta,
    *args: Any,
    out: TensorMeta,
    **kwargs: Any,
) -> RuleResult:
    """The ``nn.TransformerEncoderLayer`` fast path: self-attention + 2 layer norms + feed-forward.

    MACs = mha_macs(B, L, L, E) + 2 x B*L*E*F for the two feed-forward linears (F = ffn width).
    """
    batch, length, embed = src.shape if len(src.shape) == 3 else (1, *src.shape)
    ffn = ffn_weight_1.shape[0]
    tokens = batch * length
    dt = src.dtype
    counts = (
        _mha_arith(batch, length, length, embed, num_heads, dt)
        + layer_norm_arith(tokens * embed, tokens, True, dt) * 2
        + activation_arith("gelu" if use_gelu else "relu", tokens * ffn, dt)
        # feed-forward bias adds (F + E per token) and the two residual adds (2 E per token).
        + arith(dt, add=tokens * (ffn + 3 * embed))
    )
    macs = mha_macs(batch, length, length, embed) + 2 * tokens * embed * ffn
    return RuleResult(
        "transformer_layer",
        macs=macs,
        mac_dtype=dt,
        arith=_merge(counts),
        dims=FrozenMap({"B": batch, "L": length, "E": embed, "H": num_heads, "F": ffn}),
    )
