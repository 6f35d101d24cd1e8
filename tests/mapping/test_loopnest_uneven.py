"""Uneven (imperfect) factor splits in the loop-nest model: the per-dim closed form against a brute-force walk
of every instance and iteration, the perfect-factorisation path unchanged, and the refusals."""

from __future__ import annotations

import functools
import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.mapping import loopnest
from simulator.mapping.fixed import OPERANDS, FixedMapping, LevelMapping, LoopProblem, load_fixed_mapping
from simulator.mapping.loopblocks import dim_run, dim_states
from simulator.mapping.loopnest import count_accesses
from simulator.mapping.schedule import MappingError
from tests.mapping.test_loopnest import draw_divisor_levels

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DIMS = ("K", "C", "R", "P")


def conv1d(bounds: dict[str, int], stride: int = 1) -> LoopProblem:
    """Timeloop tutorial exercise 04's problem shape; ``stride`` > 1 leaves gaps between 1-tap windows."""
    proj = (
        ("weights", (((1, "K"),), ((1, "C"),), ((1, "R"),))),
        ("inputs", (((1, "C"),), ((stride, "P"), (1, "R")))),
        ("outputs", (((1, "K"),), ((1, "P"),))),
    )
    return LoopProblem("conv1d", tuple(bounds.items()), proj)


