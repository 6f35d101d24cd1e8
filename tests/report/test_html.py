"""The HTML report: self-contained, every figure backed by a record, absent data noted, names escaped."""

from __future__ import annotations

import json
import math
import re

import pytest
import torch
from markupsafe import escape
from torch import nn

from simulator.api import resolve_profile, simulate
from simulator.cost import Accuracy, CostReport
from simulator.frozen import FrozenMap
from simulator.report import load_report_json, render_html, write_html
from simulator.report.export import EXPORT_TABLES
from simulator.report.tables import fit_table, stall_intervals
from simulator.studies import build_configuration, storage_parts_from_workload
from simulator.trace import trace


def _tiny_report(**changes) -> CostReport:
    base = dict(model_name="m", profile_name="p", method="hand", energy_pj=FrozenMap({("fc", "compute", "none"): 10.0,
                ("fc", "dram", "weights"): 90.0}), cycles=100.0, clock_hz=1e9)  # fmt: skip
    base.update(changes)
    return CostReport(**base)


def test_demo_report_is_self_contained(demo_report):
    """No external script, stylesheet or image; plotly.js inlined exactly once; tables exported beside it."""
    html = demo_report.read_text()
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    assert not re.search(r"<img[^>]+src=[\"']https?:", html)
    assert html.count("plotly.js v") == 1  # the library's banner comment, inlined once
    for table in EXPORT_TABLES:
        assert (demo_report.parent / f"demo.{table}.csv").is_file(), table
    doc = json.loads((demo_report.parent / "demo.json").read_text())
    assert doc["format"] == "pjsim-report/2" and set(doc["tables"]) == set(EXPORT_TABLES)


def test_demo_json_rebuilds_the_same_numbers(demo_report):
    """The JSON export reloads into configurations whose headline numbers the HTML shows."""
    title, notes, configs = load_report_json(demo_report.parent / "demo.json")
    html = demo_report.read_text()
    assert title in html.replace("&amp;", "&")
    assert len(configs) >= 2
    body = re.search(r'data-figure-count="(\d+)"', html)
    assert body and int(body.group(1)) == html.count('class="plotly-graph-div"')
    for c in configs:
        assert f'data-raw="{c.cost.total_energy_pj}"' in html
        assert f"{c.cost.total_macs:,}" in html
    for note in notes:
        assert str(escape(note.split(":")[0])) in html
    for c in configs:  # the Gantt's red stall stretches add up to the simulated stall cycles
        if c.cost.timeline:
            drawn = sum(end - start for start, end in stall_intervals(c.cost))
            assert drawn == pytest.approx(c.cost.stall_cycles, rel=1e-6, abs=1.0), c.label


def test_json_round_trip_is_exact(tmp_path):
    """Configuration -> JSON -> Configuration gives an equal record (FrozenMaps with tuple keys, NaN, None)."""
    model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2)).eval()
    workload = trace(model, torch.zeros(1, 8), model_name="mlp")
    config = build_configuration("mlp", workload, resolve_profile("horowitz45"), sram_curve=(8_000, 80_000),
                                 metadata={"checkpoint": "none"}, accuracy=Accuracy(0.97, "test"))  # fmt: skip
    write_html(config, tmp_path / "r.html", export="json")
    _, _, (back,) = load_report_json(tmp_path / "r.json")
    assert back == config
    assert math.isnan(load_report_json_nan(tmp_path))


def load_report_json_nan(tmp_path):
    """A CostReport whose compression ratio is NaN (no stored bits) survives the round trip."""
    write_html(_tiny_report(), tmp_path / "nan.html", export="json")
    _, _, (back,) = load_report_json(tmp_path / "nan.json")
    return back.cost.compression_ratio


def test_footprint_per_layer_matches_the_workload():
    """The footprint's per-layer weights sum to all weights on chip; its largest live set is the peak; the fit
    table's tallest bar (all weights + live activations) is exactly the footprint's needed bits."""
    model = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 10)).eval()
    workload = trace(model, torch.zeros(1, 784), model_name="mlp")
    config = build_configuration("mlp", workload, resolve_profile("horowitz45"), sram_curve=False)
    fp = config.cost.footprint
    # (784*300 + 300 + 300*10 + 10) float32 parameters = 238,510 x 32 bits, dense: on chip = stored
    assert workload.weight_stored_bits == 238_510 * 32 == fp.weight_onchip_bits == sum(fp.layer_weight_bits.values())
    assert max(fp.layer_live_activation_bits.values()) == fp.peak_activation_bits == workload.peak_activation_bits
    assert fit_table([config])["needed_bits"].max() == fp.needed_bits
    parts = storage_parts_from_workload(workload)
    assert {p.part for p in parts} == {"values"}
    assert sum(p.bits for p in parts) == workload.weight_stored_bits


