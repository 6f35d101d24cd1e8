"""Fixed mappings: the closed-form counts against a brute-force walk of the loop nest, the invariants (hypothesis)
on random hierarchies and mappings, and the refusals (capacity, factors, file format)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.mapping.fixed import OPERANDS, FixedMapping, LevelMapping, LoopProblem, load_fixed_mapping
from simulator.mapping.hierarchy import LevelCost, check_capacity, nest_energy
from simulator.mapping.loopnest import count_accesses
from simulator.mapping.schedule import MappingError

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: A conv1d with output and input channels (Timeloop tutorial exercise 04's problem shape).
DIMS = ("K", "C", "R", "P")
PROJ = (
    ("weights", (((1, "K"),), ((1, "C"),), ((1, "R"),))),
    ("inputs", (((1, "C"),), ((1, "R"), (1, "P")))),
    ("outputs", (((1, "K"),), ((1, "P"),))),
)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def draw_divisor_levels(draw, bounds: dict[str, int]) -> FixedMapping:
    """1-4 levels whose factors divide: each dim's bound split into divisors, part of a factor maybe spatial."""
    n_levels = draw(st.integers(1, 4))
    remaining = dict(bounds)
    levels = []
    for i in range(n_levels):
        last = i == n_levels - 1
        temporal, spatial = [], []
        for d in draw(st.permutations(DIMS)):
            f = remaining[d] if last else draw(st.sampled_from(_divisors(remaining[d])))
            remaining[d] //= f
            if not last and draw(st.booleans()) and f > 1:
                s = draw(st.sampled_from(_divisors(f)))
                spatial.append((d, s))
                f //= s
            temporal.append((d, f))
        keeps = frozenset(OPERANDS) if i == 0 else frozenset(draw(st.sets(st.sampled_from(OPERANDS))))
        levels.append(LevelMapping(f"L{i}", tuple(temporal), tuple(spatial), keeps))
    return FixedMapping(tuple(levels))


@st.composite
def problems_and_mappings(draw):
    bounds = {d: draw(st.sampled_from([1, 2, 3, 4, 6])) for d in DIMS}
    return LoopProblem("conv1d", tuple(bounds.items()), PROJ), draw_divisor_levels(draw, bounds)


def _brute_fills(problem: LoopProblem, mapping: FixedMapping, level: int, operand: str) -> int:
    """Walk every iteration of the temporal loops above ``level`` (one instance: spatial indices 0) and apply
    Timeloop's hyper-rectangle difference between consecutive tiles."""
    loops = [(i, d, f, s) for i, lv in enumerate(mapping.levels) for s, ls in ((0, lv.temporal), (1, lv.spatial)) for d, f in ls]
    inner = {d: math.prod(f for (i, dd, f, _) in loops if i >= level and dd == d) for d in DIMS}
    above = [(k, d, f) for k, (i, d, f, s) in enumerate(loops) if i < level and not s]
    proj = dict(problem.projections)[operand]
    total, prev = 0, None
    for idx in itertools.product(*(range(f) for _, _, f in above)):
        start = dict.fromkeys(DIMS, 0)
        for (k, d, _), v in zip(above, idx):
            step = math.prod(f for (_, dd, f, _) in loops[k + 1:] if dd == d)
            start[d] += v * step
        box = [(sum(c * start[d] for c, d in dd), sum(c * (inner[d] - 1) for c, d in dd) + 1) for dd in proj]
        size = math.prod(w for _, w in box)
        if prev is None:
            total += size
        else:
            moved = [(lo - plo, w) for (lo, w), (plo, _) in zip(box, prev) if lo != plo]
            if not moved:
                pass
            elif len(moved) == 1 and 0 < moved[0][0] < moved[0][1]:
                total += size // moved[0][1] * moved[0][0]
            else:
                total += size
        prev = box
    return total


@PROPERTY
@given(problems_and_mappings())
def test_closed_form_equals_brute_force_walk(pm):
    problem, mapping = pm
    counts = count_accesses(problem, mapping)
    for i, lv in enumerate(mapping.levels[1:], start=1):
        for op in lv.keeps:
            c = counts.get(lv.level, op)
            brute = _brute_fills(problem, mapping, i, op)
            if op == "outputs":
                assert c.fills + _distinct(problem, mapping, i, op) == brute
            else:
                assert c.fills == brute