@st.composite
def uneven_mappings(draw):
    """Random bounds and levels; each dim's factors drawn innermost first, each at most ``ceil(bound / inner)``,
    the outermost exactly that: splits that need not divide (``FixedMapping.check``'s rule)."""
    bounds = {d: draw(st.integers(1, 5)) for d in DIMS}
    problem = conv1d(bounds, draw(st.sampled_from([1, 2])))
    n_levels = draw(st.integers(1, 3))
    slots = [(i, s) for i in range(n_levels) for s in (False, True) if not (s and i == n_levels - 1)]
    factor = {}
    for d in DIMS:
        cover = 1
        for k in range(len(slots) - 1, -1, -1):
            cap = -(-bounds[d] // cover)
            factor[slots[k], d] = cap if k == 0 else draw(st.integers(1, cap))
            cover *= factor[slots[k], d]
    levels = []
    for i in range(n_levels):
        temporal = tuple((d, factor[(i, False), d]) for d in draw(st.permutations(DIMS)))
        spatial = tuple((d, factor[(i, True), d]) for d in DIMS if ((i, True), d) in factor)
        keeps = frozenset(OPERANDS) if i == 0 else frozenset(draw(st.sets(st.sampled_from(OPERANDS))))
        levels.append(LevelMapping(f"L{i}", temporal, spatial, keeps))
    return problem, FixedMapping(tuple(levels))


def _box(problem, operand, start, block):
    """(low corner, span, used) per data dim of the tile at ``start`` with ``block`` indices per loop dim."""
    out = []
    for dd in problem.projection(operand):
        lo = sum(c * start[d] for c, d in dd)
        used = {sum(c * (start[d] + i) for (c, d), i in zip(dd, idx)) for idx in itertools.product(*(range(block[d]) for _, d in dd))}
        out.append((lo, sum(c * (block[d] - 1) for c, d in dd) + 1, len(used)))
    return out


def _walk_visits(nest, level, operand, collapse):
    """Every instance, every real step in time order: Timeloop's hyper-rectangle difference between tiles."""
    bound = nest.bound
    above = [lp for lp in nest.loops if lp.level < level and lp.pos not in collapse]
    spatial, temporal = [lp for lp in above if lp.spatial], [lp for lp in above if not lp.spatial]
    ext = {d: math.prod(lp.factor for lp in nest.by_dim[d] if lp.level >= level) for d in bound}
    total = 0
    for s_idx in itertools.product(*(range(lp.factor) for lp in spatial)):
        prev = None
        for t_idx in itertools.product(*(range(lp.factor) for lp in temporal)):
            start = dict.fromkeys(bound, 0)
            for lp, v in zip(spatial + temporal, s_idx + t_idx):
                start[lp.dim] += v * lp.step
            if any(start[d] >= bound[d] for d in bound):
                continue  # no real work at this index
            box = _box(nest.problem, operand, start, {d: min(ext[d], bound[d] - start[d]) for d in bound})
            tile = math.prod(u for _, _, u in box)
            if prev is None:
                total += tile
            else:
                changed = [k for k, (b, p) in enumerate(zip(box, prev)) if b[0] != p[0] or b[2] != p[2]]
                k = changed[0] if len(changed) == 1 else None
                if not changed:
                    pass
                elif k is not None and 0 < box[k][0] - prev[k][0] < prev[k][1] and box[k][1] == box[k][2] and prev[k][1] == prev[k][2]:
                    total += tile // box[k][2] * max(0, box[k][0] + box[k][1] - prev[k][0] - prev[k][1])
                else:
                    total += tile
            prev = box
    return total


def _walk_distinct(nest, level, operand, collapse):
    """Per instance, the real indices of each dim it ever touches; summed footprints."""
    bound = nest.bound
    loops = [lp for lp in nest.loops if lp.pos not in collapse]
    spatial = [lp for lp in loops if lp.spatial and lp.level < level]
    rest = [lp for lp in loops if not (lp.spatial and lp.level < level)]
    total = 0
    for s_idx in itertools.product(*(range(lp.factor) for lp in spatial)):
        seen = {d: set() for d in bound}
        for r_idx in itertools.product(*(range(lp.factor) for lp in rest)):
            x = dict.fromkeys(bound, 0)
            for lp, v in zip(spatial + rest, s_idx + r_idx):
                x[lp.dim] += v * lp.step
            if all(x[d] < bound[d] for d in bound):
                for d in bound:
                    seen[d].add(x[d])
        if all(seen.values()):
            total += nest.problem.footprint(operand, {d: len(v) for d, v in seen.items()})
    return total


def _walk_macs(nest, collapse):
    loops = [lp for lp in nest.loops if lp.pos not in collapse]
    n = 0
    for idx in itertools.product(*(range(lp.factor) for lp in loops)):
        x = dict.fromkeys(nest.bound, 0)
        for lp, v in zip(loops, idx):
            x[lp.dim] += v * lp.step
        n += all(x[d] < b for d, b in nest.bound.items())
    return n


@PROPERTY
@given(uneven_mappings())
def test_uneven_counts_equal_a_brute_force_walk(pm):
    """Visits (fills before eliding first output reads), distinct elements and real MAC iterations, summed over
    the instances, for every level and operand, with and without each parent's multicast loops."""
    problem, mapping = pm
    nest = loopnest._Nest(problem, mapping)
    n = nest.depth
    for level in range(n + 1):
        for parent in range(level):
            for op in OPERANDS:
                shared = nest.multicast(parent, level, op)
                if level < n:
                    assert nest.visits(level, op, shared) == _walk_visits(nest, level, op, shared), (level, parent, op)
                    assert nest.distinct(level, op, shared) == _walk_distinct(nest, level, op, shared), (level, op)
                else:
                    assert nest.mac_iterations(shared) == _walk_macs(nest, shared), (parent, op)
    assert nest.mac_iterations(frozenset()) == problem.macs  # every real MAC exactly once
    counts = count_accesses(problem, mapping)
    assert counts.compute_cycles * counts.compute_instances >= problem.macs


@st.composite
def perfect_mappings(draw):
    """Factors that divide (``test_loopnest``'s levels) on the conv1d problem with stride 1 or 2."""
    bounds = {d: draw(st.sampled_from([1, 2, 3, 4, 6])) for d in DIMS}
    return conv1d(bounds, draw(st.sampled_from([1, 2]))), draw_divisor_levels(draw, bounds)


@PROPERTY
@given(perfect_mappings())
def test_perfect_factorisation_closed_form_equals_the_general_path(pm):
    """When every factor divides, the one-state closed form (the model before uneven splits) and the general
    per-dim enumeration give the same counts, field by field."""
    problem, mapping = pm
    closed = count_accesses(problem, mapping)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loopnest, "dim_states", functools.partial(dim_states, closed_form=False))
        mp.setattr(loopnest, "dim_run", functools.partial(dim_run, closed_form=False))
        general = count_accesses(problem, mapping)
    assert general == closed
    assert closed.compute_cycles * closed.compute_instances == problem.macs and closed.utilisation == 1.0
    assert all(isinstance(v, int) for c in closed.counts for v in (c.reads, c.fills, c.updates))


