"""pjsim vs the peers (ZigZag, SCALE-Sim) on their own ResNet-18 cases: ratios per metric, before and after v2.

"before" is pjsim v1's compute model on the same profile (cycles = MACs / PEs, no array geometry); "after" is the
array-geometry model. Peer numbers come from two places, named in the source column: their published outputs
(``benchmarks.peers.PEER_REFERENCE``) and the real peers run side by side (``make bench-peers``: SCALE-Sim 3.0.0
and ZigZag 3.9.1 in their own virtual environment ``.venv-peers``, called in a subprocess by
``benchmarks/peer_runner.py``; outputs cached as JSON in ``benchmarks/results/peers/``, read back by
``benchmarks.peer_results``). ``python -m benchmarks.bench_peers --run-peers [CASE...]`` re-runs the peers first.
Also writes ``benchmarks/results/PEERS.md``.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.peers import PEER_REFERENCE, peer_summary, resnet18_workload
from simulator.fileio import write_text_atomic

RESULTS = Path(__file__).parent / "results"


def _row(peer: str, metric: str, pjsim: float, reference: tuple[float, str] | None, before: float | None, unit: str,
         note: str = "") -> dict:
    value, source = reference if reference is not None else (None, "")
    ratio = pjsim / value if value else None
    return {"benchmark": f"peers/{peer}", "metric": metric, "value": pjsim, "unit": unit, "peer": value,
            "ratio": ratio, "before": before, "target": source, "note": note}


def run() -> list[dict]:
    w = resnet18_workload()
    zz = peer_summary("zigzag-tpu-like", w)
    zo = peer_summary("zigzag-tpu-like", w, independent_layers=True)
    ss = peer_summary("scalesim-32x32-os", w)
    ref_zz, ref_ss = PEER_REFERENCE["zigzag-tpu-like"], PEER_REFERENCE["scalesim-32x32-os"]
    conv1_macs = 64 * 3 * 112 * 112 * 49
    rows = [
        _row("zigzag-tpu-like", "conv1 compute cycles", zz.compute_cycles_by_layer["conv1"], ref_zz["conv1_cycles"],
             conv1_macs / 1024, "cycles", "utilisation 3/32 from the K x C array"),
        _row("zigzag-tpu-like", "MAC-layer compute cycles (stall-free)", zz.compute_cycles, None, zz.macs / 1024, "cycles"),
        _row("zigzag-tpu-like", "network cycles (simulated, all ops, activations on chip)", zz.network_cycles,
             ref_zz["latency_cycles"], None, "cycles", "ZigZag costs each layer from DRAM; pjsim the whole network"),
        _row("zigzag-tpu-like", "MAC-layer energy", zz.energy_pj, ref_zz["energy_pj"], None, "pJ",
             "whole-network mode (activations on chip): a different question from ZigZag's layer-by-layer number"),
    ]
    for comp, pj in sorted(zz.energy_by_component_pj.items()):
        rows.append(_row("zigzag-tpu-like", f"MAC-layer energy: {comp}", pj, None, None, "pJ"))
    for operand, bits in sorted(zz.dram_bits_by_operand.items()):
        rows.append(_row("zigzag-tpu-like", f"DRAM {operand}", bits, None, None, "bit"))
    rows += [
        _row("zigzag-tpu-like (layer by layer)", "MAC-layer energy", zo.energy_pj, ref_zz["energy_pj"], None, "pJ",
             "ZigZag's origin mode; per component against the real ZigZag 3.9.1 run: the rows of this case below"),
        _row("zigzag-tpu-like (layer by layer)", "MAC-layer cycles (simulated, conv + fc through DRAM)",
             zo.mac_layer_cycles, ref_zz["latency_cycles"], None, "cycles", "like with like: ZigZag costs conv + fc only"),
        _row("zigzag-tpu-like (layer by layer)", "network cycles (simulated, all ops through DRAM)", zo.network_cycles,
             None, None, "cycles", "adds pooling and residual adds, which ZigZag does not cost"),
    ]
    for comp, pj in sorted(zo.energy_by_component_pj.items()):
        rows.append(_row("zigzag-tpu-like (layer by layer)", f"MAC-layer energy: {comp}", pj, None, None, "pJ"))
    for operand, bits in sorted(zo.dram_bits_by_operand.items()):
        rows.append(_row("zigzag-tpu-like (layer by layer)", f"DRAM {operand}", bits, None, None, "bit"))
    eo = peer_summary("zigzag-edge-tpu-like", w, independent_layers=True)
    ref_eo = PEER_REFERENCE["zigzag-edge-tpu-like"]
    rows += [
        _row("zigzag-edge-tpu-like (layer by layer)", "conv1 compute cycles", eo.compute_cycles_by_layer["conv1"], None,
             conv1_macs / 1024, "cycles", "K8 x C8 x OX4 x OY4 array: C uses 3 of 8 lanes"),
        _row("zigzag-edge-tpu-like (layer by layer)", "MAC-layer energy", eo.energy_pj, ref_eo["energy_pj"], None, "pJ",
             "per-operand memories as in the yaml (32 KB weight SRAM included); per component: rows below"),
        _row("zigzag-edge-tpu-like (layer by layer)", "MAC-layer cycles (simulated, conv + fc through DRAM)",
             eo.mac_layer_cycles, ref_eo["latency_cycles"], None, "cycles", "like with like: conv + fc only"),
        _row("zigzag-edge-tpu-like (layer by layer)", "network cycles (simulated, all ops through DRAM)",
             eo.network_cycles, None, None, "cycles", "adds the non-MAC ops ZigZag does not cost"),
    ]
    for comp, pj in sorted(eo.energy_by_component_pj.items()):
        rows.append(_row("zigzag-edge-tpu-like (layer by layer)", f"MAC-layer energy: {comp}", pj, None, None, "pJ"))
    rows += [
        _row("scalesim-32x32-os", "MAC-layer compute cycles", ss.compute_cycles, ref_ss["compute_cycles"],
             ss.macs / 1024, "cycles", "systolic-os: per layer folds x (window + 62) - 1 = SCALE-Sim's Total Cycles; "
             "the README total adds SCALE-Sim's prefetch/drain (~3,700 per layer)"),
        _row("scalesim-32x32-os", "network cycles (simulated, all ops)", ss.network_cycles, None, None, "cycles",
             "SCALE-Sim's OS dataflow (systolic-os) for conv/fc, whole-network mode"),
    ]
    rows += _template_rows(w)
    from benchmarks.peers_side import side_by_side_rows

    rows += side_by_side_rows(w, _row)
    rows += _tie_break_rows(w)
    _write_table(rows)
    return [{k: r[k] for k in ("benchmark", "metric", "value", "unit", "target", "note")} for r in rows]


def _template_rows(workload) -> list[dict]:
    """The OS preset as a fixed-mapping template (``mapping/fixed_templates.py``) on SCALE-Sim's profile, layer by
    layer: MAC-layer cycles and DRAM words per operand against SCALE-Sim's complete cached run."""
    from benchmarks.peer_results import load, scalesim_layers
    from benchmarks.peers import MAC_KINDS
    from simulator.api import resolve_precision
    from simulator.hardware import load_profile
    from simulator.mapping import map_workload
    from simulator.mapping.fixed_apply import apply_dataflow_preset

    record = load("scalesim-os")
    if record is None or not record.get("complete"):
        return []
    layers = scalesim_layers(record)
    wl, hw = resolve_precision(workload, load_profile("scalesim-32x32-os"), None)
    sched = apply_dataflow_preset(map_workload(wl, hw, independent_layers=True), wl, hw, "os")
    ops = [op for op in sched.ops if op.kind in MAC_KINDS and op.macs]
    words = {key: sum(b for op in ops for (lvl, o, d), b in op.traffic_bits.items() if lvl == hw.dram.name and (o, d) == key) / 8
             for key in (("inputs", "read"), ("weights", "read"), ("outputs", "write"))}
    case, src = "scalesim-32x32-os (OS template, layer by layer)", "SCALE-Sim 3.0.0 run: benchmarks/results/peers/scalesim-os.json"
    note = "fixed-mapping template: ceil folds, each operand in its own SRAM's active half, fill/drain per fold"
    ref_cycles = PEER_REFERENCE["scalesim-32x32-os"]["compute_cycles"]
    return [
        _row(case, "MAC-layer compute cycles", sum(op.compute_cycles for op in ops), ref_cycles, None, "cycles",
             "target 5%; the 28 x 28-output layers fold 28 times on 32 rows (SCALE-Sim's flattened pixels: 25)"),
        _row(case, "DRAM ifmap reads", words[("inputs", "read")], (sum(v.dram_reads["ifmap"] for v in layers.values()), src),
             None, "word", note),
        _row(case, "DRAM filter reads", words[("weights", "read")], (sum(v.dram_reads["filter"] for v in layers.values()), src),
             None, "word", note),
        _row(case, "DRAM ofmap writes", words[("outputs", "write")], (sum(v.dram_ofmap_writes for v in layers.values()), src),
             None, "word", note),
    ]


