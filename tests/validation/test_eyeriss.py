"""Eyeriss (Chen, Krishna, Emer, Sze, JSSC 2017) reproduced from its architecture on the ``eyeriss`` profile
(row-stationary dataflow ``eyeriss-rs``): AlexNet CONV1-5 at batch 4; cases in ``benchmarks/bench_accelerators.py``.

Targets (issue 14; numbers from ``../shared/reference.md``, Eyeriss chip, JSSC 2017): frame rate within 15 % of
34.7 fps, DRAM accesses per MAC within 20 % of 0.0029, chip power within 25 % of 278 mW. Misses are strict
xfails with the measured number, never a loosened tolerance.
"""

from __future__ import annotations

import pytest

from simulator.hardware import load_profile

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


def test_chip_power_within_25_percent(results):
    """Measured (seed 14): 243 mW (-12.6 %) = 133 mW of ladder accesses and MACs + 110 mW of clock network.

    NB: the clock term is a recalled share (33 %) of the chip's own measured CONV1 power (hw_profiles/eyeriss.toml),
    so this check is partly anchored on the chip; the ladder's dynamic part alone is 133 mW, -52 % of 278 mW.
    """
    total = eyeriss_total(results)
    power = total.power_mw
    print(f"pjsim {power:.0f} mW vs the chip's {EYERISS_POWER_MW:.0f} mW ({power / EYERISS_POWER_MW - 1:+.1%}); "
          f"accesses and MACs {total.dynamic_power_mw:.0f} mW, clock network {power - total.dynamic_power_mw:.0f} mW")
    assert power == pytest.approx(EYERISS_POWER_MW, rel=POWER_TOLERANCE)


def test_clock_network_is_the_profiles_static_power_over_each_layers_time(results):
    clock_mw = load_profile("eyeriss").compute.static_power_mw
    assert clock_mw > 0
    for r in results:  # energy [uJ] / time [ms] = mW; the clock draws the same power in every layer
        assert (r.power_mw - r.dynamic_power_mw) == pytest.approx(clock_mw, rel=1e-9)
        assert r.dynamic_power_mw > 0


def test_every_conv_runs_row_stationary_with_the_papers_pe_counts(results):
    for r, layer in zip(results, EYERISS_LAYERS):
        assert r.mapping.startswith("eyeriss-rs"), r.mapping
        assert r.active_pes == layer.active_pes  # JSSC 2017, Table V (recalled)
        assert r.active_pes < 168  # utilisation from the folding, not a full array
