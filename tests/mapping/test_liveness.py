"""The one liveness (``Workload.live_bits_per_op``) and the keep rule built on it, against brute force.

Random op sequences (hypothesis): tensors with random producers, last uses, aliases and written flags.
The brute force walks every op and every tensor, applying the rule in words: a buffer owns memory
when it is a model input or when it or one of its aliases is written or read; it is live from its
producer (op 0 for inputs) through the last read of it or any alias and the last op that produces
one of its aliases; aliases add nothing.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.mapping.residency import kept_activations
from simulator.workload import FLOAT32, DataType, Op, TensorAccess, TensorInfo, Workload, make_workload

INT8 = DataType("int", 8)


@st.composite
def workloads(draw) -> tuple[Workload, set[str]]:
    n_ops = draw(st.integers(1, 10))
    tensors: dict[str, TensorInfo] = {}
    written: set[str] = set()
    for j in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["input", "activation", "activation", "weight"]))
        name = f"t{j}"
        dtype = draw(st.sampled_from([FLOAT32, INT8]))
        shape = (draw(st.integers(1, 50)),)
        if kind == "weight":
            tensors[name] = TensorInfo(name, kind, shape, dtype)
            continue
        producer = 0 if kind == "input" else draw(st.integers(0, n_ops - 1))
        owners = [
            t for t in tensors.values()
            if t.kind == "activation" and t.alias_of is None and (t.producer or 0) <= producer
        ]
        alias_of = None
        if kind == "activation" and owners and draw(st.booleans()):
            alias_of = draw(st.sampled_from(owners)).name
        last_use = draw(st.one_of(st.none(), st.integers(producer, n_ops - 1)))
        tensors[name] = TensorInfo(name, kind, shape, dtype, producer=None if kind == "input" else producer,
                                   last_use=last_use, alias_of=alias_of)
        if kind == "activation" and draw(st.booleans()):
            written.add(name)
    ops = []
    for i in range(n_ops):
        accesses = [TensorAccess(t.name, "outputs", "write", t.dense_bits) for t in tensors.values()
                    if t.name in written and t.producer == i]
        accesses += [TensorAccess(t.name, "inputs", "read", t.dense_bits) for t in tensors.values() if t.last_use == i]
        ops.append(Op(i, f"layer{i % 3}", "elementwise", "aten.x", 0, None, accesses=tuple(accesses)))
    return make_workload("random", ops, tensors), written


def _brute_force_live(w: Workload, written: set[str]) -> list[int]:
    live = []
    for i in range(len(w.ops)):
        total = 0
        for owner in w.tensors.values():
            if owner.kind == "weight" or owner.alias_of is not None:
                continue
            group = [t for t in w.tensors.values() if t.name == owner.name or t.alias_of == owner.name]
            used = owner.kind == "input" or any(t.name in written or t.last_use is not None for t in group)
            start = owner.producer if owner.producer is not None else 0
            end = max([start] + [t.last_use for t in group if t.last_use is not None]
                      + [t.producer for t in group if t.alias_of is not None])
            if used and start <= i <= end:
                total += owner.dense_bits
        live.append(total)
    return live


@settings(max_examples=200, deadline=None)
@given(workloads())
def test_live_bits_equal_a_brute_force_per_op_sum(case):
    w, written = case
    expected = _brute_force_live(w, written)
    assert w.live_bits_per_op().tolist() == expected
    assert w.peak_activation_bits == max(expected)


def _brute_force_kept(w: Workload, written: set[str], budget: int) -> set[str]:
    """Each tensor as written (a buffer's first value, each in-place rewrite) over its own span;
    views (aliases nobody writes) extend their owner's span and follow it."""
    live = _brute_force_live(w, written)
    owners = set(w.lifetimes().names)
    spans: dict[str, tuple[int, int]] = {}
    for t in w.tensors.values():
        if t.kind == "weight" or (t.alias_of or t.name) not in owners or (t.alias_of and t.name not in written):
            continue
        start = t.producer or 0
        views = [u for u in w.tensors.values() if u.alias_of == t.name and u.name not in written]
        ends = [start] + [u.last_use for u in [t, *views] if u.last_use is not None] + [u.producer for u in views]
        spans[t.name] = (start, max(ends))
    kept = {n for n, (s, e) in spans.items() if max(live[s : e + 1]) <= budget}
    return kept | {t.name for t in w.tensors.values() if t.alias_of in kept and t.name not in written}


@settings(max_examples=200, deadline=None)
@given(workloads(), st.integers(0, 4000))
def test_kept_activations_equal_the_brute_force_rule_and_grow_with_the_budget(case, budget):
    w, written = case
    kept = kept_activations(w, budget)
    assert kept == _brute_force_kept(w, written, budget)
    assert kept <= kept_activations(w, budget + 500)
    # Safe: the buffers with a kept value at an op (each counted once) never exceed the budget.
    per_op_owners: list[set[str]] = [set() for _ in w.ops]
    for t in w.tensors.values():
        if t.name in kept:
            start = t.producer or 0
            end = max(start, t.last_use if t.last_use is not None else start)
            for i in range(start, end + 1):
                per_op_owners[i].add(t.alias_of or t.name)
    for i, names in enumerate(per_op_owners):
        assert sum(w.tensors[n].dense_bits for n in names) <= budget


def test_bad_aliases_are_named():
    a = TensorInfo("a", "activation", (4,), FLOAT32, producer=0)
    with pytest.raises(ValueError, match="tensor b: alias_of names 'missing'"):
        make_workload("bad", [], {"a": a, "b": TensorInfo("b", "activation", (4,), FLOAT32, alias_of="missing")})
    chained = {"a": a, "b": TensorInfo("b", "activation", (4,), FLOAT32, alias_of="a"),
               "c": TensorInfo("c", "activation", (4,), FLOAT32, alias_of="b")}
    with pytest.raises(ValueError, match="tensor c: alias_of must name the owning tensor, 'b' is itself an alias"):
        make_workload("bad", [], chained)
    with pytest.raises(ValueError, match="names the tensor itself"):
        TensorInfo("a", "activation", (4,), FLOAT32, alias_of="a")


def test_a_workload_whose_ops_were_all_unsupported_still_builds():
    """A model whose only op has no rule (e.g. a dynamic-quantized LSTM) traces to no ops: its liveness is
    empty, not an IndexError (found by h-llm)."""
    from simulator.workload import FLOAT32, TensorInfo, make_workload

    w = make_workload("m", [], {"input:0": TensorInfo("input:0", "input", (2, 2), FLOAT32)},
                      unsupported={"aten.quantized_lstm.input": 1})
    assert w.peak_activation_bits == 0
    assert len(w.live_bits_per_op()) == 0
    assert dict(w.unsupported) == {"aten.quantized_lstm.input": 1}
