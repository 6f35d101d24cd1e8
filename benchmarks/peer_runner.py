"""Run the real peer tools (SCALE-Sim, ZigZag) on their own cases; one small JSON file per case.

Runs under the peers' own virtual environment (``.venv-peers``: ``zigzag-dse==3.9.1 six scalesim==3.0.0
numpy==2.3.5``, made by ``make bench-peers``), never under pjsim's: it imports no pjsim module. pjsim's side
(``benchmarks/bench_peers.py``) calls it in a subprocess and reads the files it writes::

    .venv-peers/bin/python benchmarks/peer_runner.py OUT_DIR [scalesim-os scalesim-ws scalesim-is zigzag ...]

Written per case (``OUT_DIR/<case>.json``): the command, the peer's version, the input files, wall time and

* SCALE-Sim (``scalesim.scale_sim.scalesim(save_disk_space=True)`` on ``scale_32x32_os.cfg`` with the dataflow
  set to os / ws / is, topology ``resnet18_torch.csv``, or ``topologies/<name>.csv`` for a case
  ``scalesim-<dataflow>@<name>``): per layer, its COMPUTE_REPORT (total cycles, stall
  cycles, utilisation) and DETAILED_ACCESS_REPORT (SRAM and DRAM reads/writes per operand, in words);
* ZigZag (``zigzag.api.get_hardware_performance_zigzag`` on the four ``zigzag/EXPECTED.md`` cases): total
  energy and latency, and per layer its latency, MAC energy and memory energy per operand and memory level
  (``CostModelEvaluation.mem_energy_breakdown``) with the level names from the hardware file.
"""

from __future__ import annotations

import configparser
import csv
import json
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

PEERS_DATA = Path(__file__).resolve().parents[2] / "shared" / "peers-data"
if not PEERS_DATA.exists():  # the lead's checkout: shared/ next to the repository root or inside it
    PEERS_DATA = Path(__file__).resolve().parents[1] / "shared" / "peers-data"

SCALESIM_TOPOLOGY = "scalesim/topologies/resnet18_torch.csv"
ZIGZAG_CASES = {
    "zigzag-gemm_l1": ("gemm_l1", "workloads/gemm_layer.yaml"),
    "zigzag-gemm_l1_l3": ("gemm_l1_l3", "workloads/gemm_layer.yaml"),
    "zigzag-tpu_like": ("tpu_like", "workloads/resnet18.onnx"),
    "zigzag-edge_tpu_like": ("edge_tpu_like", "workloads/resnet18.onnx"),
}


def _command(case: str) -> str:
    return f".venv-peers/bin/python benchmarks/peer_runner.py OUT_DIR {case}"


def run_scalesim(dataflow: str, out: Path | None = None, case: str = "") -> dict:
    """SCALE-Sim 3.0.0 on ResNet-18 (``resnet18_torch.csv``) with the 32x32 cfg, dataflow ``dataflow``.

    One SCALE-Sim run per layer (a one-row topology; SCALE-Sim costs layers independently, so the numbers are
    those of the whole-topology run), the record rewritten to ``out`` after each layer so that a long run
    leaves its finished layers behind (``complete`` says whether all are there); a rerun with the same inputs
    resumes from that file and skips the layers it holds."""
    topology = PEERS_DATA / SCALESIM_TOPOLOGY
    rows = [row for row in csv.reader(topology.open()) if row and row[0].strip()]
    header, layers_in = rows[0], rows[1:]
    # Cheapest layers first (SCALE-Sim's run time grows with the MACs): a run cut short keeps the most layers.
    layers_in.sort(key=_scalesim_macs)
    record = {
        "peer": "scalesim", "version": version("scalesim"), "numpy": version("numpy"),
        "inputs": {"config": "scalesim/scale_32x32_os.cfg", "dataflow_override": dataflow,
                   "topology": SCALESIM_TOPOLOGY, "layout (parsed, unused)": _layout()},
        "wall_s": 0.0, "complete": False, "layers": [],
    }
    case = case or f"scalesim-{dataflow}"
    record = _resume(out, case, record)
    done = {layer["name"] for layer in record["layers"]}
    for row in layers_in:
        if row[0].strip() in done:  # cached by an earlier (cut-short) run of the same case and inputs
            continue
        start, cpu = time.perf_counter(), time.process_time()
        compute, access = _scalesim_layer(dataflow, header, row)
        wall_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        record["wall_s"] += wall_s
        record["cpu_s"] = record.get("cpu_s", 0.0) + cpu_s
        record["layers"].append({"name": row[0].strip(), "compute": compute, "access": access,
                                 "wall_s": wall_s, "cpu_s": cpu_s})
        print(f"{case}: layer {row[0].strip()} done ({len(record['layers'])}/{len(layers_in)}, "
              f"{wall_s:.0f} s wall, {cpu_s:.0f} s CPU)", flush=True)
        record["total_cycles"] = sum(layer["compute"]["Total Cycles"] for layer in record["layers"])
        record["complete"] = len(record["layers"]) == len(layers_in)
        if out is not None:
            _write(out, record, case)
    return record