def _tie_break_rows(workload) -> list[dict]:
    """ResNet-18 simulated latency with the v1 tie-break (fewest steps) vs v2 (most steps); energy must not change."""
    from simulator.api import simulate
    from simulator.mapping import tiling

    rows = []
    saved = tiling.TIE_BREAK
    try:
        for profile in ("horowitz45", "eyeriss", "npu-ethos-n77", "zigzag-tpu-like", "zigzag-edge-tpu-like"):
            result = {}
            for rule in ("fewest_steps", "most_steps"):
                tiling.TIE_BREAK = rule
                tiling.search_tile.cache_clear()
                r = simulate(workload, profile, timeline=False)
                result[rule] = (r.cycles, r.total_energy_pj)
            (c0, e0), (c1, e1) = result["fewest_steps"], result["most_steps"]
            rows.append(_row(f"tie-break/{profile}", "simulated cycles, most-steps tie-break", c1, None, c0, "cycles",
                             f"{(c1 / c0 - 1) * 100:+.1f}% latency; energy {e0:.6g} -> {e1:.6g} pJ"))
    finally:
        tiling.TIE_BREAK = saved
        tiling.search_tile.cache_clear()
    return rows


def main(argv: list[str] | None = None) -> int:
    """``--run-peers [CASE...]``: run the real peers (``.venv-peers``) first; then write the table."""
    import argparse
    import subprocess
    import sys

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_peers", description=main.__doc__)
    parser.add_argument("--run-peers", nargs="*", metavar="CASE", default=None,
                        help="re-run the peers (all cases, or the named ones: scalesim-os, zigzag-tpu_like, ...)")
    args = parser.parse_args(argv)
    if args.run_peers is not None:
        python = Path(__file__).resolve().parents[1] / ".venv-peers" / "bin" / "python"
        if not python.exists():
            raise SystemExit(f"{python} missing: run `make bench-peers` (it creates the peers' virtual environment)")
        runner = Path(__file__).with_name("peer_runner.py")
        subprocess.run([str(python), str(runner), str(RESULTS / "peers"), *args.run_peers], check=True)
    for row in run():
        print(row["benchmark"], row["metric"], row["value"], row["unit"], sep=" | ")
    return 0


