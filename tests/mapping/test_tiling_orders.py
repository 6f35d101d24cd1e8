"""The tile search scores the three distinct loop-order classes (``candidates.DISTINCT``), not all six orders: it must
pick exactly the candidate a search over all six picks, ties included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.mapping import candidates, tiling
from simulator.mapping.convgeom import ConvGeometry
from simulator.mapping.objective import choose


def test_order_classes_are_the_refetch_patterns():
    """MNK = NMK (A and B re-fetched), MKN = KMN (B and partial sums), NKM = KNM (A and partial sums)."""
    assert [tiling.ORDERS[i] for i in candidates.DISTINCT] == ["MNK", "MKN", "NKM"]
    assert [tiling.ORDERS[candidates.DISTINCT[c]] for c in candidates.EXPAND] == ["MNK", "MKN", "MNK", "NKM", "MKN", "NKM"]


@settings(max_examples=150, deadline=None)
@given(
    dims=st.tuples(st.integers(1, 3), st.integers(1, 300), st.integers(1, 70), st.integers(1, 70)),
    elem=st.tuples(*[st.sampled_from([1.0, 8.0, 16.0, 32.0])] * 3),
    streamed=st.tuples(st.booleans(), st.booleans(), st.booleans()).filter(any),
    budget=st.floats(64.0, 1e5),
    cost=st.tuples(*[st.sampled_from([0.0, 1.0, 2.0, 7.5])] * 4),  # few values: many exact ties
    child=st.tuples(*[st.sampled_from([0.0, 1.0, 3.0])] * 4),
    compute=st.sampled_from([0.0, 100.0, 1e4]),
    conv=st.booleans(),
    objective=st.sampled_from(tiling.OBJECTIVES),
)
def test_three_classes_pick_what_six_orders_pick(dims, elem, streamed, budget, cost, child, compute, conv, objective):
    geom = ConvGeometry(batch=1, channels=4, in_h=8, in_w=8, out_h=6, out_w=6, k_h=3, k_w=3) if conv else None
    if geom is not None:  # a 3x3 conv on 4 x 8 x 8: M = 36 output pixels, K = 36 reduction elements
        dims = (dims[0], 36, dims[2], 36)
    args = (dims, elem, streamed, budget, cost, (cost[0], cost[1]), geom)
    timing = dict(parent_cycles=cost, child_cycles=child, compute_cycles=compute, port_load_cycles=(1.0, 2.0))
    choice = tiling.search_tile.__wrapped__(*args, objective=objective, **timing)
    scores = tiling.candidate_scores(*args, **timing)
    if choice is None:
        assert not np.isfinite(scores[objective]).any()
        return
    grid = candidates.candidate_grid(dims, geom)
    n = grid.mm.size
    steps = np.tile(grid.steps, len(tiling.ORDERS))
    best = choose(objective, scores["energy"], scores["latency"], steps, tiling.TIE_BREAK)
    order, ci = divmod(best, n)
    assert (choice.order, choice.m, choice.n, choice.k) == (tiling.ORDERS[order], grid.mm[ci], grid.nn[ci], grid.kk[ci])
    assert choice.energy_pj == scores["energy"][best] and choice.latency_cycles == scores["latency"][best]
