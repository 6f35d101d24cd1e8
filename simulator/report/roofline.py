"""The roofline chart of one configuration: each layer a point, the profile's roofs as lines.

Two panels share the throughput axis (MACs/s, log): arithmetic intensity against DRAM (MACs per byte
moved to or from DRAM) and against the on-chip SRAM (the global buffer). The roofs come from the
configuration's ``Roofline`` (built once from the ``HardwareProfile``): the flat compute roof at the
array's peak and, per panel, the level's bandwidth x intensity. A layer's point is its achieved
throughput, MACs / its simulated latency. Layers that move nothing through a level have infinite
intensity there and are listed in the chart's note instead of drawn.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from simulator.report.figures import _layout, text
from simulator.report.layer_tables import dram_and_sram_roofs, roofline_table
from simulator.report.records import Configuration
from simulator.units import format_count

__all__ = ["roofline_figure", "roofline_note"]

_POINT_COLOR = "#4C78A8"


def _rate(macs_per_s: float) -> str:
    return f"{format_count(macs_per_s)} MAC/s"


def roofline_note(config: Configuration) -> str:
    """What the chart leaves out: layers with no traffic through a panel's level (infinite intensity)."""
    table = roofline_table(config)
    parts = []
    for name in ("dram", "sram"):
        missing = table.loc[~(table[f"{name}_bytes"] > 0), "layer"].tolist()
        if missing:
            shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
            parts.append(f"{len(missing)} layer(s) move no bytes through {name.upper()} (not drawn there): {shown}.")
    return " ".join(parts)


def roofline_figure(config: Configuration) -> go.Figure:
    """Achieved MACs/s of each layer against its arithmetic intensity, under the profile's roofs."""
    roofline = config.roofline
    table = roofline_table(config)
    dram, sram = dram_and_sram_roofs(config)
    panels = [(name, roof) for name, roof in (("dram", dram), ("sram", sram)) if roof is not None]
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[f"per {roof.level} byte ({name.upper()})" for name, roof in panels])  # fmt: skip
    peak = roofline.peak_macs_per_s
    for col, (name, roof) in enumerate(panels, start=1):
        x = table[f"macs_per_{name}_byte"].to_numpy(dtype=float)
        y = table["macs_per_s"].to_numpy(dtype=float)
        ok = np.isfinite(x) & (x > 0) & np.isfinite(y) & (y > 0)
        knee = peak / roof.bytes_per_s
        lo = min([knee / 100, *x[ok]]) / 2
        hi = max([knee * 100, *x[ok]]) * 2
        grid = np.geomspace(lo, hi, 200)
        fig.add_scatter(x=grid.tolist(), y=np.minimum(peak, roof.bytes_per_s * grid).tolist(), mode="lines",
                        line=dict(color="#d62728" if name == "dram" else "#54A24B", width=2.5),
                        name=f"{text(roof.level)} roof: {roof.bytes_per_s / 1e9:.3g} GB/s, peak {_rate(peak)}",
                        hovertemplate=f"{text(roof.level)} roof<br>%{{x:.3g}} MAC/B → %{{y:.3g}} MAC/s<extra></extra>",
                        row=1, col=col)  # fmt: skip
        layers = [text(v) for v in table.loc[ok, "layer"]]
        kinds = [text(config.cost.layer_kinds.get(v, "")) for v in table.loc[ok, "layer"]]
        fig.add_scatter(x=x[ok].tolist(), y=y[ok].tolist(), mode="markers", name="layer (achieved)", legendgroup="layers",
                        showlegend=col == 1, marker=dict(color=_POINT_COLOR, size=9, line=dict(color="#1d2733", width=1)),
                        customdata=list(zip(layers, kinds, (y[ok] / peak * 100).round(1).tolist())),
                        hovertemplate="%{customdata[0]} (%{customdata[1]})<br>%{x:.3g} MAC/B<br>%{y:.3g} MAC/s"
                                      " = %{customdata[2]} % of peak<extra></extra>", row=1, col=col)  # fmt: skip
        fig.update_xaxes(type="log", dtick=1, title_text=f"MACs per {name.upper()} byte", row=1, col=col)
    fig.update_yaxes(type="log", dtick=1, exponentformat="SI")
    fig.update_yaxes(title_text="throughput (MAC/s)", row=1, col=1)
    _layout(fig, height=430)
    fig.update_layout(margin=dict(t=90), legend=dict(y=1.12))
    return fig
