"""Tables -> Plotly figures, one function per chart. Formats and scales units; computes no results.

Every text that comes from the user (layer and model names) is HTML-escaped before Plotly sees it:
Plotly renders a small subset of HTML in labels, so ``<script>`` in a layer name must arrive as
``&lt;script&gt;`` to be drawn as text. Colours are fixed per component / operand / storage part so
the same thing has the same colour in every chart of a report.
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from simulator.report.tables import (
    TOP_LEVEL,
    component_order,
    fit_table,
    layer_energy_table,
    memory_timing_table,
    sram_curve_table,
    stall_intervals,
    storage_part_table,
    timeline_table,
)
from simulator.report.records import STORAGE_PARTS, Configuration
from simulator.units import format_bits

__all__ = [
    "COMPONENT_COLORS",
    "OPERAND_COLORS",
    "PART_COLORS",
    "comparison_figure",
    "energy_by_layer_figure",
    "fit_figure",
    "memory_system_figure",
    "share_figure",
    "sram_curve_figure",
    "storage_figure",
    "timeline_figure",
]

COMPONENT_COLORS = {
    "compute": "#4C78A8",
    "rf": "#72B7B2",
    "register_file": "#72B7B2",
    "sram": "#54A24B",
    "dram": "#E45756",
    "leakage": "#9D9D9D",
    "static": "#6B6B6B",
}
OPERAND_COLORS = {"weights": "#F58518", "inputs": "#4C78A8", "outputs": "#B279A2", "none": "#BAB0AC"}
OPERAND_LABELS = {"none": "arithmetic (no operand)"}
PART_COLORS = {
    "values": "#4C78A8",
    "indices": "#F58518",
    "fillers": "#E45756",
    "codebook": "#54A24B",
    "huffman_tables": "#B279A2",
    "biases": "#72B7B2",
    "other": "#9D9D9D",
}
_FALLBACK = ("#EECA3B", "#FF9DA6", "#9D755D", "#BAB0AC", "#79706E", "#D67195", "#A0CBE8", "#FFBE7D")
_LAYER_PALETTE = (
    "#4C78A8", "#F58518", "#54A24B", "#B279A2", "#72B7B2", "#EECA3B", "#FF9DA6", "#9D755D", "#BAB0AC", "#79706E",
)  # fmt: skip
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
#: The most bars a Gantt chart draws; denser timelines are merged per (resource, layer, activity).
MAX_TIMELINE_BARS = 1500


def text(value: str) -> str:
    """A user-supplied string made safe for Plotly labels (HTML-escaped, empty layer -> "(top level)")."""
    return _html.escape(value or TOP_LEVEL, quote=False)


def _wrap(label: str, width: int = 11) -> str:
    """Break a tick label into lines of about ``width`` characters at spaces and hyphens."""
    words = label.replace("-", "- ").split(" ")
    lines, line = [], ""
    for word in words:
        if line and len(line) + len(word) > width:
            lines.append(line.rstrip())
            line = ""
        line += word if word.endswith("-") else word + " "
    lines.append(line.rstrip())
    return "<br>".join(lines)


def _color(mapping: dict[str, str], key: str, i: int) -> str:
    return mapping.get(key, _FALLBACK[i % len(_FALLBACK)])


def energy_scale(max_pj: float) -> tuple[float, str]:
    """(divisor, unit) that puts ``max_pj`` in a readable range."""
    for unit, scale in (("J", 1e12), ("mJ", 1e9), ("µJ", 1e6), ("nJ", 1e3)):
        if abs(max_pj) >= scale:
            return scale, unit
    return 1.0, "pJ"


def bits_scale(max_bits: float) -> tuple[float, str]:
    """(divisor, unit) in decimal bytes (KB = 1000 B) for a number of bits."""
    for unit, scale in (("GB", 8e9), ("MB", 8e6), ("KB", 8e3)):
        if abs(max_bits) >= scale:
            return scale, unit
    return 8.0, "B"


def _layout(fig: go.Figure, height: int = 420, **kwargs) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        font=dict(family=_FONT, size=13, color="#1d2733"),
        height=height,
        margin=dict(l=70, r=20, t=80, b=60),
        legend=dict(orientation="h", yanchor="bottom", y=1.03, xanchor="left", x=0),
        hoverlabel=dict(font=dict(family=_FONT)),
        **kwargs,
    )
    return fig


def energy_by_layer_figure(config: Configuration) -> go.Figure:
    """Energy per inference by layer, stacked by component, with a button to stack by operand instead."""
    report = config.cost
    by_comp = layer_energy_table(report, "component")
    by_operand = layer_energy_table(report, "operand")
    scale, unit = energy_scale(float(by_comp["total_pj"].max()) if len(by_comp) else 0.0)
    x = [text(layer) for layer in by_comp.index]
    fig = go.Figure()
    comps = [c for c in by_comp.columns if c not in ("macs", "total_pj")]
    operands = [c for c in by_operand.columns if c not in ("macs", "total_pj")]
    for i, comp in enumerate(comps):
        fig.add_bar(
            name=text(comp), x=x, y=(by_comp[comp] / scale).tolist(), marker_color=_color(COMPONENT_COLORS, comp, i),
            customdata=by_comp["macs"].tolist(), legendgroup="component",
            hovertemplate=f"%{{x}}<br>{text(comp)}: %{{y:.4g}} {unit}<br>%{{customdata:,}} MACs<extra></extra>",
        )  # fmt: skip
    for i, operand in enumerate(operands):
        label = OPERAND_LABELS.get(operand, operand)
        fig.add_bar(
            name=text(label), x=x, y=(by_operand[operand] / scale).tolist(), marker_color=_color(OPERAND_COLORS, operand, i),
            visible=False, legendgroup="operand",
            hovertemplate=f"%{{x}}<br>{text(label)}: %{{y:.4g}} {unit}<extra></extra>",
        )  # fmt: skip
    n_c, n_o = len(comps), len(operands)
    buttons = [
        dict(label="by component", method="update", args=[{"visible": [True] * n_c + [False] * n_o}]),
        dict(label="by operand", method="update", args=[{"visible": [False] * n_c + [True] * n_o}]),
    ]
    _layout(fig, barmode="stack", yaxis_title=f"energy per inference ({unit})", xaxis_title="layer")
    fig.update_layout(
        margin=dict(t=60, r=190),
        legend=dict(orientation="v", yanchor="top", y=1, xanchor="left", x=1.01, traceorder="normal"),
        updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0, xanchor="left", y=1.22, yanchor="top",
                          bgcolor="#f3f5f8", bordercolor="#d8dee6", font=dict(size=12))],
    )  # fmt: skip
    return fig


def share_figure(configs: Sequence[Configuration]) -> go.Figure:
    """Share of total energy by component, one 100 % bar per configuration (Plotly normalises)."""
    fig = go.Figure()
    labels = [text(c.label) for c in configs]
    comps = component_order([k[1] for c in configs for k in c.cost.energy_pj])
    for i, comp in enumerate(comps):
        values = [c.cost.energy_by("component").get((comp,), 0.0) for c in configs]
        fig.add_bar(
            name=text(comp), y=labels, x=values, orientation="h", marker_color=_color(COMPONENT_COLORS, comp, i),
            hovertemplate=f"%{{y}}<br>{text(comp)}: %{{x:.1f}} % of the total<extra></extra>",
        )  # fmt: skip
    _layout(fig, height=max(220, 120 + 40 * len(configs)), barmode="stack", barnorm="percent")
    fig.update_xaxes(ticksuffix=" %")
    fig.update_layout(margin=dict(l=20, t=40, b=90), yaxis=dict(autorange="reversed", automargin=True),
                      legend=dict(traceorder="normal", yanchor="top", y=-0.12 * 6 / max(len(configs), 3)))  # fmt: skip
    return fig


def comparison_figure(configs: Sequence[Configuration]) -> go.Figure:
    """Energy per inference of every configuration, stacked by component, one panel per model.

    Panels have their own energy axis (models differ by orders of magnitude); the one-time weight load
    of the first inference is stacked on top, hatched.
    """
    models = list(dict.fromkeys(c.cost.model_name for c in configs))
    counts = [sum(c.cost.model_name == m for c in configs) for m in models]
    widths = [(n + 1) / sum(k + 1 for k in counts) for n in counts]
    fig = make_subplots(rows=1, cols=len(models), subplot_titles=[text(m) for m in models], horizontal_spacing=0.07,
                        column_widths=widths)  # fmt: skip
    comps = component_order([k[1] for c in configs for k in c.cost.energy_pj])
    for col, model in enumerate(models, start=1):
        group = [c for c in configs if c.cost.model_name == model]
        scale, unit = energy_scale(max(c.cost.cold_energy_pj for c in group))
        x = [f"{_wrap(text(c.variant))}<br>{_wrap(text(c.cost.profile_name))}" if c.variant else _wrap(text(c.cost.profile_name))
             for c in group]  # fmt: skip
        if len(set(x)) < len(x):  # two configurations would share a bar: fall back to their labels
            x = [text(c.label) for c in group]
        for i, comp in enumerate(comps):
            fig.add_bar(
                name=text(comp), x=x, y=[c.cost.energy_by("component").get((comp,), 0.0) / scale for c in group],
                marker_color=_color(COMPONENT_COLORS, comp, i), legendgroup=comp, showlegend=col == 1,
                hovertemplate=f"%{{x}}<br>{text(comp)}: %{{y:.4g}} {unit}<extra></extra>", row=1, col=col,
            )  # fmt: skip
        fig.add_bar(
            name="first-inference weight load (cold only)", x=x, y=[c.cost.cold_start_energy_pj / scale for c in group],
            marker=dict(color="rgba(228,87,86,0.25)", pattern=dict(shape="/", fgcolor="#E45756")),
            legendgroup="cold", showlegend=col == 1, row=1, col=col,
            hovertemplate=f"%{{x}}<br>cold-start weight load: %{{y:.4g}} {unit}<extra></extra>",
        )  # fmt: skip
        fig.update_yaxes(title_text=f"energy per inference ({unit})", row=1, col=col)
    _layout(fig, height=440, barmode="stack")
    fig.update_layout(margin=dict(t=120), legend=dict(y=1.14))
    fig.update_xaxes(tickangle=0)
    return fig


def storage_figure(config: Configuration) -> go.Figure:
    """Left: the storage waterfall (dense -> ... -> stored). Right: per-layer stored bits by part."""
    report = config.cost
    storage = config.storage
    stages = [(s.name, s.bits) for s in storage.stages] if storage and storage.stages else []
    if not stages:
        stages = [("dense", report.weight_dense_bits), ("stored", report.weight_stored_bits)]
    max_bits = max([b for _, b in stages] + [1])
    scale, unit = bits_scale(max_bits)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.4, 0.6], horizontal_spacing=0.12,
                        subplot_titles=("weights, stage by stage", "stored weights by layer and part"))  # fmt: skip
    if len(stages) == 2 and stages[0][1] == stages[1][1]:
        stages = [("dense (stored as is)", stages[0][1])]
    values = [b / scale for _, b in stages]
    names = [text(name) for name, _ in stages]
    labels = [format_bits(b) + (f"<br>{stages[0][1] / b:.1f}× smaller" if i and b else "") for i, (_, b) in enumerate(stages)]
    colors = ["#9db3cf"] + ["#4C78A8"] * (len(stages) - 1)
    fig.add_bar(x=names, y=values, text=labels, textposition="outside", cliponaxis=False, marker_color=colors, showlegend=False,
                hovertemplate="%{x}: %{text}<extra></extra>", row=1, col=1)  # fmt: skip
    if len(stages) > 1:  # the waterfall's steps: each stage starts where the previous one ended
        fig.add_scatter(x=names, y=values, mode="lines", line=dict(color="#8895a7", dash="dot", shape="hv"), showlegend=False,
                        hoverinfo="skip", row=1, col=1)  # fmt: skip
    low = min(values)
    fig.update_yaxes(title_text=f"weights ({unit}, log scale)", type="log", dtick=1, row=1, col=1,
                     range=[np.log10(low) - 0.3, np.log10(max(values)) + 0.45])  # fmt: skip
    parts = storage_part_table([config]) if storage else None
    if parts is not None and not parts.empty:
        layer_order = list(dict.fromkeys(parts["layer"]))
        if config.cost.footprint is not None:
            fit_order = [lay or TOP_LEVEL for lay in config.cost.footprint.layer_weight_bits]
            layer_order = [lay for lay in fit_order if lay in set(layer_order)] + [lay for lay in layer_order if lay not in fit_order]
        pscale, punit = bits_scale(float(parts.groupby("layer")["bits"].sum().max()))
        wide = parts.pivot_table(index="layer", columns="part", values="bits", aggfunc="sum", fill_value=0).reindex(layer_order)
        known = [p for p in STORAGE_PARTS if p in wide.columns] + [p for p in wide.columns if p not in STORAGE_PARTS]
        for i, part in enumerate(known):
            fig.add_bar(
                name=text(part), x=[text(lay) for lay in wide.index], y=(wide[part] / pscale).tolist(),
                marker_color=_color(PART_COLORS, part, i), row=1, col=2,
                hovertemplate=f"%{{x}}<br>{text(part)}: %{{y:.4g}} {punit}<extra></extra>",
            )  # fmt: skip
        fig.update_yaxes(title_text=f"stored ({punit})", row=1, col=2)
    _layout(fig, height=430, barmode="stack")
    fig.update_layout(margin=dict(t=60, r=170), legend=dict(orientation="v", yanchor="top", y=1, xanchor="left", x=1.02))
    return fig


#: The fit chart keeps the SRAM capacity in view only up to this multiple of what the model needs;
#: beyond it the axis zooms to the need and the capacity is written on the chart instead.
FIT_ZOOM_RATIO = 3.0


def fit_figure(config: Configuration) -> go.Figure:
    """What must be on chip per layer (the report's ``Footprint``): all weights + that layer's live activations.

    Each bar stacks every weight (resident, in its on-chip encoding) and the activations live while the
    layer runs, so the tallest bar reaches the dotted "needed" line (the footprint's ``needed_bits``).
    The SRAM capacity is drawn in red when it is within ``FIT_ZOOM_RATIO`` x the need; a much larger
    SRAM (a 40 KB model on an 8 MB chip) is named on the chart with the axis zoomed to the need.
    """
    fp = config.cost.footprint
    table = fit_table([config])
    capacity = fp.capacity_bits if fp else 0
    needed = fp.needed_bits if fp else 0
    tallest = float(table["needed_bits"].max()) if len(table) else 0.0
    capacity_in_view = bool(capacity) and capacity <= FIT_ZOOM_RATIO * max(needed, 1)
    top_bits = max(tallest, needed, capacity if capacity_in_view else 0) * 1.15 or 1.0
    scale, unit = bits_scale(top_bits)
    x = [text(layer) for layer in table["layer"]]
    fig = go.Figure()
    fig.add_bar(name="all weights (resident, on-chip encoding)", x=x, y=(table["all_weight_bits"] / scale).tolist(),
                marker_color="#4C78A8", customdata=(table["weight_bits"] / scale).tolist(),
                hovertemplate=f"%{{x}}<br>all weights: %{{y:.4g}} {unit}<br>this layer's: %{{customdata:.4g}} {unit}<extra></extra>")  # fmt: skip
    fig.add_bar(name="activations live in this layer", x=x, y=(table["live_activation_bits"] / scale).tolist(), marker_color="#F58518",
                hovertemplate=f"%{{x}}<br>live activations: %{{y:.4g}} {unit}<extra></extra>")  # fmt: skip
    spills = table[table["spills"]]
    if len(spills):
        fig.add_scatter(name="spills to DRAM", x=[text(lay) for lay in spills["layer"]], y=(spills["needed_bits"] / scale * 1.04).tolist(),
                        mode="markers", marker=dict(symbol="x", size=12, color="#d62728", line=dict(width=2)),
                        hovertemplate="%{x}: spills to DRAM<extra></extra>")  # fmt: skip
    if needed:
        fig.add_hline(y=needed / scale, line=dict(color="#5b6673", width=1.5, dash="dot"),
                      annotation_text=f"needed: {format_bits(needed)}", annotation_position="top right",
                      annotation_font_color="#5b6673")  # fmt: skip
    if capacity_in_view:
        fig.add_hline(y=capacity / scale, line=dict(color="#d62728", width=2), annotation_text=f"SRAM {format_bits(capacity)}",
                      annotation_position="top left", annotation_font_color="#d62728")  # fmt: skip
    elif capacity:
        fig.add_annotation(text=f"SRAM {format_bits(capacity)}: off scale, {capacity / max(needed, 1):,.0f}× what the model needs",
                           xref="paper", yref="paper", x=0, y=1.0, xanchor="left", yanchor="bottom", showarrow=False,
                           font=dict(color="#d62728"))  # fmt: skip
    _layout(fig, height=420, barmode="stack", yaxis_title=f"on-chip bits needed ({unit})", xaxis_title="layer (execution order)")
    fig.update_yaxes(range=[0, top_bits / scale])
    return fig


def sram_curve_figure(config: Configuration) -> go.Figure:
    """Energy per inference (steady and cold) against SRAM capacity, log-scaled capacity axis.

    The "fits from here" marker stands at the footprint's ``needed_bits``, a point of the curve's grid.
    """
    report = config.cost
    table = sram_curve_table([config])
    scale, unit = energy_scale(float(table["cold_energy_pj"].max()))
    bscale, bunit = bits_scale(float(table["sram_bits"].median()))
    x = (table["sram_bits"] / bscale).tolist()
    fits = ["fits on chip" if f else ("spills" if f is False else "fit n/a") for f in table["fits_on_chip"]]
    fig = go.Figure()
    fig.add_scatter(name="steady state", x=x, y=(table["steady_energy_pj"] / scale).tolist(), mode="lines+markers",
                    line=dict(color="#4C78A8", width=3, shape="hv"), customdata=fits,
                    hovertemplate=f"SRAM %{{x:.4g}} {bunit}<br>steady: %{{y:.4g}} {unit}<br>%{{customdata}}<extra></extra>")  # fmt: skip
    fig.add_scatter(name="first inference (cold)", x=x, y=(table["cold_energy_pj"] / scale).tolist(), mode="lines+markers",
                    line=dict(color="#E45756", width=2, dash="dash", shape="hv"), customdata=fits,
                    hovertemplate=f"SRAM %{{x:.4g}} {bunit}<br>cold: %{{y:.4g}} {unit}<br>%{{customdata}}<extra></extra>")  # fmt: skip
    top = float(table["cold_energy_pj"].max()) / scale * 1.1 or 1.0
    fp = report.footprint
    for bits, name, color, dash in (
        (fp.capacity_bits if fp else None, "this profile's SRAM", "#1d2733", "dash"),
        (fp.needed_bits if fp else None, "fits from here (weights + peak activations)", "#54A24B", "dot"),
    ):
        if bits:
            fig.add_scatter(name=name, x=[bits / bscale] * 2, y=[0, top], mode="lines", line=dict(color=color, width=1.5, dash=dash),
                            hovertemplate=f"{name}: %{{x:.4g}} {bunit}<extra></extra>")  # fmt: skip
    _layout(fig, height=420, xaxis_title=f"SRAM capacity ({bunit}, log scale)", yaxis_title=f"energy per inference ({unit})")
    fig.update_xaxes(type="log", dtick="D2")
    fig.update_yaxes(rangemode="tozero")
    return fig


def timeline_figure(config: Configuration) -> go.Figure:
    """The simulated timeline as a Gantt chart: one row per resource, bars coloured by layer, stalls red.

    Timelines with more than ``MAX_TIMELINE_BARS`` intervals are drawn with neighbouring intervals of
    the same (resource, layer, activity) merged when the gap between them is below one pixel's worth
    of time; the exported timeline table keeps every interval.
    """
    report = config.cost
    table = timeline_table([config])
    to_us = 1e6 / report.clock_hz if report.clock_hz else 1.0
    time_unit = "µs" if report.clock_hz else "cycles"
    if report.clock_hz and report.cycles * to_us >= 10_000:
        to_us, time_unit = to_us / 1000, "ms"
    table = _merge_for_display(table)
    order = {name: i for i, name in enumerate(("dram", "sram", "rf", "register_file", "compute"))}
    resources = sorted(dict.fromkeys(table["resource"]), key=lambda r: (order.get(r, len(order)), r))
    fig = go.Figure()
    layers = list(dict.fromkeys(table["layer"]))
    colors = {layer: _LAYER_PALETTE[i % len(_LAYER_PALETTE)] for i, layer in enumerate(layers)}
    is_stall = table["what"].str.contains("stall", case=False)
    for layer in layers:
        rows = table[(table["layer"] == layer) & ~is_stall]
        if rows.empty:
            continue
        fig.add_bar(
            name=text(layer), y=rows["resource"].map(text).tolist(), base=(rows["start_cycle"] * to_us).tolist(),
            x=((rows["end_cycle"] - rows["start_cycle"]) * to_us).tolist(), orientation="h", marker_color=colors[layer],
            customdata=rows["what"].map(text).tolist(), legendgroup=layer,
            hovertemplate=f"{text(layer)} · %{{customdata}}<br>%{{base:.4g}} → %{{x:.3g}} {time_unit} long<extra></extra>",
        )  # fmt: skip
    stalls = table[is_stall]
    if not len(stalls):  # no explicit stall events: the compute array's idle stretches are its stalls
        gaps = stall_intervals(report)
        stalls = pd.DataFrame({"resource": "compute", "start_cycle": [g[0] for g in gaps], "end_cycle": [g[1] for g in gaps],
                               "layer": "waiting for memory", "what": "stall"})  # fmt: skip
    if len(stalls):
        fig.add_bar(
            name="stall", y=stalls["resource"].map(text).tolist(), base=(stalls["start_cycle"] * to_us).tolist(),
            x=((stalls["end_cycle"] - stalls["start_cycle"]) * to_us).tolist(), orientation="h",
            marker=dict(color="rgba(214,39,40,0.35)", pattern=dict(shape="x", fgcolor="#d62728")),
            customdata=stalls["layer"].map(text).tolist(),
            hovertemplate=f"stall (%{{customdata}})<br>%{{base:.4g}} → %{{x:.3g}} {time_unit} long<extra></extra>",
        )  # fmt: skip
    stall_share = 100 * report.stall_cycles / report.cycles if report.cycles else 0.0
    _layout(fig, height=max(300, 190 + 55 * len(resources)), barmode="overlay",
            xaxis_title=f"time ({time_unit})", title=dict(text=f"stall: {report.stall_cycles:,.0f} cycles ({stall_share:.1f} % of the inference)",
                                                         font=dict(size=13), x=0.01, y=0.98))  # fmt: skip
    fig.update_yaxes(categoryorder="array", categoryarray=[text(r) for r in resources][::-1])
    fig.update_xaxes(rangemode="tozero")
    fig.update_layout(margin=dict(t=60, b=60), legend=dict(yanchor="top", y=-0.35), showlegend=len(layers) <= 14)
    return fig


def memory_system_figure(config: Configuration) -> go.Figure:
    """The bracket (lower bound, simulated, upper bound) and the stall cycles by cause, as horizontal bars
    in the report's time unit; the title names the DRAM model and its row-buffer hit rate."""
    report = config.cost
    mt = report.memory_timing
    table = memory_timing_table(report)
    to_us = 1e6 / report.clock_hz if report.clock_hz else 1.0
    unit = "µs" if report.clock_hz else "cycles"
    if report.clock_hz and table["cycles"].max() * to_us >= 10_000:
        to_us, unit = to_us / 1000, "ms"
    colors = {"bracket": "#4C78A8", "stall": "#d62728"}
    fig = go.Figure()
    for kind in ("bracket", "stall"):
        rows = table[table["kind"] == kind]
        if rows.empty:
            continue
        fig.add_bar(name=kind, y=rows["quantity"].tolist(), x=(rows["cycles"] * to_us).tolist(), orientation="h",
                    marker_color=colors[kind], customdata=rows["cycles"].tolist(),
                    hovertemplate=f"%{{y}}: %{{x:.4g}} {unit} (%{{customdata:,.0f}} cycles)<extra></extra>")
    title = f"DRAM: {text(mt.dram_model) if mt else 'n/a'}"
    if mt is not None and mt.dram_row_hit_rate is not None:
        title += f" · row-buffer hit rate {100 * mt.dram_row_hit_rate:.1f} %"
    if mt is not None and mt.requestors > 1:
        title += f" · {mt.requestors} cores share it (stalls summed over cores)"
    _layout(fig, height=max(280, 120 + 34 * len(table)), xaxis_title=f"time ({unit})",
            title=dict(text=title, font=dict(size=13), x=0.01, y=0.98))  # fmt: skip
    fig.update_yaxes(categoryorder="array", categoryarray=table["quantity"].tolist()[::-1])
    return fig


def _merge_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """Merge neighbouring intervals (same resource, layer, activity) until at most MAX_TIMELINE_BARS remain.

    The merge tolerance starts at 1/2000 of the timeline's span (about a pixel) and doubles until the
    bar count fits; nothing is dropped, intervals only join.
    """
    if len(table) <= MAX_TIMELINE_BARS:
        return table
    span = float(table["end_cycle"].max() - table["start_cycle"].min()) or 1.0
    tolerance = span / 2000
    ordered = table.sort_values("start_cycle", kind="stable")
    while True:
        pieces = []
        for _, group in ordered.groupby(["resource", "layer", "what"], sort=False):
            starts = group["start_cycle"].to_numpy(dtype=float)
            ends = np.maximum.accumulate(group["end_cycle"].to_numpy(dtype=float))
            new_run = np.ones(len(starts), dtype=bool)
            new_run[1:] = starts[1:] - ends[:-1] > tolerance
            first = np.flatnonzero(new_run)
            merged = group.iloc[first].copy()
            merged["start_cycle"] = starts[first]
            merged["end_cycle"] = np.maximum.reduceat(ends, first)
            pieces.append(merged)
        out = pd.concat(pieces, ignore_index=True)
        if len(out) <= MAX_TIMELINE_BARS or tolerance >= span:
            return out.sort_values("start_cycle", kind="stable")
        tolerance *= 2
