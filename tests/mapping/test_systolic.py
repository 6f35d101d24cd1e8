"""SCALE-Sim's systolic dataflows (``simulator.mapping.systolic``) and read buffer (``systolic_buffer``).

The read-buffer count is checked against a line-by-line transcription of SCALE-Sim 3.0.0's
``ReadBufferEstimateBw.manage_prefetches`` / ``check_hit`` (``scalesim/memory/read_buffer_estimate_bw.py``)
on random streams; the comparison with SCALE-Sim's own outputs is in ``tests/validation/test_scalesim_systolic.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import ProfileError
from simulator.hardware import load_profile
from simulator.mapping.systolic import SystolicLayer, fold_cycles, run_layer
from simulator.mapping.systolic_buffer import block_words, dram_words


def _scalesim_estimate_bw(stream: list[int], total_elems: int) -> int:
    """SCALE-Sim 3.0.0 ReadBufferEstimateBw's ``num_access`` for a demand stream (active_buf_frac 0.5)."""
    per_set, active_sets = total_elems // 100, 50
    sets: list[set | None] = []
    current: set = set()
    read_start, read_end, set_id, fetched = 0, active_sets - 1, 0, 0

    def hit(addr: int) -> bool:
        end = min(set_id, read_end + 1)
        return any(addr in sets[i] for i in range(read_start, end))

    for addr in stream:
        if hit(addr) or addr in current:
            continue
        current.add(addr)
        fetched += 1
        if len(current) == per_set:
            sets.append(current)
            current, set_id = set(), set_id + 1
            if set_id == read_end + 1:
                for j in range(active_sets):
                    sets[read_start + j] = None
                read_start += active_sets
                read_end += active_sets
    return fetched


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 60), min_size=1, max_size=120),
    st.integers(1, 4),
    st.integers(100, 700),
)
def test_read_buffer_matches_scalesim_transcription(pattern, copies, total_elems):
    p = np.array(pattern)
    expected = _scalesim_estimate_bw(pattern * copies, total_elems)
    assert dram_words([(p, copies)], block_words(total_elems)) == expected
    # compulsory traffic: every distinct word at least once; never more than the demands
    assert len(set(pattern)) <= expected <= len(pattern) * copies


def test_read_buffer_segments_with_disjoint_addresses():
    a, b = np.arange(0, 40), np.arange(100, 130)
    stream = list(a) * 3 + list(b) * 2
    assert dram_words([(a, 3), (b, 2)], block_words(500)) == _scalesim_estimate_bw(stream, 500)


def test_buffer_smaller_than_scalesim_sets_is_refused():
    with pytest.raises(ValueError, match="100 sets"):
        block_words(99)


def test_fold_cycles_by_hand():
    """scalesim 3.0.0 compute/systolic_compute_{os,ws,is}.py demand-matrix rows per fold on 32 x 32."""
    assert fold_cycles("os", 147, 32, 32) == 147 + 62
    assert fold_cycles("ws", 12544, 32, 32) == 12544 + 94
    assert fold_cycles("is", 64, 32, 32) == 64 + 94


def test_resnet18_conv1_output_stationary_by_hand():
    """Conv1 (229 x 229 x 3 pre-padded, 7 x 7, 64 filters, stride 2 -> 112 x 112): 392 x 2 folds of 147 + 62
    cycles, minus one; the ifmap re-read once per column fold at the SRAM; ofmap written once."""
    layer = SystolicLayer(1, 229, 229, 3, 64, 7, 7, 2, 112, 112)
    run = run_layer(layer, "os", 32, 32, 65536, 65536)
    assert run.folds == 392 * 2
    assert run.cycles == 784 * (147 + 62) - 1
    assert run.sram_reads == {"ifmap": 12544 * 147 * 2, "filter": 147 * 64 * 392}
    assert run.dram_writes_ofmap == 12544 * 64
    assert run.dram_reads["filter"] == 147 * 64  # 9,408 weights fit one refill window: fetched once
    assert run.dram_reads["ifmap"] >= 229 * 229 * 3  # at least the (pre-padded) input once


def test_partial_sums_leave_ws_and_is_arrays():
    layer = SystolicLayer(1, 7, 7, 192, 384, 3, 3, 1, 5, 5)  # scalesim/topologies/test.csv
    for dataflow in ("ws", "is"):
        run = run_layer(layer, dataflow, 32, 32, 65536, 65536)
        assert run.dram_writes_ofmap == 25 * 384 * 54  # E x M per window fold (1728 / 32 = 54)


def test_profiles_select_the_dataflows():
    for dataflow in ("os", "ws", "is"):
        hw = load_profile(f"scalesim-32x32-{dataflow}")
        assert hw.compute.dataflow == f"systolic-{dataflow}"
        assert hw.compute.systolic.ifmap_sram_bits == 64 * 1024 * 8


def test_systolic_table_is_required_and_only_with_the_dataflow(tmp_path):
    text = open(load_profile("scalesim-32x32-os").path, encoding="utf-8").read()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('dataflow = "systolic-os"\n', ""), encoding="utf-8")
    with pytest.raises(ProfileError, match="compute.systolic"):
        load_profile(bad)
    start = text.index("\n[compute.systolic]")
    end = text.index("\n[compute.array]")
    bad.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(ProfileError, match="compute.systolic"):
        load_profile(bad)


def test_distinct_shortcut_equals_the_sorted_count():
    p = np.random.default_rng(0).permutation(3000)
    for copies in (1, 3):
        sorted_count = dram_words([(p, copies)], block_words(2000))
        assert dram_words([(p, copies)], block_words(2000), distinct=True) == sorted_count
