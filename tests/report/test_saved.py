"""Saved report JSON from earlier versions still loads (fixture: ``pjsim report`` of version ``pjsim-report/1``,
made before the typed CostReport: ``checkpoint:lenet_300_100-deep-compression@horowitz45-sram512k``, 2 SRAM points)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.report import load_report_json, render_html
from simulator.report.saved import LEGACY_LAYER, parse_accuracy

FIXTURE = Path(__file__).parent / "fixtures" / "report_v1_lenet_dc.json"


def test_report_saved_before_the_typed_cost_report_still_loads():
    saved = json.loads(FIXTURE.read_text())["configurations"][0]["cost"]
    title, _, (config,) = load_report_json(FIXTURE)
    r = config.cost
    assert "lenet_300_100" in config.label and title
    # fit facts become the footprint, numbers unchanged
    assert (r.min_sram_bits, r.sram_capacity_bits, r.peak_activation_bits, r.fits_on_chip) == (
        saved["min_sram_bits"], saved["sram_capacity_bits"], saved["peak_activation_bits"], saved["fits_on_chip"])  # fmt: skip
    assert r.footprint.layer_weight_bits["fc1"] == 200_296  # from the saved per-layer fit chart
    # metadata strings become typed records and leave the metadata
    assert r.accuracy.fraction == 0.985 and "checkpoint metadata" in r.accuracy.source
    assert "accuracy" not in r.metadata and r.coverage.complete
    # traffic keeps its totals under one layer; accesses come back from the word widths
    assert {k[0] for k in r.layer_traffic_bits} == {LEGACY_LAYER}
    saved_accesses = dict(saved["accesses_by_level"]["__map__"])
    assert r.accesses_by_level == saved_accesses
    assert r.to_frame()["energy_pj"].sum() == pytest.approx(r.total_energy_pj, rel=1e-12)
    assert "98.50 %" in render_html(config)


def test_saved_accuracy_strings_parse_one_way():
    assert parse_accuracy("98.50 %") == 0.985
    assert parse_accuracy("0.985") == 0.985
    assert parse_accuracy("57.2 % top-1") == pytest.approx(0.572)
    assert parse_accuracy("unknown") is None
