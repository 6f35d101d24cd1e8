"""Configurations -> one self-contained HTML report (plotly.js inlined once or shared, Jinja2 autoescaped).

Layout: headline cards per configuration; an overview comparing every configuration (energy per
inference stacked by component, share of total); then one section per configuration (energy by layer
by component / operand, storage waterfall and per-layer split, on-chip fit, energy vs SRAM size, the
SimPy timeline); the profiles' constants with their sources; the counting conventions. A section
whose data is absent is left out with a one-line note saying why, never drawn from made-up numbers.

Each configuration also gets its headline cards (energy, latency, average power, inferences/s, TOPS/W),
a sortable and filterable per-layer table and a roofline; the overview compares layers across
configurations of the same model. Each figure travels as inert JSON beside an empty div; the page's
script draws every one as soon as the page is parsed (none waits to be scrolled into view) and
redraws them at the page width before printing (templates/base.html.j2, shared with the sweep report).

By default the report is one HTML file and nothing else: plotly.js inlined, no sidecar files.
``plotly_js=DIR`` writes one shared ``DIR/plotly.min.js`` referenced relatively; ``export="csv,json"``
adds the tables beside the HTML.

The report formats numbers that records hold; it computes nothing new.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

from simulator.cost import CostReport, HeadlineRow, format_count, format_seconds
from simulator.fileio import write_files_atomic
from simulator.report import figures as F
from simulator.report import memory_figures as MF
from simulator.report.export import EXPORT_FORMATS, export_formats
from simulator.report.html_tables import sortable_table_html
from simulator.report.layer_tables import layer_comparison_table, layer_table
from simulator.report.records import Configuration
from simulator.report.roofline import roofline_figure, roofline_note
from simulator.report.tables import TOP_LEVEL, as_configurations, profile_constants_table, summary_table

__all__ = ["EXPORT_FORMATS", "PLOTLY_JS_NAME", "export_formats", "figure_html", "format_count", "format_seconds",
           "headline_cards", "render_html", "write_html"]  # fmt: skip

#: The shared plotly.js file written by ``write_html(..., plotly_js=DIR)``.
PLOTLY_JS_NAME = "plotly.min.js"

#: Columns of the summary table shown in the HTML (the CSV export has them all).
_SUMMARY_COLUMNS = (
    "config", "MACs", "energy / inference (uJ)", "cold first inference (uJ)", "latency (ms)", "weights dense (KB)",
    "weights stored (KB)", "compression ratio", "min SRAM (KB)", "fits on chip", "accuracy",
)  # fmt: skip
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2}}


@dataclass(frozen=True)
class _Figure:
    key: str
    title: str
    caption: str
    html: str
    wide: bool = False
    number: int = 0


@dataclass
class _Section:
    anchor: str
    config: Configuration
    cards: list[HeadlineRow]
    figures: list[_Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    spilling: list[str] = field(default_factory=list)
    layer_table_html: str = ""


def headline_cards(config: Configuration) -> list[HeadlineRow]:
    """The headline cards of one configuration, in display order: ``CostReport.headline().rows``."""
    return list(config.cost.headline().rows)


def _format_number(value: object) -> str:
    """Table cells: thousands separators, 4 significant digits below 10,000, "–" when missing."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:,.4g}"
    return str(value)


def figure_html(fig: go.Figure, div_id: str) -> str:
    """A placeholder div plus the figure as inert JSON; the page's script draws every one on load.

    ``to_json`` escapes ``<``, so no name can close the script element early; the extra replace keeps
    that true whatever the encoder does.
    """
    spec = json.dumps({"data": json.loads(fig.to_json())["data"], "layout": fig.layout.to_plotly_json(), "config": _PLOTLY_CONFIG},
                      cls=PlotlyJSONEncoder, separators=(",", ":")).replace("<", "\\u003c")  # fmt: skip
    height = int(fig.layout.height or 450)
    return (
        f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}px; width:100%;"></div>'
        f'<script type="application/json" class="pjsim-figure" data-target="{div_id}">{spec}</script>'
    )


