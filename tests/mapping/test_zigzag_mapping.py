"""ZigZag mapping files replayed as fixed mappings (``simulator.mapping.zigzag_yaml`` / ``zigzag_mapping`` /
``zigzag_replay``).

Sources: the mapping files of ``../shared/peers-data/zigzag/mapping`` (KULeuven-MICAS/zigzag at 3d12a96e) and ZigZag
3.9.1's own runs of the 128^3 GEMM with two more loop orders, cached with the command that produced them
(``benchmarks/results/peers/zigzag-gemm_l1*@order-{A,B}.json``: A = [D2 16, D1 16, D0 16], the reduction innermost,
so ZigZag's allocator puts D2 in the 32-bit output register; B = [D2 4, D1 4, D2 4, D0 16, D1 4]). The allocation
must equal ZigZag's loop by loop; the energy is within 1% (measured: A -0.09%, B exact on gemm_l1; A -0.34%, B
-0.13% on gemm_l1_l3; before ZigZag's output counts (``zigzag_links``): -0.2% / -2.2%, -0.7% / -2.1%) and the cycles
within 10% (gemm_l1 A 4,103.5 vs 4,097, B 5,122.7 vs 5,119; gemm_l1_l3 A 4,866 vs 4,610 (+5.6%), B 5,888 vs 5,632
(+4.5%): memsim's l3 streaming, 768 cycles, where ZigZag loads 512 and drains during the computation).
"""

from __future__ import annotations

import ast
import re

import pytest
import yaml

from benchmarks.peer_results import load
from benchmarks.peers import PEERS_DATA
from simulator.api import resolve_profile
from simulator.mapping.fixed import LoopProblem
from simulator.mapping.schedule import MappingError
from simulator.mapping.zigzag_mapping import GEMM_DIMS, zigzag_mapping
from simulator.mapping.zigzag_replay import operand_bits, read_latch_cycles
from simulator.mapping.zigzag_yaml import entry_for, load_zigzag_mapping

MAPPINGS = PEERS_DATA / "zigzag" / "mapping"
PROFILES = {"gemm_l1": "zigzag-gemm-l1", "gemm_l1_l3": "zigzag-gemm-l1-l3"}
_LETTER = {"inputs": "I", "weights": "W", "outputs": "O"}
_ZZ_DIM = {v: k for k, v in GEMM_DIMS.items()}


def gemm(n: int = 128) -> LoopProblem:
    """``fixed_apply.op_problem``'s nest of an n x n x n GEMM (B = M, K = N, C = the reduction)."""
    bounds = (("B", n), ("G", 1), ("K", n), ("C", n), ("OY", 1), ("OX", 1), ("FY", 1), ("FX", 1))
    one = lambda *d: tuple(((1, x),) for x in d)  # noqa: E731
    projections = (("weights", one("G", "K", "C", "FY", "FX")),
                   ("inputs", (*one("B", "G", "C"), ((1, "OY"), (1, "FY")), ((1, "OX"), (1, "FX")))),
                   ("outputs", one("B", "G", "K", "OY", "OX")))
    return LoopProblem("gemm", bounds, projections)


