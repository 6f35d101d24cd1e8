"""Eyeriss (Chen, Krishna, Emer, Sze, JSSC 2017) reproduced from its architecture on the ``eyeriss`` profile
(row-stationary dataflow ``eyeriss-rs``): AlexNet CONV1-5 at batch 4; cases in ``benchmarks/bench_accelerators.py``.

Targets (issue 14; numbers from ``../shared/reference.md``, Eyeriss chip, JSSC 2017): frame rate within 15 % of
34.7 fps, DRAM accesses per MAC within 20 % of 0.0029, chip power within 25 % of 278 mW. Misses are strict
xfails with the measured number, never a loosened tolerance.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_accelerators import (
    EYERISS_BATCH, EYERISS_DRAM_PER_MAC, EYERISS_FPS, EYERISS_LAYERS, EYERISS_POWER_MW, eyeriss_alexnet, eyeriss_total,
)

pytestmark = pytest.mark.slow  # traces AlexNet at batch 4 for real: ~30 s

FPS_TOLERANCE = 0.15
DRAM_TOLERANCE = 0.20
POWER_TOLERANCE = 0.25


@pytest.fixture(scope="module")
def results():
    return eyeriss_alexnet()


def test_frame_rate_within_15_percent(results):
    fps = EYERISS_BATCH / (eyeriss_total(results).time_ms / 1e3)
    print(f"pjsim {fps:.1f} fps vs the chip's {EYERISS_FPS} ({fps / EYERISS_FPS - 1:+.1%})")  # measured: 37.9 (+9.3 %)
    assert fps == pytest.approx(EYERISS_FPS, rel=FPS_TOLERANCE)


def test_dram_accesses_per_mac_within_20_percent(results):
    per_mac = eyeriss_total(results).dram_per_mac
    print(f"pjsim {per_mac:.5f} DRAM accesses per MAC vs 0.0029")  # measured: 0.0026 (-10 %)
    assert per_mac == pytest.approx(EYERISS_DRAM_PER_MAC, rel=DRAM_TOLERANCE)


@pytest.mark.xfail(strict=True, reason=(
    "pjsim 133 mW vs the chip's 278 mW (-52 %): 5.3 pJ per MAC on chip from the ISCA 2016 ladder (MAC, RF, "
    "array, GLB) on a 1.515 pJ 65 nm MAC; the chip's clock network and leakage are not modelled (no cited "
    "figure in reference.md) and the MAC anchor is Horowitz's 45 nm scaled by C V^2, not a measured 65 nm number"))
def test_chip_power_within_25_percent(results):
    power = eyeriss_total(results).power_mw
    print(f"pjsim {power:.0f} mW vs the chip's {EYERISS_POWER_MW:.0f} mW")
    assert power == pytest.approx(EYERISS_POWER_MW, rel=POWER_TOLERANCE)


def test_every_conv_runs_row_stationary_with_the_papers_pe_counts(results):
    for r, layer in zip(results, EYERISS_LAYERS):
        assert r.mapping.startswith("eyeriss-rs"), r.mapping
        assert r.active_pes == layer.active_pes  # JSSC 2017, Table V (recalled)
        assert r.active_pes < 168  # utilisation from the folding, not a full array
