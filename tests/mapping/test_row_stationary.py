"""Eyeriss's row-stationary dataflow (``simulator.mapping.row_stationary``) on layers counted by hand, and
the run-length code of feature maps (``simulator.mapping.rlc``)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.hardware.profile import RSConfig
from simulator.mapping.rlc import rlc_words_expected, rlc_words_of
from simulator.mapping.row_stationary import RSLayer, fold, glb_search, rs_candidates

EYERISS = RSConfig(rows=12, cols=14, filter_words=224, ifmap_words=12, psum_words=24)

# A tiny layer: 1 image, 2 filters, 1 channel, 3 x 3 kernel on a 5 x 5 input, stride 1 -> 3 x 3 output,
# on a 4 x 4 array whose PEs hold 6 filter, 3 ifmap and 2 psum words.
TINY = RSLayer(n=1, m=2, c=1, h=5, w=5, e=3, f=3, r=3, s=3, u=1)
TINY_CFG = RSConfig(rows=4, cols=4, filter_words=6, ifmap_words=3, psum_words=2)


def test_tiny_layer_pe_assignment_cycles_and_accesses_by_hand():
    fd = fold(TINY.r, TINY.e, TINY_CFG)
    # Logical set R x E = 3 x 3 fits the 4 x 4 array once: 9 of 16 PEs, one strip, one set.
    assert (fd.rc, fd.width, fd.sets, fd.strips, fd.peak_pes) == (3, 3, 1, 1, 9)
    run = rs_candidates(TINY, fd, TINY_CFG, density=0.5, glb_words_per_cycle=4, energy=(1.0, 2.0, 6.0))
    # Scratchpads: q S <= 3 -> q = 1, n = 1; p S <= 6 and p <= 2 -> p = 2 (both filters in one pass).
    assert (run.p, run.q, run.n, run.t, run.r, run.passes) == (2, 1, 1, 1, 1, 1)
    # Each PE: 2 filters x 3 outputs x 3 taps = 18 MACs, after its 3 x 3 x 2 = 18 filter words arrive
    # over a 4-word port (4.5 cycles).
    assert run.cycles == pytest.approx(18 + 4.5)
    assert run.macs == 2 * 3 * 3 * 3 * 3 == 162
    assert run.gated_macs == pytest.approx(81)  # half the ifmaps are zero
    assert run.ifmap_spad_writes == 9 * 5  # each PE (i, j) receives input row i + j, 5 words
    assert run.filter_spad_writes == 9 * 6  # each PE holds filter row i of both filters
    assert run.psum_hops == 3 * 2 * 3 * 2  # 3 rows x 2 filters x 3 px, 2 hops up each column
    assert run.glb_ifmap_reads == 25  # the input once, multicast diagonally
    assert run.glb_filter_reads == 18
    assert run.glb_psum_writes == run.outputs == 18  # one channel pass: no read-back


def test_glb_shared_by_search_when_the_layer_does_not_fit():
    # 61 words hold everything once (25 ifmap + 18 filter + 18 psum): each operand read once.
    whole = glb_search(TINY, 61)
    assert (whole.ifmap_reads, whole.filter_reads) == (1, 1)
    # 30 words: the only fitting tile is 1 filter x 1 output row (3 input rows 15 + 9 + 3 = 27 words):
    # ifmap re-read with its halo (3 tiles x 3 rows / 5 rows = 1.8x), filters per row tile (3x).
    small = glb_search(TINY, 30)
    assert (small.m_t, small.e_t) == (1, 1)
    assert small.ifmap_reads == pytest.approx(1.8) and small.filter_reads == 3
    assert small.ifmap_share == pytest.approx(15 / 30) and small.psum_share == pytest.approx(3 / 30)
    with pytest.raises(ValueError, match="global buffer"):
        glb_search(TINY, 10)


@pytest.mark.parametrize(("layer", "r", "e", "pes"), [
    # Chen et al., JSSC 2017, Table V: active PEs of AlexNet CONV1-5 on the 12 x 14 array.
    ("conv1", 11, 55, 154), ("conv2", 5, 27, 135), ("conv3", 3, 13, 156), ("conv4", 3, 13, 156), ("conv5", 3, 13, 156),
])
def test_alexnet_folding_uses_the_papers_pe_counts(layer, r, e, pes):
    assert fold(r, e, EYERISS).peak_pes == pes


def test_large_filters_are_cut_into_row_chunks():
    fd = fold(15, 10, EYERISS)  # 15 filter rows on 12 PE rows: 2 chunks of 8
    assert (fd.rchunks, fd.rc) == (2, 8)


def test_rlc_exact_by_hand_and_expected_against_real_values():
    # 40 zeros, 5, 3 zeros, 7: pairs (31 zeros..0 filler), (8 zeros, 5), (3 zeros, 7) = 3 pairs = one word.
    values = np.array([0] * 40 + [5] + [0] * 3 + [7])
    assert rlc_words_of(values) == 1
    assert rlc_words_of(np.zeros(64)) == 1  # 2 zero pairs of 32
    rng = np.random.default_rng(0)
    for density in (0.05, 0.4, 0.9):
        x = (rng.random(200_000) < density) * rng.integers(1, 100, 200_000)
        assert rlc_words_expected(x.size, density) == pytest.approx(rlc_words_of(x), rel=0.02)
