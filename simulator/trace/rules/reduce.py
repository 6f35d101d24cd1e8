"""Reductions and softmax.

A reduction of n input elements to m outputs combines n - m pairs: sum/mean ``add``, max/min/argmax
``compare``, prod ``mult``; a mean adds one ``div`` per output. Softmax over rows of length L costs per
element one compare (running max), two adds (subtract the max, accumulate the sum), one exp and one
div; log_softmax replaces the div by a subtraction and adds one log per row.
"""

from __future__ import annotations

from typing import Any

from simulator.ops import OpKind
from simulator.trace.op_rules import Rule, RuleResult, TensorMeta, arith, aten, register_op_rule
from simulator.workload import ArithCount, DataType

__all__ = ["reduction_rule", "softmax_arith"]


def softmax_arith(elements: int, dtype: DataType) -> tuple[ArithCount, ...]:
    """Arithmetic of a softmax over ``elements`` values (all rows together)."""
    return arith(dtype, compare=elements, add=2 * elements, exp=elements, div=elements)


def reduction_rule(operation: str, per_input: int = 1, per_output: dict[str, int] | None = None) -> Rule:
    """A rule factory: ``per_input`` x (n - m) ``operation``s plus ``per_output`` extras per output.

    n = elements of the first tensor argument, m = elements of the first output.
    """
    extras = per_output or {}

    def rule(x: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
        n, m = x.numel, out.numel
        counts = {operation: per_input * max(n - m, 0)}
        for op, k in extras.items():
            counts[op] = counts.get(op, 0) + k * m
        return RuleResult(OpKind.REDUCE, arith=arith(x.dtype, **counts), write_outputs=(0,))

    rule.__doc__ = f"Reduction: {per_input} {operation} per combined pair" + (
        f", plus {extras} per output." if extras else "."
    )
    return rule


register_op_rule(aten.sum, aten.nansum, aten.cumsum)(reduction_rule("add"))
register_op_rule(aten.mean)(reduction_rule("add", per_output={"div": 1}))
register_op_rule(aten.amax, aten.amin, aten.max, aten.min, aten.argmax, aten.argmin, aten.any, aten.all, aten.aminmax)(
    reduction_rule("compare")
)
register_op_rule(aten.prod)(reduction_rule("mult"))
# var: mean (add), centring (add), square (mult) and accumulate (add): declared as 2 add + 1 mult per
# combined pair; the two divisions per output (mean, variance); std adds a square root (a div).
register_op_rule(aten.var, aten.var_mean)(reduction_rule("add", 2, {"div": 2}))
register_op_rule(aten.std, aten.std_mean)(reduction_rule("add", 2, {"div": 3}))
# Vector norm: square and accumulate per element, one square root per output.
register_op_rule(aten.linalg_vector_norm, aten.norm)(reduction_rule("add", 1, {"div": 1}))
register_op_rule(aten.logsumexp)(reduction_rule("add", 3, {"exp": 1}))


@register_op_rule(aten._softmax, aten.softmax, aten._safe_softmax)
def softmax_rule(x: TensorMeta, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """Per element: compare + 2 add + exp + div."""
    return RuleResult(OpKind.SOFTMAX, arith=softmax_arith(x.numel, x.dtype))


@register_op_rule(aten._log_softmax, aten.log_softmax)
def log_softmax_rule(x: TensorMeta, dim: int, *args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
    """Per element: compare + 3 add + exp; per row one log (an ``exp``)."""
    rows = x.numel // max(x.shape[dim], 1) if x.shape else 1
    return RuleResult(OpKind.SOFTMAX, arith=arith(x.dtype, compare=x.numel, add=3 * x.numel, exp=x.numel + rows))
