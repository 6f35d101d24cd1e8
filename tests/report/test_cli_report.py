"""``pjsim report`` end to end: from model@profile specs and from a saved report's JSON."""

from __future__ import annotations

import json
import subprocess

from tests.report.conftest import PJSIM


def test_report_from_specs_writes_html_and_tables(tmp_path):
    """--export csv,json writes the tables beside the HTML; --plotly-js DIR one shared plotly.min.js."""
    out = tmp_path / "r.html"
    r = subprocess.run([PJSIM, "report", "lenet_300_100@horowitz45", "lenet_300_100@horowitz45-sram512k", "--sram-points", "3", "--out", str(out),
                        "--export", "csv,json", "--plotly-js", str(tmp_path / "js"), "--mkdir"],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    from simulator.report.export import EXPORT_TABLES

    listing = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert listing == sorted(["r.html", "r.json", "js/plotly.min.js", *(f"r.{t}.csv" for t in EXPORT_TABLES)])
    assert '<script type="text/javascript" src="js/plotly.min.js">' in out.read_text()
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [row["profile"] for row in doc["tables"]["summary"]] == ["horowitz45", "horowitz45-sram512k"]
    assert [row["fits on chip"] for row in doc["tables"]["summary"]] == ["yes", "no"]  # 1071 KB vs 8 MB / 512 KB
    curve = doc["tables"]["sram_curve"]
    assert {row["config"] for row in curve} == {row["config"] for row in doc["tables"]["summary"]}
    assert (tmp_path / "r.energy.csv").read_text().startswith("config,layer,component,operand,energy_pj")
    assert "fig-overview-compare" in out.read_text()


def test_report_from_saved_json_rebuilds_it(demo_report, tmp_path):
    out = tmp_path / "again.html"
    r = subprocess.run([PJSIM, "report", "--from", str(demo_report.with_suffix(".json")), "--out", str(out), "--no-export"],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    original = json.loads(demo_report.with_suffix(".json").read_text())
    html = out.read_text()
    for row in original["tables"]["summary"]:
        assert f"{row['MACs']:,}" in html
    assert not (tmp_path / "again.json").exists()
