"""pjsim on the peers' own cases (``../shared/peers-data``), summarised for a side-by-side table and the tests.

``peer_summary(profile)`` maps and simulates torchvision's ResNet-18 (traced on the meta device, batch 1)
on a peer profile and returns what the peers report for the conv and fc layers only (ZigZag and SCALE-Sim
cost those layers, nothing else): compute cycles per layer, energy per component, DRAM bits per operand,
and the whole network's simulated cycles. The peers' numbers (``PEER_REFERENCE``) are their own outputs,
cited next to each value; the real peers run side by side (``make bench-peers``) are cached in
``benchmarks/results/peers/`` (``benchmarks.peer_results``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from simulator.api import resolve_precision, resolve_profile
from simulator.energy import estimate_energy
from simulator.mapping import map_workload
from simulator.memsim import simulate_schedule

PEERS_DATA = Path(__file__).resolve().parents[2] / "shared" / "peers-data"
MAC_KINDS = ("conv", "linear", "matmul")

#: The peers' own numbers for ResNet-18 (conv + fc, 1,814,073,344 MACs), with their sources.
PEER_REFERENCE = {
    "zigzag-tpu-like": {
        "energy_pj": (1_871_436_380.66, "zigzag/EXPECTED.md: tpu_like + resnet18.onnx, ZigZag 3d12a96e test_origin"),
        "latency_cycles": (3_703_960.5, "zigzag/EXPECTED.md: tpu_like + resnet18.onnx, ZigZag 3d12a96e test_origin"),
        "conv1_cycles": (1_248_163, "issue 13: ZigZag's latency of the first conv layer on tpu_like"),
    },
    "zigzag-edge-tpu-like": {
        "energy_pj": (1_903_229_377.55, "zigzag/EXPECTED.md: edge_tpu_like + resnet18.onnx, ZigZag 3d12a96e test_origin"),
        "latency_cycles": (2_887_804.5, "zigzag/EXPECTED.md: edge_tpu_like + resnet18.onnx, ZigZag 3d12a96e test_origin"),
    },
    "scalesim-32x32-os": {
        "compute_cycles": (2_210_776, "peers-data/README.md: SCALE-Sim 3.0.0, scale_32x32_os.cfg on topologies/resnet18_torch.csv"),
    },
}


@dataclass(frozen=True)
class PeerSummary:
    """pjsim's numbers for the MAC layers of one run (see the module docstring)."""

    profile: str
    macs: int
    compute_cycles_by_layer: dict[str, float]
    energy_by_component_pj: dict[str, float]
    dram_bits_by_operand: dict[str, float]
    network_cycles: float
    wall_s: float
    #: Simulated cycles of the MAC layers alone (what ZigZag's latency counts: its workloads hold only the
    #: conv and fc layers); ``network_cycles`` adds pooling, residual adds and the other non-MAC ops.
    mac_layer_cycles: float = 0.0
    #: DRAM bits per MAC layer and "<operand> <direction>" (``{"conv1": {"inputs read": ...}}``).
    dram_bits_by_layer: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Energy per MAC layer and component.
    energy_by_layer_pj: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def compute_cycles(self) -> float:
        return sum(self.compute_cycles_by_layer.values())

    @property
    def energy_pj(self) -> float:
        return sum(self.energy_by_component_pj.values())


def resnet18_workload():
    """torchvision ResNet-18, batch 1, traced on the meta device, weights initialised from seed 0.

    Seeded because encoding detection reads the initial weights: an unseeded init occasionally draws an exact
    zero, which marks that weight as pruned (density 0.9999996) and changes its stored form.
    """
    import torch

    from simulator.api import trace_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return trace_model("resnet18", device="meta")


def peer_summary(profile_name: str, workload=None, independent_layers: bool = False) -> PeerSummary:
    """Map + simulate ``workload`` (default ResNet-18) on ``profile_name``; the MAC layers' numbers.

    ``independent_layers``: cost each layer on its own from DRAM (the peers' "origin" mode)."""
    workload = workload if workload is not None else resnet18_workload()
    start = time.perf_counter()
    workload, hw = resolve_precision(workload, resolve_profile(profile_name), None)
    schedule = map_workload(workload, hw, independent_layers=independent_layers)
    stats = simulate_schedule(schedule, hw, timeline=False)
    report = estimate_energy(workload, schedule, stats, hw)
    wall = time.perf_counter() - start
    mac_layers = {op.layer for op in schedule.ops if op.kind in MAC_KINDS and op.macs}
    cycles = {op.layer: op.compute_cycles for op in schedule.ops if op.layer in mac_layers and op.kind in MAC_KINDS}
    energy: dict[str, float] = defaultdict(float)
    by_layer_pj: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (layer, component, _operand), pj in report.energy_pj.items():
        if layer in mac_layers:
            energy[component] += pj
            by_layer_pj[layer][component] += pj
    dram = hw.dram.name
    traffic: dict[str, float] = defaultdict(float)
    by_layer: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for op in schedule.ops:
        if op.layer in mac_layers:
            for (level, operand, direction), bits in op.traffic_bits.items():
                if level == dram:
                    traffic[f"{operand} {direction}"] += bits
                    by_layer[op.layer][f"{operand} {direction}"] += bits
    macs = sum(op.macs for op in schedule.ops if op.layer in mac_layers)
    mac_cycles = sum(c for layer, c in stats.layer_cycles.items() if layer in mac_layers)
    return PeerSummary(profile_name, macs, cycles, dict(energy), dict(traffic), report.cycles, wall, mac_cycles,
                       {k: dict(v) for k, v in by_layer.items()}, {k: dict(v) for k, v in by_layer_pj.items()})
