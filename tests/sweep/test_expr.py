"""Constraint expressions: whitelisted syntax evaluates like Python; everything else is refused up front."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.sweep.expr import ConstraintSyntaxError, parse_constraint

VALUES = {"compression.density": 0.25, "compression.weight_bits": 8, "compression.index_bits": 4,
          "batch_size": 2, "profile.compute.zero_handling": "skip", "profile.memory.sram.capacity": 1.5}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("compression.index_bits <= compression.weight_bits", True),
        ("compression.density * compression.weight_bits >= 3", False),  # 0.25 * 8 = 2
        ("1 < batch_size < 4 and not compression.density == 1", True),
        ("profile.compute.zero_handling in ('skip', 'gate')", True),
        ("profile.compute.zero_handling not in ['skip']", False),
        ("log2(2 ** compression.weight_bits) == 8", True),
        ("max(compression.index_bits, 5) - min(1, 2) == 4", True),
        ("profile.memory.sram.capacity // 1 == 1 and profile.memory.sram.capacity % 1 == 0.5", True),
        ("batch_size if compression.density < 0.5 else 0", True),
        ("-compression.density + abs(-1) == 0.75", True),
        ("sqrt(batch_size * 8) == 4 or batch_size / 0 == 1", True),  # or short-circuits
    ],
)
def test_whitelisted_expressions_evaluate_like_python(text, expected):
    constraint = parse_constraint(text)
    assert constraint.holds(VALUES) is expected


def test_names_are_collected_as_dotted_paths():
    c = parse_constraint("compression.density < 0.5 or profile.memory.sram.capacity > 1")
    assert c.names == {"compression.density", "profile.memory.sram.capacity"}


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "(1).real",
        "compression.density.__class__",  # parses as a dotted name, never resolved as an attribute
        "[x for x in (1, 2)]",
        "lambda: 1",
        "VALUES['a']",
        "eval('1')",
        "f'{batch_size}'",
        "max(*[1, 2])",
        "min(1, key=abs)",
        "batch_size := 3",
        "None == None",
    ],
)
def test_everything_else_is_refused(text):
    if text == "compression.density.__class__":
        c = parse_constraint(text)
        with pytest.raises(KeyError):
            c.holds(VALUES)  # only looked up as a name among the inputs
        return
    with pytest.raises(ConstraintSyntaxError):
        parse_constraint(text)


def test_huge_exponent_is_refused_at_evaluation():
    with pytest.raises(ValueError, match="exponent"):
        parse_constraint("10 ** 10 ** 10 > 1").holds(VALUES)


# Property: on whitelisted syntax the evaluator agrees with Python itself (the test may eval: it
# builds the strings from a grammar of numbers, two names and safe operators).
_leaf = st.one_of(st.integers(-5, 5).map(str), st.sampled_from(["a.x", "b"]))


def _combine(children):
    binop = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    call = st.tuples(st.sampled_from(["min", "max"]), children, children).map(lambda t: f"{t[0]}({t[1]}, {t[2]})")
    neg = children.map(lambda c: f"(-{c})")
    return st.one_of(binop, call, neg)


_arith = st.recursive(_leaf, _combine, max_leaves=8)
_cmp = st.tuples(_arith, st.sampled_from(["<", "<=", "==", "!=", ">", ">="]), _arith).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
_bool = st.recursive(
    _cmp,
    lambda c: st.one_of(
        st.tuples(c, st.sampled_from(["and", "or"]), c).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        c.map(lambda e: f"(not {e})"),
    ),
    max_leaves=4,
)


@settings(max_examples=50, deadline=None)
@given(_bool, st.integers(-3, 3), st.integers(-3, 3))
def test_agrees_with_python_on_whitelisted_syntax(text, x, b):
    class _A:
        pass

    a = _A()
    a.x = x
    expected = bool(eval(text, {"__builtins__": {}, "min": min, "max": max}, {"a": a, "b": b}))
    assert parse_constraint(text).holds({"a.x": x, "b": b}) is expected
