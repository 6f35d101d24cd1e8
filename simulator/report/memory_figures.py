"""Figures of the memory system's play over time (issue 15); the HTML report calls them.

``bandwidth_over_time_figure``: per memory port (and compute array) the share of its bandwidth in use
in each bin of the simulated inference (``MemoryTiming.utilisation_over_time``, at most 64 bins), so
the phases the bracket summarises — DRAM-bound streaming, compute-bound stretches, a second core's
contention — are visible on one time axis.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from simulator.report.records import Configuration

__all__ = ["CAPTION", "bandwidth_over_time_figure", "has_bandwidth_series"]

CAPTION = ("Per memory port and compute array, the share of its bandwidth (time) in use in each bin of the "
           "simulated inference: where the DRAM saturates, where compute dominates, where a second core contends.")


def has_bandwidth_series(config: Configuration) -> bool:
    """Whether the configuration's costing recorded a utilisation series (the SimPy engine does)."""
    mt = config.cost.memory_timing
    return mt is not None and mt.utilisation_bin_cycles > 0 and bool(mt.utilisation_over_time)


def bandwidth_over_time_figure(config: Configuration) -> go.Figure:
    """Busy share (%) of each port and compute array per time bin, one line each (DRAM first)."""
    report = config.cost
    mt = report.memory_timing
    fig = go.Figure()
    if mt is None or not mt.utilisation_over_time:
        return fig
    scale = 1e6 / report.clock_hz if report.clock_hz else 1.0
    unit = "µs" if report.clock_hz else "cycles"
    n = max(len(v) for v in mt.utilisation_over_time.values())
    if report.clock_hz and n * mt.utilisation_bin_cycles * scale >= 10_000:
        scale, unit = scale / 1000, "ms"
    centres = (np.arange(n) + 0.5) * mt.utilisation_bin_cycles * scale
    names = sorted(mt.utilisation_over_time, key=lambda k: ("dram" not in k, "compute" in k, k))
    for name in names:
        values = np.asarray(mt.utilisation_over_time[name], dtype=float) * 100
        fig.add_scatter(x=centres.tolist(), y=values.tolist(), mode="lines", name=name, line_shape="hvh",
                        hovertemplate=f"{name}: %{{y:.1f}} % busy around %{{x:.4g}} {unit}<extra></extra>")
    fig.update_layout(height=340, margin=dict(l=60, r=20, t=40, b=50), xaxis_title=f"time ({unit})",
                      yaxis_title="busy (% of bandwidth)", yaxis_range=[0, 105],
                      title=dict(text=f"Bandwidth utilisation over time ({n} bins of "
                                      f"{mt.utilisation_bin_cycles:,.0f} cycles)", font=dict(size=13), x=0.01))
    return fig
