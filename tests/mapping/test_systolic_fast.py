"""The fast SCALE-Sim replay (``systolic_streams``, ``systolic_buffer.distinct_words`` / ``dram_words``)
against the per-fold, per-address replay it replaced (``systolic_oracle``, main at da5ea9a), bit for bit.

Small layers chosen to hit every branch: partial row / column folds (dims not multiples of the array),
batch 2, non-square inputs and kernels, strides 1 / 2 / 3, overlapping and non-overlapping windows (1 x 1,
2 x 2 stride 2, a GEMM), SRAMs small enough that windows refill many times within one pass and large
enough that a pass fits, on square and non-square arrays. The ResNet-50 numbers below are the oracle's
(computed at da5ea9a on the 32 x 32 preset, 64 KiB SRAMs), pinned so that a change shows without rerunning it.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.mapping.systolic import SystolicLayer, run_layer
from simulator.mapping.systolic_buffer import NEVER, _previous, block_words, distinct_words, dram_words
from simulator.mapping.systolic_chunk_replay import chunk_words
from simulator.mapping.systolic_chunks import is_chunks, os_previous, ws_chunks
from simulator.mapping.systolic_streams import is_ifmap_stream, os_ifmap_stream, overlapping, ws_ifmap_stream
from tests.mapping import systolic_oracle as oracle
from tests.mapping.test_systolic import _scalesim_estimate_bw

LAYERS = [
    SystolicLayer(1, 7, 7, 192, 384, 3, 3, 1, 5, 5),  # scalesim/topologies/test.csv
    SystolicLayer(2, 9, 9, 5, 40, 3, 3, 2, 4, 4),
    SystolicLayer(1, 11, 13, 7, 33, 5, 3, 1, 7, 11),
    SystolicLayer(1, 23, 23, 3, 20, 7, 7, 2, 9, 9),  # conv1-like, C = 3
    SystolicLayer(1, 16, 16, 6, 70, 4, 4, 3, 5, 5),  # stride 3 < kernel 4
    SystolicLayer(1, 10, 10, 16, 40, 3, 3, 1, 8, 8),
    SystolicLayer(2, 11, 11, 12, 35, 3, 3, 2, 5, 5),
    SystolicLayer(1, 10, 12, 32, 70, 3, 3, 1, 8, 10),  # C = 32: weight / input stationary by chunks on 32 x 32
    SystolicLayer(1, 12, 12, 9, 17, 2, 2, 2, 6, 6),  # 2 x 2 stride 2: windows touch, never overlap
    SystolicLayer(2, 9, 9, 40, 50, 1, 1, 1, 9, 9),  # 1 x 1
    SystolicLayer(1, 11, 11, 30, 45, 1, 1, 2, 6, 6),  # 1 x 1 stride 2
    SystolicLayer(37, 1, 1, 100, 70, 1, 1, 1, 1, 1),  # GEMM
]
#: (ifmap, filter) SRAM words: refills every few folds; SCALE-Sim's 64 KiB (a pass of a small layer fits).
SRAMS = [(300, 500), (2000, 1200), (65536, 65536)]
ARRAYS = [(32, 32), (8, 4), (5, 7)]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda l: "x".join(map(str, (l.batch, l.in_h, l.in_w, l.channels,
                                                                          l.filters, l.fy, l.fx, l.stride))))
@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_run_layer_equals_the_oracle(layer, dataflow):
    """Every field of ``run_layer``: output stationary by chunks; weight / input stationary by chunks where
    ``C`` is a multiple of ``rows >= CHUNK_MIN_WORDS`` (192 and 32 channels on 32 rows), by demands otherwise."""
    for rows, cols in ARRAYS:
        for ib, fb in SRAMS:
            assert run_layer(layer, dataflow, rows, cols, ib, fb) == oracle.run_layer(
                layer, dataflow, rows, cols, ib, fb), (rows, cols, ib, fb)


def test_random_layers_equal_the_oracle():
    """Seeded random layers (batch, sizes, kernel, stride, channels, filters), arrays and SRAMs, all dataflows."""
    rng = np.random.default_rng(7)
    for _ in range(25):
        batch, k, s = int(rng.integers(1, 3)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
        oy, ox = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        ky, kx = k, int(rng.integers(1, 5))
        layer = SystolicLayer(batch, (oy - 1) * s + ky, (ox - 1) * s + kx, int(rng.choice([1, 3, 8, 16, 24, 32])),
                              int(rng.integers(1, 80)), ky, kx, s, oy, ox)
        rows = int(rng.choice([4, 8, 16, 32]))
        cols = int(rng.choice([3, 8, 32]))
        ib, fb = int(rng.integers(100, 3000)), int(rng.integers(100, 3000))
        for dataflow in ("os", "ws", "is"):
            assert run_layer(layer, dataflow, rows, cols, ib, fb) == oracle.run_layer(
                layer, dataflow, rows, cols, ib, fb), (layer, dataflow, rows, cols, ib, fb)


@pytest.mark.parametrize("layer", LAYERS[:8])
def test_streams_equal_the_per_fold_construction(layer):
    assert overlapping(layer)
    for rows, cols in ARRAYS:
        assert np.array_equal(os_ifmap_stream(layer, rows), oracle.ifmap_stream(layer, "os", rows, cols))
        assert np.array_equal(ws_ifmap_stream(layer, rows), oracle.ifmap_stream(layer, "ws", rows, cols))
        assert np.array_equal(is_ifmap_stream(layer, rows, cols), oracle.ifmap_stream(layer, "is", rows, cols))


@pytest.mark.parametrize("layer", LAYERS[:8])
def test_chunk_previous_equals_the_demand_sort(layer):
    """The chunk representation (``systolic_chunks.os_previous``, expanded per demand) = ``_previous`` of the
    stream; the output-stationary replay by chunks is checked end to end against the oracle above."""
    for rows in (32, 8, 5):
        expected = _previous(os_ifmap_stream(layer, rows))
        got = os_previous(layer, rows)
        assert np.array_equal(got[1], expected[1])  # one pass back: always a real position
        never = expected[0] == NEVER
        assert np.array_equal(got[0] < NEVER // 2, never)  # first occurrences: before every window start
        assert np.array_equal(got[0][~never], expected[0][~never])


@pytest.mark.parametrize("layer", [LAYERS[0], LAYERS[5], LAYERS[6], LAYERS[7], SystolicLayer(1, 11, 13, 8, 33, 5, 3, 1, 7, 11)])
def test_ws_is_chunks_equal_the_demand_replay(layer):
    """Weight / input stationary by chunks of ``rows`` channels (``C`` a multiple of ``rows``, any chunk size,
    also below ``CHUNK_MIN_WORDS``) = the per-demand replay of the stream, windows small to large."""
    for rows, cols in ((32, 32), (8, 4), (4, 7), (16, 5), (2, 3)):
        if layer.channels % rows:
            continue
        for block in (150, 1000, 32750):
            copies = -(-layer.filters // cols)
            assert chunk_words(ws_chunks(layer, rows), copies, block) == dram_words(
                [(ws_ifmap_stream(layer, rows), copies)], block), (rows, cols, block)
            assert chunk_words(is_chunks(layer, rows, cols), 1, block) == dram_words(
                [(is_ifmap_stream(layer, rows, cols), 1)], block), (rows, cols, block)


def test_non_overlapping_windows_read_each_address_once():
    for layer in LAYERS[8:]:
        assert not overlapping(layer)
        a = layer.ifmap_matrix()
        assert np.unique(a).size == a.size


def test_distinct_closed_form_equals_the_scalesim_transcription():
    """Random segment lists (each a permutation of fresh addresses, 1-4 passes) around the window size."""
    rng = np.random.default_rng(1)
    for _ in range(150):
        total = int(rng.integers(100, 900))
        block = block_words(total)
        segments, stream, base = [], [], 0
        for _ in range(int(rng.integers(1, 4))):
            n, copies = int(rng.integers(1, 3 * block)), int(rng.integers(1, 5))
            p = rng.permutation(n) + base
            base += n
            segments.append((p, copies))
            stream += list(p) * copies
        expected = _scalesim_estimate_bw(stream, total)
        assert distinct_words([(p.size, c) for p, c in segments], block)[0] == expected
        assert dram_words(segments, block) == expected  # the general replay agrees


def test_repeating_passes_are_skipped_exactly():
    """Many passes of a stream whose window state repeats (period detection) against the oracle's every pass."""
    rng = np.random.default_rng(2)
    for _ in range(20):
        p = rng.integers(0, 400, size=int(rng.integers(200, 900)))
        copies, block = int(rng.integers(5, 40)), int(rng.integers(20, 300))
        assert dram_words([(p, copies)], block) == oracle.dram_words([(p, copies)], block)


