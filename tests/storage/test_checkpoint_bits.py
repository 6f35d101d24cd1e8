"""One encoding arithmetic on the shipped checkpoints: record == mapper == accountant == .pjc, bit for bit.

Issue 12 found LeNet-300-100's fc3 at 4,908 bits in the record and 3,440 in the storage accountant, and
a 32,090-byte file against an accountant total of 29,661 bytes. Every tensor of both shipped
deep-compression checkpoints must now agree, and the file's size is the documented header plus the
accountant's total rounded up to a byte.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from models.pretrained import CHECKPOINT_DIR, load_checkpoint
from simulator.compress.huffman import LENGTH_BITS
from simulator.mapping.operands import offchip_bits, onchip_bits
from simulator.storage import header_bytes, read_header, storage_report
from simulator.workload import FLOAT32, TensorInfo

CHECKPOINTS = ["lenet_300_100", "lenet5"]


def _path(name: str) -> Path:
    return CHECKPOINT_DIR / f"{name}-deep-compression.pjc"


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_every_tensor_agrees_bit_for_bit(name):
    model, record, _ = load_checkpoint(f"{name}-deep-compression")
    header = read_header(_path(name))
    report = storage_report(model, record)
    final = report.stages[-1]
    assert final == "huffman"
    acct = report.layer_bits(final)
    for t in header["tensors"]:
        numel = math.prod(t["shape"])
        if t["kind"] == "raw":
            assert t["bits"] == acct[t["name"]] == numel * 32, t["name"]  # biases stored raw float32
            continue
        enc = record.encodings[t["name"]]
        info = TensorInfo(t["name"], "weight", tuple(t["shape"]), FLOAT32, enc)
        # record == mapper (off chip) == accountant == the tensor's bits in the .pjc payload
        assert enc.stored_bits(numel) == offchip_bits(info) == acct[t["name"]] == t["bits"], t["name"]
        # on chip: fixed-width entries + the full 2^b codebook (Huffman decoded on load)
        assert onchip_bits(info) == enc.stored_entries(numel) * (enc.value_bits + enc.index_bits) + 32 * 2**enc.value_bits
        assert enc.codebook_entries == 2**enc.value_bits


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_file_size_is_documented_header_plus_accountant_total(name):
    model, record, _ = load_checkpoint(f"{name}-deep-compression")
    header = read_header(_path(name))
    total = storage_report(model, record).total_bits("huffman")
    # By hand, from the layout in simulator/storage/format.py: prefix 28 + sha256 32 + info strings
    # (u16 count, u16 length + UTF-8 each) + per tensor 4 + name + 8 x ndim + (1 raw | 44 encoded).
    strings = [header["model"], _metadata_json(header), *header["steps"]]
    info = 2 + sum(2 + len(s.encode()) for s in strings)
    tensors = sum(4 + len(t["name"].encode()) + 8 * len(t["shape"]) + (44 if t["kind"] == "encoded" else 1)
                  for t in header["tensors"])
    expected = 28 + info + tensors + 32 + (total + 7) // 8
    assert _path(name).stat().st_size == expected
    assert expected == header_bytes([(t["name"], tuple(t["shape"]), t["kind"] == "encoded") for t in header["tensors"]],
                                    strings) + (total + 7) // 8


def _metadata_json(header: dict) -> str:
    import json

    return json.dumps(header["metadata"], separators=(",", ":"), sort_keys=True)


def test_lenet_300_100_fc3_by_hand():
    # fc3 (10 x 100): 6-bit codebook indices + 5-bit relative indices (Deep Compression's LeNet recipe).
    model, record, _ = load_checkpoint("lenet_300_100-deep-compression")
    enc = record.encodings["fc3.weight"]
    entries = enc.stored_entries(1000)
    assert entries == round(enc.density * 1000) + enc.filler_entries
    # Before Huffman (the weight-sharing record): entries x (6 + 5) + 64 x 32, also what sits on chip.
    shared = replace(enc, mean_code_bits=None, mean_index_code_bits=None)
    report = storage_report(model, record)
    assert shared.stored_bits(1000) == entries * 11 + 64 * 32 == report.layer_bits("quantized")["fc3.weight"]
    assert shared.stored_bits(1000) == enc.onchip_bits(1000) == 4908  # issue 12's record number, now everywhere
    # After Huffman: codebook + each stream (coded or fixed) exactly; a coded stream carries its table.
    parts = {p: report.bits.get(("huffman", "fc3.weight", p), 0) for p in ("values", "indices", "fillers", "codebook",
                                                                          "huffman_tables")}
    assert parts["codebook"] == 64 * 32
    coded_tables = (LENGTH_BITS * 64 if enc.mean_code_bits is not None else 0) + (
        LENGTH_BITS * 32 if enc.mean_index_code_bits is not None else 0)
    assert parts["huffman_tables"] == coded_tables
    assert sum(parts.values()) == enc.stored_bits(1000)


def test_traced_workload_uses_the_same_bits():
    import torch

    from simulator.api import trace_model

    model, record, _ = load_checkpoint("lenet_300_100-deep-compression")
    workload = trace_model(model, torch.zeros(1, 1, 28, 28), record=record)
    header = {t["name"]: t["bits"] for t in read_header(_path("lenet_300_100"))["tensors"]}
    weights = [t for t in workload.tensors.values() if t.kind == "weight" and t.encoding is not None]
    assert {w.name for w in weights} == {"fc1.weight", "fc2.weight", "fc3.weight"}
    for w in weights:
        assert w.stored_bits == offchip_bits(w) == header[w.name], w.name


def test_mapper_streams_exactly_the_file_payload():
    # Every weight tensor of the traced compressed LeNet-300-100 (encoded weights and raw biases) as
    # the mapper stores it off chip adds up to the .pjc payload's bits.
    import torch

    from simulator.api import resolve_profile, trace_model
    from simulator.mapping.mapper import map_workload

    model, record, _ = load_checkpoint("lenet_300_100-deep-compression")
    workload = trace_model(model, torch.zeros(1, 1, 28, 28), record=record)
    schedule = map_workload(workload, resolve_profile("horowitz45-sram512k"))
    payload_bits = sum(t["bits"] for t in read_header(_path("lenet_300_100"))["tensors"])
    assert schedule.weight_offchip_bits == payload_bits == 238_400
