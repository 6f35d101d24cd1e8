"""The real peers' cached outputs (``benchmarks/results/peers/*.json``, written by ``benchmarks/peer_runner.py``).

Read by the side-by-side benchmark and the validation tests, so that both compare pjsim against the peers
without the peers installed. Each file names the command, the peer's version and inputs that produced it.
SCALE-Sim counts are in words (1 byte each in the peers-data config); ZigZag energies in pJ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from simulator.fileio import read_bounded_text

CACHE = Path(__file__).parent / "results" / "peers"

#: SCALE-Sim's ResNet-18 layer names (``resnet18_torch.csv``) -> torchvision module names.
SCALESIM_TO_TORCH = {
    "Conv1": "conv1", "FC": "fc",
    **{f"Conv{s}_{b}{ab}": f"layer{s - 1}.{b - 1}.conv{1 if ab == 'a' else 2}"
       for s in range(2, 6) for b in (1, 2) for ab in "ab"},
    **{f"Conv{s}_s": f"layer{s - 1}.0.downsample.0" for s in range(3, 6)},
}


@dataclass(frozen=True)
class ScaleSimLayer:
    """One layer of a SCALE-Sim run: cycles and the DETAILED_ACCESS_REPORT counts (words)."""

    name: str
    cycles: float
    stall_cycles: float
    sram_reads: dict[str, float]  # ifmap / filter
    sram_ofmap_writes: float
    dram_reads: dict[str, float]  # ifmap / filter
    dram_ofmap_writes: float


def load(case: str) -> dict | None:
    """The cached record of ``case`` (e.g. ``scalesim-os``, ``zigzag-tpu_like``), or None when not cached."""
    path = CACHE / f"{case}.json"
    if not path.exists():
        return None
    return json.loads(read_bounded_text(path, 16 * 2**20, f"cached peer output {path.name}"))


def scalesim_layers(record: dict) -> dict[str, ScaleSimLayer]:
    """The layers of a SCALE-Sim record by name."""
    out = {}
    for layer in record["layers"]:
        c, a = layer["compute"], layer["access"]
        out[layer["name"]] = ScaleSimLayer(
            name=layer["name"], cycles=c["Total Cycles"], stall_cycles=c["Stall Cycles"],
            sram_reads={"ifmap": a["SRAM IFMAP Reads"], "filter": a["SRAM Filter Reads"]},
            sram_ofmap_writes=a["SRAM OFMAP Writes"],
            dram_reads={"ifmap": a["DRAM IFMAP Reads"], "filter": a["DRAM Filter Reads"]},
            dram_ofmap_writes=a["DRAM OFMAP Writes"],
        )
    return out


def zigzag_component(memory: str) -> str:
    """pjsim's component for a ZigZag memory name (``rf_128B`` -> rf, ``sram_2MB`` -> sram, ``dram``)."""
    for prefix in ("rf", "sram", "dram"):
        if memory.startswith(prefix):
            return prefix
    return memory


def by_component(energy_pj: dict[str, float]) -> dict[str, float]:
    """pjsim energies keyed by level name (``rf_w``, ``rf_o``, ``sram_w`` ...) summed per component class
    (``rf``, ``sram``, ``dram``, ``compute``), as ZigZag's memories are grouped (``zigzag_component``)."""
    out: dict[str, float] = {}
    for level, pj in energy_pj.items():
        key = zigzag_component(level)
        out[key] = out.get(key, 0.0) + pj
    return out


def zigzag_energy_by_component(record: dict) -> dict[str, float]:
    """ZigZag's energy summed over layers and operands per pjsim component, plus ``compute`` (MACs)."""
    out: dict[str, float] = {"compute": 0.0}
    for layer in record["layers"]:
        out["compute"] += layer["mac_energy_pj"]
        for per_level in layer["mem_energy_breakdown_pj"].values():
            for memory, pj in per_level.items():
                key = zigzag_component(memory)
                out[key] = out.get(key, 0.0) + pj
    return out


def zigzag_energy_by_operand_level(record: dict) -> dict[tuple[str, str], float]:
    """ZigZag's energy summed over layers per (operand, memory): ``("W", "rf_128B")``."""
    out: dict[tuple[str, str], float] = {}
    for layer in record["layers"]:
        for operand, per_level in layer["mem_energy_breakdown_pj"].items():
            for memory, pj in per_level.items():
                out[(operand, memory)] = out.get((operand, memory), 0.0) + pj
    return out


def zigzag_torch_name(onnx_name: str) -> str:
    """A ZigZag layer (ONNX node ``/layer2/layer2.0/downsample/downsample.0/Conv``) -> torchvision's module
    name (``layer2.0.downsample.0``): each path segment repeats its parent's name, so keep the new part."""
    parts = [p for p in onnx_name.split("/") if p][:-1]
    local, parent = [], ""
    for part in parts:
        local.append(part[len(parent) + 1:] if parent and part.startswith(parent + ".") else part)
        parent = part
    return ".".join(local)


def zigzag_layer_components(record: dict) -> dict[str, dict[str, float]]:
    """ZigZag's energy per torchvision layer and pjsim component (``compute``, ``rf``, ``sram``, ``dram``)."""
    out: dict[str, dict[str, float]] = {}
    for layer in record["layers"]:
        per = out.setdefault(zigzag_torch_name(layer["name"]), {"compute": 0.0})
        per["compute"] += layer["mac_energy_pj"]
        for per_level in layer["mem_energy_breakdown_pj"].values():
            for memory, pj in per_level.items():
                key = zigzag_component(memory)
                per[key] = per.get(key, 0.0) + pj
    return out
