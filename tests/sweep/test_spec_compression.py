"""Impossible compressions are refused naming the key, before any point is computed (issue 17)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.sweep import SweepSpecError, parse_spec, plan_sweep
from simulator.sweep.spec_types import MAX_SHARED_WEIGHT_BITS, CompressionParams, impossible_compression


def _no_compression_axes(spec: dict) -> dict:
    spec["axis"] = [spec["axis"][0]]  # SRAM only: every point is the base compression
    return spec


def test_shared_codebook_wider_than_16_bits_is_refused_when_read(grid_dict):
    """The README's old example: weight_sharing with weight_bits left at 32 (a 2**32-entry codebook)."""
    spec = _no_compression_axes(grid_dict)
    spec["compression"] = {"weight_sharing": True}
    with pytest.raises(SweepSpecError, match=r"compression.weight_bits.*2\*\*32 entries.*at most 16"):
        parse_spec(spec)


def test_shared_codebook_of_16_bits_is_accepted(grid_dict):
    spec = _no_compression_axes(grid_dict)
    spec["compression"] = {"weight_sharing": True, "weight_bits": 16}
    assert parse_spec(spec).compression.weight_bits == 16


def test_index_wider_than_weight_is_refused(grid_dict):
    spec = _no_compression_axes(grid_dict)
    spec["compression"] = {"density": 0.5, "weight_bits": 4, "index_bits": 5}
    with pytest.raises(SweepSpecError, match=r"compression.index_bits.*index_bits = 5 is wider than weight_bits = 4"):
        parse_spec(spec)


def test_sparse_without_index_is_refused_when_read(grid_dict):
    spec = _no_compression_axes(grid_dict)
    spec["compression"] = {"density": 0.5, "weight_bits": 8}
    with pytest.raises(SweepSpecError, match=r"compression.index_bits.*needs a relative index"):
        parse_spec(spec)


@pytest.mark.parametrize("density", [0.0, -0.1, 1.01, float("nan")])
def test_density_out_of_range_is_refused(grid_dict, density):
    grid_dict["compression"]["density"] = density
    with pytest.raises(SweepSpecError, match=r"compression.density"):
        parse_spec(grid_dict)


def test_a_point_made_impossible_by_an_axis_is_refused_when_planned(grid_dict):
    """Axes vary the compression: the planner checks each sampled point with the same rule."""
    grid_dict["compression"] = {"weight_sharing": True, "index_bits": 4}
    grid_dict["axis"][1] = {"key": "compression.weight_bits", "values": [8, 24]}
    spec = parse_spec(grid_dict)
    with pytest.raises(SweepSpecError, match=r"compression.weight_bits.*'compression.weight_bits': 24.*2\*\*24"):
        plan_sweep(spec)


def test_a_constraint_can_skip_the_impossible_points(grid_dict):
    grid_dict["compression"] = {"weight_sharing": True, "index_bits": 4}
    grid_dict["axis"][1] = {"key": "compression.weight_bits", "values": [8, 24]}
    grid_dict["sweep"]["constraints"] = ["compression.weight_bits <= 16"]
    plan = plan_sweep(parse_spec(grid_dict))
    assert {p.compression.weight_bits for p in plan.points} == {8}


@given(
    density=st.floats(0.001, 1.0),
    weight_bits=st.integers(1, 32),
    index_bits=st.integers(0, 32),
    sharing=st.booleans(),
)
def test_every_accepted_compression_stores_at_most_dense_plus_codebook(density, weight_bits, index_bits, sharing):
    """Invariant: what the rule accepts never stores more per kept weight than 2 x its weight bits,
    and a shared codebook is at most 2**16 entries."""
    params = CompressionParams(density, weight_bits, index_bits, sharing)
    if impossible_compression(params) is not None:
        return
    per_kept_bits = weight_bits + (index_bits if density < 1 else 0)
    assert per_kept_bits <= 2 * weight_bits
    assert not sharing or 2**weight_bits <= 2**MAX_SHARED_WEIGHT_BITS
    assert density == 1 or index_bits >= 1
