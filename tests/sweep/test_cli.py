"""`pjsim sweep`: table, database and a self-contained HTML report; bad input exits 1 with one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from simulator.cli.main import main
from tests.sweep.test_resume import _toml


def _spec_file(grid_dict: dict, tmp_path: Path) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(_toml(grid_dict))
    return path


def test_sweep_writes_table_database_and_report(grid_dict, tmp_path, capsys):
    grid_dict["sweep"]["constraints"] = ["not (compression.density == 0.5 and profile.memory.sram.capacity == 1)"]
    spec = _spec_file(grid_dict, tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--backend", "inprocess", "--allow-import", "--mkdir", "--out", str(out)]) == 0
    table = pd.read_csv(out / "grid.csv")
    assert len(table) == 5  # 2 x 3 grid minus the point the constraint skips
    assert (out / "grid.sqlite").exists()
    html = (out / "grid.html").read_text()
    # plotly.js inlined once, plus the page's own script (draws the figures, sorts the tables)
    assert html.count("plotly.js v") <= 2 and len(re.findall(r"<script type=\"text/javascript\">", html)) == 2
    for key in ("pareto_energy_storage", "pareto_energy_latency", "parallel_coordinates", "sensitivity"):
        assert f'data-figure="{key}"' in html
    assert "Frontier: energy vs weight storage" in html
    assert "1 ruled out by constraints" in html
    assert "<script src=" not in html  # self-contained: plotly.js inlined, nothing fetched

    capsys.readouterr()
    assert main(["sweep", str(spec), "--backend", "inprocess", "--allow-import", "--mkdir", "--out", str(out), "--no-report"]) == 0
    assert "5 points" in capsys.readouterr().out


def test_bad_spec_exits_1_with_one_line_and_starts_nothing(grid_dict, tmp_path, capsys):
    grid_dict["axis"][0]["key"] = "profile.memory.sram.size"
    spec = _spec_file(grid_dict, tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--backend", "inprocess", "--allow-import", "--mkdir", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("pjsim: error:") and "profile.memory.sram.size" in err and "\n" not in err
    assert not out.exists()


def test_report_marks_the_frontier_points(grid_dict, tmp_path):
    from simulator.report.sweep_report import render_sweep_html
    from simulator.sweep import parse_spec, report_inputs, run

    df = run(parse_spec(grid_dict), backend="inprocess")
    inputs = report_inputs(df)
    flagged = inputs["df"]
    # Energy vs storage: lower density lowers both storage and energy here, so density 0.25 at 1 KB
    # (the lowest energy and the smallest storage) is on the front; every front row is non-dominated.
    front = flagged[flagged["pareto_energy_storage"]]
    best = flagged.loc[flagged["total_energy_pj"].idxmin()]
    assert best["pareto_energy_storage"] and best["pareto_energy_latency"]
    for _, row in front.iterrows():
        dominated = (flagged["total_energy_pj"] <= row["total_energy_pj"]) & (
            flagged["weight_stored_bits"] <= row["weight_stored_bits"]
        ) & ((flagged["total_energy_pj"] < row["total_energy_pj"]) | (flagged["weight_stored_bits"] < row["weight_stored_bits"]))
        assert not dominated.any()
    table = inputs["frontier_tables"]["pareto_energy_storage"]
    assert len(table) == len(front) and table["total_energy_pj"].is_monotonic_increasing
    sens = inputs["sensitivity"]
    assert set(sens["axis"]) == {"profile.memory.sram.capacity", "compression.density"}
    assert (sens["max_over_min"] >= 1).all()
    html = render_sweep_html(**inputs)
    assert json.dumps("pareto_energy_storage")[1:-1] in html
