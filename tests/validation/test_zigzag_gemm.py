"""ZigZag's GEMM cases (``../shared/peers-data/zigzag``): a 128 x 128 x 128 GEMM on ``gemm_l1`` and ``gemm_l1_l3``.

Sources: ``zigzag/EXPECTED.md`` (ZigZag's own regression values at 3d12a96e: 511,349.76 pJ / 8,191 cycles and
1,111,828.48 pJ / 8,194 cycles) and the real ZigZag 3.9.1 run cached in ``benchmarks/results/peers/zigzag-gemm_l1*.json``
(528,936.96 pJ / 8,191 cycles and 19,860,090.88 pJ / 8,704 cycles, with its per-memory breakdown). The two ZigZag
versions disagree by 18x on gemm_l1_l3 (3.9.1 prices l3 per 64 B access: 4.096e6 pJ for reading the 16 KiB input
once; EXPECTED's total is below that compulsory l3 energy). pjsim: ``hw_profiles/zigzag-gemm-l1*.toml`` (per-operand memories from the yaml), the GEMM traced from
``torch.nn.Linear(128, 128)`` on a 128 x 128 input (``O[d0][d1] += I[d0][d2] W[d2][d1]``), layer by layer.

Mapping quality (issue 13: pjsim's searched energy at most ZigZag's): holds against both. ZigZag's mapping file fixes
the temporal order (``temporal_ordering: D1 *, D2 *, D0 *``, D1 innermost): the output changes every cycle, so the
32-bit partial sums leave the 32-bit output register for l1 16 times; pjsim's search keeps them in the register for
the whole reduction (output stationary, 8 x 8 x 8 tiles), so its energy and cycles are lower and the "within 5% with
the same mapping" check waits for ZigZag mapping files as pjsim fixed mappings (strict xfails below carry the ratios).
"""

from __future__ import annotations

import pytest
import torch

from benchmarks.peer_results import by_component, load, zigzag_component
from benchmarks.peers import peer_summary
from simulator.api import trace_model

#: zigzag/EXPECTED.md (ZigZag at 3d12a96e): energy (pJ), latency (cycles).
EXPECTED = {"gemm_l1": (511_349.76, 8_191), "gemm_l1_l3": (1_111_828.48, 8_194)}
PROFILES = {"gemm_l1": "zigzag-gemm-l1", "gemm_l1_l3": "zigzag-gemm-l1-l3"}


@pytest.fixture(scope="module")
def gemm():
    return trace_model(torch.nn.Sequential(torch.nn.Linear(128, 128, bias=False)), example_inputs=(torch.zeros(128, 128),))


@pytest.fixture(scope="module")
def summaries(gemm):
    return {case: peer_summary(p, gemm, independent_layers=True) for case, p in PROFILES.items()}


def _run(case: str) -> dict:
    record = load(f"zigzag-{case}")
    if record is None:
        pytest.skip(f"no cached ZigZag output zigzag-{case}.json (run `make bench-peers`)")
    return record


def test_the_gemm_is_zigzags(summaries):
    for s in summaries.values():
        assert s.macs == 128**3 == _run("gemm_l1")["layers"][0]["macs"]
        # ZigZag: 8 x 8 x 8 array fully used, 4,096 compute cycles.
        assert s.compute_cycles == 4096


@pytest.mark.parametrize("case", list(PROFILES))
def test_mapping_quality_energy_at_most_zigzags(summaries, case):
    """pjsim's searched energy <= ZigZag 3.9.1's (same memories and costs). gemm_l1: 285,625 pJ vs 528,937 (0.54x);
    gemm_l1_l3: 1.736e7 vs 1.986e7 pJ (0.87x)."""
    assert summaries[case].energy_pj <= _run(case)["energy_pj"]


def test_mapping_quality_gemm_l1_at_most_expected(summaries):
    """Against ZigZag's newer regression value too: 285,625 <= 511,349.76 pJ (zigzag/EXPECTED.md)."""
    assert summaries["gemm_l1"].energy_pj <= EXPECTED["gemm_l1"][0]


@pytest.mark.xfail(strict=True, reason=(
    "documented miss: pjsim 1.736e7 pJ vs EXPECTED.md's 1,111,828.48 pJ (15.6x): EXPECTED's total is below the "
    "compulsory l3 energy alone as ZigZag 3.9.1 and pjsim price it (inputs and weights read once, outputs written "
    "once: 1.434e7 pJ at 16,000 / 24,000 pJ per 64 B), so the newer ZigZag prices l3 differently; against 3.9.1 "
    "(1.986e7 pJ) pjsim's search is lower"))
def test_mapping_quality_gemm_l1_l3_at_most_expected(summaries):
    assert summaries["gemm_l1_l3"].energy_pj <= EXPECTED["gemm_l1_l3"][0]


@pytest.mark.parametrize("case", [
    pytest.param("gemm_l1", marks=pytest.mark.xfail(strict=True, reason=(
        "documented miss: 285,625 pJ vs 511,349.76 (0.56x; ZigZag 3.9.1 528,937: 0.54x): not the same mapping, "
        "ZigZag's mapping file fixes D1 innermost and its partial sums go to l1 16 times (l1 O 306,831 pJ of "
        "3.9.1's 528,937); pjsim searches and keeps them in reg_O"))),
    pytest.param("gemm_l1_l3", marks=pytest.mark.xfail(strict=True, reason=(
        "documented miss: 1.736e7 pJ vs 1,111,828.48 (15.6x; ZigZag 3.9.1 1.986e7: 0.87x): see the l3 pricing "
        "gap between ZigZag versions and the mapping difference above"))),
])
def test_energy_within_5_percent_of_expected(summaries, case):
    assert summaries[case].energy_pj == pytest.approx(EXPECTED[case][0], rel=0.05)


def test_compulsory_l3_traffic_matches_zigzag_3_9_1(summaries):
    """gemm_l1_l3: every operand crosses l3 once, as in ZigZag 3.9.1 (l3: I 4,096,000, W 4,096,000, O 6,144,000 pJ:
    16 KiB each at 16,000 / 24,000 pJ per 64 B); exact."""
    record = _run("gemm_l1_l3")
    peer = sum(per.get("l3", 0.0) for per in record["layers"][0]["mem_energy_breakdown_pj"].values())
    mine = by_component(summaries["gemm_l1_l3"].energy_by_component_pj)
    assert peer == 14_336_000.0
    assert mine[zigzag_component("l3")] == pytest.approx(peer, rel=1e-9)