def _section(i: int, config: Configuration) -> _Section:
    r = config.cost
    sec = _Section(anchor=f"config-{i}", config=config, cards=headline_cards(config))
    sec.notes.extend(config.notes)
    sec.facts = [(k, str(v)) for k, v in r.metadata.items()]
    sec.notes.extend(f"Not costed: {label}: {text}." for label, text in r.coverage.lines())
    if r.accuracy is None:
        sec.notes.append("Accuracy: not known for this configuration (no measurement or checkpoint metadata).")

    def add(key: str, title: str, caption: str, fig: go.Figure, wide: bool = False) -> None:
        sec.figures.append(_Figure(key, title, caption, figure_html(fig, f"fig-{i}-{key}"), wide))

    if r.energy_pj:
        add("energy", "Energy by layer",
            "Energy of one steady-state inference per layer, stacked by component; switch to operands with the buttons.",
            F.energy_by_layer_figure(config), wide=True)  # fmt: skip
    else:
        sec.notes.append("Energy by layer: the report holds no energy breakdown.")
    storage_caption = "Weight storage from dense to stored encoding (left) and where the stored bits go, per layer (right)."
    if r.weight_dense_bits and r.weight_dense_bits == r.weight_stored_bits:
        storage_caption = "The weights are stored dense, as traced (no compression); per layer on the right."
    elif config.storage is None or not config.storage.stages:
        storage_caption += (" Only the dense and final stored sizes are known for this configuration; the stage-by-stage"
                            " waterfall (pruned, quantized/shared, Huffman) comes from the storage accountant.")  # fmt: skip
    if config.storage is not None:
        storage_caption += f" Source: {config.storage.source}."
    if r.weight_dense_bits:
        add("storage", "Storage", storage_caption, F.storage_figure(config), wide=True)
    else:
        sec.notes.append("Storage: the report holds no weight sizes.")
    if r.footprint is not None and (r.footprint.layer_weight_bits or r.footprint.layer_live_activation_bits):
        add("fit", "On-chip fit",
            "Per layer, every weight (resident, in its on-chip encoding) plus the activations live while it runs, "
            "against the total the model needs on chip (dotted) and the SRAM capacity (red, or named when far off "
            "scale).", F.fit_figure(config))  # fmt: skip
    else:
        sec.notes.append("On-chip fit per layer: the costing recorded no per-layer footprint for this configuration.")
    if config.sram_curve is not None and config.sram_curve.points:
        caption = (f"Energy per inference as the SRAM grows, everything else as in the profile "
                   f"({len(config.sram_curve.points)} precomputed points, costed by '{config.sram_curve.method}').")  # fmt: skip
        if config.sram_curve.note:
            caption += " " + config.sram_curve.note
        add("sram", "Energy vs SRAM size", caption, F.sram_curve_figure(config))
    else:
        sec.notes.append("Energy vs SRAM size: not computed for this configuration.")
    if r.memory_timing is not None:
        mt = r.memory_timing
        hit = f" DRAM row-buffer hit rate {100 * mt.dram_row_hit_rate:.1f} %." if mt.dram_row_hit_rate is not None else ""
        add("memory", "Memory system",
            f"The latency bracket of the closed form (lower: perfect overlap, the busiest of compute and the ports; "
            f"upper: no overlap) with the simulated latency between them, and the cycles stalled by cause "
            f"(dram: compute waited for a load; sram: for the on-chip levels; buffer_slot: a load waited for room; "
            f"other_core: a DRAM transfer queued behind another core). DRAM model: {mt.dram_model}.{hit}",
            F.memory_system_figure(config))  # fmt: skip
        if MF.has_bandwidth_series(config):  # issue 15 (h-mem): bandwidth over time
            add("bandwidth", "Bandwidth over time", MF.CAPTION, MF.bandwidth_over_time_figure(config))
    if r.timeline:
        add("timeline", "Timeline",
            f"The simulated inference per resource ({len(r.timeline):,} busy intervals, coloured by layer; hover for "
            f"details). Red hatching on the compute row: stalls, {r.stall_cycles:,.0f} cycles waiting for memory.",
            F.timeline_figure(config), wide=True)  # fmt: skip
    else:
        sec.notes.append(f"Timeline: not recorded by the '{r.method}' costing (the SimPy memory simulation records one).")
    if config.roofline is not None and r.layer_cycles and r.macs_by_layer:
        rl = config.roofline
        add("roofline", "Roofline",
            f"Each layer's achieved throughput (MACs ÷ its simulated latency) against its arithmetic intensity (MACs per "
            f"byte moved through DRAM, left, and through the on-chip SRAM, right), under the profile's roofs: peak "
            f"{format_count(rl.peak_macs_per_s)} MAC/s and each level's bandwidth. Source: {rl.source}. "
            + roofline_note(config), roofline_figure(config), wide=True)  # fmt: skip
    elif config.roofline is None:
        sec.notes.append("Roofline: the profile's roofs are not known for this configuration (saved without its profile).")
    else:
        sec.notes.append(f"Roofline: the '{r.method}' costing recorded no per-layer latency.")
    if r.footprint is not None:
        sec.spilling = [name or TOP_LEVEL for name in r.footprint.spilling_layers]
    if r.macs_by_layer or r.energy_pj:
        table = layer_table(config)
        sec.layer_table_html = sortable_table_html(table, f"layers-{i}",
                                                   row_class=lambda row: "spills" if row["on_chip"] == "spills" else "")
    return sec