def _distinct(problem, mapping, level, operand):
    ext = dict.fromkeys(DIMS, 1)
    for i, lv in enumerate(mapping.levels):
        for d, f in lv.temporal + (lv.spatial if i >= level else ()):
            ext[d] *= f
    return problem.footprint(operand, ext)


@PROPERTY
@given(problems_and_mappings())
def test_traffic_at_least_compulsory_and_energy_is_the_sum(pm):
    """Each operand is read from (outputs: written to) its outermost level at least once per element; the MACs
    read every input/weight operand once each; energy = the sum of its breakdown, each entry >= 0."""
    problem, mapping = pm
    counts = count_accesses(problem, mapping)
    top = mapping.levels[0].level
    full = {d: b for d, b in problem.bounds}
    for op in ("weights", "inputs"):
        assert counts.get(top, op).reads >= problem.footprint(op, full)
    assert counts.get(top, "outputs").updates >= problem.footprint("outputs", full)
    for c in counts.counts:
        assert min(c.reads, c.fills, c.updates) >= 0
        assert c.tile_words <= problem.footprint(c.operand, full)
    costs = {lv.level: LevelCost(1 + i, 1.0 + i, 2.0, 3.0, leak_pj_per_cycle=0.1) for i, lv in enumerate(mapping.levels)}
    energy = nest_energy(counts, costs, 0.5)
    assert energy.total_pj == pytest.approx(sum(energy.breakdown_pj.values()))
    assert energy.total_pj == pytest.approx(energy.breakdown_pj["compute"] + sum(energy.level_pj(lv.level) for lv in mapping.levels))
    assert all(v >= 0 for v in energy.breakdown_pj.values())


def _two_level(rf_temporal):
    problem = LoopProblem("conv1d", (("K", 4), ("C", 2), ("R", 3), ("P", 8)), PROJ)
    outer = LevelMapping("sram", tuple((d, b // dict(rf_temporal).get(d, 1)) for d, b in problem.bounds))
    return problem, FixedMapping((outer, LevelMapping("rf", tuple(rf_temporal))))


def test_capacity_violation_names_level_tile_and_bits():
    problem, mapping = _two_level((("K", 4), ("R", 3), ("P", 8)))
    counts = count_accesses(problem, mapping)
    costs = {"sram": LevelCost(1, 1, 1, 1), "rf": LevelCost(1, 1, 1, 1, capacity_words=16)}
    with pytest.raises(MappingError, match=r"level 'rf'.*weights 12 words, inputs 10 words, outputs 32 words = 432 bits > capacity 128 bits"):
        check_capacity(counts, costs, 8)
    check_capacity(counts, {"sram": LevelCost(1, 1, 1, 1), "rf": LevelCost(1, 1, 1, 1, capacity_words=54)}, 8)


def test_factors_must_multiply_to_the_bound():
    problem, mapping = _two_level((("K", 4),))
    bad = FixedMapping((mapping.levels[0], LevelMapping("rf", (("K", 2),))))
    with pytest.raises(MappingError, match="factors of 'K' multiply to 2, bound is 4"):
        count_accesses(problem, bad)
    with pytest.raises(MappingError, match="outermost level 'rf' must keep every operand"):
        FixedMapping((LevelMapping("rf", keeps=frozenset({"weights"})),))


def test_toml_mapping_file(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        '[[mapping]]\nlayer = "conv1"\n[[mapping.level]]\nname = "dram"\ntemporal = [["K", 4]]\n'
        '[[mapping.level]]\nname = "sram"\ntemporal = {C = 3, OX = 2}\nspatial = [["K", 16]]\nkeeps = ["weights", "inputs"]\n'
    )
    (m,) = load_fixed_mapping(path)
    assert m.layer == "conv1" and m.names == ("dram", "sram")
    assert m.levels[1].temporal == (("C", 3), ("OX", 2)) and m.levels[1].spatial == (("K", 16),)
    assert m.levels[1].keeps == frozenset({"weights", "inputs"})
    path.write_text('[[mapping]]\nlayer = "conv1"\n[[mapping.level]]\nname = "dram"\ntemporal = [["K", 0]]\n')
    with pytest.raises(MappingError, match=r"mapping\[0\]\.level\[0\]\.temporal: factor of 'K' must be a positive integer"):
        load_fixed_mapping(path)
    path.write_text('[[mapping]]\nlayer = "conv1"\n[[mapping.level]]\nname = "dram"\nkeep = ["weights"]\n')
    with pytest.raises(MappingError, match="unknown keys"):
        load_fixed_mapping(path)
