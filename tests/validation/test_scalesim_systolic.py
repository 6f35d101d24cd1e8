"""pjsim's SCALE-Sim presets (``scalesim-32x32-os|ws|is``) against SCALE-Sim 3.0.0's own outputs.

Source of every reference number: the real SCALE-Sim run side by side, cached in
``benchmarks/results/peers/scalesim-<df>[@test].json`` (command, versions and inputs inside; produced by
``make bench-peers`` = ``.venv-peers/bin/python benchmarks/peer_runner.py benchmarks/results/peers scalesim-os``,
config ``peers-data/scalesim/scale_32x32_os.cfg`` with the dataflow set, topology ``resnet18_torch.csv`` or
``test.csv``). Tolerances (issue 13): cycles 5%, DRAM reads / writes per operand 10%. pjsim runs its real
pipeline (torchvision ResNet-18 traced, mapped with the preset, each layer on its own as SCALE-Sim does).
A layer SCALE-Sim has not finished in the cached run is not compared (the run's ``complete`` flag says so).
"""

from __future__ import annotations

import pytest

from benchmarks.peer_results import SCALESIM_TO_TORCH, load, scalesim_layers
from benchmarks.peers import peer_summary, resnet18_workload
from simulator.mapping.systolic import SystolicLayer, run_layer

#: peers-data/README.md: SCALE-Sim 3.0.0, scale_32x32_os.cfg on resnet18_torch.csv: 2,210,776 cycles.
README_OS_CYCLES = 2_210_776


def _cached(case: str) -> dict:
    record = load(case)
    if record is None:
        pytest.skip(f"no cached SCALE-Sim output {case}.json (run `make bench-peers`)")
    return record


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_one_layer_exactly_as_scalesim(dataflow):
    """scalesim/topologies/test.csv (Inc5b_3x3: 7 x 7 x 192, 3 x 3, 384 filters) through SCALE-Sim 3.0.0 with
    each dataflow (cached ``scalesim-<df>@test.json``): cycles, SRAM reads and DRAM reads per operand equal
    SCALE-Sim's; ofmap DRAM writes within 1% (SCALE-Sim's write buffer drains in whole lines)."""
    (layer,) = scalesim_layers(_cached(f"scalesim-{dataflow}@test")).values()
    run = run_layer(SystolicLayer(1, 7, 7, 192, 384, 3, 3, 1, 5, 5), dataflow, 32, 32, 65536, 65536)
    assert run.cycles == layer.cycles
    assert run.sram_reads == layer.sram_reads
    assert run.dram_reads == layer.dram_reads
    assert run.dram_writes_ofmap == pytest.approx(layer.dram_ofmap_writes, rel=0.01)


@pytest.fixture(scope="module")
def os_layers():
    return scalesim_layers(_cached("scalesim-os"))


@pytest.fixture(scope="module")
def os_summary():
    return peer_summary("scalesim-32x32-os", resnet18_workload(), independent_layers=True)


def test_resnet18_os_layers_scalesim_ran(os_layers, os_summary):
    """Every ResNet-18 layer the cached OS run holds: cycles within 5%, DRAM ifmap / filter reads and ofmap
    writes within 10% of SCALE-Sim's (words; pjsim's bits / 8)."""
    assert os_layers, "the cached run holds no layer"
    for name, layer in os_layers.items():
        torch_name = SCALESIM_TO_TORCH[name]
        dram = os_summary.dram_bits_by_layer[torch_name]
        assert os_summary.compute_cycles_by_layer[torch_name] == pytest.approx(layer.cycles, rel=0.05), name
        assert dram["inputs read"] / 8 == pytest.approx(layer.dram_reads["ifmap"], rel=0.10), name
        assert dram["weights read"] / 8 == pytest.approx(layer.dram_reads["filter"], rel=0.10), name
        assert dram["outputs write"] / 8 == pytest.approx(layer.dram_ofmap_writes, rel=0.10), name


def test_resnet18_os_network_cycles(os_summary):
    """peers-data/README.md: 2,210,776 cycles (SCALE-Sim 3.0.0, OS, resnet18_torch.csv); tolerance 5%.
    pjsim: 2,133,315 + the fc bias adds (-3.5%): each layer's folds x (T + 62) - 1, which equals SCALE-Sim's
    per-layer "Total Cycles" on every layer cached (test above). The README's total is the sum of SCALE-Sim's
    "Total Cycles (incl. prefetch)": on the cached layers that adds 3,300-4,060 cycles per layer (the first
    refill at 10 words per cycle, 32,750 / 10 = 3,275, and the last ofmap drain), ~77,000 over 21 layers;
    pjsim's memory simulation times those transfers, not its compute cycles."""
    assert os_summary.compute_cycles == pytest.approx(README_OS_CYCLES, rel=0.05)


def test_resnet18_os_network_dram_per_operand(os_layers, os_summary):
    """The whole network's DRAM reads / writes per operand within 10% of SCALE-Sim's; needs the complete run.

    Measured on the complete cached run (21 of 21 layers, SCALE-Sim 3.0.0, resumed per layer): ifmap reads
    12,777,045 = SCALE-Sim's; filter reads 43,085,758 vs 43,084,758 (+1,000: the fc bias, which SCALE-Sim does
    not model); ofmap writes 2,484,712 vs 2,485,177 (-0.02%: SCALE-Sim's write buffer drains whole lines). The
    run's "Total Cycles" sum to 2,133,315 (pjsim's compute cycles) and its "incl. prefetch" to 2,210,776."""
    record = _cached("scalesim-os")
    if not record["complete"]:
        pytest.skip(f"cached SCALE-Sim OS run holds {len(os_layers)} of 21 layers (cut short; `make bench-peers`)")
    peer = {k: sum(layer.dram_reads[k] for layer in os_layers.values()) for k in ("ifmap", "filter")}
    writes = sum(layer.dram_ofmap_writes for layer in os_layers.values())
    mine = os_summary.dram_bits_by_operand
    assert mine["inputs read"] / 8 == pytest.approx(peer["ifmap"], rel=0.10)
    assert mine["weights read"] / 8 == pytest.approx(peer["filter"], rel=0.10)
    assert mine["outputs write"] / 8 == pytest.approx(writes, rel=0.10)



