"""Conv input geometry (simulator/mapping/convgeom.py): strided convs read only the pixels they use, tiles
include their halo; hand-computed cases and the mapper's traffic on a real strided conv."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest
import torch
from torch import nn

from simulator.mapping import map_workload
from simulator.mapping.convgeom import ConvGeometry, conv_geometry
from simulator.mapping.tiling import search_tile
from simulator.trace import trace
from tests.memsim.builders import level, make_profile


def test_downsample_1x1_stride2_reads_a_quarter():
    """ResNet-18's layer2 downsample: 1x1, stride 2, 56x56 -> 28x28: rows 0, 2, ..., 54 of 56: 28 x 28 / 56 x 56."""
    g = ConvGeometry(batch=1, channels=64, in_h=56, in_w=56, out_h=28, out_w=28, k_h=1, k_w=1, stride_h=2, stride_w=2)
    assert (g.used_rows, g.used_cols) == (28, 28)
    assert g.used_input_fraction == 0.25


def test_padded_3x3_stride2_reads_everything():
    """3x3 stride 2 pad 1 on 56 -> 28: positions 2p + r - 1 cover 0..55: the whole input."""
    g = ConvGeometry(1, 64, 56, 56, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1)
    assert g.used_input_fraction == 1.0


def test_halo_of_a_tile_by_hand():
    """ResNet-18 conv1 (7x7 stride 2 pad 3, 224 -> 112), tiles of m output pixels x k reduction elements:
    m = 448 (4 output rows), k = 147 (3 channels, full kernel): 3 x (3 x 2 + 7 = 13 rows) x 224 cols = 8,736;
    m = 112 (one row), k = 49 (one channel): 1 x 7 x 224 = 1,568; m = 10, k = 5 (part of one kernel row):
    1 x 1 x (9 x 2 + 5 = 23) = 23."""
    g = ConvGeometry(1, 3, 224, 224, 112, 112, 7, 7, 2, 2, 1, 1, 3, 3)
    np.testing.assert_array_equal(g.input_tile_elems(np.array([448, 112, 10]), np.array([147, 49, 5])), [8736, 1568, 23])


def test_tiles_pay_for_the_halo():
    """A 3x3 conv (16 -> 16, 8 channels, 8 filters) in a buffer too small for the whole input: the tile search
    must count the halo: with less than one channel plane (18 x 18 x 8 = 2,592 bits) per tile the output rows are
    split, neighbouring tiles overlap, and one pass moves more than the input once (refetch_a > 1); the
    chosen tile's footprint (halo included) fits the budget."""
    g = ConvGeometry(1, 8, 18, 18, 16, 16, 3, 3)
    dims = (1, 256, 8, 72)
    free = search_tile(dims, (8.0, 8.0, 8.0), (True, False, False), 1e9, (1.0, 0.0, 0.0, 0.0), (0.0, 0.0), g)
    assert free.refetch_a == pytest.approx(1.0)
    tight = search_tile(dims, (8.0, 8.0, 8.0), (True, False, False), 1500.0, (1.0, 0.0, 0.0, 0.0), (0.0, 0.0), g)
    assert tight.refetch_a > 1.0
    assert tight.footprint_bits <= 1500.0


def test_strided_conv_moves_a_quarter_of_its_input():
    """End to end: a 1x1 stride-2 conv on a 1x16x32x32 input (fp32) in DRAM moves 16 x 16 x 16 x 32 bits from DRAM,
    a quarter of the 16 x 32 x 32 x 32 it would move reading the whole input."""
    model = nn.Sequential(nn.Conv2d(16, 8, 1, stride=2, bias=False)).eval()
    w = trace(model, torch.randn(1, 16, 32, 32))
    op = next(o for o in w.ops if o.kind == "conv")
    geom = conv_geometry(op.dims)
    assert geom is not None and geom.used_input_fraction == 0.25
    # SRAM 500,000 bits: weights + peak activations (594,432) do not fit, so nothing is resident; the activation
    # share (250,000) is below the 524,288-bit input, which stays in DRAM; tiles of 125,000 bits (e.g. 128 pixels x
    # 16 channels + all weights + 128 x 8 outputs = 102,400) let every used input pixel cross once.
    profile = make_profile([level("rf", "register_file", 1 << 20, 1.0), level("sram", "sram", 500_000, 5.0),
                            level("dram", "dram", 1 << 40, 640.0)])
    schedule = map_workload(w, profile)
    conv = next(o for o in schedule.ops if o.kind == "conv")
    assert conv.traffic_bits[("dram", "inputs", "read")] == pytest.approx(16 * 16 * 16 * 32)


@settings(max_examples=60, deadline=None)
@given(
    out=st.integers(1, 20), k=st.integers(1, 5), stride=st.integers(1, 3), dil=st.integers(1, 2),
    pad=st.integers(0, 2), channels=st.integers(1, 4), m_frac=st.floats(0.01, 1.0), k_frac=st.floats(0.01, 1.0),
)
def test_tiles_cover_at_least_the_used_input(out, k, stride, dil, pad, channels, m_frac, k_frac):
    """The whole-layer tile reads exactly the used input; any tiling reads at least it (traffic >= compulsory);
    the used input never exceeds the input."""
    size = max((out - 1) * stride + (k - 1) * dil + 1 - 2 * pad, 1)
    g = ConvGeometry(1, channels, size, size, out, out, k, k, stride, stride, dil, dil, pad, pad)
    m_dim, k_dim = out * out, channels * k * k
    assert g.used_input_elems <= channels * size * size
    assert g.input_tile_elems(np.array([m_dim]), np.array([k_dim]))[0] == g.used_input_elems
    m = max(1, int(m_dim * m_frac))
    kk = max(1, int(k_dim * k_frac))
    tiles = np.ceil(m_dim / m) * np.ceil(k_dim / kk)
    assert tiles * g.input_tile_elems(np.array([m]), np.array([kk]))[0] >= g.used_input_elems - 1e-9