def _write(tmp_path, entries, name="m.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(entries))
    return path


def _with_order(case: str, order, tmp_path):
    entries = yaml.safe_load((MAPPINGS / f"{case}.yaml").read_text())
    entries[0]["temporal_ordering"] = order
    return _write(tmp_path, entries, f"{case}.yaml")


def _per_operand(fm) -> dict[str, list[list[tuple[str, int]]]]:
    """The fixed mapping as ZigZag prints a temporal mapping: per operand, per level it keeps (innermost first),
    the loops it holds (innermost first; a bypassed level's loops belong to the next level out that keeps it)."""
    out = {}
    for op, letter in _LETTER.items():
        levels, pending = [], []
        for lvl in reversed(fm.levels):
            pending += [(_ZZ_DIM[d], f) for d, f in reversed(lvl.temporal)]
            if op in lvl.keeps:
                levels.append(pending)
                pending = []
        out[letter] = levels
    return out


def _zigzag_tm(text: str) -> dict[str, list[list[tuple[str, int]]]]:
    return ast.literal_eval(re.sub(r"\b([A-Z][A-Za-z0-9_]*)\b", r"'\1'", text))


@pytest.mark.parametrize("case", list(PROFILES))
@pytest.mark.parametrize("order", ["A", "B"])
def test_allocation_equals_zigzag_3_9_1(case, order, tmp_path):
    record = load(f"zigzag-{case}@order-{order}")
    path = _with_order(case, record["temporal_ordering"], tmp_path)
    fm = zigzag_mapping(entry_for(load_zigzag_mapping(path), "gemm"), gemm(), resolve_profile(PROFILES[case]), 8, 32)
    assert _per_operand(fm) == _zigzag_tm(record["layers"][0]["temporal_mapping"])


@pytest.mark.parametrize("case", list(PROFILES))
@pytest.mark.parametrize("order", ["A", "B"])
def test_replay_energy_within_1_percent_and_cycles_within_10_percent_of_zigzag_3_9_1(case, order, tmp_path):
    """gemm_l1: A 285,379.2 vs 285,624.96 pJ (ZigZag rounds reg_O's 8-bit final outputs up to a 32-bit access),
    B 361,297.92 (exact); gemm_l1_l3: A 17,322,951.68 vs 17,382,471.68, B 18,026,183.68 vs 18,048,839.68 (ZigZag
    prices outputs leaving l1 at its 512-bit DMA port, pjsim at the 2048-bit output port)."""
    import torch

    from simulator.api import simulate, trace_model

    record = load(f"zigzag-{case}@order-{order}")
    path = _with_order(case, record["temporal_ordering"], tmp_path)
    workload = trace_model(torch.nn.Sequential(torch.nn.Linear(128, 128, bias=False)),
                           example_inputs=(torch.zeros(128, 128),))
    report = simulate(workload, PROFILES[case], mapping=f"zigzag:{path}", layers="independent", engine="closed-form")
    assert sum(report.energy_pj.values()) == pytest.approx(record["energy_pj"], rel=0.01)
    assert report.cycles == pytest.approx(record["latency_cycles"], rel=0.10)


def test_gemm_l1_file_allocation_and_spatial_levels():
    """mapping/gemm_l1.yaml: D1 x D3 (rows B, columns K) fan out below l1, the D2 reduction below reg_O (reg_O serves
    D2 only); "*" takes all 16 iterations; the 32-bit reg_O cannot hold a second output, so every loop is at l1."""
    fm = zigzag_mapping(entry_for(load_zigzag_mapping(MAPPINGS / "gemm_l1.yaml"), "0"), gemm(),
                        resolve_profile("zigzag-gemm-l1"), 8, 32)
    l1, reg = fm.levels
    assert (l1.level, l1.temporal, l1.spatial) == ("l1", (("B", 16), ("C", 16), ("K", 16)), (("B", 8), ("K", 8)))
    assert (reg.level, reg.temporal, reg.spatial, reg.keeps) == ("reg_O", (), (("C", 8),), frozenset({"outputs"}))
    assert read_latch_cycles(gemm(), fm, "inputs") == 16  # K innermost does not index the inputs
    assert read_latch_cycles(gemm(), fm, "weights") == 1
    assert operand_bits(gemm(), fm, 8, 32) == {
        ("l1", "weights"): 8, ("l1", "inputs"): 8, ("l1", "outputs"): 32, ("reg_O", "outputs"): 32}


def test_outputs_final_width_where_no_reduction_loop_is_above(tmp_path):
    """gemm_l1_l3 with the reduction innermost (order A): C sits in reg_O, so l1 and l3 see final 8-bit outputs."""
    path = _with_order("gemm_l1_l3", [["D2", 16], ["D1", 16], ["D0", 16]], tmp_path)
    fm = zigzag_mapping(load_zigzag_mapping(path)[0], gemm(), resolve_profile("zigzag-gemm-l1-l3"), 8, 32)
    bits = operand_bits(gemm(), fm, 8, 32)
    assert (bits[("reg_O", "outputs")], bits[("l1", "outputs")], bits[("l3", "outputs")]) == (32, 8, 8)


def test_entry_for_prefers_the_layer_name(tmp_path):
    base = yaml.safe_load((MAPPINGS / "gemm_l1.yaml").read_text())[0]
    named = {**base, "name": "fc", "temporal_ordering": [["D2", "*"], ["D1", "*"], ["D0", "*"]]}
    entries = load_zigzag_mapping(_write(tmp_path, [base, named]))
    assert entry_for(entries, "fc").ordering[0] == ("D2", None)
    assert entry_for(entries, "other").name == "default"
    with pytest.raises(MappingError, match="no entry named 'x' and no 'default'"):
        entry_for(entries[1:], "x")


@pytest.mark.parametrize(("case", "profile"),
                         [("tpu_like", "zigzag-tpu-like"), ("edge_tpu_like", "zigzag-edge-tpu-like")])
def test_spatial_mapping_is_pjsims(case, profile):
    """Issue 13, low priority: the ZigZag files' default spatial mapping unrolls on each array axis the dim pjsim's
    profile unrolls there, by the axis size (tpu_like: D1 K 32, D2 C 32)."""
    default = entry_for(load_zigzag_mapping(MAPPINGS / f"{case}.yaml"), "conv")
    axes = resolve_profile(profile).compute.array.axes
    assert {axis: tuple(d for d, _ in loops) for axis, loops in default.spatial} == {a.name: a.unrolls for a in axes}
    assert {axis: [f for _, f in loops] for axis, loops in default.spatial} == {a.name: [a.size] for a in axes}


def test_an_ordering_zigzag_would_search_is_refused():
    entry = entry_for(load_zigzag_mapping(MAPPINGS / "tpu_like.yaml"), "conv")
    conv = gemm(64)  # K, C, B left after the 32 x 32 unrolling; tpu_like gives no temporal ordering
    with pytest.raises(MappingError, match=r"tpu_like.yaml: entry\[0\] \(default\).temporal_ordering: does not cover"):
        zigzag_mapping(entry, conv, resolve_profile("zigzag-tpu-like"), 8, 32)


def test_side_by_side_registers_are_refused(tmp_path):
    """edge_tpu_like: rf_w serves D3 x D4, rf_o serves D2: no single loop nest places both fanouts."""
    entries = yaml.safe_load((MAPPINGS / "edge_tpu_like.yaml").read_text())[:1]
    entries[0]["spatial_mapping"] = {"D1": ["K, 8"], "D2": ["C, 8"], "D3": ["B, 4"], "D4": ["B, 4"]}
    entries[0]["temporal_ordering"] = [["K", "*"], ["C", "*"], ["B", "*"]]
    with pytest.raises(MappingError, match="axis 'D3' are not the outer ones of a single nest"):
        zigzag_mapping(load_zigzag_mapping(_write(tmp_path, entries))[0], gemm(),
                       resolve_profile("zigzag-edge-tpu-like"), 8, 32)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda e: e.pop("memory_operand_links"), r"entry\[0\] \(default\).memory_operand_links: expected O, W and I"),
    (lambda e: e.update(spatial_mapping={"D1": ["D0 8"]}), r"spatial_mapping.D1: expected \"DIM, factor\""),
    (lambda e: e.update(temporal_ordering=[["D1", "many"]]), r"temporal_ordering: expected \[dim, factor\]"),
    (lambda e: e.update(temporal_ordering=[["D1", 3], ["D2", "*"], ["D0", "*"]]), "does not divide the 16"),
    (lambda e: e.update(temporal_ordering=[["X", "*"]]), "layer dim 'X' is not a dim of 'gemm'"),
    (lambda e: e.update(spatial_mapping={"D9": ["D0, 8"]}), "has no array axis 'D9'"),
    (lambda e: e.update(spatial_mapping={"D1": ["D0, 16"]}), "unrolls 16 > the axis's 8 lanes"),
])
def test_malformed_files_name_file_entry_and_key(tmp_path, edit, message):
    entries = yaml.safe_load((MAPPINGS / "gemm_l1.yaml").read_text())
    edit(entries[0])
    path = _write(tmp_path, entries)
    with pytest.raises(MappingError, match=message) as info:
        zigzag_mapping(load_zigzag_mapping(path)[0], gemm(), resolve_profile("zigzag-gemm-l1"), 8, 32)
    assert str(path) in str(info.value)