@pytest.fixture(scope="module")
def os_template():
    """The OS preset as a fixed-mapping template of the loop-nest model (``mapping/fixed_templates.py``) on
    ``scalesim-32x32-os``, each layer on its own (``apply_dataflow_preset``): the 21 MAC layers' schedules."""
    from benchmarks.peers import MAC_KINDS
    from simulator.api import resolve_precision
    from simulator.hardware import load_profile
    from simulator.mapping import map_workload
    from simulator.mapping.fixed_apply import apply_dataflow_preset

    wl, hw = resolve_precision(resnet18_workload(), load_profile("scalesim-32x32-os"), None)
    sched = apply_dataflow_preset(map_workload(wl, hw, independent_layers=True), wl, hw, "os")
    mac_ops = [op for op in sched.ops if op.kind in MAC_KINDS and op.macs]
    assert len(mac_ops) == 21 and all(op.mapping == "fixed-os" for op in mac_ops)
    return {op.layer: op for op in mac_ops}, hw.dram.name


def test_resnet18_os_template_cycles_measured(os_template):
    """Measured: 2,186,208 cycles = each layer's folds x (window T + fill/drain 62), SCALE-Sim's per-fold count
    (the profile's ``[compute.array] fill_drain``). Every layer equals SCALE-Sim's "Total Cycles" + 1 (SCALE-Sim
    counts from cycle 0) except the five 28 x 28-output layers: a rectangular tile of the loop-nest model folds
    28 x 28 pixels 28 times on 32 rows (OY 1 x OX 28) where SCALE-Sim's flattened pixels fold 25 times (+12%).
    Before uneven folds: 3,339,824 MAC iterations (perfect factorisation, no fill/drain)."""
    ops, _ = os_template
    assert sum(op.compute_cycles for op in ops.values()) == 2_186_208
    layers = scalesim_layers(_cached("scalesim-os"))
    for name, layer in layers.items():
        mine = ops[SCALESIM_TO_TORCH[name]].compute_cycles
        assert mine == layer.cycles + 1 or (name.startswith("Conv3") and mine / layer.cycles == pytest.approx(1.12, abs=0.001)), name


def test_resnet18_os_template_cycles(os_template):
    """issue 13: "with the OS preset as a fixed mapping, cycles within 5% of 2,210,776" (peers-data/README.md):
    2,186,208 = -1.1% (vs SCALE-Sim's own "Total Cycles" sum 2,133,315: +2.5%)."""
    ops, _ = os_template
    assert sum(op.compute_cycles for op in ops.values()) == pytest.approx(README_OS_CYCLES, rel=0.05)


def _template_dram_words(os_template) -> dict[str, float]:
    ops, dram = os_template
    out = {"inputs read": 0.0, "weights read": 0.0, "outputs write": 0.0}
    for op in ops.values():
        for (level, operand, direction), bits in op.traffic_bits.items():
            if level == dram and f"{operand} {direction}" in out:
                out[f"{operand} {direction}"] += bits / 8
    return out


def test_resnet18_os_template_dram_measured(os_template):
    """Measured DRAM words of the OS template (all 21 layers): ifmap 12,403,478 reads, filter 44,266,688, ofmap
    2,484,712 writes. The template's buffer is SCALE-Sim's three SRAMs, each operand in the active half of its
    own (``TemplateLevels.operand_words``); a fold whose window does not fit streams it (filter refetched per
    pixel fold, as SCALE-Sim's filter SRAM does for T x 32 > 32,750 words). Before: one shared 192 kB buffer
    kept tiles across folds, ifmap 3,788,950 (0.30x SCALE-Sim) and filter 11,678,912 (0.27x)."""
    mine = _template_dram_words(os_template)
    assert mine == {"inputs read": 12_403_478, "weights read": 44_266_688, "outputs write": 2_484_712}


def test_resnet18_os_template_dram_per_operand(os_template):
    """issue 13: "with the OS preset as a fixed mapping ... DRAM reads/writes per operand within 10% of
    SCALE-Sim's" (the complete cached run, ``benchmarks/results/peers/scalesim-os.json``): ifmap 12,403,478 vs
    12,777,045 (-2.9%), filter 44,266,688 vs 43,084,758 (+2.7%), ofmap writes 2,484,712 vs 2,485,177 (-0.02%).
    Per layer the template's reads range 0.63x-1.65x SCALE-Sim's (its refill windows are not tiles of the loop
    nest); the network totals are what the issue states."""
    record = _cached("scalesim-os")
    if not record["complete"]:
        pytest.skip("cached SCALE-Sim OS run is incomplete")
    layers = scalesim_layers(record).values()
    mine = _template_dram_words(os_template)
    assert mine["inputs read"] == pytest.approx(sum(x.dram_reads["ifmap"] for x in layers), rel=0.10)
    assert mine["weights read"] == pytest.approx(sum(x.dram_reads["filter"] for x in layers), rel=0.10)
    assert mine["outputs write"] == pytest.approx(sum(x.dram_ofmap_writes for x in layers), rel=0.10)