def test_partial_tile_by_hand():
    """P = 7 outputs of a 3-tap conv1d (9 inputs), RF tile P 4 (DRAM loop P 2: tiles 4 + 3): the RF's input
    fills are 6 (inputs 0-5) + 3 (the second tile holds inputs 4-8, slid by 4 from 0-5: 9 - 6 = 3 new); its
    weights are filled once (3); its outputs are drained 7 times, and the MACs are 7 x 3 = 21 (cycles:
    2 x 4 x 3 = 24, the partial tile a full step)."""
    problem = conv1d({"K": 1, "C": 1, "R": 3, "P": 7})
    mapping = FixedMapping((LevelMapping("dram", (("P", 2),)), LevelMapping("rf", (("P", 4), ("R", 3)))))
    counts = count_accesses(problem, mapping)
    assert counts.get("rf", "inputs").fills == 9 and counts.get("rf", "weights").fills == 3
    assert counts.get("rf", "inputs").reads == 21 and counts.get("dram", "outputs").updates == 7
    assert counts.get("rf", "outputs").updates == 21 and counts.get("rf", "outputs").reads == 14
    assert counts.get("rf", "inputs").tile_words == 6
    assert counts.compute_cycles == 24 and counts.utilisation == pytest.approx(21 / 24)


def test_partial_fanout_by_hand():
    """K = 5 filters on a fanout of 2 PEs (folds 2 + 2 + 1) of a 1x1 conv1d, C = 3: the 5 x 3 weights reach the
    PEs once each (15 fills over 2 instances: 7.5 per PE, the mean); each PE keeps the 3 inputs across the K
    folds (K does not index them): one multicast read of 3 from the buffer, 3 fills per PE. The compute takes
    3 folds x 3 = 9 cycles for 15 MACs; the buffer receives each of the 5 outputs once."""
    problem = conv1d({"K": 5, "C": 3, "R": 1, "P": 1})
    mapping = FixedMapping((LevelMapping("buf", (("K", 3),), (("K", 2),)), LevelMapping("pe", (("C", 3),))))
    counts = count_accesses(problem, mapping)
    w, i = counts.get("pe", "weights"), counts.get("buf", "inputs")
    assert (w.instances, w.fills) == (2, 7.5)
    assert i.reads == 3 and counts.get("pe", "inputs").fills == 3
    assert counts.compute_cycles == 9 and counts.get("buf", "outputs").updates == 5


def test_strided_window_counts_only_used_inputs():
    """A 1x1 stride-2 conv1d (P = 4 outputs read inputs 0, 2, 4, 6): the tile holds the 4 used inputs, not the
    7-wide rectangle (``convgeom.window_span``, the mapper's count)."""
    problem = conv1d({"K": 1, "C": 1, "R": 1, "P": 4}, stride=2)
    counts = count_accesses(problem, FixedMapping((LevelMapping("dram"), LevelMapping("rf", (("P", 4),)))))
    assert counts.get("rf", "inputs").tile_words == 4 and counts.get("rf", "inputs").fills == 4


