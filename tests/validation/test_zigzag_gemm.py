"""ZigZag's GEMM cases (``../shared/peers-data/zigzag``): a 128 x 128 x 128 GEMM on ``gemm_l1`` and ``gemm_l1_l3``.

Sources: ``zigzag/EXPECTED.md`` (ZigZag's own regression values at 3d12a96e: 511,349.76 pJ / 8,191 cycles and
1,111,828.48 pJ / 8,194 cycles) and the real ZigZag 3.9.1 run cached in ``benchmarks/results/peers/zigzag-gemm_l1*.json``
(528,936.96 pJ / 8,191 cycles and 19,860,090.88 pJ / 8,704 cycles, with its per-memory breakdown). The two ZigZag
versions disagree by 18x on gemm_l1_l3 (3.9.1 prices l3 per 64 B access: 4.096e6 pJ for reading the 16 KiB input
once; EXPECTED's total is below that compulsory l3 energy). pjsim: ``hw_profiles/zigzag-gemm-l1*.toml`` (per-operand memories from the yaml), the GEMM traced from
``torch.nn.Linear(128, 128)`` on a 128 x 128 input (``O[d0][d1] += I[d0][d2] W[d2][d1]``), layer by layer.

Mapping quality (issue 13: pjsim's searched energy at most ZigZag's): holds against both (the search keeps the
partial sums in reg_O for the whole reduction: output stationary, 285,625 pJ; ZigZag 3.9.1 on that very order
gives 285,624.96 pJ, ``zigzag-gemm_l1@order-A.json``).

Same mapping (issue 13, second check): ``simulate(mapping="zigzag:mapping/gemm_l1.yaml")`` replays ZigZag's mapping
file (``simulator.mapping.zigzag_replay``). ZigZag at 3d12a96e reads ``[D1, "*"]`` as all of D1's 16 iterations:
ZigZag 3.9.1 run on the file with the "*" written out as 16 gives exactly EXPECTED.md's 511,349.76 pJ / 8,191 cycles
(``zigzag-gemm_l1@full-order.json``); 3.9.1 itself reads "*" as a position constraint and searches (its cached run
picked D1 4, D2 4, D0 4, D2 4, D1 4, D0 4: the input latch then holds 4 cycles, not 16: 528,936.96 pJ). Replayed:
gemm_l1 511,349.76 pJ (= EXPECTED); gemm_l1_l3 19,746,810.88 pJ (-0.11% vs 3.9.1 on the same order; 17.8x
EXPECTED, whose total is below the compulsory l3 energy). Per memory and operand the replay equals ZigZag except
gemm_l1_l3's l1 outputs (-2.1%: ZigZag prices the outputs leaving for l3 at its 512-bit DMA port, pjsim at the
2048-bit output port). The outputs are counted as ZigZag counts them (``zigzag_links``: every partial sum read down
every period, the first too, and every level read to send its outputs up); with pjsim's loop-nest counts (Timeloop's)
the replay was 499,589.12 / 18,807,930.88 pJ (reg_O -28% / -24.6%, l1 outputs -1.9% / -5.5%). Latency: the
profiles declare ZigZag's ports (``[memory.<name>.ports]``) and the replay times the array as ZigZag 3.9.1 does
(``simulator.mapping.zigzag_latency``: the partial sums go in and out of l1 on one 2048-bit port, 4,096 + 4,094
cycles); memsim adds the loads and stores at the outermost level: gemm_l1 8,193.5 cycles (vs 8,191, +0.04%),
gemm_l1_l3 8,960 (vs 3.9.1's 8,704, +2.9%; vs EXPECTED.md's 8,194, +9.3%). Before the port model: 6,020.7 / 6,872.3
(-26.5% / -21%: l1's 3,072 bit/cycle pooled across operands).
"""

from __future__ import annotations

import pytest
import torch

from benchmarks.peer_results import by_component, load, zigzag_component
from benchmarks.peers import PEERS_DATA, peer_summary
from simulator.api import simulate, trace_model

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


def test_compulsory_l3_traffic_matches_zigzag_3_9_1(summaries):
    """gemm_l1_l3: every operand crosses l3 once, as in ZigZag 3.9.1 (l3: I 4,096,000, W 4,096,000, O 6,144,000 pJ:
    16 KiB each at 16,000 / 24,000 pJ per 64 B); exact."""
    record = _run("gemm_l1_l3")
    peer = sum(per.get("l3", 0.0) for per in record["layers"][0]["mem_energy_breakdown_pj"].values())
    mine = by_component(summaries["gemm_l1_l3"].energy_by_component_pj)
    assert peer == 14_336_000.0
    assert mine[zigzag_component("l3")] == pytest.approx(peer, rel=1e-9)


# --- Same mapping: ZigZag's mapping files replayed (simulate(mapping="zigzag:FILE.yaml")).

