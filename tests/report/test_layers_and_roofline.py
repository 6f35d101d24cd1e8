"""The report's per-layer table, roofline, headline power/throughput/efficiency, comparison across
configurations, sidecar files only on request and the shared plotly.js (issue 17). No browser needed."""

from __future__ import annotations

import dataclasses
import re

import pytest

from simulator.api import resolve_profile, simulate
from simulator.mapping.spatial import peak_macs_per_cycle
from simulator.report import render_html, write_html
from simulator.report.export import EXPORT_TABLES, export_formats
from simulator.report.html import PLOTLY_JS_NAME
from simulator.report.html_tables import sortable_table_html
from simulator.report.layer_tables import layer_comparison_table, layer_table, roofline_table
from simulator.report.profile_facts import configuration_of, roofline_of
from simulator.report.tables import as_configurations


@pytest.fixture(scope="module")
def lenet():
    """LeNet-300-100 on horowitz45 (mapped + SimPy) and on its 512 KB-SRAM variant (spills)."""
    return simulate("lenet_300_100", "horowitz45"), simulate("lenet_300_100", "horowitz45-sram512k")


def test_layer_table_adds_up_to_the_cost_report(lenet):
    """Per-layer energies, MACs, latencies and traffic sum to the CostReport's totals (one source)."""
    r = lenet[0]
    table = layer_table(as_configurations(r)[0])
    assert table["total_pj"].sum() == pytest.approx(r.total_energy_pj, rel=1e-12)
    energy_columns = [c for c in table.columns if c.endswith("_pj") and c != "total_pj"]
    assert table[energy_columns].sum(axis=1).to_numpy() == pytest.approx(table["total_pj"].to_numpy(), rel=1e-12)
    assert int(table["macs"].sum()) == r.total_macs == 266_200  # 784x300 + 300x100 + 100x10
    assert table["latency_s"].sum() == pytest.approx(r.latency_s, rel=1e-9)  # layers run one after another
    for level in r.level_word_bits:
        moved = sum(b for (_, lv, _, _), b in r.layer_traffic_bits.items() if lv == level)
        assert table[f"{level}_bits"].sum() == pytest.approx(moved)
    assert list(table["kind"][table["macs"] > 0]) == ["linear"] * 3
    assert set(table["on_chip"]) == {"fits"}


def test_roofline_comes_from_the_profile(lenet):
    """Peak = the array's MACs/cycle (spatial.peak_macs_per_cycle) x clock: horowitz45 64 x 800 MHz = 51.2 G MAC/s;
    each roof = the level's bits/cycle x clock / 8. Every layer sits under both roofs."""
    profile = resolve_profile("horowitz45")
    roof = roofline_of(profile)
    assert peak_macs_per_cycle(profile.compute) == 64 and roof.peak_macs_per_s == pytest.approx(51.2e9)
    for level in profile.levels:
        (match,) = [x for x in roof.roofs if x.level == level.name]
        assert match.bytes_per_s == pytest.approx(level.bandwidth_bits_per_cycle * profile.clock_hz / 8)
    config = as_configurations(lenet[0])[0]
    assert config.roofline == roof  # a report built from a bare CostReport finds its profile by name
    points = roofline_table(config)
    assert list(points["layer"]) == ["fc1", "fc2", "fc3"]
    dram = next(x for x in roof.roofs if x.kind == "dram")
    for _, p in points.iterrows():
        assert 0 < p["macs_per_s"] <= roof.peak_macs_per_s
        if p["dram_bytes"] > 0:  # under the DRAM roof, with a few % of slack for the latency bracket's overlap
            assert p["macs_per_s"] <= dram.bytes_per_s * p["macs_per_dram_byte"] * 1.05
    util = layer_table(config)["utilisation"].dropna()
    assert ((util > 0) & (util <= 1)).all()


def test_headline_power_throughput_and_tops_per_watt(lenet):
    """Average power = energy / latency, inferences/s = 1 / latency, TOPS/W = 2 ops per MAC / energy; one home (Headline)."""
    r = lenet[0]
    h = r.headline()
    assert h.average_power_mw == pytest.approx(r.total_energy_pj * 1e-12 / r.latency_s * 1e3, rel=1e-12)
    assert h.inferences_per_s == pytest.approx(1 / r.latency_s, rel=1e-12)
    assert h.tops_per_w == pytest.approx(2 * r.total_macs / (r.total_energy_pj * 1e-12) / 1e12, rel=1e-12)
    html = render_html(r)
    for key, value in (("power", h.average_power_mw), ("throughput", h.inferences_per_s), ("efficiency", h.tops_per_w)):
        assert f'data-card="{key}" data-raw="{value}"' in html
    assert "2 operations per MAC" in html