def test_absent_sections_are_noted_not_drawn():
    """A bare CostReport (no workload, no timeline) gives energy, storage and share charts, and notes for the rest."""
    html = render_html(_tiny_report(weight_dense_bits=3200, weight_stored_bits=800))
    assert 'id="fig-0-energy"' in html and 'id="fig-0-storage"' in html and 'id="fig-overview-share"' in html
    for missing in ("fig-0-fit", "fig-0-sram", "fig-0-timeline", "fig-overview-compare"):
        assert missing not in html
    assert "On-chip fit per layer: the costing recorded no per-layer footprint" in html
    assert "Energy vs SRAM size: not computed" in html
    assert "Timeline: not recorded by the &#39;hand&#39; costing" in html
    assert "Accuracy: not known" in html
    assert "4.0× smaller" in html  # 3200 / 800


def test_accuracy_card_says_where_it_comes_from():
    html = render_html(_tiny_report(accuracy=Accuracy(0.984, "checkpoint metadata")))
    card = re.search(r'data-card="accuracy".*?</div>\s*</div>', html, re.S)
    assert card and "98.40 %" in card.group(0) and "checkpoint metadata" in card.group(0)


def test_layer_names_are_escaped(tmp_path):
    """A module named '<script>alert(1)</script>' appears as text, never as markup."""
    model = nn.Sequential()
    model.add_module("<script>alert(1)</script>", nn.Linear(4, 2))
    workload = trace(model.eval(), torch.zeros(1, 4), model_name="<script>evil()</script>")
    out = write_html(simulate(workload, "horowitz45"), tmp_path / "x.html")
    html = out.read_text()
    assert "<script>alert(1)</script>" not in html
    assert "<script>evil()</script>" not in html
    assert "&lt;script&gt;evil()&lt;/script&gt;" in html


def test_repr_html_is_plain_escaped_html():
    """CostReport._repr_html_ needs no plotly and escapes names."""
    html = _tiny_report(model_name="<b>x</b>")._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "90.0 %" in html  # dram share of 100 pJ


def test_unreadable_json_names_the_file(tmp_path):
    from simulator.errors import ReportError

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ReportError, match=r"bad.json: .*expected valid JSON"):
        load_report_json(bad)
    with pytest.raises(ReportError, match="no such file"):
        load_report_json(tmp_path / "missing.json")


def test_storage_breakdown_follows_the_accountant():
    """Waterfall = the accountant's stage totals; the per-layer split sums to its final stage."""
    from models.pretrained import load_checkpoint
    from simulator.studies import storage_from_report
    from simulator.storage import storage_report

    model, record, _ = load_checkpoint("lenet_300_100-deep-compression")
    report = storage_report(model, record)
    breakdown = storage_from_report(report)
    assert [s.name for s in breakdown.stages] == list(report.stages) == ["dense", "pruned", "quantized", "huffman"]
    assert [s.bits for s in breakdown.stages] == [report.total_bits(s) for s in report.stages]
    assert sum(p.bits for p in breakdown.parts) == report.total_bits("huffman")
    assert {p.layer for p in breakdown.parts} == {"fc1", "fc2", "fc3"}  # fc1.weight + fc1.bias -> fc1
    bits = [s.bits for s in breakdown.stages]
    assert bits == sorted(bits, reverse=True)  # every stage shrinks the model


def test_stall_intervals_are_the_compute_gaps():
    """Compute busy [10, 30] and [50, 60] in a 100-cycle inference: stalls [0,10], [30,50], [60,100] = 70 cycles."""
    from simulator.cost import TimelineEvent

    timeline = (TimelineEvent("compute", 10, 30, "a", "mac"), TimelineEvent("dram", 0, 50, "a", "load"),
                TimelineEvent("compute", 50, 60, "b", "mac"), TimelineEvent("compute", 20, 25, "a", "mac"))  # fmt: skip
    gaps = stall_intervals(_tiny_report(timeline=timeline, stall_cycles=70.0))
    assert gaps == ((0.0, 10.0), (30.0, 50.0), (60.0, 100.0))
    assert sum(e - s for s, e in gaps) == 70.0


def test_json_decoding_builds_only_pjsim_records():
    """A saved report cannot name an arbitrary class: only dataclasses of pjsim's own packages decode."""
    from simulator.jsonio import RecordDecodeError, from_jsonable

    for name in ("os:system", "subprocess:Popen", "simulator.fileio:write_text_atomic", "simulator.nope:X"):
        with pytest.raises(RecordDecodeError):
            from_jsonable({"__record__": name})


def test_dense_timelines_are_merged_not_dropped():
    """20,000 back-to-back intervals draw as at most MAX_TIMELINE_BARS bars covering the same span."""
    import pandas as pd

    from simulator.report.figures import MAX_TIMELINE_BARS, _merge_for_display

    n = 20_000
    table = pd.DataFrame({"config": "c", "resource": ["dram", "compute"] * (n // 2), "start_cycle": [float(i) for i in range(n)],
                          "end_cycle": [i + 0.9 for i in range(n)], "layer": "l", "what": "w"})  # fmt: skip
    merged = _merge_for_display(table)
    assert len(merged) <= MAX_TIMELINE_BARS
    for resource, group in table.groupby("resource"):
        shown = merged[merged["resource"] == resource]
        assert shown["start_cycle"].min() == group["start_cycle"].min()
        assert shown["end_cycle"].max() == group["end_cycle"].max()