MAPPINGS = PEERS_DATA / "zigzag" / "mapping"
#: pjsim component -> ZigZag operand letter.
_LETTER = {"inputs": "I", "weights": "W", "outputs": "O"}


def _replay(gemm, case: str, path, **kw):
    return simulate(gemm, PROFILES[case], mapping=f"zigzag:{path}", layers="independent", timeline=False, **kw)


@pytest.fixture(scope="module")
def replays(gemm):
    return {case: _replay(gemm, case, MAPPINGS / f"{case}.yaml") for case in PROFILES}


@pytest.fixture(scope="module")
def replays_of_3_9_1(gemm, tmp_path_factory):
    """ZigZag 3.9.1's own pick (its cached temporal mapping, innermost first) written as a complete ordering."""
    import re

    import yaml

    out = {}
    for case in PROFILES:
        tm = _run(case)["layers"][0]["temporal_mapping"]
        loops = re.findall(r"\((D\d), (\d+)\)", tm.split("I:")[1].split("]")[0])
        entries = yaml.safe_load((MAPPINGS / f"{case}.yaml").read_text())
        entries[0]["temporal_ordering"] = [[d, int(f)] for d, f in loops]
        path = tmp_path_factory.mktemp(case) / f"{case}.yaml"
        path.write_text(yaml.safe_dump(entries))
        out[case] = _replay(gemm, case, path)
    return out


def _energy(report) -> float:
    return sum(report.energy_pj.values())


def _breakdown(report) -> dict[tuple[str, str], float]:
    """pjsim's energy per (memory, ZigZag operand letter), MACs as ("compute", "")."""
    out: dict[tuple[str, str], float] = {}
    for (_layer, component, operand), pj in report.energy_pj.items():
        key = (component, _LETTER.get(operand, ""))
        out[key] = out.get(key, 0.0) + pj
    return out


@pytest.mark.parametrize("case", [
    "gemm_l1",
    pytest.param("gemm_l1_l3", marks=pytest.mark.xfail(strict=True, reason=(
        "documented miss: replay 19,746,810.88 pJ vs EXPECTED.md's 1,111,828.48 (17.8x): EXPECTED's total is below "
        "the compulsory l3 energy (14,336,000 pJ as ZigZag 3.9.1 and pjsim price l3: 16 / 24 nJ per 64 B), so the "
        "newer ZigZag prices l3 differently; against 3.9.1 on the same mapping the replay is within 5% (below)"))),
])
def test_replay_energy_within_5_percent_of_expected(replays, case):
    """gemm_l1: 511,349.76 pJ vs 511,349.76 (exact; before ZigZag's output counts: 499,589.12, -2.3%)."""
    assert _energy(replays[case]) == pytest.approx(EXPECTED[case][0], rel=0.05)


def test_replay_energy_gemm_l1_equals_expected(replays):
    """Same mapping, same memories, ZigZag's counting rules: EXPECTED.md's 511,349.76 pJ to rounding."""
    assert _energy(replays["gemm_l1"]) == pytest.approx(EXPECTED["gemm_l1"][0], rel=1e-9)


@pytest.mark.parametrize("case", list(PROFILES))
def test_replay_energy_within_5_percent_of_zigzag_3_9_1_same_order(replays, case):
    """Against ZigZag 3.9.1 on the file with "*" written out (zigzag-<case>@full-order.json; gemm_l1's is exactly
    EXPECTED.md's 511,349.76): gemm_l1 511,349.76 (exact), gemm_l1_l3 19,746,810.88 vs 19,769,466.88 (-0.11%)."""
    assert _energy(replays[case]) == pytest.approx(_run(f"{case}@full-order")["energy_pj"], rel=0.05)


@pytest.mark.parametrize("case", list(PROFILES))
def test_replay_of_3_9_1s_own_pick_within_5_percent(replays_of_3_9_1, case):
    """3.9.1's searched loop order replayed: gemm_l1 528,936.96 (exact); gemm_l1_l3 19,837,434.88 vs 19,860,090.88
    (-0.11%). Before ZigZag's output counts: 517,176.32 (-2.2%) / 18,898,554.88 (-4.8%)."""
    assert _energy(replays_of_3_9_1[case]) == pytest.approx(_run(case)["energy_pj"], rel=0.05)