def test_per_layer_comparison_against_the_first_configuration(lenet):
    a, b = (c for c in as_configurations(list(lenet)))
    table = layer_comparison_table([a, b])
    assert set(table["config"]) == {b.label} and set(table["baseline"]) == {a.label}
    ea, eb = layer_table(a).set_index("layer")["total_pj"], layer_table(b).set_index("layer")["total_pj"]
    for _, row in table.iterrows():
        assert row["delta_pj"] == pytest.approx(eb[row["layer"]] - ea[row["layer"]])
        assert row["ratio"] == pytest.approx(eb[row["layer"]] / ea[row["layer"]])
    assert layer_comparison_table([a]).empty  # nothing to compare
    assert 'id="layer-comparison-table"' in render_html([a, b])


def test_spilling_layers_are_listed_in_full_in_a_details_element(lenet):
    r = lenet[1]
    assert r.footprint.spilling_layers, "horowitz45-sram512k should spill LeNet-300-100 (1071 KB of weights)"
    html = render_html(r)
    block = re.search(r'<details class="panel spilling" data-count="(\d+)">(.*?)</details>', html, re.S)
    assert block and int(block.group(1)) == len(r.footprint.spilling_layers)
    for name in r.footprint.spilling_layers:
        assert f"<li>{name or '(top level)'}</li>" in block.group(2)
    table = layer_table(as_configurations(r)[0])
    assert set(table.loc[table["on_chip"] == "spills", "layer"]) == {n or "(top level)" for n in r.footprint.spilling_layers}


def test_sortable_table_keeps_raw_values_and_escapes_text():
    import pandas as pd

    frame = pd.DataFrame({"layer": ["<b>x</b>", "y"], "total_pj": [2.062e6, 5.0], "latency_s": [0.169, float("nan")]})
    html = sortable_table_html(frame, "t")
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert 'data-sort="2062000.0">2.06 uJ<' in html and 'data-sort="0.169">169 ms<' in html
    assert 'data-sort="-Infinity">–<' in html  # missing sorts last (descending) / first (ascending)
    assert html.count('data-type="num"') == 2 and html.count('data-type="text"') == 1


def test_one_html_file_by_default_exports_and_shared_plotly_on_request(lenet, tmp_path):
    """write_html writes exactly one file unless asked; export picks formats; plotly_js shares one copy."""
    r = lenet[0]
    write_html(r, tmp_path / "alone" / "r.html")
    assert [p.name for p in (tmp_path / "alone").iterdir()] == ["r.html"]
    assert (tmp_path / "alone" / "r.html").read_text().count("plotly.js v") == 1  # inlined once
    write_html(r, tmp_path / "csv" / "r.html", export="csv")
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == sorted(["r.html", *(f"r.{t}.csv" for t in EXPORT_TABLES)])
    with pytest.raises(ValueError, match="export: unknown format.*'pdf'.*csv, json"):
        export_formats("csv,pdf")
    shared = tmp_path / "js"
    first = write_html(r, tmp_path / "a" / "one.html", plotly_js=shared)
    stamp = (shared / PLOTLY_JS_NAME).stat().st_mtime_ns
    second = write_html(r, tmp_path / "b" / "c" / "two.html", plotly_js=shared)
    assert (shared / PLOTLY_JS_NAME).stat().st_mtime_ns == stamp  # the same copy, not rewritten
    assert '<script type="text/javascript" src="../js/plotly.min.js">' in first.read_text()
    assert '<script type="text/javascript" src="../../js/plotly.min.js">' in second.read_text()
    assert "plotly.js v" not in second.read_text() and first.stat().st_size < 1_000_000


def test_a_report_from_the_api_has_its_profile_section(lenet):
    html = render_html(lenet[0])
    assert 'class="constants"' in html and "horowitz45" in html and "No constants recorded" not in html
    assert 'id="fig-0-roofline"' in html
    unknown = configuration_of(dataclasses.replace(lenet[0], profile_name="no-such-profile"))
    assert unknown.roofline is None and "could not be loaded" in unknown.notes[0]
