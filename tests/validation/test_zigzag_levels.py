"""pjsim's energy per memory level against ZigZag's own breakdown, layer by layer (ZigZag's "origin" mode).

Source of every reference number: ZigZag 3.9.1 run side by side (``make bench-peers``:
``.venv-peers/bin/python benchmarks/peer_runner.py benchmarks/results/peers zigzag-tpu_like zigzag-edge_tpu_like``),
``get_hardware_performance_zigzag(resnet18.onnx, hardware/<case>.yaml, mapping/<case>.yaml)`` with its defaults;
per layer, ``CostModelEvaluation.mem_energy_breakdown`` (operand x memory level), cached in
``benchmarks/results/peers/zigzag-<case>.json``. Memories are grouped as pjsim's components: ``rf*`` register files,
``sram*`` SRAMs, ``dram``. pjsim: the same ResNet-18 (torchvision, traced), ``independent_layers=True``.
Tolerance (issue 13): each component within 15% of ZigZag's; mapping quality: pjsim's searched energy at most
ZigZag's. Misses are strict xfails carrying the measured ratio and their cause.
"""

from __future__ import annotations

import pytest

from benchmarks.peer_results import by_component, load, zigzag_layer_components
from benchmarks.peers import peer_summary, resnet18_workload

CASES = {"tpu_like": "zigzag-tpu-like", "edge_tpu_like": "zigzag-edge-tpu-like"}


@pytest.fixture(scope="module")
def resnet18():
    return resnet18_workload()


@pytest.fixture(scope="module")
def summaries(resnet18):
    return {case: peer_summary(profile, resnet18, independent_layers=True) for case, profile in CASES.items()}


def _zigzag(case: str) -> dict:
    record = load(f"zigzag-{case}")
    if record is None:
        pytest.skip(f"no cached ZigZag output zigzag-{case}.json (run `make bench-peers`)")
    return record


def _matched(summaries, case: str, component: str | None) -> tuple[float, float]:
    """(pjsim, ZigZag) energy of ``component`` (None: all) summed over the layers ZigZag costed (a run cut short
    holds fewer than 21; its ``complete`` flag says so)."""
    peer = zigzag_layer_components(_zigzag(case))
    mine = {layer: by_component(pj) for layer, pj in summaries[case].energy_by_layer_pj.items()}
    assert set(peer) <= set(mine), f"ZigZag layers pjsim does not have: {sorted(set(peer) - set(mine))}"
    pick = (lambda d: d.get(component, 0.0)) if component else (lambda d: sum(d.values()))
    return sum(pick(mine[n]) for n in peer), sum(pick(peer[n]) for n in peer)


def _ratio(summaries, case: str, component: str) -> float:
    mine, peer = _matched(summaries, case, component)
    return mine / peer


#: Documented misses: measured ratio on the cached layers, and the cause. pjsim's memories are unified levels;
#: ZigZag's hierarchies are per operand (tpu_like: W rf_128B -> dram, I sram_2MB -> dram, O rf_2B -> sram_2MB -> dram;
#: edge_tpu_like: W rf_1B -> sram_32KB -> dram, I sram_2MB -> dram, O rf_2B -> sram_2MB -> dram). DRAM and MAC
#: energy agree on every layer (ratio 1.000). edge_tpu_like's SRAM (0.893x) passes partly by cancellation: pjsim has no
#: 32 KB weight SRAM and stages weights in the 2 MB one (see its profile header).
MISSES: dict[tuple[str, str], str] = {
    ("tpu_like", "rf"): (
        "documented miss: register files 1.370x ZigZag's (3.465e8 vs 2.530e8 pJ, all 21 layers; 1.31-1.39x "
        "on every layer): pjsim's one RF level prices outputs at rf_128B's 0.095 pJ per 8 bit (ZigZag's rf_2B: "
        "0.021 pJ per 16 bit) and routes inputs through it (ZigZag's inputs bypass the register files)"),
    ("tpu_like", "sram"): (
        "documented miss: SRAM 0.409x ZigZag's (5.037e7 vs 1.231e8 pJ, all 21 layers; 0.16-0.69x per conv "
        "layer): with no input register in tpu_like, ZigZag reads every input from sram_2MB at each use "
        "(MACs / 32, broadcast over the K axis); pjsim keeps input tiles in its unified RF level and reuses them there"),
    ("edge_tpu_like", "rf"): (
        "documented miss: register files 4.37x ZigZag's (5.558e7 vs 1.272e7 pJ, all 21 layers): pjsim's one "
        "2,560-bit RF level holds inputs too (ZigZag: inputs bypass the registers) and prices 16-bit partial sums "
        "at rf_1B's 0.01 pJ per 8 bit (ZigZag's rf_2B: 0.02 pJ per 16 bit)"),
}


def _params():
    out = []
    for case in CASES:
        for component in ("rf", "sram", "dram", "compute"):
            reason = MISSES.get((case, component))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(case, component, marks=marks, id=f"{case}-{component}"))
    return out


@pytest.mark.parametrize(("case", "component"), _params())
def test_component_energy_within_15_percent(summaries, case, component):
    assert _ratio(summaries, case, component) == pytest.approx(1.0, abs=0.15)


MAPPING_MISSES: dict[str, str] = {
    "edge_tpu_like": (
        "documented miss: pjsim's searched energy 1.9039e9 pJ vs ZigZag's 1.9032e9 pJ (1.0003x); not the same cost "
        "model (one RF level for all operands; no 32 KB weight SRAM in pjsim's profile)"),
    "tpu_like": (
        "documented miss: pjsim's searched energy 1.892e9 pJ vs ZigZag's 1.871e9 pJ over the 21 layers "
        "(1.011x); not the same cost model: pjsim's unified RF prices outputs and inputs at the weight RF's cost "
        "(see the rf/sram misses), so the comparison waits for per-operand memories"),
}


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=[pytest.mark.xfail(strict=True, reason=MAPPING_MISSES[c])] if c in MAPPING_MISSES else [])
    for c in CASES
])
def test_mapping_quality_energy_at_most_zigzags(summaries, case):
    """pjsim's search (energy objective) finds a mapping at most as costly as ZigZag's (its default objective,
    latency), each costing its own mapping in its own cost model."""
    mine, peer = _matched(summaries, case, None)
    assert mine <= peer
