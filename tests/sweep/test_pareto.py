"""Pareto masks: the vectorised fronts agree with the definition (brute force) on random data."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator.sweep.pareto import pareto_mask


def _brute(obj: np.ndarray) -> np.ndarray:
    n = len(obj)
    out = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if np.all(obj[j] <= obj[i]) and np.any(obj[j] < obj[i]):
                out[i] = False
                break
    return out


def test_two_objectives_by_hand():
    # (1, 5) (2, 3) (3, 4) (4, 1) (2, 3): (3, 4) is dominated by (2, 3); the duplicate (2, 3) stays.
    obj = np.array([[1, 5], [2, 3], [3, 4], [4, 1], [2, 3]], dtype=float)
    assert pareto_mask(obj).tolist() == [True, True, False, True, True]


def test_maximize_and_nan():
    # energy (min) vs accuracy (max): (1, 0.9) dominates (2, 0.8); NaN rows are never on the front.
    obj = np.array([[1, 0.9], [2, 0.8], [0.5, 0.5], [np.nan, 1.0]])
    assert pareto_mask(obj, maximize=[False, True]).tolist() == [True, False, True, False]


small_ints = st.integers(min_value=0, max_value=6).map(float)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 40), st.just(2)), elements=small_ints))
def test_2d_matches_brute_force(obj):
    assert pareto_mask(obj).tolist() == _brute(obj).tolist()


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(3, 4)), elements=small_ints))
def test_nd_matches_brute_force(obj):
    assert pareto_mask(obj).tolist() == _brute(obj).tolist()


def test_large_front_is_fast_enough_to_call_in_tests():
    rng = np.random.default_rng(0)
    obj = rng.random((2000, 3))
    mask = pareto_mask(obj)
    assert 0 < mask.sum() < 2000
