"""Constraint expressions over a sweep's inputs, evaluated safely.

A constraint is one Python expression, e.g. ``compression.index_bits <= compression.weight_bits`` or
``profile.memory.sram.capacity * 8 >= 1 and batch_size in (1, 4)``. It is parsed with ``ast`` and
only a whitelist of node types is accepted: literals (numbers, strings, booleans, tuples/lists of
them), names and dotted names (looked up among the sweep's inputs), arithmetic (``+ - * / // % **``
with a bounded exponent), comparisons (chained, ``in``/``not in``), ``and``/``or``/``not``,
conditional expressions and calls of a few pure functions (``min max abs log2 log10 sqrt``).
Anything else (attribute access on objects, subscripts, lambdas, comprehensions, other calls) is
refused when the spec is read, so evaluating a constraint can never run arbitrary code.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_CONSTRAINT_CHARS",
    "MAX_EXPONENT",
    "MAX_INT_BITS",
    "MAX_SEQUENCE_LEN",
    "Constraint",
    "ConstraintBudgetError",
    "ConstraintSyntaxError",
    "parse_constraint",
]

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "log2": math.log2,
    "log10": math.log10,
    "sqrt": math.sqrt,
}
#: Largest exponent ``**`` accepts (keeps ``10 ** 10 ** 10`` from hanging the planner).
MAX_EXPONENT = 64
#: Largest integer (in bits) any step of a constraint may produce; checked *before* the step runs.
MAX_INT_BITS = 4096
#: Longest string or tuple any step of a constraint may produce (concatenation); repetition is refused.
MAX_SEQUENCE_LEN = 10_000
#: Longest constraint text accepted (bounds the syntax tree, so the number of evaluation steps).
MAX_CONSTRAINT_CHARS = 2_000


class ConstraintBudgetError(ValueError):
    """Evaluating a constraint would exceed its budget (integer size, exponent, sequence length); names the constraint."""


class ConstraintSyntaxError(ValueError):
    """The expression uses syntax outside the whitelist, or is not valid Python."""


@dataclass(frozen=True, slots=True)
class Constraint:
    """A parsed constraint: its text, the names it reads, and the checked syntax tree."""

    text: str
    names: frozenset[str]
    tree: ast.Expression

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the point with inputs ``values`` satisfies the constraint.

        Raises:
            KeyError: a name the constraint reads is missing from ``values``.
        ConstraintBudgetError: a step would build an integer wider than ``MAX_INT_BITS``, use an
            exponent above ``MAX_EXPONENT``, repeat or %-format a string/tuple, or build a sequence
            longer than ``MAX_SEQUENCE_LEN`` (checked before the step runs).
        ArithmeticError, TypeError, ValueError: the expression fails on these values.
        """
        try:
            return bool(_eval(self.tree.body, values))
        except _OverBudget as exc:
            raise ConstraintBudgetError(f"constraint {self.text!r} exceeds its evaluation budget: {exc}") from None


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` as the string ``"a.b.c"``; None when the node is not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def parse_constraint(text: str) -> Constraint:
    """Parse and check ``text``; the returned ``Constraint`` only evaluates whitelisted syntax.

    Raises:
        ConstraintSyntaxError: naming the offending construct.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConstraintSyntaxError("a constraint must be a non-empty string")
    if len(text) > MAX_CONSTRAINT_CHARS:
        raise ConstraintSyntaxError(f"a constraint may be at most {MAX_CONSTRAINT_CHARS} characters, found {len(text)}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConstraintSyntaxError(f"not a valid expression ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise ConstraintSyntaxError("the expression is nested too deeply") from None
    names: set[str] = set()
    _check(tree.body, names)
    _check_constant_parts(tree.body, text.strip())
    return Constraint(text.strip(), frozenset(names), tree)


def _check_constant_parts(root: ast.AST, text: str) -> None:
    """Evaluate, under the budget, every largest part of the tree that reads no input name.

    A bomb written with literals only (``'x' * 2**34``, ``(2**64)**64**...``) is refused when the
    spec is read, before any planning. Other errors of constant parts (``1/0``) are left to the
    point evaluation, where a lazy branch may never run them.
    """
    stack = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node, ast.expr):
            continue  # operators, contexts: evaluated with their expression
        if not any(isinstance(n, (ast.Name, ast.Attribute)) for n in ast.walk(node)):
            try:
                _eval(node, {})
            except _OverBudget as exc:
                raise ConstraintSyntaxError(f"exceeds the evaluation budget: {exc}") from None
            except (ArithmeticError, TypeError, ValueError, KeyError):
                pass
            continue
        stack.extend(ast.iter_child_nodes(node))


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, str, bool)):
            raise ConstraintSyntaxError(f"constant {node.value!r} is not a number, string or boolean")
        return
    if isinstance(node, (ast.Name, ast.Attribute)):
        dotted = _dotted(node)
        if dotted is None:
            raise ConstraintSyntaxError("attribute access is only allowed on input names (e.g. compression.density)")
        if dotted in _FUNCTIONS:
            raise ConstraintSyntaxError(f"function {dotted!r} must be called")
        names.add(dotted)
        return
    if isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            _check(elt, names)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        _check(node.left, names)
        _check(node.right, names)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand, names)
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names)
        return
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        _check(node.left, names)
        for comparator in node.comparators:
            _check(comparator, names)
        return
    if isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, names)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            raise ConstraintSyntaxError(f"only these functions may be called: {', '.join(sorted(_FUNCTIONS))}")
        if node.keywords:
            raise ConstraintSyntaxError(f"{node.func.id}() takes no keyword arguments here")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise ConstraintSyntaxError("*args are not allowed")
            _check(arg, names)
        return
    raise ConstraintSyntaxError(f"{type(node).__name__} is not allowed in a constraint")


def _eval(node: ast.AST, values: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        return values[_dotted(node)]  # type: ignore[index]
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_eval(e, values) for e in node.elts)
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        _check_cost(node.op, left, right)
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, values))
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, values) for v in node.values)
        return any(_eval(v, values) for v in node.values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, values)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, values) if _eval(node.test, values) else _eval(node.orelse, values)
    if isinstance(node, ast.Call):
        return _FUNCTIONS[node.func.id](*(_eval(a, values) for a in node.args))  # type: ignore[attr-defined]
    raise AssertionError(f"unchecked node {type(node).__name__}")  # _check refuses everything else


class _OverBudget(Exception):
    """A step would exceed the budget (turned into ``ConstraintBudgetError`` naming the constraint)."""


def _int_bits(value: Any) -> int:
    """Bits of an integer operand (bools and floats count as small: float arithmetic cannot grow memory)."""
    return abs(value).bit_length() if isinstance(value, int) else 64


def _check_cost(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse a binary step whose result would be too large, from the operands' sizes alone (before computing it)."""
    sequences = (str, tuple, bytes)
    if isinstance(op, ast.Mult) and (isinstance(left, sequences) or isinstance(right, sequences)):
        raise _OverBudget("repeating a string or tuple with * is not allowed")
    if isinstance(op, ast.Mod) and isinstance(left, sequences):
        raise _OverBudget("%-formatting is not allowed")
    if isinstance(op, ast.Add) and isinstance(left, sequences) and isinstance(right, sequences):
        if len(left) + len(right) > MAX_SEQUENCE_LEN:
            raise _OverBudget(f"a string/tuple longer than {MAX_SEQUENCE_LEN} items")
        return
    if isinstance(op, ast.Pow):
        if isinstance(right, (int, float)) and not math.isnan(right) and abs(right) > MAX_EXPONENT:
            raise _OverBudget(f"exponent {right!r:.40} exceeds {MAX_EXPONENT}")
        if isinstance(left, int) and isinstance(right, int) and right > 0:
            bits = _int_bits(left) * right
            if bits > MAX_INT_BITS:
                raise _OverBudget(f"the power would have about {bits} bits (limit {MAX_INT_BITS})")
        return
    if isinstance(left, int) and isinstance(right, int):
        bits = {ast.Mult: _int_bits(left) + _int_bits(right)}.get(type(op), max(_int_bits(left), _int_bits(right)) + 1)
        if bits > MAX_INT_BITS:
            raise _OverBudget(f"an integer of about {bits} bits (limit {MAX_INT_BITS})")
