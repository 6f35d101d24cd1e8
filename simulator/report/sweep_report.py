"""Sweep tables -> Plotly figures -> one self-contained HTML file (plotly.js inlined once, Jinja2 autoescaped).

Input is what ``simulator.sweep`` computed: the per-point table with its Pareto flag columns, the
fronts (objects with ``column``, ``title`` and ``objectives`` = ((column, maximise?), ...)), the
sensitivity table and one frontier table per front. This module only formats and plots them: Pareto
scatter plots (every point in grey, the front highlighted and joined), a parallel-coordinates view of
all points coloured by energy, a bar chart of the energy sensitivity per axis, and the frontier tables.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, select_autoescape
from plotly.offline import get_plotlyjs

from simulator.fileio import write_text_atomic
from simulator.units import format_value

__all__ = ["render_sweep_html", "write_sweep_html"]


class _FrontLike(Protocol):
    column: str
    title: str
    objectives: tuple[tuple[str, bool], ...]


#: Display scale and unit of the columns the figures plot (column -> (factor, label)).
_DISPLAY = {
    "total_energy_pj": (1e-6, "energy / inference (uJ)"),
    "cold_energy_pj": (1e-6, "first-inference energy (uJ)"),
    "weight_stored_bits": (1 / 8000, "weight storage (KB)"),
    "latency_s": (1e3, "latency (ms)"),
    "accuracy": (100.0, "accuracy (%)"),
}

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1250px; color: #1d2733; padding: 0 1rem; }
  h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
  .sub { color: #5b6673; margin-top: 0; }
  table { border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }
  th, td { border-bottom: 1px solid #e3e8ee; padding: 0.3rem 0.6rem; text-align: right; }
  th:first-child, td:first-child { text-align: left; }
  dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
  dl.facts dt { color: #5b6673; }
  dl.facts dd { margin: 0; }
</style>
<script type="text/javascript">{{ plotly_js | safe }}</script>
</head>
<body>
<h1>{{ title }}</h1>
<p class="sub">pjsim {{ version }} &middot; generated {{ generated }}</p>
<dl class="facts">
{% for k, v in facts %}<dt>{{ k }}</dt><dd>{{ v }}</dd>
{% endfor %}</dl>
{% for fig in figures %}
<h2>{{ fig.title }}</h2>
<p class="sub">{{ fig.note }}</p>
<div class="figure" data-figure="{{ fig.key }}">{{ fig.html | safe }}</div>
{% endfor %}
<h2>Sensitivity of energy to each axis</h2>
<p class="sub">Main effect: points grouped by the axis's value (quintiles for axes with many values); ratio of the largest to the smallest group-mean energy; Spearman's rho gives the direction.</p>
{{ sensitivity_html | safe }}
{% for t in tables %}
<h2>Frontier: {{ t.title }} ({{ t.count }} point{{ '' if t.count == 1 else 's' }})</h2>
{{ t.html | safe }}
{% endfor %}
</body>
</html>
"""


def _scaled(df: pd.DataFrame, column: str) -> tuple[np.ndarray, str]:
    factor, label = _DISPLAY.get(column, (1.0, column))
    return df[column].to_numpy(dtype=float) * factor, label


def _wide(values: np.ndarray) -> bool:
    """Whether a positive range spans more than 100x (then a log axis reads better)."""
    v = values[np.isfinite(values) & (values > 0)]
    return v.size > 1 and v.max() / v.min() > 100


def _hover(df: pd.DataFrame, axes: Sequence[str]) -> tuple[np.ndarray, str]:
    columns = ["point_index", *axes]
    custom = df[columns].astype(str).to_numpy()
    lines = "<br>".join(f"{c} = %{{customdata[{i}]}}" for i, c in enumerate(columns))
    return custom, lines


