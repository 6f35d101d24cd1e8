"""Sweep throughput: points/s of one >= 1,000-point grid on three backends, and the time to resume it.

The grid: SRAM capacity (10 sizes, 64 KB .. 16 MB, log-spaced) x weight bits (2 .. 8, weight sharing,
4-bit relative indices) x density (15 values, 2 % .. 50 %, log-spaced) = 1,050 points of ResNet-18 on
the 3-level (register file / SRAM / DRAM) ``horowitz45`` profile. If ResNet-18 cannot be costed on any
shipped 3-level profile (a missing energy entry, say), the largest zoo model that can is used and the
note says why. The model is traced once, outside the timings (the trace time is its own row), and each
backend gets a fresh results database:

- ``inprocess``: one process, no parallelism (the debugging backend);
- ``processes``: a process pool on all cores (the default backend), start-up included;
- ``dask``: a Dask ``LocalCluster`` with one single-threaded worker process per core, start-up included.

Then the finished ``processes`` sweep is run again: every point is found in the database, so the
time is planning (1,050 content hashes) + one read of the database + building the table.
Target (issue 9): >= 20 points/s on 2 cores; resume < 1 s.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

MODELS = ("resnet18", "mobilenet_v2", "vgg16", "alexnet", "lenet5")
SRAM_BYTES = (64e3, 16e6)


def _three_level_profiles() -> list[str]:
    from simulator.hardware import list_profiles, load_profile

    names = []
    for name in ["horowitz45", *list_profiles()]:
        try:
            if len(load_profile(name).levels) == 3 and name not in names:
                names.append(name)
        except Exception:  # noqa: BLE001 - a broken shipped profile is skipped here (its own tests catch it)
            continue
    return names


def _pick_model_and_profile() -> tuple[str, str, object, float, list[str]]:
    """The first (model, profile) in preference order that costs without error; the misses as notes."""
    from simulator.api import simulate, trace_model
    from simulator.hardware import load_profile

    misses = []
    profiles = _three_level_profiles()
    for model in MODELS:
        start = time.perf_counter()
        workload = trace_model(model)
        trace_s = time.perf_counter() - start
        for profile in profiles:
            try:
                simulate(workload, load_profile(profile))
            except Exception as exc:  # noqa: BLE001 - recorded in the note
                misses.append(f"{model} on {profile}: {type(exc).__name__}: {str(exc)[:160]}")
                continue
            return model, profile, workload, trace_s, misses
    raise RuntimeError("no zoo model could be costed on a 3-level profile: " + " | ".join(misses))


def _spec(model: str, profile: str):
    from simulator.hardware import resolve_profile_table
    from simulator.sweep import parse_spec
    from simulator.units import CAPACITY_UNITS_BITS

    table = resolve_profile_table(profile)
    sram = next(name for name, level in table["memory"].items() if level.get("kind") == "sram")
    unit = table["memory"][sram]["capacity"]["unit"]
    low, high = (8 * b / CAPACITY_UNITS_BITS[unit] for b in SRAM_BYTES)
    return parse_spec(
        {
            "sweep": {"name": "bench", "model": model, "profile": profile},
            "compression": {"index_bits": 2, "weight_sharing": True},
            "axis": [
                {"key": f"profile.memory.{sram}.capacity", "min": low, "max": high, "num": 10, "scale": "log"},
                {"key": "compression.weight_bits", "min": 2, "max": 8, "num": 7},
                {"key": "compression.density", "min": 0.02, "max": 0.5, "num": 15, "scale": "log"},
            ],
        }
    )


def run() -> list[dict]:
    from simulator.sweep import DaskBackend, InProcessBackend, ProcessBackend
    from simulator.sweep import run as run_sweep

    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    model, profile, workload, trace_s, misses = _pick_model_and_profile()
    spec = _spec(model, profile)
    workloads = {(model, 1): workload}
    name = f"sweep/{model}@{profile}"
    note = f"{model} on {profile}, {cores} cores" + (f"; skipped: {' | '.join(misses)}" if misses else "")
    rows = [{"benchmark": name, "metric": "trace once", "value": trace_s, "unit": "s", "note": note}]
    backends = {
        "inprocess": InProcessBackend(),
        "processes": ProcessBackend(cores),
        "dask LocalCluster": DaskBackend(local_workers=cores, processes=True),
    }
    with tempfile.TemporaryDirectory(prefix="pjsim-bench-sweep-") as tmp:
        for label, backend in backends.items():
            db = Path(tmp) / f"{label.split()[0]}.sqlite"
            start, cpu_start = time.perf_counter(), time.process_time()
            df = run_sweep(spec, backend=backend, db=db, workloads=workloads)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            if label == "inprocess":
                # CPU seconds per point in one process: what the points cost without other jobs'
                # contention; cores / that is the ceiling for a pool on idle cores (derived, not measured).
                cpu_per_point = cpu / len(df)
                rows.append(
                    {
                        "benchmark": name,
                        "metric": "CPU time per point (in-process)",
                        "value": cpu_per_point * 1e3,
                        "unit": "ms",
                        "note": f"ceiling on {cores} idle cores: {cores / cpu_per_point:.1f} points/s (derived)",
                    }
                )
            rows.append(
                {
                    "benchmark": name,
                    "metric": f"points/s, {label} ({len(df)} points)",
                    "value": len(df) / wall,
                    "unit": "points/s",
                    "target": ">= 20 on 2 cores" if label != "inprocess" else "",
                    "note": (
                        f"{wall:.1f} s wall incl. worker start-up; {df['compute_s'].mean() * 1e3:.1f} ms/point in "
                        f"simulate; load average {os.getloadavg()[0]:.1f} (before: {load_before:.1f})"
                    ),
                }
            )
        db = Path(tmp) / "processes.sqlite"
        start = time.perf_counter()
        df = run_sweep(spec, backend=ProcessBackend(cores), db=db)
        resume_s = time.perf_counter() - start
        assert (df["writes"] == 1).all() and df["run_id"].nunique() == 1, "resume recomputed points"
        rows.append(
            {
                "benchmark": name,
                "metric": f"resume a finished sweep ({len(df)} points)",
                "value": resume_s,
                "unit": "s",
                "target": "< 1 s",
                "note": "all points found in SQLite: plan + hash + read + table; nothing traced or run",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
