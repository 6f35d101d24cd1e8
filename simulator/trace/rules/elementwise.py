"""Elementwise arithmetic and activations: a fixed count of operations per output element.

Broadcasting is covered because the count is taken per *output* element. Each activation's count is
declared once in ``ACTIVATION_COUNTS`` and shared by the fused kernels that apply it (the fused
transformer layer, addmm + activation). The counts are our best estimate of a straightforward
implementation, not a measurement:

- relu: 1 compare; relu6 / hardtanh: 2 compares (clamp); leaky_relu: compare + mult.
- sigmoid(x) = 1 / (1 + exp(-x)): exp + add + div; silu = x * sigmoid(x): + mult.
- tanh(x) = (e^2x - 1) / (e^2x + 1): mult + exp + 2 add + div.
- gelu: 1 exp (for erf or tanh, NB: priced as one transcendental) + 4 mult + 2 add.
- hardswish(x) = x * relu6(x + 3) / 6: add + 2 compare + 2 mult; hardsigmoid: add + 2 compare + mult.
- elu: compare + exp + add + mult; softplus: exp + log (an ``exp``) + add; mish = x * tanh(softplus(x)).

Every rule here has kind ``OpKind.ELEMENTWISE`` so the mapper may fuse it into its producer.
"""

from __future__ import annotations

from typing import Any

from simulator.ops import OpKind
from simulator.trace.op_rules import Rule, RuleResult, TensorMeta, arith, aten, register_op_rule
from simulator.workload import ArithCount, DataType

__all__ = ["ACTIVATION_COUNTS", "activation_arith", "elementwise_rule"]

#: Operations per element of each activation function.
ACTIVATION_COUNTS: dict[str, dict[str, int]] = {
    "relu": {"compare": 1},
    "hardtanh": {"compare": 2},
    "leaky_relu": {"compare": 1, "mult": 1},
    "sigmoid": {"exp": 1, "add": 1, "div": 1},
    "silu": {"exp": 1, "add": 1, "div": 1, "mult": 1},
    "tanh": {"mult": 1, "exp": 1, "add": 2, "div": 1},
    "gelu": {"exp": 1, "mult": 4, "add": 2},
    "hardswish": {"add": 1, "compare": 2, "mult": 2},
    "hardsigmoid": {"add": 1, "compare": 2, "mult": 1},
    "elu": {"compare": 1, "exp": 1, "add": 1, "mult": 1},
    "softplus": {"exp": 2, "add": 1},
    "mish": {"exp": 3, "add": 3, "div": 1, "mult": 2},
}


def activation_arith(name: str, elements: int, dtype: DataType) -> tuple[ArithCount, ...]:
    """The arithmetic of applying activation ``name`` to ``elements`` values."""
    return arith(dtype, **{op: n * elements for op, n in ACTIVATION_COUNTS[name].items()})


def _first_tensor(args: tuple[Any, ...]) -> TensorMeta | None:
    for a in args:
        if isinstance(a, TensorMeta):
            return a
    return None


def elementwise_rule(**per_element: int) -> Rule:
    """A rule factory: ``per_element`` operations (``add=1``, ``exp=1``, ...) per output element.

    The arithmetic runs at the dtype of the first tensor argument (a comparison's inputs, not its
    boolean output).
    """

    def rule(*args: Any, out: TensorMeta, **kwargs: Any) -> RuleResult:
        first = _first_tensor(args)
        dtype = first.dtype if first is not None else out.dtype
        counts = {op: n * out.numel for op, n in per_element.items()}
        return RuleResult(OpKind.ELEMENTWISE, arith=arith(dtype, **counts))

    listing = ", ".join(f"{n} {op}" for op, n in per_element.items()) or "no arithmetic"
    rule.__doc__ = f"Elementwise: {listing} per output element."
    return rule


def _activation(name: str) -> Rule:
    return elementwise_rule(**ACTIVATION_COUNTS[name])