def test_impossible_splits_name_the_layer_and_dim(tmp_path):
    problem = conv1d({"K": 7, "C": 1, "R": 1, "P": 1})
    with pytest.raises(MappingError, match=r"'conv1d': factors of 'K' multiply to 6, bound is 7"):
        count_accesses(problem, FixedMapping((LevelMapping("d", (("K", 2),)), LevelMapping("r", (("K", 3),)))))
    with pytest.raises(MappingError, match=r"factors of 'K' \[3, 4\] .*needs the outermost factor ceil\(7 / 4\) = 2"):
        count_accesses(problem, FixedMapping((LevelMapping("d", (("K", 3),)), LevelMapping("r", (("K", 4),)))))
    with pytest.raises(MappingError, match=r"factors of 'K' \[2, 8\] .*cover 16 > bound 7.*ceil\(7 / 8\) = 1"):
        count_accesses(problem, FixedMapping((LevelMapping("d", (("K", 2),)), LevelMapping("r", (("K", 8),)))))
    path = tmp_path / "m.toml"  # a TOML file states an uneven split with the plain factors
    path.write_text('[[mapping]]\nlayer = "conv1"\n[[mapping.level]]\nname = "dram"\ntemporal = [["K", 2]]\n'
                    '[[mapping.level]]\nname = "rf"\ntemporal = [["K", 4]]\n')
    (m,) = load_fixed_mapping(path)
    assert count_accesses(problem, FixedMapping(m.levels)).get("rf", "weights").fills == 7


def test_uneven_user_mapping_through_simulate():
    """Timeloop exercise 03's layer (Conv1D_OC K = 32, R = 3, P = 16) with the K split unevenly, GlobalBuffer
    K 7 x RegisterFile K 5 (6 x 5 + 2): DRAM still reads each of the 96 weights and 18 inputs once and writes
    the 512 outputs once; the compute takes 7 x 16 x 5 x 3 = 1,680 cycles for 1,536 MACs (no fill/drain on a
    user's mapping)."""
    import torch

    from simulator.api import resolve_precision, trace_model
    from simulator.hardware import load_profile
    from simulator.mapping import map_workload
    from simulator.mapping.fixed_apply import apply_fixed_mappings

    torch.manual_seed(0)
    model, x = torch.nn.Sequential(torch.nn.Conv1d(1, 32, 3, bias=False)), torch.zeros(1, 1, 18)
    fm = FixedMapping((LevelMapping("MainMemory"), LevelMapping("GlobalBuffer", (("K", 7), ("OX", 16))),
                       LevelMapping("RegisterFile", (("K", 5), ("FX", 3)))), layer="0")
    wl, hw = resolve_precision(trace_model(model, x), load_profile("timeloop-tutorial-3level"), None)
    op = apply_fixed_mappings(map_workload(wl, hw, independent_layers=True), wl, hw, [fm]).ops[0]
    words = {k: v / 8 for k, v in op.traffic_bits.items() if k[0] == "MainMemory"}
    assert words == {("MainMemory", "weights", "read"): 96, ("MainMemory", "inputs", "read"): 18,
                     ("MainMemory", "outputs", "write"): 512}
    assert op.compute_cycles == 1680


def test_scalesim_profile_template_levels_are_its_three_srams():
    """scalesim-32x32-os: the template's buffer is the 192 KB level, each operand within the active half of its
    own 64 kB SRAM (SCALE-Sim's 50 of 100 sets of floor(65,536 / 100) = 655 words: 32,750 words)."""
    from simulator.hardware import load_profile
    from simulator.mapping.fixed_templates import template_levels

    levels = template_levels(load_profile("scalesim-32x32-os"), 8, ("outputs",))
    assert dict(levels.operand_words) == {"inputs": 32_750, "weights": 32_750, "outputs": 32_750}
    assert levels.buffer_words == 192_000 and levels.pe == "rf"  # the profile's "192 KB" sram level
    assert dict(template_levels(load_profile("zigzag-tpu-like"), 8).operand_words) == {}
