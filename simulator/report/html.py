"""CostReports -> Plotly figures -> one self-contained HTML file (plotly.js inlined once, Jinja2 autoescaped).

The report formats numbers a ``CostReport`` already holds; it computes nothing new.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs

from simulator.cost import COMPONENT_ORDER, CostReport
from simulator.fileio import write_text_atomic
from simulator.report.tables import layer_energy_table, summary_table
from simulator.units import format_bits, format_energy_pj

__all__ = ["render_html", "write_html"]


@dataclass(frozen=True)
class _Figure:
    title: str
    html: str


def _env() -> Environment:
    return Environment(loader=PackageLoader("simulator.report", "templates"), autoescape=select_autoescape(["html", "j2"]))


def _energy_by_layer_figure(report: CostReport, div_id: str) -> go.Figure:
    table = layer_energy_table(report)
    components = [c for c in table.columns if c not in ("macs", "total_pj")]
    components.sort(key=lambda c: (COMPONENT_ORDER.index(c) if c in COMPONENT_ORDER else len(COMPONENT_ORDER), c))
    fig = go.Figure()
    for comp in components:
        fig.add_bar(name=comp, x=list(table.index), y=(table[comp] * 1e-6).tolist(), hovertemplate="%{x}<br>%{y:.4g} uJ")
    fig.update_layout(
        barmode="stack",
        yaxis_title="energy per inference (uJ)",
        xaxis_title="layer",
        legend_title="component",
        margin=dict(l=60, r=20, t=30, b=60),
        height=420,
    )
    return fig


def _cards(report: CostReport) -> dict:
    fit = {True: "yes", False: "no", None: "n/a"}[report.fits_on_chip]
    items = [
        {"key": "energy", "label": "energy / inference (steady state)", "value": format_energy_pj(report.total_energy_pj)},
        {"key": "cold_energy", "label": "first inference (cold)", "value": format_energy_pj(report.cold_energy_pj)},
        {"key": "latency", "label": "latency", "value": f"{report.latency_s * 1e3:.4g} ms"},
        {"key": "macs", "label": "MACs", "value": f"{report.total_macs:,}"},
        {
            "key": "storage",
            "label": "weights dense -> stored",
            "value": f"{format_bits(report.weight_dense_bits)} -> {format_bits(report.weight_stored_bits)}",
        },
        {"key": "fits", "label": "fits on chip", "value": fit},
    ]
    return {"heading": f"{report.model_name} on {report.profile_name} ({report.method})", "cards": items}


def render_html(reports: Sequence[CostReport], title: str = "pjsim energy report") -> str:
    """The report for ``reports`` as one HTML string (no network needed to view it)."""
    if not reports:
        raise ValueError("render_html needs at least one CostReport")
    figures = []
    for i, report in enumerate(reports):
        fig = _energy_by_layer_figure(report, f"energy-{i}")
        figures.append(
            _Figure(
                title=f"Energy by layer: {report.model_name} on {report.profile_name}",
                html=fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-energy-{i}"),
            )
        )
    conventions = list(dict.fromkeys(c for r in reports for c in r.conventions))
    summary = summary_table(reports).to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
    return _env().get_template("report.html.j2").render(
        title=title,
        version=_version(),
        generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        plotly_js=get_plotlyjs(),
        cards=[_cards(r) for r in reports],
        summary_html=summary,
        figures=figures,
        conventions=conventions,
    )


def write_html(reports: CostReport | Sequence[CostReport], path: str | Path, title: str = "pjsim energy report") -> Path:
    """Write the report to ``path`` atomically and return the path."""
    if isinstance(reports, CostReport):
        reports = [reports]
    return write_text_atomic(path, render_html(reports, title=title))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pjsim")
    except PackageNotFoundError:
        return "dev"
