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


#: Measured (all 21 layers, cached ZigZag 3.9.1 run): tpu_like RF 0.992x, SRAM 0.920x, DRAM 1.000x, MACs 1.000x;
#: edge_tpu_like RF 0.993x, SRAM 1.095x, DRAM 1.000x, MACs 1.000x. The profiles declare ZigZag's per-operand
#: memories (tpu_like: W rf_128B -> dram, I sram_2MB -> dram, O rf_2B -> sram_2MB -> dram; edge_tpu_like: W rf_1B ->
#: sram_32KB -> dram, I sram_2MB -> dram, O rf_2B -> sram_2MB -> dram). What remains is mapping, not cost model:
#: ZigZag's latency-first mappings spill partial sums of layer3/layer4 to the SRAM (tpu_like SRAM O 0.02-0.16x per
#: layer), and on edge_tpu_like ZigZag books the inputs of the 14 x 14 and 7 x 7 layers for 3 x 3 of the 4 x 4
#: OX x OY lanes per cycle while its temporal loops cover 12 of 14 rows (pjsim: 3.5 x 3.5 used on average; SRAM I 1.36x
#: on those layers, +4.43e7 pJ).
MISSES: dict[tuple[str, str], str] = {}


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
        "documented miss: pjsim's searched energy 1.9409e9 pJ vs ZigZag's 1.9032e9 pJ (1.020x), all from ZigZag's "
        "input count on the 14 x 14 and 7 x 7 layers: it reads inputs for 3 x 3 of the 4 x 4 OX x OY lanes per cycle "
        "while costing all MACs (pjsim's SRAM input energy there is 1.36x, +4.43e7 pJ; without it pjsim is 1.8966e9, "
        "0.997x); elsewhere pjsim's mappings cost less (SRAM partial sums 4.4e6 pJ below)"),
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
