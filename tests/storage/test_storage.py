"""The pjsim file: bit-exact round trip, size on disk = accountant, clear errors on bad files."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from simulator.compress import HuffmanCoding, MagnitudePrune, WeightSharing, deep_compression
from simulator.compress.base import CompressError
from simulator.storage import StorageFormatError, pack, read_header, read_record, storage_report, unpack
from simulator.storage.format import FORMAT_VERSION


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc1 = nn.Linear(64, 200)
        self.fc2 = nn.Linear(200, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(self.conv(x).flatten(1)[:, :64])))


def _compressed(huffman=True):
    model, rec = MagnitudePrune(keep={"fc1": 0.1, "fc2": 0.3, "conv": 0.7}, index_bits=4).apply(Tiny())
    model, rec = WeightSharing(bits={"fc1": 4, "fc2": 5, "conv": 8}).apply(model, rec)
    if huffman:
        model, rec = HuffmanCoding(block_symbols=256).apply(model, rec)
    return model, rec


@pytest.mark.parametrize("huffman", [True, False])
def test_round_trip_is_bit_exact_and_size_matches_accountant(tmp_path, huffman):
    model, rec = _compressed(huffman)
    result = pack(model, rec, tmp_path / "m.pjc")
    state = unpack(tmp_path / "m.pjc")
    for name, tensor in model.state_dict().items():
        assert torch.equal(state[name].view(torch.int32), tensor.view(torch.int32)), name  # bit for bit
    report = storage_report(model, rec)
    final = report.stages[-1]
    # File = documented header + the accountant's total, rounded up to a byte (sections are bit-packed).
    total = report.total_bits(final)
    assert (tmp_path / "m.pjc").stat().st_size == result["file_bytes"] == result["header_bytes"] + (total + 7) // 8
    assert result["payload_bits"] == total
    # The record read back from the file, the accountant, the file's own tensor bits and the record
    # handed to pack agree on every tensor, bit for bit.
    back = read_record(tmp_path / "m.pjc")
    header = read_header(tmp_path / "m.pjc")
    file_bits = {t["name"]: t["bits"] for t in header["tensors"]}
    layer_bits = report.layer_bits(final)
    for name, enc in back.encodings.items():
        numel = model.state_dict()[name].numel()
        assert enc.stored_bits(numel) == layer_bits[name] == file_bits[name] == rec.encodings[name].stored_bits(numel), name
    assert rec.encodings["fc1.weight"].filler_entries == back.encodings["fc1.weight"].filler_entries


def test_shared_record_before_huffman_is_what_the_accountant_and_file_count(tmp_path):
    # The weight-sharing record (codebook of 2^b entries, fixed-width entries, fillers from pruning) is
    # exact: the quantized stage of the accountant and the unpadded file sections give the same bits.
    model, rec = _compressed(huffman=False)
    report = storage_report(model, rec)
    pack(model, rec, tmp_path / "s.pjc")
    file_bits = {t["name"]: t["bits"] for t in read_header(tmp_path / "s.pjc")["tensors"]}
    for name, enc in rec.encodings.items():
        numel = model.state_dict()[name].numel()
        assert enc.codebook_entries == 1 << enc.value_bits
        # by hand: entries x (value bits + index bits) + 2^b x 32
        by_hand = enc.stored_entries(numel) * (enc.value_bits + enc.index_bits) + (1 << enc.value_bits) * 32
        assert enc.stored_bits(numel) == by_hand == report.layer_bits("quantized")[name] == file_bits[name], name
        assert enc.onchip_bits(numel) == by_hand  # fixed width: on chip == stored


def test_stages_never_grow_and_pruning_never_increases_storage():
    model, rec = _compressed()
    report = storage_report(model, rec)
    totals = [report.total_bits(s) for s in report.stages]
    assert report.stages == ("dense", "pruned", "quantized", "huffman")
    assert totals == sorted(totals, reverse=True)
    for keep in (0.5, 0.2, 0.05):  # pruning more never costs more
        m1, r1 = MagnitudePrune(keep=keep, index_bits=4).apply(Tiny())
        m2, r2 = MagnitudePrune(keep=keep / 2, index_bits=4).apply(Tiny())
        assert storage_report(m2, r2).total_bits("pruned") <= storage_report(m1, r1).total_bits("pruned")


def _corrupt(path, offset, value=None, truncate=None):
    data = bytearray(path.read_bytes())
    if truncate is not None:
        data = data[:truncate]
    else:
        data[offset] = value if value is not None else data[offset] ^ 0xFF
    path.write_bytes(bytes(data))


def test_bad_files_give_clear_errors(tmp_path):
    model, rec = _compressed()
    good = tmp_path / "good.pjc"
    pack(model, rec, good)
    size = good.stat().st_size
    cases = {
        "truncated": ({"truncate": size - 10}, "truncated"),
        "tiny": ({"truncate": 10}, "truncated"),
        "payload": ({"offset": size - 100}, "checksum mismatch"),
        "version": ({"offset": 8, "value": FORMAT_VERSION + 1}, "version"),
        "magic": ({"offset": 0, "value": ord("X")}, "not a pjsim"),
    }
    for label, (kwargs, message) in cases.items():
        bad = tmp_path / f"{label}.pjc"
        bad.write_bytes(good.read_bytes())
        _corrupt(bad, kwargs.get("offset"), kwargs.get("value"), kwargs.get("truncate"))
        with pytest.raises(StorageFormatError, match=message):
            unpack(bad)
    with pytest.raises(StorageFormatError, match="missing.pjc: .*expected an existing file, found no such file"):
        unpack(tmp_path / "missing.pjc")


def test_too_many_values_for_the_codebook_is_refused(tmp_path):
    model, rec = MagnitudePrune(keep=0.5, index_bits=4).apply(Tiny())
    model, rec = WeightSharing(bits=4).apply(model, rec)
    with torch.no_grad():
        model.fc1.weight[model.fc1.weight != 0] += torch.rand(int((model.fc1.weight != 0).sum())) * 1e-3
    with pytest.raises(CompressError, match="fc1.weight.*codebook"):
        pack(model, rec, tmp_path / "x.pjc")


def test_recipe_naming_a_missing_layer_names_it():
    from simulator.compress import DeepCompressionRecipe
    from simulator.frozen import FrozenMap

    recipe = DeepCompressionRecipe("tiny", FrozenMap({"fc9": 0.1}), FrozenMap({"fc9": 4}), 4)
    with pytest.raises(CompressError, match="'fc9'.*fc1, fc2"):
        deep_compression(Tiny(), recipe)