register_op_rule(aten.relu, aten.relu_)(_activation("relu"))
register_op_rule(aten.hardtanh, aten.hardtanh_)(_activation("hardtanh"))
register_op_rule(aten.leaky_relu, aten.leaky_relu_)(_activation("leaky_relu"))
register_op_rule(aten.sigmoid, aten.sigmoid_)(_activation("sigmoid"))
register_op_rule(aten.silu, aten.silu_)(_activation("silu"))
register_op_rule(aten.tanh, aten.tanh_)(_activation("tanh"))
register_op_rule(aten.gelu, aten.gelu_)(_activation("gelu"))
register_op_rule(aten.hardswish, aten.hardswish_)(_activation("hardswish"))
register_op_rule(aten.hardsigmoid, aten.hardsigmoid_)(_activation("hardsigmoid"))
register_op_rule(aten.elu, aten.elu_)(_activation("elu"))
register_op_rule(aten.softplus)(_activation("softplus"))
register_op_rule(aten.mish, aten.mish_)(_activation("mish"))

# Arithmetic. NB: add/sub with alpha != 1 need one more mult per element; not counted.
register_op_rule(aten.add, aten.add_, aten.sub, aten.sub_, aten.rsub)(elementwise_rule(add=1))
register_op_rule(aten.mul, aten.mul_)(elementwise_rule(mult=1))
register_op_rule(aten.div, aten.div_, aten.reciprocal, aten.reciprocal_)(elementwise_rule(div=1))
register_op_rule(aten.addcmul, aten.addcmul_)(elementwise_rule(mult=2, add=1))
register_op_rule(aten.addcdiv, aten.addcdiv_)(elementwise_rule(div=1, mult=1, add=1))
register_op_rule(aten.lerp, aten.lerp_)(elementwise_rule(add=2, mult=1))
register_op_rule(aten.square)(elementwise_rule(mult=1))
# NB: pow with a general exponent is priced as one mult (exact for x**2, an estimate otherwise).
register_op_rule(aten.pow, aten.pow_)(elementwise_rule(mult=1))
register_op_rule(
    aten.exp, aten.exp_, aten.log, aten.log_, aten.log2, aten.log1p, aten.expm1, aten.erf, aten.erf_, aten.sin, aten.cos
)(elementwise_rule(exp=1))
register_op_rule(aten.sqrt, aten.sqrt_, aten.rsqrt, aten.rsqrt_)(elementwise_rule(div=1))
# Sign flips and absolute values flip or clear a sign bit: no arithmetic, but the data moves.
register_op_rule(aten.neg, aten.neg_, aten.abs, aten.abs_, aten.sign)(elementwise_rule())
register_op_rule(aten.clamp, aten.clamp_)(elementwise_rule(compare=2))
register_op_rule(
    aten.clamp_min, aten.clamp_min_, aten.clamp_max, aten.clamp_max_, aten.maximum, aten.minimum, aten.fmax, aten.fmin
)(elementwise_rule(compare=1))
register_op_rule(aten.eq, aten.ne, aten.lt, aten.le, aten.gt, aten.ge, aten.isnan, aten.isinf)(
    elementwise_rule(compare=1)
)
# Selections and logic: a multiplexer per element, no arithmetic.
register_op_rule(
    aten.where,
    aten.masked_fill,
    aten.masked_fill_,
    aten.logical_not,
    aten.logical_and,
    aten.logical_or,
    aten.bitwise_not,
    aten.bitwise_and,
    aten.bitwise_or,
    aten.bitwise_xor,
)(elementwise_rule())
# Dropout in training mode: one random compare and one scaling mult per element.
register_op_rule(aten.native_dropout, aten.bernoulli, aten.bernoulli_)(elementwise_rule(compare=1, mult=1))
# Rounding only; remainders and integer division divide.
register_op_rule(aten.floor, aten.ceil, aten.round, aten.trunc, aten.frac)(elementwise_rule())
register_op_rule(aten.remainder, aten.fmod, aten.floor_divide)(elementwise_rule(div=1))
# Interpolating upsampling: each output is a weighted sum of 2 (linear), 4 (bilinear), 8 (trilinear)
# or 16 (bicubic) inputs: that many mults and one add fewer.
register_op_rule(aten.upsample_linear1d)(elementwise_rule(mult=2, add=1))
register_op_rule(aten.upsample_bilinear2d, aten._upsample_bilinear2d_aa)(elementwise_rule(mult=4, add=3))
register_op_rule(aten.upsample_trilinear3d)(elementwise_rule(mult=8, add=7))
register_op_rule(aten.upsample_bicubic2d, aten._upsample_bicubic2d_aa)(elementwise_rule(mult=16, add=15))
