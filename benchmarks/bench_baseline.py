"""Thin-path timings: trace + no-reuse cost of the zoo's LeNets, and the lecture's DRAM arithmetic."""

from __future__ import annotations

import time

from simulator.api import simulate, trace_model
from simulator.hardware import load_profile


def run() -> list[dict]:
    rows = []
    profile = load_profile("horowitz45")
    for name in ("lenet_300_100", "lenet5"):
        start = time.perf_counter()
        workload = trace_model(name)
        traced = time.perf_counter()
        report = simulate(workload, profile)
        done = time.perf_counter()
        rows += [
            {"benchmark": f"baseline/{name}", "metric": "trace time", "value": traced - start, "unit": "s"},
            {"benchmark": f"baseline/{name}", "metric": "cost time", "value": done - traced, "unit": "s"},
            {"benchmark": f"baseline/{name}", "metric": "MACs", "value": report.total_macs, "unit": "MAC"},
            {"benchmark": f"baseline/{name}", "metric": "no-reuse energy", "value": report.total_energy_pj * 1e-6, "unit": "uJ",
             "note": "every operand word from DRAM once per op (upper bound)"},
        ]
    # The lecture: 1 G connections at 20 fps with every weight from DRAM = 20 * 1e9 * 640 pJ = 12.8 W.
    watts = 20 * 1e9 * profile.dram.read_energy_pj * 1e-12
    rows.append({"benchmark": "lecture/dram-arithmetic", "metric": "1G connections @ 20 fps", "value": watts, "unit": "W",
                 "target": "12.8 W (Han et al.)"})
    return rows
