"""ZigZag's per-port latency of a replayed mapping (``mapping/zigzag_latency.py``) and the profile key behind it
(``[memory.<name>.ports]``).

References: ZigZag 3.9.1's own latency of the GEMM (``zigzag/workloads/gemm_layer.yaml``) on ``gemm_l1`` and
``gemm_l1_l3`` for four loop orders, cached in ``benchmarks/results/peers/zigzag-gemm_l1*.json`` (``latency_cycles``;
the file's "*" written out, 3.9.1's own pick, and orders A / B): the model must equal each exactly. Its terms
(ideal 4,096; ``stall_slack_comb`` 4,094 with l1 ``rw_port_3`` 4,094 and ``rw_port_1`` -3,825; on-loading 0 / 512;
off-loading 1 / 2) are ZigZag 3.9.1's ``CostModelEvaluation`` attributes on the file with "*" written out, read in
``/work/venv-peers`` (zigzag-dse 3.9.1) for this change.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml

from benchmarks.peer_results import load
from benchmarks.peers import PEERS_DATA
from simulator.api import resolve_precision, resolve_profile, trace_model
from simulator.errors import ProfileError
from simulator.hardware import load_profile
from simulator.hardware.profile import MemoryPort
from simulator.mapping.fixed_apply import op_problem
from simulator.mapping.zigzag_latency import zigzag_latency
from simulator.mapping.zigzag_replay import _bits, zigzag_fixed_mappings

MAPPINGS = PEERS_DATA / "zigzag" / "mapping"
PROFILES = {"gemm_l1": "zigzag-gemm-l1", "gemm_l1_l3": "zigzag-gemm-l1-l3"}
#: The cached 3.9.1 runs' temporal orderings (innermost first); None: the file's with "*" written out as 16.
ORDERS = {
    "full-order": [["D1", 16], ["D2", 16], ["D0", 16]],
    "order-A": [["D2", 16], ["D1", 16], ["D0", 16]],
    "order-B": [["D2", 4], ["D1", 4], ["D2", 4], ["D0", 16], ["D1", 4]],
    "": [["D1", 4], ["D2", 4], ["D0", 4], ["D2", 4], ["D1", 4], ["D0", 4]],  # 3.9.1's own pick (zigzag-<case>.json)
}


@pytest.fixture(scope="module")
def gemm():
    return trace_model(torch.nn.Sequential(torch.nn.Linear(128, 128, bias=False)),
                       example_inputs=(torch.zeros(128, 128),))


def _latency(gemm, case: str, order, tmp_path: Path, profile=None):
    entries = yaml.safe_load((MAPPINGS / f"{case}.yaml").read_text())
    entries[0]["temporal_ordering"] = order
    path = tmp_path / f"{case}.yaml"
    path.write_text(yaml.safe_dump(entries))
    workload, hw = resolve_precision(gemm, profile or resolve_profile(PROFILES[case]), None)
    op = next(o for o in workload.ops if o.macs)
    (fm,) = zigzag_fixed_mappings(path, workload, hw)
    return zigzag_latency(op_problem(op, workload), fm, hw, *_bits(op, hw))


@pytest.mark.parametrize("case", list(PROFILES))
@pytest.mark.parametrize("order", list(ORDERS))
def test_latency_equals_zigzag_3_9_1(gemm, tmp_path, case, order):
    """gemm_l1: 8,191 (full order and 3.9.1's pick), 4,097 (A), 5,119 (B); gemm_l1_l3: 8,704, 4,610, 5,632: exact."""
    record = load(f"zigzag-{case}@{order}" if order else f"zigzag-{case}")
    if record is None:
        pytest.skip("no cached ZigZag 3.9.1 run")
    assert _latency(gemm, case, ORDERS[order], tmp_path).total_cycles == record["latency_cycles"]


def test_terms_are_zigzags(gemm, tmp_path):
    """The partial sums go in and out of l1 on one 2048-bit port every cycle: rw_port_3 stalls 4,094 cycles (two
    links, 4,095-cycle windows each, one 4,096-cycle union); the input port idles 15 of every 16 cycles (-3,825)."""
    lat = _latency(gemm, "gemm_l1", ORDERS["full-order"], tmp_path)
    assert (lat.temporal_cycles, lat.stall_cycles, lat.onloading_cycles, lat.offloading_cycles) == (4096, 4094, 0, 1)
    assert lat.port_stall_cycles[("l1", "rw_port_3")] == 4094
    assert lat.port_stall_cycles[("l1", "rw_port_1")] == -3825
    l3 = _latency(gemm, "gemm_l1_l3", ORDERS["full-order"], tmp_path)
    # inputs and weights each 256 cycles through the 512-bit DMA port before computing; outputs 1 + 1 after.
    assert (l3.stall_cycles, l3.onloading_cycles, l3.offloading_cycles) == (4094, 512, 2)


def test_separate_output_ports_remove_the_stall(gemm, tmp_path):
    """With partial-sum reads and writes on ports of their own the array never waits: 4,096 + 1 cycles."""
    hw = resolve_profile("zigzag-gemm-l1")
    l1 = hw.level("l1")
    ports = tuple(p for p in l1.ports if p.name != "rw_port_3") + (
        MemoryPort("r", 2048, (("outputs", "tl"),)), MemoryPort("w", 2048, (("outputs", "fl"),)))
    split = replace(hw, levels=tuple(replace(lv, ports=ports) if lv.name == "l1" else lv for lv in hw.levels))
    lat = _latency(gemm, "gemm_l1", ORDERS["full-order"], tmp_path, profile=split)
    assert (lat.stall_cycles, lat.total_cycles) == (0, 4097)


def test_no_ports_no_latency_model(gemm, tmp_path):
    hw = resolve_profile("zigzag-gemm-l1")
    bare = replace(hw, levels=tuple(replace(lv, ports=()) for lv in hw.levels))
    assert _latency(gemm, "gemm_l1", ORDERS["full-order"], tmp_path, profile=bare) is None


def test_ports_are_read_from_the_profile():
    """gemm_l1.yaml's l1 ports: I on rw_port_1, W on rw_port_2 (512 bit), O in and out on rw_port_3 (2048 bit)."""
    l1 = load_profile("zigzag-gemm-l1").level("l1")
    assert [(p.name, p.bandwidth_bits_per_cycle, p.serves) for p in l1.ports] == [
        ("rw_port_1", 512, (("inputs", "tl"),)), ("rw_port_2", 512, (("weights", "tl"),)),
        ("rw_port_3", 2048, (("outputs", "tl"), ("outputs", "fl")))]
    assert l1.port_for("outputs", "fl").name == "rw_port_3"
    assert l1.port_for("inputs", "fh") is None
    assert not any(lv.ports for lv in load_profile("zigzag-tpu-like").levels)


BASE = """
[profile]
name = "ports"
extends = "horowitz45"
"""


@pytest.mark.parametrize(("text", "match"), [
    ('[memory.sram.ports.p]\nserves = ["psums:tl"]\nbandwidth = { value = 8, unit = "bit/cycle", source = "x" }\n',
     r"memory.sram.ports.p.serves.*operand:direction"),
    ('[memory.sram.ports.p]\nserves = ["inputs:up"]\nbandwidth = { value = 8, unit = "bit/cycle", source = "x" }\n',
     r"memory.sram.ports.p.serves"),
    ('[memory.sram.ports.p]\nserves = []\nbandwidth = { value = 8, unit = "bit/cycle", source = "x" }\n',
     r"memory.sram.ports.p.serves"),
    ('[memory.sram.ports.p]\nserves = ["inputs:tl"]\nbandwidth = { value = 0, unit = "bit/cycle", source = "x" }\n',
     r"memory.sram.ports.p.bandwidth"),
    ('[memory.sram.ports.p]\nserves = ["inputs:tl"]\n', r"memory.sram.ports.p.bandwidth"),
    ('[memory.sram.ports.p]\nserves = ["inputs:tl"]\nwidth = 3\n', r"memory.sram.ports.p.width"),
    ('[memory.sram.ports.p]\nserves = ["inputs:tl"]\nbandwidth = { value = 8, unit = "bit/cycle", source = "x" }\n'
     '[memory.sram.ports.q]\nserves = ["inputs:tl"]\nbandwidth = { value = 8, unit = "bit/cycle", source = "x" }\n',
     r"memory.sram.ports.q.serves.*on 'p' already"),
    ('[memory.sram]\nports = 3\n', r"memory.sram.ports"),
])
def test_bad_ports_are_refused(tmp_path, text, match):
    p = tmp_path / "ports.toml"
    p.write_text(BASE + text)
    with pytest.raises(ProfileError, match=match):
        load_profile(p)


def test_a_port_may_only_serve_operands_the_level_keeps(tmp_path):
    p = tmp_path / "ports.toml"
    p.write_text(BASE + '[memory.sram]\noperands = ["weights"]\n[memory.sram.ports.p]\nserves = ["inputs:tl"]\n'
                 'bandwidth = { value = 8, unit = "bit/cycle", source = "x" }\n')
    with pytest.raises(ProfileError, match=r"memory.sram.ports.p.serves.*\['weights'\]"):
        load_profile(p)
