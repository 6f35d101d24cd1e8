"""Compute array geometry and spatial unrolling (simulator/mapping/spatial.py): hand-computed cycles,
the v1 fallback, and invariants on random arrays and loop nests."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.hardware.profile import LOOP_DIMS, UNROLLABLE_DIMS, ArrayAxis, ComputeArray, ComputeUnit
from simulator.ops import ConvDims
from simulator.mapping.spatial import array_cycles, conv_loop_nest, gemm_loop_nest, unroll

TPU_LIKE = ComputeArray((ArrayAxis("D1", 32, ("K",)), ArrayAxis("D2", 32, ("C",))))
OS_32 = ComputeArray((ArrayAxis("rows", 32, ("P",)), ArrayAxis("cols", 32, ("K",))), fill_drain_cycles=94)
RESNET_CONV1 = ConvDims(batch=1, in_channels=3, out_channels=64, groups=1, input_size=(224, 224), output_size=(112, 112),
                        kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), dilation=(1, 1))


def test_first_conv_underuses_a_k_by_c_array():
    """ResNet-18 conv1 (C=3, K=64, 112x112, 7x7) on ZigZag's tpu_like (D1: K 32, D2: C 32).

    By hand: folds ceil(64/32) x ceil(3/32) = 2, temporal 112 x 112 x 7 x 7 = 614,656 per fold:
    1,229,312 cycles, utilisation 118,013,952 MACs / (1,229,312 x 1024) = 3/32.
    """
    choice = unroll(TPU_LIKE, conv_loop_nest(RESNET_CONV1))
    assert (choice.folds, choice.temporal_per_fold, choice.cycles) == (2, 614_656, 1_229_312)
    assert choice.utilisation == pytest.approx(3 / 32)
    assert dict(choice.unrolled) == {"D1": "K", "D2": "C"}


def test_output_stationary_fill_drain():
    """Same layer, SCALE-Sim OS 32x32: rows take output pixels, cols filters; by hand
    ceil(12544/32) x ceil(64/32) = 784 folds x (147 + 2x32 + 32 - 2 = 241) = 188,944 cycles."""
    choice = unroll(OS_32, conv_loop_nest(RESNET_CONV1))
    assert (choice.folds, choice.temporal_per_fold, choice.cycles) == (784, 147, 188_944)


def test_an_axis_picks_its_best_dim():
    """An axis allowed K or C takes whichever leaves fewer folds: C=3 would idle 29 lanes, K=64 does not."""
    array = ComputeArray((ArrayAxis("a", 32, ("C", "K")),))
    choice = unroll(array, conv_loop_nest(RESNET_CONV1))
    assert choice.unrolled["a"] == "K" and choice.cycles == 2 * 3 * 112 * 112 * 49


def test_composite_and_member_are_not_unrolled_together():
    """P covers OX: an array offering P on one axis and OX on the other uses only one of them per nest."""
    array = ComputeArray((ArrayAxis("r", 4, ("P",)), ArrayAxis("c", 4, ("OX",))))
    choice = unroll(array, gemm_loop_nest(1, 16, 1, 1) | {"OX": 1})
    assert len(choice.unrolled) == 1 and choice.cycles == 4


def test_v1_profiles_keep_macs_over_lanes():
    """No array: compute cycles = MACs (that take a cycle) / macs_per_cycle, fractional as before."""
    unit = ComputeUnit(64, 32, "none")
    assert array_cycles(unit, None, (1, 10, 10, 10), 1000, 1000) == pytest.approx(1000 / 64)
    assert array_cycles(unit, None, (1, 10, 10, 10), 1000, 250) == pytest.approx(250 / 64)


def test_skipped_macs_scale_the_array_cycles():
    unit = ComputeUnit(1024, 32, "skip", array=TPU_LIKE)
    full = array_cycles(unit, None, (1, 64, 64, 64), 64**3, 64**3)
    assert array_cycles(unit, None, (1, 64, 64, 64), 64**3, 64**3 / 4) == pytest.approx(full / 4)


_dims = st.sampled_from(UNROLLABLE_DIMS)


@settings(max_examples=60, deadline=None)
@given(
    axes=st.lists(st.tuples(st.integers(1, 64), st.lists(_dims, min_size=1, max_size=3, unique=True)), min_size=1, max_size=3),
    sizes=st.lists(st.integers(1, 40), min_size=len(LOOP_DIMS), max_size=len(LOOP_DIMS)),
    fill=st.sampled_from([0.0, 5.0]),
)
def test_cycles_bounded_by_pes_and_by_no_unrolling(axes, sizes, fill):
    """cycles >= MACs / PEs (no array beats full utilisation) and <= MACs + fill (never worse than idling the array)."""
    array = ComputeArray(tuple(ArrayAxis(f"a{i}", s, tuple(d)) for i, (s, d) in enumerate(axes)), fill)
    loops = dict(zip(LOOP_DIMS, sizes))
    macs = math.prod(sizes)
    choice = unroll(array, loops)
    assert choice.cycles >= macs / array.pes - 1e-9
    assert choice.cycles <= macs + fill
    assert 0 < choice.utilisation <= 1 + 1e-12