def _resume(out: Path | None, case: str, fresh: dict) -> dict:
    """The record an earlier run of ``case`` left in ``out`` when it was run with the same peer version, numpy
    and inputs (its finished layers are kept and skipped), else ``fresh``."""
    path = out / f"{case}.json" if out is not None else None
    if path is None or not path.exists():
        return fresh
    try:
        old = json.loads(path.read_text())
    except json.JSONDecodeError:
        return fresh
    same = all(old.get(key) == fresh[key] for key in ("peer", "version", "numpy", "inputs"))
    return old if same and isinstance(old.get("layers"), list) else fresh


def _scalesim_layer(dataflow: str, header: list[str], row: list[str]) -> tuple[dict, dict]:
    """One topology row through ``scalesim(save_disk_space=True)``: its COMPUTE and DETAILED_ACCESS rows."""
    from scalesim.scale_sim import scalesim

    cfg = configparser.ConfigParser()
    cfg.optionxform = str
    cfg.read(PEERS_DATA / "scalesim" / "scale_32x32_os.cfg")
    cfg["architecture_presets"]["Dataflow"] = dataflow
    cfg["general"]["run_name"] = f"scale_32x32_{dataflow}"
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / f"scale_32x32_{dataflow}.cfg"
        with cfg_path.open("w") as f:
            cfg.write(f)
        topo_path = Path(tmp) / "layer.csv"
        topo_path.write_text(",".join(header) + "\n" + ",".join(row) + "\n")
        # SCALE-Sim 3 always parses a layout file; with IfmapCustomLayout/FilterCustomLayout False it reads none
        # of it (the first ResNet-18 layout row serves every layer).
        layout_rows = (PEERS_DATA / _layout()).read_text().splitlines()
        layout_path = Path(tmp) / "layout.csv"
        layout_path.write_text(layout_rows[0] + "\n" + layout_rows[1] + "\n")
        sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg_path), topology=str(topo_path),
                       layout=str(layout_path))
        sim.run_scale(top_path=tmp)
        out = Path(tmp) / f"scale_32x32_{dataflow}"
        (compute,) = _read_report(out / "COMPUTE_REPORT.csv")
        (access,) = _read_report(out / "DETAILED_ACCESS_REPORT.csv")
    return compute, access


def _write(out_dir: Path, record: dict, case: str) -> None:
    record.setdefault("command", _command(case))
    tmp = out_dir / f".{case}.json.tmp"
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    tmp.replace(out_dir / f"{case}.json")