#: ResNet-50 layers (batch, in_h, in_w, C, M, fy, fx, stride, out_h, out_w) -> oracle's DRAM words, os / ws / is.
RESNET50_DRAM = {
    (1, 229, 229, 3, 64, 7, 7, 2, 112, 112): {  # conv1
        "os": {"ifmap": 347_837, "filter": 9_408}, "ws": {"ifmap": 1_382_899, "filter": 9_408},
        "is": {"ifmap": 173_863, "filter": 9_408}},
    (1, 58, 58, 64, 64, 3, 3, 1, 56, 56): {  # layer1 3 x 3
        "os": {"ifmap": 546_272, "filter": 51_182}, "ws": {"ifmap": 3_612_672, "filter": 36_864},
        "is": {"ifmap": 273_776, "filter": 3_612_672}},
    (1, 9, 9, 512, 512, 3, 3, 1, 7, 7): {  # layer4 3 x 3, 16 column folds (passes)
        "os": {"ifmap": 1_031_299, "filter": 4_718_592}, "ws": {"ifmap": 1_570_845, "filter": 2_359_296},
        "is": {"ifmap": 48_992, "filter": 4_718_592}},
}


@pytest.mark.parametrize("fields", list(RESNET50_DRAM))
def test_resnet50_layers_as_the_oracle_counted(fields):
    layer = SystolicLayer(*fields)
    for dataflow, expected in RESNET50_DRAM[fields].items():
        assert run_layer(layer, dataflow, 32, 32, 65536, 65536).dram_reads == expected, dataflow
