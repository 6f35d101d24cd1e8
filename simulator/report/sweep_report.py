"""Sweep tables -> Plotly figures -> one self-contained HTML file, in the main report's style.

Same base template as the main report (``templates/base.html.j2``: stylesheet, print stylesheet,
figures drawn on load, sortable tables); plotly.js inlined once or shared (``plotly_src``).

Input is what ``simulator.sweep`` computed: the per-point table with its Pareto flag columns, the
fronts (objects with ``column``, ``title`` and ``objectives`` = ((column, maximise?), ...)), the
sensitivity table and one frontier table per front. This module only formats and plots them: Pareto
scatter plots (every point in grey, the front highlighted and joined; front points that coincide are
drawn once with a "×n" label and a hover listing every one of them), a parallel-coordinates view of
all points coloured by energy (every axis with its unit), a bar chart of the energy sensitivity per
axis, and the frontier tables in human units.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from simulator.fileio import write_text_atomic
from simulator.report.html import _env, figure_html
from simulator.report.html_tables import sortable_table_html
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



#: Above this many dominated points the Pareto plots draw them with WebGL instead of SVG.
MAX_SVG_POINTS = 5000


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
    # SVG markers print; WebGL (scattergl) is kept for sweeps too large for SVG and may print blank.
    add_dominated = fig.add_scattergl if (~on).sum() > MAX_SVG_POINTS else fig.add_scatter
    add_dominated(
        x=x[~on], y=y[~on], mode="markers", name="dominated", marker=dict(color="#b8c2cc", size=6),
        customdata=custom[~on], hovertemplate=template,
    )
    # Coincident front points (same objectives, different inputs) are drawn once, sized and labelled
    # "×n", with a hover listing every one of them, so five equal points do not read as one.
    fx, fy, fcustom = x[on], y[on], custom[on]
    _, first, inverse, counts = np.unique(np.round(np.column_stack([fx, fy]), 12), axis=0, return_index=True,
                                          return_inverse=True, return_counts=True)  # fmt: skip
    inverse = inverse.reshape(-1)
    columns = ["point_index", *axes]
    hover = []
    for g in range(len(first)):
        members = np.flatnonzero(inverse == g)
        lines = ["; ".join(f"{_html.escape(c)} = {_html.escape(v)}" for c, v in zip(columns, fcustom[m])) for m in members[:12]]
        more = f"<br>… and {len(members) - 12} more" if len(members) > 12 else ""
        head = f"{len(members)} coincident points:<br>" if len(members) > 1 else ""
        hover.append(head + "<br>".join(lines) + more)
    ux, uy = fx[first], fy[first]
    order = np.argsort(ux, kind="stable")
    sizes = 9 + 3 * np.sqrt(counts[order] - 1)
    labels = [f"×{n}" if n > 1 else "" for n in counts[order]]
    marker: dict[str, Any] = dict(color="#d1495b", size=sizes.tolist(), line=dict(color="#1d2733", width=1))
    if len(front.objectives) > 2:
        zcol = front.objectives[2][0]
        z, zlabel = _scaled(df, zcol)
        marker.update(color=z[on][first][order], colorscale="Viridis", showscale=True, colorbar=dict(title=zlabel))
    # Two objectives: the front is a staircase, drawn as one. Three: the points are the projection
    # of a surface, so no line joins them and the colour carries the third objective.
    mode = "lines+markers+text" if len(front.objectives) == 2 else "markers+text"
    fig.add_scatter(
        x=ux[order], y=uy[order], mode=mode, name="Pareto front", marker=marker, text=labels, textposition="top right",
        line=dict(color="#d1495b", width=1, shape="hv"), customdata=[hover[i] for i in order],
        hovertemplate=f"{xlabel}: %{{x:.4g}}<br>{ylabel}: %{{y:.4g}}<br>%{{customdata}}<extra></extra>",
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
        factor, label = _DISPLAY.get(column, (1.0, _axis_label(column)))
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


#: Units of swept keys by their last dotted part (the values are as written in the sweep spec).
_AXIS_UNITS = {"capacity": "as in the profile file", "density": "fraction kept", "frequency": "as in the profile file",
               "bandwidth": "bits/cycle", "macs_per_cycle": "MAC/cycle"}  # fmt: skip


def _axis_label(column: str) -> str:
    """A swept key with its unit: ``compression.index_bits`` -> ``compression.index_bits (bits)``."""
    last = column.rsplit(".", 1)[-1]
    if last.endswith("_bits") or last == "bits":
        return f"{column} (bits)"
    for key, unit in _AXIS_UNITS.items():
        if last.endswith(key):
            return f"{column} ({unit})"
    return column


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


def _table_html(table: pd.DataFrame, table_id: str) -> str:
    """A sortable table with cells in human units chosen by each column's unit suffix
    (``simulator.units.format_value``), sorted on the raw values."""
    return sortable_table_html(table, table_id)


def render_sweep_html(
    df: pd.DataFrame,
    axes: Sequence[str],
    fronts: Sequence[_FrontLike],
    sensitivity: pd.DataFrame,
    frontier_tables: Mapping[str, pd.DataFrame],
    title: str = "pjsim sweep report",
    facts: Sequence[tuple[str, Any]] = (),
    plotly_src: str | None = None,
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
        plotly_src: a relative URL of a shared plotly.js to reference instead of inlining it.
    """
    if df.empty:
        raise ValueError("render_sweep_html needs at least one point")
    figures = []
    for front in fronts:
        figures.append(dict(
            key=front.column, short=front.title,
            title=f"Pareto front: {front.title}",
            note=f"{int(df[front.column].sum())} of {len(df)} points are on the front (red; \u00d7n marks n coincident "
                 f"points, hover lists them all); hover for the inputs.",
            fig=_front_figure(df, front, axes),
        ))
    figures.append(dict(
        key="parallel_coordinates", short="Parallel coordinates",
        title="All points: parallel coordinates",
        note="One line per point, coloured by log10 energy (pJ); every axis names its unit; drag along an axis to filter.",
        fig=_parcoords_figure(df, axes),
    ))
    figures.append(dict(
        key="sensitivity", short="Sensitivity",
        title="Energy sensitivity per axis",
        note="Ratio of the largest to the smallest mean energy over the axis's values (1 = no effect).",
        fig=_sensitivity_figure(sensitivity),
    ))
    for number, f in enumerate(figures, start=1):
        f["number"] = number
        f["html"] = figure_html(f.pop("fig"), f"fig-{f['key']}")
    titles = {f.column: f.title for f in fronts}
    tables = [
        dict(title=titles.get(column, column), count=len(table), html=_table_html(table, f"frontier-table-{i}"))
        for i, (column, table) in enumerate(frontier_tables.items(), start=1)
    ]
    return _env().get_template("sweep.html.j2").render(
        title=title,
        version=_version(),
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        plotly_js="" if plotly_src else get_plotlyjs(),
        plotly_src=plotly_src,
        n_figures=len(figures),
        facts=[(k, _fmt(v)) for k, v in facts],
        figures=figures,
        sensitivity_html=_table_html(sensitivity, "sensitivity"),
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
