"""The mapping objective (energy | latency | edp): each objective picks its own best tiling, scores are vectorised.

Hand-checked case (``G, M, N, K = 1, 4, 4, 1``; 1-bit elements; a 12-bit tile budget; moving a whole
operand across the boundary once costs 1 pJ and 2 cycles of the parent's port; the array computes for 16 cycles):

* ``m, n = 4, 1`` (loop order MKN): nothing is re-fetched, energy A + B + O = 3 pJ, 4 steps,
  transfer X = 6 cycles, latency = X/T + max(X, C)(T-1)/T + C/T = 1.5 + 12 + 4 = 17.5 cycles;
  ``m, n = 1, 4`` (order NKM) ties on every key and comes later in enumeration order;
* ``m, n = 1, 1`` (order MKN): B is re-fetched 4 times, energy 1 + 4 + 1 = 6 pJ, 16 steps, X = 12 cycles,
  latency = 0.75 + 15 + 1 = 16.75 cycles (the least: small steps hide the transfers under compute);
* the 8-step tiles (m, n = 2, 1 or 1, 2) cost 4 pJ and 17 cycles; 2 x 2 costs 4 pJ in 17.5 cycles.

So energy picks 4 x 1 (3 pJ, 17.5 cycles), latency picks 1 x 1 (6 pJ, 16.75 cycles), and EDP
(52.5 vs 68 vs 100.5 pJ x cycles) picks 4 x 1 again: its choice lies between the two on both axes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.mapping.tiling import OBJECTIVES, candidate_scores, search_tile

CASE = dict(
    dims=(1, 4, 4, 1), elem_bits=(1.0, 1.0, 1.0), streamed=(True, True, True), budget_bits=12.0,
    cost_pj=(1.0, 1.0, 1.0, 0.0), inner_psum_pj=(0.0, 0.0),
)
TIMING = dict(parent_cycles=(2.0, 2.0, 2.0, 0.0), compute_cycles=16.0)


def _pick(objective: str):
    return search_tile(*CASE.values(), objective=objective, **TIMING)


def test_energy_and_latency_pick_their_own_best_tiling():
    energy, latency, edp = _pick("energy"), _pick("latency"), _pick("edp")
    assert (energy.m, energy.n, energy.k, energy.order, energy.steps) == (4, 1, 1, "MKN", 4)
    assert energy.energy_pj == pytest.approx(3.0) and energy.latency_cycles == pytest.approx(17.5)
    assert (latency.m, latency.n, latency.k, latency.order, latency.steps) == (1, 1, 1, "MKN", 16)
    assert latency.energy_pj == pytest.approx(6.0) and latency.latency_cycles == pytest.approx(16.75)
    # EDP lies between the two on both axes (here it coincides with the energy-best tiling).
    assert energy.energy_pj <= edp.energy_pj <= latency.energy_pj
    assert latency.latency_cycles <= edp.latency_cycles <= energy.latency_cycles
    assert edp.energy_pj * edp.latency_cycles == pytest.approx(52.5)


def test_unknown_objective_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="objective must be one of"):
        _pick("power")


def test_default_objective_is_energy():
    assert search_tile(*CASE.values(), **TIMING) == _pick("energy")


@settings(max_examples=60, deadline=None)
@given(
    dims=st.tuples(st.integers(1, 3), st.integers(1, 40), st.integers(1, 40), st.integers(1, 40)),
    elem=st.tuples(*[st.sampled_from([1.0, 8.0, 16.0, 32.0])] * 3),
    streamed=st.tuples(st.booleans(), st.booleans(), st.booleans()).filter(any),
    budget=st.floats(64.0, 1e5),
    cost=st.tuples(*[st.floats(0.0, 100.0)] * 4),
    cycles=st.tuples(*[st.floats(0.0, 100.0)] * 4),
    child=st.tuples(*[st.floats(0.0, 100.0)] * 4),
    compute=st.floats(0.0, 1e4),
    load=st.tuples(st.floats(0.0, 1e3), st.floats(0.0, 1e3)),
    objective=st.sampled_from(OBJECTIVES),
)
def test_chosen_candidate_scores_the_minimum(dims, elem, streamed, budget, cost, cycles, child, compute, load, objective):
    args = (dims, elem, streamed, budget, cost, (0.0, 0.0))
    timing = dict(parent_cycles=cycles, child_cycles=child, compute_cycles=compute, port_load_cycles=load)
    choice = search_tile(*args, objective=objective, **timing)
    scores = candidate_scores(*args, **timing)[objective]
    if choice is None:
        assert not np.isfinite(scores).any()
        return
    chosen = {"energy": choice.energy_pj, "latency": choice.latency_cycles,
              "edp": choice.energy_pj * choice.latency_cycles}[objective]
    assert choice.footprint_bits <= budget
    assert chosen == pytest.approx(float(scores.min()), rel=1e-8, abs=1e-12)


def test_simulate_threads_the_objective_to_every_tile_search():
    """Two linear layers (64 x 256 x 256, 64 x 256 x 64) on RF 16 kbit / SRAM 64 kbit / DRAM: the energy
    objective costs least energy, the latency objective least cycles (smaller steps overlap the transfers),
    EDP lies between on both; the report records a non-default objective."""
    from simulator.api import simulate
    from tests.memsim.builders import chain_workload, level, make_profile

    profile = make_profile([level("rf", "register_file", 1 << 14, 1.0), level("sram", "sram", 1 << 16, 5.0),
                            level("dram", "dram", 1 << 40, 640.0)])
    w = chain_workload([(64, 256, 256), (64, 256, 64)])
    runs = {o: simulate(w, profile, engine="closed-form", objective=o) for o in OBJECTIVES}
    energy, latency, edp = runs["energy"], runs["latency"], runs["edp"]
    assert latency.cycles < energy.cycles and energy.total_energy_pj < latency.total_energy_pj
    assert energy.total_energy_pj <= edp.total_energy_pj <= latency.total_energy_pj
    assert latency.cycles <= edp.cycles <= energy.cycles
    assert latency.metadata["mapping objective"] == "latency" and "mapping objective" not in energy.metadata
    with pytest.raises(ValueError, match="objective must be one of"):
        simulate(w, profile, engine="closed-form", objective="power")
