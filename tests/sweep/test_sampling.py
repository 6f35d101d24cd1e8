"""Samplers: grid order, seeded determinism, Latin-hypercube stratification."""

from __future__ import annotations

import numpy as np

from simulator.sweep.sampling import sample_points
from simulator.sweep.spec_types import Axis


def test_grid_is_the_cartesian_product_first_axis_slowest():
    axes = [Axis("a", values=(1, 2)), Axis("b", low=1.0, high=100.0, num=3, scale="log")]
    assert sample_points(axes, "grid", None, 0) == [(1, 1.0), (1, 10.0), (1, 100.0), (2, 1.0), (2, 10.0), (2, 100.0)]


def test_integer_range_grid_deduplicates():
    assert Axis("b", low=2, high=4, num=5, integer=True).grid_values() == (2, 3, 4)


def test_random_and_lhs_are_seeded():
    axes = [Axis("a", low=0.0, high=1.0), Axis("b", values=("x", "y", "z"))]
    for sampling in ("random", "lhs"):
        assert sample_points(axes, sampling, 20, 7) == sample_points(axes, sampling, 20, 7)
        assert sample_points(axes, sampling, 20, 7) != sample_points(axes, sampling, 20, 8)


def test_lhs_uses_every_stratum_once_per_axis():
    n = 50
    axes = [Axis("a", low=0.0, high=1.0), Axis("b", low=10.0, high=20.0), Axis("c", low=1.0, high=1000.0, scale="log")]
    pts = np.array(sample_points(axes, "lhs", n, 1))
    unit = np.column_stack([pts[:, 0], (pts[:, 1] - 10) / 10, np.log(pts[:, 2]) / np.log(1000)])
    for j in range(3):
        strata = np.floor(unit[:, j] * n).astype(int)
        assert sorted(strata) == list(range(n))


def test_lhs_over_listed_values_balances_them():
    axes = [Axis("a", values=(1, 2, 3, 4))]
    pts = [p[0] for p in sample_points(axes, "lhs", 40, 3)]
    assert [pts.count(v) for v in (1, 2, 3, 4)] == [10, 10, 10, 10]
