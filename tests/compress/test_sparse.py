"""Relative indices with filler zeros: fillers appear exactly when a gap overflows the index bits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.compress.sparse import count_fillers, decode_positions, encode_positions


def test_filler_example_by_hand():
    # 4-bit indices: gap of 36 zeros between positions 3 and 40 -> 36 // 16 = 2 fillers, then rel 36 % 16 = 4.
    s = encode_positions(np.array([0, 3, 40, 41]), 4, 42)
    assert s.positions.tolist() == [0, 3, 19, 35, 40, 41]
    assert s.is_filler.tolist() == [False, False, True, True, False, False]
    assert s.rel.tolist() == [0, 2, 15, 15, 4, 0]


def test_trailing_zeros_get_fillers_too():
    # 4-bit indices, last kept position 3 in 40 elements: 36 trailing zeros -> 36 // 16 = 2 fillers at
    # 19 and 35; 4 zeros remain after the last entry (< 16), so numel <= (entries + 1) * 16.
    s = encode_positions(np.array([0, 3]), 4, 40)
    assert s.positions.tolist() == [0, 3, 19, 35]
    assert s.is_filler.tolist() == [False, False, True, True]
    assert count_fillers(np.array([0, 3]), 4, 40) == 2 and count_fillers(np.array([0, 3]), 4, 19) == 0
    assert 40 <= (s.entries + 1) * 16


@settings(max_examples=50, deadline=None)
@given(numel=st.integers(1, 3000), density=st.floats(0.001, 1.0), bits=st.integers(1, 8), seed=st.integers(0, 10**6))
def test_fillers_exactly_when_a_gap_overflows(numel, density, bits, seed):
    rng = np.random.default_rng(seed)
    kept = np.flatnonzero(rng.random(numel) < density)
    if kept.size == 0:
        kept = np.array([numel - 1])
    s = encode_positions(kept, bits, numel)
    gaps = np.append(np.diff(kept, prepend=-1) - 1, numel - 1 - kept[-1])  # trailing run last
    assert s.fillers == int((gaps // (1 << bits)).sum()) == count_fillers(kept, bits, numel)
    assert (s.fillers > 0) == bool((gaps >= 1 << bits).any())
    assert numel - 1 - s.positions[-1] < 1 << bits and numel <= (s.entries + 1) << bits
    assert s.rel.max() < 1 << bits
    assert np.array_equal(decode_positions(s.rel), s.positions)
    assert np.array_equal(s.positions[~s.is_filler], kept)
