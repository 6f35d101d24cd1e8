"""The sweep report: the main report's style (shared base template), coincident Pareto points visible,
human units in tables, units on the parallel-coordinate axes (issue 17)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pandas as pd

from simulator.report.sweep_report import render_sweep_html


@dataclass(frozen=True)
class _Front:
    column: str
    title: str
    objectives: tuple[tuple[str, bool], ...]


def _inputs() -> dict:
    # five points share (energy, storage) on the front: different index_bits, same objectives
    df = pd.DataFrame({
        "point_index": range(8),
        "compression.index_bits": [2, 3, 4, 5, 6, 8, 8, 8],
        "compression.density": [0.1] * 5 + [0.5, 1.0, 1.0],
        "total_energy_pj": [2.062e6] * 5 + [3e6, 5e6, 6e6],
        "latency_s": [0.169] * 8,
        "weight_stored_bits": [8e5] * 5 + [2e5, 9e6, 9e6],
    })  # fmt: skip
    df["pareto_energy_storage"] = [True] * 6 + [False] * 2
    front = _Front("pareto_energy_storage", "energy vs storage", (("total_energy_pj", False), ("weight_stored_bits", False)))
    sens = pd.DataFrame({"axis": ["compression.index_bits", "compression.density"], "max_over_min": [1.0, 2.5]})
    table = df[df["pareto_energy_storage"]][["point_index", "compression.index_bits", "total_energy_pj", "weight_stored_bits"]]
    return dict(df=df, axes=["compression.index_bits", "compression.density"], fronts=[front], sensitivity=sens,
                frontier_tables={"pareto_energy_storage": table}, facts=[("points", 8)])  # fmt: skip


def _figure(html: str, div_id: str) -> dict:
    spec = re.search(rf'data-target="{div_id}">(.*?)</script>', html, re.S)
    assert spec, div_id
    return json.loads(spec.group(1))


def test_coincident_front_points_are_labelled_and_listed():
    html = render_sweep_html(**_inputs())
    front = next(t for t in _figure(html, "fig-pareto_energy_storage")["data"] if t.get("name") == "Pareto front")
    assert front["text"].count("×5") == 1 and len(front["x"]) == 2  # 6 front points at 2 positions
    listing = next(c for c in front["customdata"] if c.startswith("5 coincident points"))
    assert all(f"compression.index_bits = {b}" in listing for b in (2, 3, 4, 5, 6))


def test_same_style_as_the_main_report_and_human_units():
    html = render_sweep_html(**_inputs())
    assert "@media print" in html and 'class="sortable"' in html and "Figure 1" in html
    assert html.count("plotly.js v") == 1 and "Plotly.newPlot" in html
    assert "2.06 uJ" in html and "2.062e+06" not in html and "100 KB" in html  # 8e5 bits = 100 KB
    labels = [d["label"] for d in _figure(html, "fig-parallel_coordinates")["data"][0]["dimensions"]]
    assert labels == ["compression.index_bits (bits)", "compression.density (fraction kept)", "energy / inference (uJ)",
                      "latency (ms)", "weight storage (KB)"]  # fmt: skip
    shared = render_sweep_html(**_inputs(), plotly_src="js/plotly.min.js")
    assert '<script type="text/javascript" src="js/plotly.min.js">' in shared and "plotly.js v" not in shared
