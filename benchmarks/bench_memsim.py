"""Speed and results of the mapped SimPy memory model.

1. ResNet-50 and VGG-16 at batch 1 on horowitz45 (register file / SRAM / DRAM): wall time of
   ``simulate(workload)`` (map + SimPy + energy; tracing excluded, tile-search cache cleared first),
   SimPy events and peak Python memory (tracemalloc). Targets: ResNet-50 < 1 s, VGG-16 < 2 s.
2. SimPy events vs batch size (ResNet-18, batch 1 / 2 / 4): identical tile steps are grouped, so with
   the same step structure (64 KB SRAM: everything streams) the event count stays put while the number
   of tile steps grows; on the 8 MB SRAM larger batches spill activations, which adds streams.
3. SRAM sweep 32 KB .. 64 MB for LeNet-300-100, dense float32 vs Deep-Compressed by hand (8% density,
   6-bit shared weights, 5-bit relative indices): steady-state and cold energy per inference.
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from dataclasses import replace

from simulator.api import simulate, trace_model
from simulator.frozen import FrozenMap
from simulator.hardware import load_profile
from simulator.mapping import map_workload
from simulator.mapping.tiling import search_tile
from simulator.workload import CompressionRecord, TensorEncoding

PROFILE = "horowitz45"
SWEEP_KB = (32, 64, 128, 256, 512, 1000, 2000, 4000, 8000, 16000, 32000, 64000)


def _timed(workload, profile) -> tuple[float, float, object]:
    """Wall time (best of 3, tile-search cache cleared each time) and tracemalloc peak of a separate run."""
    walls = []
    for _ in range(3):
        search_tile.cache_clear()
        start = time.perf_counter()
        report = simulate(workload, profile)
        walls.append(time.perf_counter() - start)
    search_tile.cache_clear()
    tracemalloc.start()
    simulate(workload, profile)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return min(walls), peak, report


def _with_sram(profile, kb: int):
    levels = tuple(replace(lv, capacity_bits=kb * 8000) if lv.kind == "sram" else lv for lv in profile.levels)
    return replace(profile, name=f"{profile.name}@{kb}KB", levels=levels)


def run() -> list[dict]:
    warnings.simplefilter("ignore")
    profile = load_profile(PROFILE)
    rows: list[dict] = []
    for name, target in (("resnet50", 1.0), ("vgg16", 2.0)):
        workload = trace_model(name)
        wall, peak, report = _timed(workload, profile)
        bench = f"memsim/{name}@{PROFILE}"
        rows += [
            {"benchmark": bench, "metric": "simulate wall time (map + SimPy + energy)", "value": wall, "unit": "s",
             "target": f"< {target:g} s", "note": f"{len(workload.ops)} ops, {workload.total_macs / 1e9:.2f} GMACs; tracing excluded"},
            {"benchmark": bench, "metric": "SimPy events", "value": report.sim_events, "unit": "events"},
            {"benchmark": bench, "metric": "peak Python memory during simulate", "value": peak / 1e6, "unit": "MB",
             "note": "tracemalloc"},
            {"benchmark": bench, "metric": "energy per inference", "value": report.total_energy_pj * 1e-6, "unit": "uJ",
             "note": f"fits on chip: {report.fits_on_chip}; {dict(report.metadata).get('residency')}"},
            {"benchmark": bench, "metric": "latency", "value": report.latency_s * 1e3, "unit": "ms",
             "note": f"{report.stall_cycles / report.cycles:.0%} of cycles stalled on memory"},
        ]
    small = _with_sram(profile, 64)
    for batch in (1, 2, 4):
        workload = trace_model("resnet18", batch_size=batch)
        for hw, why in ((small, "every activation streams at every batch: identical step structure"),
                        (profile, "larger batches spill activations that fit at batch 1: more streams per op")):
            report = simulate(workload, hw, timeline=False)
            steps = sum(op.steps for op in map_workload(workload, hw).ops)
            rows.append(
                {"benchmark": f"memsim/resnet18@{hw.name} batch {batch}", "metric": "SimPy events", "value": report.sim_events,
                 "unit": "events", "note": f"{steps} DRAM-boundary tile steps; {why}"}
            )

    encoding = TensorEncoding(density=0.08, value_bits=6, index_bits=5, codebook_entries=64, codebook_value_bits=32)
    record = CompressionRecord(FrozenMap({f"fc{i}.weight": encoding for i in (1, 2, 3)}), ("hand-built",))
    workloads = {"dense": trace_model("lenet_300_100"), "compressed": trace_model("lenet_300_100", record=record)}
    for kb in SWEEP_KB:
        hw = _with_sram(profile, kb)
        for label, workload in workloads.items():
            report = simulate(workload, hw, timeline=False)
            rows.append({
                "benchmark": f"memsim/lenet_300_100 SRAM sweep ({label})", "metric": f"energy per inference @ {kb} KB SRAM",
                "value": report.total_energy_pj * 1e-6, "unit": "uJ",
                "note": f"fits: {report.fits_on_chip}; cold {report.cold_energy_pj * 1e-6:.3g} uJ; "
                        f"DRAM {report.level_bits('dram') / 8000:.4g} KB/inference",
            })
    return rows