def _scalesim_macs(row: list[str]) -> int:
    h, w, fy, fx, c, m, s = (int(x) for x in row[1:8])
    return ((h - fy) // s + 1) * ((w - fx) // s + 1) * fy * fx * c * m


def _layout() -> str:
    return "scalesim/layouts/" + Path(SCALESIM_TOPOLOGY).name.replace("_torch", "")


def _read_report(path: Path) -> list[dict]:
    """A SCALE-Sim CSV report: one dict per layer (header names stripped, numbers as floats)."""
    rows = list(csv.reader(path.open()))
    header = [h.strip() for h in rows[0]]
    out = []
    for row in rows[1:]:
        if not row:
            continue
        record = {}
        for key, value in zip(header, row):
            if key:
                value = value.strip()
                try:
                    record[key] = float(value)
                except ValueError:
                    record[key] = value
        out.append(record)
    return out


def run_zigzag(case: str) -> dict:
    """ZigZag 3.9.1's ``get_hardware_performance_zigzag`` on one ``zigzag/EXPECTED.md`` case."""
    from zigzag.api import get_hardware_performance_zigzag

    name, workload = ZIGZAG_CASES[case]
    zz = PEERS_DATA / "zigzag"
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        energy, latency, cmes = get_hardware_performance_zigzag(
            str(zz / workload), str(zz / "hardware" / f"{name}.yaml"), str(zz / "mapping" / f"{name}.yaml"),
            dump_folder=tmp, pickle_filename=str(Path(tmp) / "cmes.pickle"),
        )
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    layers = [_cme_record(cme) for cme in _flatten(cmes)]
    return {
        "peer": "zigzag", "version": version("zigzag-dse"),
        "inputs": {"hardware": f"zigzag/hardware/{name}.yaml", "mapping": f"zigzag/mapping/{name}.yaml",
                   "workload": f"zigzag/{workload}"},
        "wall_s": wall, "cpu_s": cpu, "energy_pj": float(energy), "latency_cycles": float(latency), "layers": layers,
    }


def _flatten(cmes) -> list:
    """ZigZag returns [(cme, extra_info), ...] (possibly nested); the per-layer CostModelEvaluations."""
    out = []
    for item in cmes:
        if isinstance(item, tuple | list):
            out += _flatten(item)
        elif hasattr(item, "mem_energy_breakdown") and hasattr(item, "layer"):
            out.append(item)
    return out


def _cme_record(cme) -> dict:
    """One layer: latency, MAC energy, memory energy per operand and level (level names from the hardware),
    split into reads and writes (``mem_energy_breakdown_further``)."""
    layer = cme.layer
    hierarchy = cme.accelerator.memory_hierarchy
    breakdown, further = {}, {}
    for operand, per_level in cme.mem_energy_breakdown.items():
        mem_op = cme.memory_operand_links.layer_to_mem_op(operand)
        names = [lvl.name for lvl in hierarchy.get_memory_levels(mem_op=mem_op)]
        breakdown[str(operand)] = {names[i]: float(pj) for i, pj in enumerate(per_level)}
        further[str(operand)] = {
            names[i]: {str(direction): float(v) for direction, v in energy.data.items()}
            for i, energy in enumerate(cme.mem_energy_breakdown_further[operand])
        }
    loops = {str(k): float(v) for k, v in layer.layer_dim_sizes.items()} if hasattr(layer, "layer_dim_sizes") else {}
    return {
        "name": str(getattr(layer, "name", layer.id)), "id": str(layer.id), "loop_sizes": loops,
        "macs": float(layer.total_mac_count),
        "latency_cycles": float(cme.latency_total2), "energy_pj": float(cme.energy_total),
        "mac_energy_pj": float(cme.mac_energy), "mem_energy_pj": float(cme.mem_energy),
        "mem_energy_breakdown_pj": breakdown, "mem_energy_by_direction_pj": further,
        "spatial_mapping": str(cme.spatial_mapping_int),
        "temporal_mapping": str(cme.temporal_mapping),
    }


def harvest_zigzag(case: str, dump_dir: Path, expected_layers: int = 21) -> dict:
    """The record of a ZigZag run cut short, from the per-layer files it had saved (``<dump>/*_complete.json``:
    ZigZag's own CostModelEvaluation dumps, with the memory hierarchy per operand); ``complete`` is False
    unless all ``expected_layers`` are there."""
    name, workload = ZIGZAG_CASES[case]
    layers = []
    for path in sorted(dump_dir.glob("*_complete.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:  # the layer ZigZag was writing when the run was cut
            continue
        acc, layer, energy = data["inputs"]["accelerator"], data["inputs"]["layer"], data["outputs"]["energy"]
        links = layer["memory_operand_links"]
        levels = {op: [lvl.split("instance=")[1].split(",")[0] for lvl in lst]
                  for op, lst in acc["mem_hierarchy_dict"].items()}
        breakdown = {op: dict(zip(levels[links[op]], map(float, per)))
                     for op, per in energy["memory_energy_breakdown_per_level"].items()}
        latency = data["outputs"]["latency"]
        layers.append({
            "name": layer["name"], "loop_sizes": layer["loop_dimensions"],
            "mac_energy_pj": float(energy["operational_energy"]), "mem_energy_pj": float(energy["memory_energy"]),
            "energy_pj": float(energy["energy_total"]), "mem_energy_breakdown_pj": breakdown,
            "latency_cycles": float(sum(latency.values())),
        })
    return {
        "peer": "zigzag", "version": version("zigzag-dse"), "harvested_from": "ZigZag's per-layer dumps",
        "inputs": {"hardware": f"zigzag/hardware/{name}.yaml", "mapping": f"zigzag/mapping/{name}.yaml",
                   "workload": f"zigzag/{workload}"},
        "complete": len(layers) == expected_layers, "wall_s": float("nan"),
        "energy_pj": sum(layer["energy_pj"] for layer in layers),
        "latency_cycles": sum(layer["latency_cycles"] for layer in layers), "layers": layers,
    }


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = Path(argv[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    if len(argv) in (4, 5) and argv[1] == "--harvest-zigzag":  # OUT_DIR --harvest-zigzag CASE DUMP_DIR [CPU_S]
        record = harvest_zigzag(argv[2], Path(argv[3]))
        if len(argv) == 5:  # the CPU time of the cut-short run's process (ps), for the wall-time comparison
            record["cpu_s"] = float(argv[4])
        record["command"] = f".venv-peers/bin/python benchmarks/peer_runner.py OUT_DIR --harvest-zigzag {argv[2]} DUMP"
        _write(out_dir, record, argv[2])
        return 0
    cases = argv[1:] or ["scalesim-os", *ZIGZAG_CASES]
    for case in cases:
        if case.startswith("scalesim-"):
            dataflow, _, topology = case.removeprefix("scalesim-").partition("@")
            global SCALESIM_TOPOLOGY
            if topology:  # e.g. scalesim-ws@test: topologies/test.csv
                SCALESIM_TOPOLOGY = f"scalesim/topologies/{topology}.csv"
            record = run_scalesim(dataflow, out_dir, case)
        elif case in ZIGZAG_CASES:
            record = run_zigzag(case)
        else:
            raise SystemExit(f"peer_runner: unknown case {case!r}; known: scalesim-os|ws|is, {sorted(ZIGZAG_CASES)}")
        _write(out_dir, record, case)
        print(f"{case}: {record['wall_s']:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
