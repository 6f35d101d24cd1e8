"""Memoised op mapping (``simulator/mapping/memo.py``): reusing the schedule of an identical op changes nothing.

The reference is ``map_workload(memoise=False)``, which maps every op. Every field of the ``Schedule`` (each
``OpSchedule``: tiles, traffic, operations, cycles, steps; footprint, spilling layers, unmapped kinds ...) and
of the priced ``CostReport`` must be equal, exactly, on zoo models with repeated blocks x shipped profiles
(dense, ZigZag's, Eyeriss's row-stationary, EIE's sparse CSC, int8 NPU) x the layer modes and objectives.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from simulator.api import resolve_precision, resolve_profile, trace_model
from simulator.energy import estimate_energy
from simulator.mapping import map_workload, memo
from simulator.memsim import closed_form_stats
from simulator.workload import TensorEncoding
from tests.memsim.builders import chain_workload, level, make_profile

PROFILES = ("horowitz45", "horowitz45-sram512k", "zigzag-tpu-like", "eyeriss", "eie", "npu-ethos-n77")
MODES = ({}, {"independent_layers": True}, {"objective": "latency"})


def _traced(name: str):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return trace_model(name, device="meta")


@pytest.fixture(scope="module")
def zoo():
    """ResNet-18 (repeated basic blocks), ViT-tiny (six identical encoder layers), DS-CNN (four identical
    depthwise-separable blocks), and LeNet-300-100 Deep-Compressed (Huffman-coded, pruned, shared weights)."""
    workloads = {name: _traced(name) for name in ("resnet18", "vit_tiny", "ds_cnn")}
    pretrained = pytest.importorskip("models.pretrained")
    model, record, _ = pretrained.load_checkpoint("lenet_300_100-deep-compression")
    workloads["lenet_300_100-deep-compression"] = trace_model(model.eval(), torch.rand(1, 1, 28, 28), record)
    return workloads


def _counting_hits(monkeypatch) -> list[int]:
    """Hits of every ``OpMemo`` after each op it maps (the last entry: the call's total)."""
    hits: list[int] = []
    original = memo.OpMemo.map

    def counted(self, *args):
        result = original(self, *args)
        hits.append(self.hits)
        return result

    monkeypatch.setattr(memo.OpMemo, "map", counted)
    return hits


def _assert_same(a, b, where: str) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "ops":
            for op_a, op_b in zip(x, y, strict=True):
                assert op_a == op_b, f"{where}: op {op_a.index} '{op_a.layer}' differs with the memo"
        assert x == y, f"{where}: Schedule.{f.name} differs with the memo"
    assert a == b


@pytest.mark.parametrize("profile", PROFILES)
def test_memo_changes_no_schedule_or_cost_field(zoo, profile, monkeypatch):
    hits = _counting_hits(monkeypatch)
    reused = 0
    for model, workload in zoo.items():
        for mode in MODES:
            w, hw = resolve_precision(workload, resolve_profile(profile), None)
            hits.clear()
            fast = map_workload(w, hw, **mode)
            reused += hits[-1]
            slow = map_workload(w, hw, memoise=False, **mode)
            where = f"{model} on {profile} {mode}"
            _assert_same(fast, slow, where)
            cost_fast = estimate_energy(w, fast, closed_form_stats(fast, hw), hw)
            cost_slow = estimate_energy(w, slow, closed_form_stats(slow, hw), hw)
            assert cost_fast == cost_slow, f"{where}: the priced report differs with the memo"
    assert reused > 100  # the memo was exercised (ResNet-18 alone reuses dozens of ops per mode)


def test_resnet18_reuses_its_repeated_blocks(zoo, monkeypatch):
    """layer1 of ResNet-18 is two identical basic blocks: the second block's convs (and the first block's conv2,
    the same 64 x 56 x 56 3x3 conv with the same operand homes) come from the memo."""
    hits = _counting_hits(monkeypatch)
    w, hw = resolve_precision(zoo["resnet18"], resolve_profile("horowitz45"), None)
    schedule = map_workload(w, hw)
    assert hits[-1] > 0
    layer1 = [op for op in schedule.ops if op.layer.startswith("layer1.") and op.kind == "conv"]
    assert len({(op.tiles, op.traffic_bits) for op in layer1}) < len(layer1)
    assert [op.layer for op in layer1] == ["layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2"]


def _chain_profile(sram_bits: int):
    return make_profile([level("rf", "register_file", 1 << 12, 1.0), level("sram", "sram", sram_bits, 5.0),
                         level("dram", "dram", 1 << 40, 640.0)])


def test_identical_shapes_with_different_homes_are_not_shared():
    """Four 64 x 256 x 256 layers; with a 2 Mbit SRAM the weights (4 x 2 Mbit) stream and the activation share
    (1 Mbit) keeps the 64 x 256 fp32 activations (512 kbit each) on chip: fc1 and fc2 are the same op and map
    the same. fc0 reads the model input and fc3 writes the model output, whose homes and compulsory moves
    differ: their schedules must not be taken from the memo."""
    w = chain_workload([(64, 256, 256)] * 4)
    hw = _chain_profile(1 << 21)
    fast, slow = map_workload(w, hw), map_workload(w, hw, memoise=False)
    assert fast == slow
    assert fast.ops[1].traffic_bits == fast.ops[2].traffic_bits
    assert fast.ops[0].traffic_bits != fast.ops[1].traffic_bits
    assert fast.ops[3].traffic_bits != fast.ops[1].traffic_bits
    assert [op.index for op in fast.ops] == [0, 1, 2, 3] and [op.layer for op in fast.ops] == ["fc0", "fc1", "fc2", "fc3"]


def test_key_ignores_names_and_sees_encodings():
    """The key names tensors by position: two ops that differ only in their tensors' names share a key; a weight's
    encoding (4-bit shared, 10% dense) is part of it."""
    from simulator.mapping.context import MappingContext

    def keys(workload):
        captured = []
        original = memo.op_key

        def spy(op, ctx: MappingContext):
            key = original(op, ctx)
            captured.append(key)
            return key

        memo.op_key, saved = spy, memo.op_key
        try:
            map_workload(workload, _chain_profile(1 << 21))
        finally:
            memo.op_key = saved
        return captured

    plain = keys(chain_workload([(8, 16, 16)] * 4))
    shared = TensorEncoding(density=0.1, value_bits=4, index_bits=4, codebook_entries=16)
    encoded = keys(chain_workload([(8, 16, 16)] * 4, encodings=[None, shared, None, None]))
    assert plain[1] == plain[2]  # fc1 and fc2: other tensor names, the same key
    assert plain[0] != plain[1] != plain[3]  # the model input's and the model output's ops differ
    assert encoded[1] != plain[1] and encoded[2] == plain[2]


def test_clear_caches_empties_every_mapper_cache():
    """Benchmarks time first runs by emptying the mapper's memos (``memo.clear_caches``): every ``lru_cache`` in
    ``simulator.mapping`` must be among them, or a new cache would silently make the timings warm."""
    import importlib
    import pkgutil

    import simulator.mapping as package

    found = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"simulator.mapping.{info.name}")
        found |= {f"{info.name}.{name}" for name, obj in vars(module).items()
                  if callable(getattr(obj, "cache_clear", None)) and getattr(obj, "__module__", None) == module.__name__}
    cleared = {f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}" for fn in memo.mapper_caches()}
    assert found == cleared
    map_workload(chain_workload([(64, 256, 256)] * 4), _chain_profile(1 << 21))
    memo.clear_caches()
    assert all(fn.cache_info().currsize == 0 for fn in memo.mapper_caches())