@pytest.mark.parametrize(("case", "memory", "operand", "rel"), [
    ("gemm_l1", "compute", "", 1e-9),
    ("gemm_l1", "l1", "I", 1e-9),  # 256 reads of 512 bit: the read latch holds each input 16 cycles
    ("gemm_l1", "l1", "W", 1e-9),
    ("gemm_l1", "l1", "O", 1e-9),  # 306,831.36: 4,096 reads and writes of 2,048 bit (loop-nest counts: 3,840 reads)
    ("gemm_l1", "reg_O", "O", 1e-9),  # 20,971.52: 4 x 4,096 x 64 accesses (loop-nest counts: 15,073.28, -28%)
    ("gemm_l1_l3", "compute", "", 1e-9),
    ("gemm_l1_l3", "l3", "I", 1e-9),
    ("gemm_l1_l3", "l3", "W", 1e-9),
    ("gemm_l1_l3", "l3", "O", 1e-9),
    ("gemm_l1_l3", "l1", "I", 1e-9),
    ("gemm_l1_l3", "l1", "W", 1e-9),
    # 1,070,873.6 vs 1,093,529.6 (-2.1%): the drain to l3 priced at the 2048-bit output port (7,552 pJ), ZigZag at
    # the 512-bit DMA port (30,208 pJ); loop-nest counts: 1,033,113.6 (-5.5%)
    ("gemm_l1_l3", "l1", "O", 0.05),
    ("gemm_l1_l3", "reg_O", "O", 1e-9),  # 3,670,016 (loop-nest counts: 2,768,896, -24.6%)
])
def test_replay_breakdown_matches_zigzag_3_9_1(replays, case, memory, operand, rel):
    """Energy per memory and operand vs ZigZag 3.9.1 on the same loop order (zigzag-<case>@full-order.json)."""
    layer = _run(f"{case}@full-order")["layers"][0]
    peer = layer["mac_energy_pj"] if memory == "compute" else layer["mem_energy_breakdown_pj"][operand][memory]
    assert _breakdown(replays[case]).get((memory, operand), 0.0) == pytest.approx(peer, rel=rel)


@pytest.mark.parametrize("case", list(PROFILES))
def test_replay_latency_within_10_percent_of_zigzag(replays, case):
    """Against ZigZag 3.9.1 on the same order (zigzag-<case>@full-order.json): gemm_l1 8,193.5 vs 8,191 (+0.04%),
    gemm_l1_l3 8,960 vs 8,704 (+2.9%: memsim streams inputs, weights and outputs through l3 serially, 768 cycles;
    ZigZag loads inputs and weights (512) and drains the outputs during the computation). Without the port model
    (before): 6,020.7 / 6,872.3 (-26.5% / -21%)."""
    assert replays[case].cycles == pytest.approx(_run(f"{case}@full-order")["latency_cycles"], rel=0.10)


@pytest.mark.parametrize("case", list(PROFILES))
def test_replay_latency_within_10_percent_of_expected(replays, case):
    """Against zigzag/EXPECTED.md: gemm_l1 8,193.5 vs 8,191 (+0.04%); gemm_l1_l3 8,960 vs 8,194 (+9.3%: the newer
    ZigZag hides the l3 loading that 3.9.1 counts, 512 cycles)."""
    assert replays[case].cycles == pytest.approx(EXPECTED[case][1], rel=0.10)


def test_replay_array_cycles_are_zigzags_computation_with_port_stalls(gemm):
    """The replayed op's array cycles: 4,096 temporal + 4,094 stall on l1's output port (ZigZag 3.9.1's
    ``latency_total0`` on the same order); the searched mapping keeps 4,096."""
    from simulator.api import resolve_precision, resolve_profile
    from simulator.mapping import map_workload
    from simulator.mapping.zigzag_replay import apply_zigzag_mapping

    workload, hw = resolve_precision(gemm, resolve_profile(PROFILES["gemm_l1"]), None)
    schedule = map_workload(workload, hw, independent_layers=True)
    replayed = apply_zigzag_mapping(schedule, workload, hw, MAPPINGS / "gemm_l1.yaml")
    assert [op.compute_cycles for op in schedule.ops if op.macs] == [4096]
    assert [op.compute_cycles for op in replayed.ops if op.mapping == "zigzag"] == [4096 + 4094]


def test_read_latch_is_the_input_reads(gemm, replays):
    """Without ZigZag's read latch (pjsim's own convention: one read per use) gemm_l1 costs 599,285.76 pJ
    (+17.2% vs EXPECTED.md): the inputs are read 4,096 times (512 bit, 22.9 pJ) instead of 256, +87,936 pJ."""
    from simulator.api import resolve_precision, resolve_profile
    from simulator.energy import estimate_energy
    from simulator.mapping import map_workload
    from simulator.mapping.zigzag_replay import apply_zigzag_mapping
    from simulator.memsim import closed_form_stats

    workload, hw = resolve_precision(gemm, resolve_profile(PROFILES["gemm_l1"]), None)
    schedule = map_workload(workload, hw, independent_layers=True)
    energies = []
    for latch in (True, False):
        fixed = apply_zigzag_mapping(schedule, workload, hw, MAPPINGS / "gemm_l1.yaml", read_latch=latch)
        energies.append(sum(estimate_energy(workload, fixed, closed_form_stats(fixed, hw), hw).energy_pj.values()))
    assert energies[0] == pytest.approx(_energy(replays["gemm_l1"]), rel=1e-9)
    assert energies[1] - energies[0] == pytest.approx((4096 - 256) * 22.9, rel=1e-9)
