"""The demo report: how long the demo takes, how big its HTML is, and how fast Chromium opens it.

Targets (issue 8): demo in under ~60 s on 2 cores; report under 10 MB; opens in headless Chromium in
under 3 s. Measured, not asserted. "open" is navigation start -> load event (plotly.js parsed, every
figure script run); "drawn" adds the wait until every Plotly div holds its SVG. Median of 3 opens.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

__all__ = ["run"]


def run() -> list[dict]:
    from simulator.demo import run_demo
    from simulator.report.browser import browser_unavailable_reason, open_report, wait_for_figures

    rows = []
    out = Path(tempfile.mkdtemp(prefix="pjsim-bench-report-")) / "demo.html"
    start = time.perf_counter()
    result = run_demo(out)
    demo_s = time.perf_counter() - start
    rows.append(dict(benchmark="report", metric="demo build + write (pjsim demo)", value=demo_s, unit="s", target="< 60",
                     note=f"{len(result.configurations)} configurations; notes: {len(result.notes)}"))  # fmt: skip
    size_mb = out.stat().st_size / 1e6
    rows.append(dict(benchmark="report", metric="demo report size", value=size_mb, unit="MB", target="< 10",
                     note="plotly.js inlined once (~4.7 MB of it)"))  # fmt: skip
    reason = browser_unavailable_reason()
    if reason is not None:
        rows.append(dict(benchmark="report", metric="open in headless Chromium", value=float("nan"), unit="s", target="< 3",
                         note=f"not measured: {reason}"))  # fmt: skip
        return rows
    opens, drawn = [], []
    n_figures = 0
    for _ in range(3):
        t0 = time.perf_counter()
        with open_report(out) as driver:
            opens.append(driver.pjsim_load_s)
            n_figures = len(wait_for_figures(driver, timeout_s=120))
            drawn.append(time.perf_counter() - t0)
    rows.append(dict(benchmark="report", metric="open in headless Chromium (load event)", value=statistics.median(opens),
                     unit="s", target="< 3", note=f"median of 3; {n_figures} figures"))  # fmt: skip
    rows.append(dict(benchmark="report", metric="browser start + open + all figures drawn", value=statistics.median(drawn),
                     unit="s", target="", note="median of 3, includes starting Chromium"))  # fmt: skip
    return rows