def _front_figure(df: pd.DataFrame, front: _FrontLike, axes: Sequence[str]) -> go.Figure:
    (xcol, _), (ycol, _) = front.objectives[0], front.objectives[1]
    x, xlabel = _scaled(df, xcol)
    y, ylabel = _scaled(df, ycol)
    on = df[front.column].to_numpy(dtype=bool)
    custom, lines = _hover(df, axes)
    template = f"{xlabel}: %{{x:.4g}}<br>{ylabel}: %{{y:.4g}}<br>{lines}<extra></extra>"
    fig = go.Figure()
    fig.add_scattergl(
        x=x[~on], y=y[~on], mode="markers", name="dominated", marker=dict(color="#b8c2cc", size=6),
        customdata=custom[~on], hovertemplate=template,
    )
    order = np.argsort(x[on], kind="stable")
    marker: dict[str, Any] = dict(color="#d1495b", size=9, line=dict(color="#1d2733", width=1))
    if len(front.objectives) > 2:
        zcol = front.objectives[2][0]
        z, zlabel = _scaled(df, zcol)
        marker.update(color=z[on][order], colorscale="Viridis", showscale=True, colorbar=dict(title=zlabel))
    # Two objectives: the front is a staircase, drawn as one. Three: the points are the projection
    # of a surface, so no line joins them and the colour carries the third objective.
    fig.add_scatter(
        x=x[on][order], y=y[on][order], mode="lines+markers" if len(front.objectives) == 2 else "markers",
        name="Pareto front", marker=marker,
        line=dict(color="#d1495b", width=1, shape="hv"), customdata=custom[on][order], hovertemplate=template,
    )
    fig.update_layout(
        height=460, margin=dict(l=70, r=20, t=40, b=60), xaxis_title=xlabel, yaxis_title=ylabel,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    if _wide(x):
        fig.update_xaxes(type="log")
    if _wide(y):
        fig.update_yaxes(type="log")
    return fig


def _parcoords_figure(df: pd.DataFrame, axes: Sequence[str]) -> go.Figure:
    dims = []
    for column in [*axes, "total_energy_pj", "latency_s", "weight_stored_bits", *(["accuracy"] if "accuracy" in df else [])]:
        series = df[column]
        factor, label = _DISPLAY.get(column, (1.0, column))
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            dims.append(dict(label=label, values=(series.astype(float) * factor).tolist()))
        else:
            levels = sorted(series.astype(str).unique())
            codes = series.astype(str).map({v: i for i, v in enumerate(levels)})
            dims.append(dict(label=label, values=codes.tolist(), tickvals=list(range(len(levels))), ticktext=levels))
    energy = df["total_energy_pj"].to_numpy(dtype=float)
    color = np.log10(np.where(energy > 0, energy, np.nan)) if (energy > 0).any() else energy
    fig = go.Figure(
        go.Parcoords(
            line=dict(color=np.nan_to_num(color, nan=0.0), colorscale="Viridis", showscale=True,
                      colorbar=dict(title="log10 pJ")),
            dimensions=dims,
        )
    )
    fig.update_layout(height=480, margin=dict(l=80, r=80, t=50, b=30))
    return fig


def _sensitivity_figure(sensitivity: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(
        x=sensitivity["axis"].tolist(),
        y=sensitivity["max_over_min"].tolist(),
        marker_color="#2e86ab",
        hovertemplate="%{x}<br>max/min group-mean energy: %{y:.4g}<extra></extra>",
    )
    fig.update_layout(height=360, margin=dict(l=70, r=20, t=20, b=80), yaxis_title="max / min mean energy",
                      xaxis_title="axis")
    return fig


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _table_html(table: pd.DataFrame) -> str:
    """Cells in human units chosen by each column's unit suffix (``simulator.units.format_value``)."""
    return table.to_html(index=False, border=0, escape=True,
                         formatters={c: functools.partial(format_value, str(c)) for c in table.columns})


def render_sweep_html(
    df: pd.DataFrame,
    axes: Sequence[str],
    fronts: Sequence[_FrontLike],
    sensitivity: pd.DataFrame,
    frontier_tables: Mapping[str, pd.DataFrame],
    title: str = "pjsim sweep report",
    facts: Sequence[tuple[str, Any]] = (),
) -> str:
    """The sweep report as one HTML string (no network needed to view it).

    Args:
        df: one row per point, with the inputs, outputs and each front's flag column.
        axes: the swept input columns.
        fronts: the fronts to plot (their flag columns must be in ``df``).
        sensitivity: per-axis sensitivity table (``axis``, ``max_over_min``, ...).
        frontier_tables: front column -> its frontier table.
        title: the page title.
        facts: (label, value) lines shown under the title (sweep name, point counts, ...).
    """
    if df.empty:
        raise ValueError("render_sweep_html needs at least one point")
    figures = []
    for front in fronts:
        fig = _front_figure(df, front, axes)
        figures.append(dict(
            key=front.column,
            title=f"Pareto front: {front.title}",
            note=f"{int(df[front.column].sum())} of {len(df)} points are on the front (red); hover for the inputs.",
            html=fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{front.column}"),
        ))
    figures.append(dict(
        key="parallel_coordinates",
        title="All points: parallel coordinates",
        note="One line per point, coloured by log10 energy; drag along an axis to filter.",
        html=_parcoords_figure(df, axes).to_html(full_html=False, include_plotlyjs=False, div_id="fig-parcoords"),
    ))
    figures.append(dict(
        key="sensitivity",
        title="Energy sensitivity per axis",
        note="Ratio of the largest to the smallest mean energy over the axis's values (1 = no effect).",
        html=_sensitivity_figure(sensitivity).to_html(full_html=False, include_plotlyjs=False, div_id="fig-sensitivity"),
    ))
    titles = {f.column: f.title for f in fronts}
    tables = [
        dict(title=titles.get(column, column), count=len(table), html=_table_html(table))
        for column, table in frontier_tables.items()
    ]
    env = Environment(autoescape=select_autoescape(default_for_string=True, default=True))
    return env.from_string(_TEMPLATE).render(
        title=title,
        version=_version(),
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        plotly_js=get_plotlyjs(),
        facts=[(k, _fmt(v)) for k, v in facts],
        figures=figures,
        sensitivity_html=_table_html(sensitivity),
        tables=tables,
    )


def write_sweep_html(path: str | Path, *args: Any, **kwargs: Any) -> Path:
    """``render_sweep_html(*args, **kwargs)`` written to ``path`` atomically; returns the path."""
    return write_text_atomic(path, render_sweep_html(*args, **kwargs))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pjsim")
    except PackageNotFoundError:
        return "dev"