def render_html(
    items: CostReport | Configuration | Sequence[CostReport | Configuration],
    title: str = "pjsim energy report",
    notes: Sequence[str] = (),
    plotly_src: str | None = None,
    exported: Sequence[str] = (),
) -> str:
    """The report for ``items`` as one HTML string (no network needed to view it).

    Args:
        items: one or more ``CostReport``s or ``Configuration``s (side by side in one report).
        title: the report's title.
        notes: report-level notes (e.g. configurations that could not be built, and why).
        plotly_src: a relative URL of a shared plotly.js to reference instead of inlining it.
        exported: the sidecar formats written beside the HTML (named in the footer).
    """
    configs = as_configurations(items)
    if not configs:
        raise ValueError("render_html needs at least one CostReport or Configuration")
    sections = [_section(i, c) for i, c in enumerate(configs)]
    overview = [
        _Figure("share", "Share of total energy", "Where each configuration's energy goes, as a share of its total.",
                figure_html(F.share_figure(configs), "fig-overview-share"), wide=True),  # fmt: skip
    ]
    if len(configs) > 1:
        overview.insert(0, _Figure(
            "compare", "Energy per inference, side by side",
            "Every configuration stacked by component, one panel per model (each panel has its own scale); "
            "the hatched top is the one-time weight load paid by the first inference only.",
            figure_html(F.comparison_figure(configs), "fig-overview-compare"), wide=True))  # fmt: skip
    all_figures = overview + [f for s in sections for f in s.figures]
    numbered = {id(f): n for n, f in enumerate(all_figures, start=1)}
    overview = [dataclasses.replace(f, number=numbered[id(f)]) for f in overview]
    for sec in sections:
        sec.figures = [dataclasses.replace(f, number=numbered[id(f)]) for f in sec.figures]
    summary = summary_table(configs)[list(_SUMMARY_COLUMNS)]
    summary_html = summary.to_html(index=False, border=0, classes="summary", na_rep="–", formatters={
        col: _format_number for col in summary.columns if col not in ("config", "fits on chip", "accuracy")})
    comparison = layer_comparison_table(configs)
    comparison_html = ""
    if not comparison.empty:
        shown = comparison.drop(columns=["baseline"] + (["model"] if comparison["model"].nunique() == 1 else []))
        comparison_html = sortable_table_html(shown, "layer-comparison-table")
    constants = profile_constants_table(configs)
    profiles = []
    for name, group in constants.groupby("profile", sort=False):
        desc = next((c.profile_description for c in configs if c.cost.profile_name == name), "")
        profiles.append({"name": name, "description": desc, "rows": group.to_dict("records")})
    missing_profiles = sorted({c.cost.profile_name for c in configs} - {p["name"] for p in profiles})
    conventions = list(dict.fromkeys(c for cfg in configs for c in cfg.cost.conventions))
    conventions.append("TOPS/W counts 2 operations per MAC (a multiply and an add): TOPS/W = 2 × MACs ÷ energy in pJ; "
                       "average power = energy per inference ÷ latency; inferences/s = 1 ÷ latency (one after another).")  # fmt: skip
    return _env().get_template("report.html.j2").render(
        title=title,
        version=_version(),
        generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        plotly_js="" if plotly_src else get_plotlyjs(),
        plotly_src=plotly_src,
        exported=list(exported),
        notes=list(notes),
        sections=sections,
        overview=overview,
        summary_html=summary_html,
        comparison_html=comparison_html,
        profiles=profiles,
        missing_profiles=missing_profiles,
        conventions=conventions,
        n_figures=len(all_figures),
    )


def write_html(
    items: CostReport | Configuration | Sequence[CostReport | Configuration],
    path: str | Path,
    title: str = "pjsim energy report",
    notes: Sequence[str] = (),
    export: bool | str | Iterable[str] | None = None,
    make_parents: bool = True,
    plotly_js: str | Path | None = None,
) -> Path:
    """Write the report to ``path`` atomically; return the HTML path.

    By default that is the one file and nothing else. With ``export`` (``"csv,json"``, ``["json"]``,
    True for both) the tables go beside it: ``<stem>.json`` (every table and the configurations
    themselves, which ``pjsim report --from`` reads back) and ``<stem>.<table>.csv``. With
    ``plotly_js=DIR`` plotly.js is written once to ``DIR/plotly.min.js`` (left alone when already
    there with the same content) and referenced by a relative path, so many reports share one copy.
    The HTML and its exports are one all-or-nothing set (``simulator.fileio.write_files_atomic``).
    """
    from simulator.report.export import export_files

    formats = export_formats(export)
    configs = as_configurations(items)
    path = Path(path)
    files: dict[Path, str] = {}
    plotly_src = None
    if plotly_js is not None:
        js_path = Path(plotly_js) / PLOTLY_JS_NAME
        code = get_plotlyjs()
        if not (js_path.is_file() and js_path.stat().st_size == len(code.encode("utf-8"))
                and js_path.read_text(encoding="utf-8") == code):  # fmt: skip
            files[js_path] = code
        plotly_src = Path(os.path.relpath(js_path.resolve(), path.resolve().parent)).as_posix()
    files[path] = render_html(configs, title=title, notes=notes, plotly_src=plotly_src, exported=formats)
    if formats:
        files.update(export_files(configs, path, title=title, notes=notes, formats=formats))
    write_files_atomic({p: text.encode("utf-8") for p, text in files.items()}, make_parents=make_parents)
    return path


def _env() -> Environment:
    env = Environment(loader=PackageLoader("simulator.report", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["slug"] = lambda s: re.sub(r"[^a-z0-9]+", "-", str(s).lower()).strip("-")
    env.filters["num"] = _format_number
    return env


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pjsim")
    except PackageNotFoundError:
        return "dev"