def _ratio(v: float | None) -> str:
    return "" if v is None else f"{v:.4f}"


def _fmt(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, (int, float)):
        return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(v)


def _write_table(rows: list[dict]) -> None:
    lines = [
        "# pjsim vs peers on their own ResNet-18 cases",
        "",
        f"Generated by `python -m benchmarks.run peers` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        "before = pjsim v1 compute model (MACs / PEs); ratio = pjsim / peer. Peer values are the peers' published "
        "outputs or the real peers' cached runs (`benchmarks/results/peers/*.json`, `make bench-peers`), as the source "
        "column says. SCALE-Sim counts are words (1 byte); pjsim's DRAM bits are divided by 8 to compare.",
        "",
        "| case | metric | pjsim | before (v1) | peer | ratio | unit | source | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['benchmark'].removeprefix('peers/')} | {r['metric']} | {_fmt(r['value'])} | {_fmt(r['before'])} | "
            f"{_fmt(r['peer'])} | {_ratio(r['ratio'])} | {r['unit']} | {r['target']} | {r['note']} |"
        )
    # Keep the Timeloop section that benchmarks/bench_timeloop.py writes between its markers.
    from benchmarks.bench_timeloop import BEGIN, END

    old = (RESULTS / "PEERS.md").read_text() if (RESULTS / "PEERS.md").exists() else ""
    if BEGIN in old and END in old:
        lines += ["", old[old.index(BEGIN):old.index(END) + len(END)]]
    write_text_atomic(RESULTS / "PEERS.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
