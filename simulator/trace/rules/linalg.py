"""Matrix products: mm, addmm, bmm, baddbmm, mv, dot, and matmul/linear when they arrive undecomposed.

``einsum`` and ``matmul`` are composite: under the dispatch mode they arrive as permutes/views plus
``bmm``/``mm``/``mv``/``dot``, which these rules count. MACs = (output elements) x (reduction length).
A bias folded into the product (addmm, baddbmm, addmv) costs one add per output element.
"""

from __future__ import annotations

from typing import Any

from simulator.ops import GemmDims, OpKind
from simulator.trace.op_rules import RuleResult, TensorMeta, arith, aten, register_op_rule
from simulator.trace.rules.elementwise import activation_arith

__all__ = ["addmm_rule", "bmm_rule", "dot_rule", "matmul_rule", "mm_rule", "mv_rule"]


def _gemm(kind: OpKind, a: TensorMeta, k: int, out: TensorMeta, bias_adds: int = 0, batch: int = 1) -> RuleResult:
    """``out.numel x k`` MACs as ``batch`` GEMMs; an output with more leading dims folds them into M.

    ``matmul``/``linear`` arriving undecomposed may broadcast: M = out.numel / (batch x N) covers the
    leading dimensions, so ``GemmDims.macs`` equals the MACs counted.
    """
    n = out.shape[-1] if out.shape else 1
    m = out.numel // max(batch * n, 1)
    dims = GemmDims(m=max(m, 1), k=max(k, 1), n=max(n, 1), batch=batch)
    return RuleResult(kind, macs=out.numel * k, mac_dtype=a.dtype, arith=arith(out.dtype, add=bias_adds), dims=dims)


@register_op_rule(aten.mm)
def mm_rule(a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """(M x K) @ (K x N): M*K*N MACs."""
    return _gemm(OpKind.MATMUL, a, a.shape[1], out)


@register_op_rule(aten.addmm)
def addmm_rule(
    bias: TensorMeta, a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any
) -> RuleResult:
    """bias + (M x K) @ (K x N): M*K*N MACs plus M*N bias adds (the linear layer)."""
    return _gemm(OpKind.LINEAR, a, a.shape[1], out, bias_adds=out.numel)


@register_op_rule(aten._addmm_activation)
def addmm_activation_rule(
    bias: TensorMeta, a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta, use_gelu: bool = False, **kwargs: Any
) -> RuleResult:
    """addmm followed by a fused ReLU (or GELU): the linear layer plus the activation's arithmetic."""
    base = _gemm(OpKind.LINEAR, a, a.shape[1], out, bias_adds=out.numel)
    extra = activation_arith("gelu" if use_gelu else "relu", out.numel, out.dtype)
    return RuleResult(base.kind, base.macs, base.mac_dtype, base.arith + extra, dims=base.dims)


@register_op_rule(aten.bmm)
def bmm_rule(a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """(B x M x K) @ (B x K x N): B*M*K*N MACs."""
    return _gemm(OpKind.MATMUL, a, a.shape[2], out, batch=a.shape[0])


@register_op_rule(aten.baddbmm)
def baddbmm_rule(
    bias: TensorMeta, a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any
) -> RuleResult:
    """bias + (B x M x K) @ (B x K x N): B*M*K*N MACs plus B*M*N adds."""
    return _gemm(OpKind.MATMUL, a, a.shape[2], out, bias_adds=out.numel, batch=a.shape[0])


@register_op_rule(aten.addbmm)
def addbmm_rule(
    bias: TensorMeta, a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any
) -> RuleResult:
    """bias + sum_b (M x K) @ (K x N): B*M*K*N MACs (the batch sum accumulates) plus M*N adds."""
    bsz, m, k = a.shape
    n = b.shape[2]
    return RuleResult(
        OpKind.MATMUL,
        macs=bsz * m * k * n,
        mac_dtype=a.dtype,
        arith=arith(out.dtype, add=out.numel),
        dims=GemmDims(m=m, k=k, n=n, batch=bsz),
    )


@register_op_rule(aten.mv)
def mv_rule(a: TensorMeta, x: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """(M x K) @ (K): M*K MACs."""
    return _gemm(OpKind.MATMUL, a, a.shape[1], out)


@register_op_rule(aten.addmv)
def addmv_rule(
    bias: TensorMeta, a: TensorMeta, x: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any
) -> RuleResult:
    """bias + (M x K) @ (K): M*K MACs plus M adds."""
    return _gemm(OpKind.LINEAR, a, a.shape[1], out, bias_adds=out.numel)


@register_op_rule(aten.dot, aten.vdot)
def dot_rule(a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """(K) . (K): K MACs."""
    return RuleResult(OpKind.MATMUL, macs=a.numel, mac_dtype=a.dtype, dims=GemmDims(m=1, k=a.numel, n=1))


@register_op_rule(aten.matmul)
def matmul_rule(a: TensorMeta, b: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """Broadcasting matmul (normally decomposed before dispatch): output elements x K MACs."""
    return _gemm(OpKind.MATMUL, a, a.shape[-1], out)


@register_op_rule(aten.linear)
def linear_rule(
    x: TensorMeta, w: TensorMeta, bias: TensorMeta | None = None, *args: Any, out: TensorMeta, **kwargs: Any
) -> RuleResult:
    """x @ w.T + bias (normally decomposed to addmm): output elements x in_features MACs."""
    return _gemm(OpKind.LINEAR, x, w.shape[-1], out, bias_adds=out.numel if bias is not None else 0)