def test_not_a_mapping_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: default\n")
    with pytest.raises(MappingError, match="bad.yaml: expected a list of mapping entries"):
        load_zigzag_mapping(path)


def test_cli_accepts_a_zigzag_mapping(tmp_path):
    from simulator.cli.cmd_simulate import _mapping_arg

    assert _mapping_arg(f"zigzag:{MAPPINGS / 'gemm_l1.yaml'}") == f"zigzag:{MAPPINGS / 'gemm_l1.yaml'}"


def test_cli_simulate_with_a_zigzag_mapping(tmp_path):
    """``pjsim simulate --mapping zigzag:FILE.yaml``: every GEMM of lenet_300_100 (batch 128) replayed on gemm_l1."""
    from click.testing import CliRunner

    from simulator.cli.main import cli

    entries = yaml.safe_load((MAPPINGS / "gemm_l1.yaml").read_text())
    entries[0]["spatial_mapping"] = {"D1": ["D0, 8"], "D2": ["D2, 4"], "D3": ["D1, 2"]}  # divides 784/300/100/10
    path = _write(tmp_path, entries)
    args = ["simulate", "lenet_300_100", "--batch-size", "128", "--profile", "zigzag-gemm-l1", "--mapping",
            f"zigzag:{path}", "--engine", "closed-form", "--independent-layers"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "reg_O" in result.output
    entries[0]["spatial_mapping"] = {"D1": ["D0, 8"], "D2": ["D2, 8"], "D3": ["D1, 8"]}  # 300 is not 8 x 37.5
    _write(tmp_path, entries)
    bad = CliRunner().invoke(cli, args)
    assert isinstance(bad.exception, MappingError) and "does not divide its 300 iterations" in str(bad.exception)
