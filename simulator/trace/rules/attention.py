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

from simulator.ops import AttentionDims, OpKind, TransformerLayerDims
from simulator.trace.op_rules import RuleResult, TensorMeta, arith, aten, merge_arith, register_op_rule
from simulator.trace.rules.elementwise import activation_arith
from simulator.trace.rules.norm import layer_norm_arith
from simulator.trace.rules.reduce import softmax_arith
from simulator.workload import ArithCount, DataType

__all__ = ["mha_macs", "sdpa_rule"]


def _sdpa_dims(q: TensorMeta, k: TensorMeta, v: TensorMeta, causal: bool) -> AttentionDims:
    """q (..., H, L, E), k (..., Hkv, S, E), v (..., Hkv, S, Ev); a 3-d q is (B, L, E) with one head."""
    heads = q.shape[-3] if len(q.shape) >= 4 else 1
    kv_heads = k.shape[-3] if len(k.shape) >= 4 else 1
    return AttentionDims(
        batch=math.prod(q.shape[:-3]) if len(q.shape) >= 4 else math.prod(q.shape[:-2]),
        heads=heads,
        kv_heads=kv_heads,
        query_length=q.shape[-2],
        key_length=k.shape[-2],
        head_dim=q.shape[-1],
        value_head_dim=v.shape[-1],
        causal=causal,
    )


def _sdpa_result(q: TensorMeta, k: TensorMeta, v: TensorMeta, mask: Any, causal: bool) -> RuleResult:
    dims = _sdpa_dims(q, k, v, causal)
    scores = dims.batch * dims.heads * dims.query_length * dims.key_length
    macs = scores * dims.head_dim + scores * dims.value_head_dim
    masked = isinstance(mask, TensorMeta)
    counts = softmax_arith(scores, q.dtype) + arith(q.dtype, mult=scores, add=scores if masked else 0)
    return RuleResult(
        OpKind.ATTENTION, macs=macs, mac_dtype=q.dtype, arith=merge_arith(counts), write_outputs=(0,), dims=dims
    )


@register_op_rule(aten._scaled_dot_product_flash_attention_for_cpu, aten._scaled_dot_product_flash_attention)
def sdpa_rule(
    q: TensorMeta, k: TensorMeta, v: TensorMeta, *args: Any, out: TensorMeta, attn_mask: Any = None, **kwargs: Any
) -> RuleResult:
    """Fused SDPA (flash kernels; ``dropout_p, is_causal`` follow q, k, v): 2 x B*H*L*S*E MACs, scale, softmax."""
    causal = bool(kwargs.get("is_causal", args[1] if len(args) > 1 else False))
    return _sdpa_result(q, k, v, attn_mask, causal)


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
    """Fused SDPA kernels whose fourth argument is the mask/bias.

    After it come ``dropout_p, is_causal`` (math, fused) or ``compute_log_sumexp, dropout_p,
    is_causal`` (efficient, cudnn: the first is a bool).
    """
    position = 2 if args and isinstance(args[0], bool) else 1
    causal = bool(kwargs.get("is_causal", args[position] if len(args) > position else False))
    return _sdpa_result(q, k, v, attn_bias, causal)


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
        OpKind.ATTENTION,
        macs=mha_macs(batch, length, source, embed),
        mac_dtype=query.dtype,
        arith=merge_arith(counts),
        write_outputs=(0, 1) if need_weights else (0,),
        dims=_projected_dims(batch, length, source, embed, int(num_head)),
    )


def _projected_dims(batch: int, length: int, source: int, embed: int, heads: int) -> AttentionDims:
    """Multi-head attention with its projections: ``heads`` heads of ``embed / heads`` (rounded down)."""
    head_dim = max(embed // heads, 1)
    return AttentionDims(
        batch=batch,
        heads=heads,
        kv_heads=heads,
        query_length=length,
        key_length=source,
        head_dim=head_dim,
        value_head_dim=head_dim,
        projections=True,
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
        OpKind.TRANSFORMER_LAYER,
        macs=macs,
        mac_dtype=dt,
        arith=merge_arith(counts),
        dims=TransformerLayerDims(_projected_dims(batch, length, length, embed, int(num_heads)), ffn),
    )
