"""Speed and results of the mapped SimPy memory model.

1. ResNet-50 at batch 1 on horowitz45 and horowitz45-sram512k (weights stream), VGG-16 on horowitz45:
   CPU time of ``simulate(workload)`` (map + SimPy + energy; tracing excluded, tile-search cache cleared
   first; process time, robust to other jobs on a shared machine), SimPy events and peak Python memory
   (tracemalloc). Targets: ResNet-50 < 0.5 s (issue 15), VGG-16 < 2 s.
2. SimPy events vs batch size (ResNet-18, batch 1 / 2 / 4): identical tile steps are grouped, so with
   the same step structure (64 KB SRAM: everything streams) the event count stays put while the number
   of tile steps grows; on the 8 MB SRAM larger batches spill activations, which adds streams.
3. SRAM sweep 32 KB .. 64 MB for LeNet-300-100, dense float32 vs Deep-Compressed by hand (8% density,
   6-bit shared weights, 5-bit relative indices): steady-state and cold energy per inference.
4. The bracket (issue 15), through ``simulate()``: LeNet-300-100 streaming its weights from DRAM
   (horowitz45-sram512k, flat and LPDDR4 device) and ResNet-18 on horowitz45-2core-lpddr4 (2 cores sharing
   one LPDDR4, batch split) against 1 core: latency from the closed form's lower / upper bounds, the phase
   model and the stateful simulation side by side, with the stall breakdown, the DRAM row-hit rate and
   the DRAM energy per bit that explain the gap.
5. Window vs full fidelity on the zoo: the windowed simulation's latency error against playing every
   step (target < 1%), with the events and CPU time of each: the whole model where it has at most 600,000
   steps, else every op with at most 200,000 steps played alone (ops with more are named in the row).
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
from simulator.memsim import simulate_schedule
from simulator.workload import CompressionRecord, TensorEncoding

PROFILE = "horowitz45"
SWEEP_KB = (32, 64, 128, 256, 512, 1000, 2000, 4000, 8000, 16000, 32000, 64000)


def _timed(workload, profile) -> tuple[float, float, object]:
    """CPU time of this process (best of 3, tile-search cache cleared each time: process time, so that other
    jobs on a shared machine do not inflate it) and tracemalloc peak of a separate run."""
    walls = []
    for _ in range(3):
        search_tile.cache_clear()
        start = time.process_time()
        report = simulate(workload, profile)
        walls.append(time.process_time() - start)
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
    rows: list[dict] = []
    for name, profile_name, target in (("resnet50", PROFILE, 0.5), ("resnet50", "horowitz45-sram512k", 0.5),
                                       ("vgg16", PROFILE, 2.0)):
        profile = load_profile(profile_name)
        workload = trace_model(name)
        wall, peak, report = _timed(workload, profile)
        bench = f"memsim/{name}@{profile_name}"
        rows += [
            {"benchmark": bench, "metric": "simulate CPU time (map + SimPy + energy)", "value": wall, "unit": "s",
             "target": f"< {target:g} s", "note": f"{len(workload.ops)} ops, {workload.total_macs / 1e9:.2f} GMACs; tracing excluded"},
            {"benchmark": bench, "metric": "SimPy events", "value": report.sim_events, "unit": "events"},
            {"benchmark": bench, "metric": "peak Python memory during simulate", "value": peak / 1e6, "unit": "MB",
             "note": "tracemalloc"},
            {"benchmark": bench, "metric": "energy per inference", "value": report.total_energy_pj * 1e-6, "unit": "uJ",
             "note": f"fits on chip: {report.fits_on_chip}; {dict(report.metadata).get('residency')}"},
            {"benchmark": bench, "metric": "latency", "value": report.latency_s * 1e3, "unit": "ms",
             "note": f"{report.stall_cycles / report.cycles:.0%} of cycles stalled on memory"},
        ]
    profile = load_profile(PROFILE)
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
    rows += bracket_rows() + fidelity_rows()
    return rows


def _report_row(bench: str, label: str, report) -> dict:
    """One latency row from a ``CostReport``: the simulated/closed-form latency with its bracket, stalls,
    row-hit rate and DRAM energy per bit (all read off ``report.memory_timing``)."""
    mt = report.memory_timing
    us = 1e6 / report.clock_hz
    stalls = ", ".join(f"{k} {v / max(report.cycles, 1):.0%}" for k, v in mt.stall_cycles_by_cause.items() if v)
    hit = f"; row hits {mt.dram_row_hit_rate:.0%}" if mt.dram_row_hit_rate is not None else ""
    dram_bits = report.level_bits("dram")
    dram_pj = report.energy_by("component").get(("dram",), 0.0)
    per_bit = f"; DRAM {dram_pj / dram_bits:.3g} pJ/bit ({mt.dram_model})" if dram_bits else ""
    return {"benchmark": bench, "metric": f"latency: {label}", "value": report.cycles * us, "unit": "us",
            "note": f"bracket [{mt.lower_bound_cycles * us:.4g}, {mt.upper_bound_cycles * us:.4g}] us; "
                    f"stalls (cycles / latency, summed over cores): {stalls or 'none'}{hit}{per_bit}; "
                    f"{report.total_energy_pj * 1e-6:.4g} uJ per inference; {report.sim_events} events"}


def _variant(profile_name: str, scheduler: str | None = None, shared: tuple[str, ...] = ()):
    """``profile_name`` with its DRAM scheduler replaced and/or ``shared`` on-chip levels shared by its cores."""
    profile = load_profile(profile_name)
    levels = tuple(replace(lv, scheduler=scheduler) if (lv.kind == "dram" and scheduler) else
                   replace(lv, shared=True) if lv.name in shared else lv for lv in profile.levels)
    return replace(profile, levels=levels)


def bracket_rows() -> list[dict]:
    """Through ``simulate()``: LeNet-300-100 streaming from DRAM (horowitz45-sram512k, flat and LPDDR4) and
    ResNet-18 on horowitz45-2core-lpddr4 (2 cores sharing one LPDDR4, batch split; FR-FCFS as the profile
    says, round robin, and one shared SRAM) against 1 core."""
    warnings.simplefilter("ignore")
    rows: list[dict] = []
    two = "horowitz45-2core-lpddr4"
    cases = (("lenet_300_100", "horowitz45-sram512k", "", ({"dram": "flat"}, {"dram": "lpddr4-3200"})),
             ("resnet18", two, "", ({"cores": 1}, {})),
             ("resnet18", _variant(two, scheduler="round-robin"), ", round-robin scheduler", ({},)),
             ("resnet18", _variant(two, shared=("sram",)), ", one shared SRAM", ({},)))
    for name, profile, variant, variants in cases:
        workload = trace_model(name)
        bench = f"memsim/bracket {name}@{profile if isinstance(profile, str) else profile.name}"
        for kwargs in variants:
            for engine, label in (("closed-form", "phases (ops one after the other)"), ("simpy", "simulation")):
                if engine == "closed-form" and (not kwargs or variant):
                    continue  # the closed form plays one requestor (the 1-core row has it)
                start = time.perf_counter()
                report = simulate(workload, profile, engine=engine, timeline=False, **kwargs)
                mt = report.memory_timing
                cores = mt.requestors
                what = f"{label}, {cores} core{'s' * (cores > 1)}, DRAM {mt.dram_model}{variant}"
                row = _report_row(bench, what, report)
                row["note"] += f"; {time.perf_counter() - start:.2f} s wall"
                rows.append(row)
    return rows


#: Full fidelity plays every step (~10 SimPy events, ~0.1 ms CPU each): whole models with more steps are
#: compared op by op instead, on every op with at most ``MAX_FULL_OP_STEPS`` steps (the rest named in a row).
MAX_FULL_STEPS = 600_000
MAX_FULL_OP_STEPS = 200_000
FIDELITY_MODELS = ("lenet_300_100", "lenet5", "resnet18", "mobilenet_v2")


def window_vs_full(schedule, profile, dram=None) -> tuple:
    """(window stats, full stats, window CPU s, full CPU s) of one schedule."""
    out = []
    for fidelity in ("window", "full"):
        start = time.process_time()
        stats = simulate_schedule(schedule, profile, timeline=False, fidelity=fidelity, dram=dram)
        out += [stats, time.process_time() - start]
    return out[0], out[2], out[1], out[3]


def per_op_errors(schedule, profile, dram=None, max_steps: int = MAX_FULL_OP_STEPS) -> dict:
    """Window vs full on every op of ``schedule`` with at most ``max_steps`` steps, each played alone (a
    one-op schedule: no overlap with its neighbours): per-op relative latency errors and totals."""
    from dataclasses import replace as _replace

    errors, window_sum, full_sum, steps, skipped, cpu = [], 0.0, 0.0, 0, [], 0.0
    for op in schedule.ops:
        if op.steps > max_steps:
            skipped.append(op.steps)
            continue
        w, f, tw, tf = window_vs_full(_replace(schedule, ops=(op,)), profile, dram)
        errors.append(abs(w.cycles - f.cycles) / f.cycles if f.cycles else 0.0)
        window_sum, full_sum, steps, cpu = window_sum + w.cycles, full_sum + f.cycles, steps + op.steps, cpu + tw + tf
    return {"errors": errors, "window_cycles": window_sum, "full_cycles": full_sum, "steps": steps,
            "skipped_steps": skipped, "cpu_s": cpu}


def fidelity_rows(names: tuple[str, ...] = FIDELITY_MODELS) -> list[dict]:
    """Windowed vs full-event simulation on the zoo (horowitz45-sram512k: weights stream, many steps), with
    the profile's flat DRAM and with the LPDDR4 device model (pipelined requests): the whole model where it
    has at most ``MAX_FULL_STEPS`` steps, else every op with at most ``MAX_FULL_OP_STEPS`` steps on its own."""
    from simulator.memsim.dram_presets import DRAM_PRESETS

    warnings.simplefilter("ignore")
    profile = load_profile("horowitz45-sram512k")
    rows = []
    for name in names:
        try:
            schedule = map_workload(trace_model(name), profile)
        except Exception as exc:  # a zoo name missing on this branch is reported, not fatal
            rows.append({"benchmark": f"memsim/fidelity {name}", "metric": "skipped", "value": 0, "unit": "", "note": str(exc)[:80]})
            continue
        steps = sum(op.steps for op in schedule.ops)
        bench = f"memsim/fidelity {name}@{profile.name}"
        for dram in (None, DRAM_PRESETS["lpddr4-3200"]):
            label = dram.name if dram is not None else "flat"
            if steps <= MAX_FULL_STEPS:
                w, f, tw, tf = window_vs_full(schedule, profile, dram)
                rows.append({"benchmark": bench, "metric": f"whole model: window latency error vs full, DRAM {label}",
                             "value": abs(w.cycles - f.cycles) / f.cycles * 100, "unit": "%", "target": "< 1 %",
                             "note": f"{steps:,} steps; window {w.events} events {tw:.2f} s CPU; full {f.events} "
                                     f"events {tf:.2f} s CPU"})
                continue
            r = per_op_errors(schedule, profile, dram)
            n, worst = len(r["errors"]), max(r["errors"], default=0.0)
            skipped = r["skipped_steps"]
            note = (f"{n} of {len(schedule.ops)} ops, {r['steps']:,} of {steps:,} steps, each op alone; sum over them "
                    f"{abs(r['window_cycles'] - r['full_cycles']) / max(r['full_cycles'], 1) * 100:.4f} %; "
                    f"{r['cpu_s']:.1f} s CPU; not played: {len(skipped)} ops of {', '.join(f'{k:,}' for k in sorted(skipped))} steps"
                    if skipped else f"{n} ops, all {steps:,} steps, each op alone; {r['cpu_s']:.1f} s CPU")
            rows.append({"benchmark": bench, "metric": f"per op: worst window latency error vs full, DRAM {label}",
                         "value": worst * 100, "unit": "%", "target": "< 1 %", "note": note})
    return rows
