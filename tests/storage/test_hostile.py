"""Hostile ``.pjc`` input (issue 18): bombs are refused before allocation, under a memory cap, fast.

Crafted files start from the shipped LeNet-300-100 checkpoint, change one declared field through the
layout documented in ``simulator/storage/format.py`` and recompute the checksum, so only the reader's
checks against the payload stand between the file and a 37 GiB allocation or a 10^9-step loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.pretrained import CHECKPOINT_DIR
from simulator.storage import StorageFormatError, pack, unpack
from simulator.storage.format import MAX_BLOCK_SYMBOLS

SHIPPED = CHECKPOINT_DIR / "lenet_300_100-deep-compression.pjc"
ROOT = Path(__file__).resolve().parents[2]
MEMORY_CAP_BYTES = 1 << 30  # the subprocess's address space: far below what any bomb asks for


def _layout(data: bytes) -> tuple[dict, list[dict]]:
    """Field offsets per the documented layout (independent of the reader's code)."""
    magic, version, flags, count, info_len, payload_bits = struct.unpack_from("<8sHHIIQ", data)
    prefix = {"count_at": 12, "payload_bits_at": 20, "count": count}
    pos = 28 + info_len
    tensors = []
    for _ in range(count):
        name_len, kind, ndim = struct.unpack_from("<HBB", data, pos)
        name = data[pos + 4:pos + 4 + name_len].decode()
        shape_at = pos + 4 + name_len
        enc_at = shape_at + 8 * ndim
        tensors.append({"name": name, "kind": kind, "ndim": ndim, "shape_at": shape_at, "enc_at": enc_at})
        pos = enc_at + (44 if kind == 1 else 1)
    return prefix, tensors


def _craft(data: bytes, patches: list[tuple[int, str, int]]) -> bytes:
    body = bytearray(data[:-32])
    for offset, fmt, value in patches:
        struct.pack_into(fmt, body, offset, value)
    return bytes(body) + hashlib.sha256(bytes(body)).digest()


def _tensor(tensors: list[dict], name: str) -> dict:
    return next(t for t in tensors if t["name"] == name)


def _crafted_files(tmp: Path) -> dict[str, tuple[Path, str | None]]:
    """label -> (path, tensor the error must name or None)."""
    data = SHIPPED.read_bytes()
    prefix, tensors = _layout(data)
    fc1, bias = _tensor(tensors, "fc1.weight"), _tensor(tensors, "fc1.bias")
    assert fc1["kind"] == 1 and fc1["ndim"] == 2 and bias["kind"] == 0
    flags = data[fc1["enc_at"] + 27]
    assert flags & 1, "fc1's value stream must be Huffman-coded for the block bombs to reach the block check"
    cases = {
        # issue 18: a 32 KB file declaring a [100000, 100000] tensor (37 GiB of float32)
        "shape_bomb": ([(fc1["shape_at"], "<Q", 100_000), (fc1["shape_at"] + 8, "<Q", 100_000)], "fc1.weight"),
        "raw_shape_bomb": ([(bias["shape_at"], "<Q", 10**10)], "fc1.bias"),
        "entries_bomb": ([(fc1["enc_at"], "<Q", 2**40), (fc1["enc_at"] + 8, "<Q", 2**40)], "fc1.weight"),
        # issue 18: block_symbols = 10**9 hung in a Python loop; a zero block divided by zero
        "block_bomb": ([(fc1["enc_at"] + 20, "<I", 10**9)], "fc1.weight"),
        "block_max": ([(fc1["enc_at"] + 20, "<I", MAX_BLOCK_SYMBOLS)], "fc1.weight"),
        "zero_block": ([(fc1["enc_at"] + 20, "<I", 0)], "fc1.weight"),
        "tensor_count_bomb": ([(prefix["count_at"], "<I", 2**32 - 1)], None),
        "payload_bits_bomb": ([(prefix["payload_bits_at"], "<Q", 2**63)], None),
    }
    out = {}
    for label, (patches, tensor) in cases.items():
        path = tmp / f"{label}.pjc"
        path.write_bytes(_craft(data, patches))
        out[label] = (path, tensor)
    # 16-bit relative indices let each entry stand for 2^16 elements: a shape within the filler bound
    # that decodes to ~0.5 GB from a 6 KB file is refused by the decoded-size limit instead.
    sparse = _sparse16_file(tmp)
    prefix16, tensors16 = _layout(sparse)
    w = _tensor(tensors16, "0.weight")
    entries = struct.unpack_from("<Q", sparse, w["enc_at"])[0]
    path = tmp / "expansion_bomb.pjc"
    path.write_bytes(_craft(sparse, [(w["shape_at"], "<Q", 1), (w["shape_at"] + 8, "<Q", (entries + 1) << 16)]))
    out["expansion_bomb"] = (path, "0.weight")
    fifo = tmp / "fifo.pjc"
    os.mkfifo(fifo)
    out["fifo"] = (fifo, None)
    out["dev_zero"] = (Path("/dev/zero"), None)
    out["directory"] = (tmp, None)
    return out


def _sparse16_file(tmp: Path) -> bytes:
    from simulator.compress import MagnitudePrune, WeightSharing

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(100, 100))
    model, rec = MagnitudePrune(keep=0.2, index_bits=16).apply(model)
    model, rec = WeightSharing(bits=4).apply(model, rec)
    pack(model, rec, tmp / "sparse16.pjc")
    return (tmp / "sparse16.pjc").read_bytes()


_RUNNER = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from simulator.storage import StorageFormatError, unpack
results = {{}}
for label, path in json.loads(sys.argv[1]).items():
    start = time.perf_counter()
    try:
        unpack(path)
        outcome = ("accepted", "")
    except StorageFormatError as exc:
        outcome = ("StorageFormatError", str(exc))
    except BaseException as exc:  # noqa: BLE001 - reported to the test
        outcome = (type(exc).__name__, str(exc)[:300])
    results[label] = [*outcome, time.perf_counter() - start]
print(json.dumps(results))
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(), reason="POSIX only")
def test_bombs_are_refused_under_a_memory_cap_in_seconds(tmp_path):
    files = _crafted_files(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _RUNNER.format(cap=MEMORY_CAP_BYTES),
                           json.dumps({k: str(p) for k, (p, _) in files.items()})],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for label, (path, tensor) in files.items():
        kind, message, seconds = results[label]
        assert kind == "StorageFormatError", (label, kind, message)
        assert str(path) in message, (label, message)
        if tensor is not None:
            assert repr(tensor) in message and "expected" in message, (label, message)
        assert seconds < 10, (label, seconds)
    assert "regular file" in results["fifo"][1] and "regular file" in results["dev_zero"][1]
    assert "[100000, 100000]" in results["shape_bomb"][1]
    assert "decoded tensors to fit" in results["expansion_bomb"][1]


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    with pytest.raises(StorageFormatError, match=r"expected at most 1,000 bytes, found 30,353 bytes"):
        unpack(SHIPPED, max_bytes=1000)


# ----------------------------------------------------------------------------------------------------
# Fuzzing: every input decodes to a state dict or raises StorageFormatError.


@cache
def _small_file() -> bytes:
    import tempfile

    from simulator.compress import HuffmanCoding, MagnitudePrune, WeightSharing

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(40, 30), torch.nn.ReLU(), torch.nn.Linear(30, 5))
    model, rec = MagnitudePrune(keep={"0": 0.2, "2": 0.5}, index_bits=3).apply(model)
    model, rec = WeightSharing(bits={"0": 3, "2": 4}).apply(model, rec)
    model, rec = HuffmanCoding(block_symbols=16).apply(model, rec)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "small.pjc"
        pack(model, rec, path, model_name="fuzz")
        return path.read_bytes()


@contextlib.contextmanager
def _memory_cap(extra_bytes: int):
    """Cap this process's address space at its current size + ``extra_bytes`` while the block runs."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open("/proc/self/status") as fh:
        vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = vm + extra_bytes if hard == resource.RLIM_INFINITY else min(vm + extra_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


_edit = st.tuples(st.integers(0, 10**6), st.integers(0, 255))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc for the memory cap")
@settings(max_examples=300, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(_edit, min_size=1, max_size=6), header_bias=st.booleans(), rechecksum=st.booleans(),
       cut=st.one_of(st.none(), st.integers(0, 10**6)))
def test_fuzzed_files_decode_or_raise_the_storage_error(edits, header_bias, rechecksum, cut, tmp_path):
    data = bytearray(_small_file())
    limit = 200 if header_bias else len(data) - 32  # most checks live in the header; the rest decodes streams
    for pos, value in edits:
        data[pos % limit] = value
    if cut is not None:
        data = data[:cut % (len(data) + 1)]
    if rechecksum and len(data) > 32:
        data[-32:] = hashlib.sha256(bytes(data[:-32])).digest()
    path = tmp_path / "fuzz.pjc"
    path.write_bytes(bytes(data))
    with _memory_cap(1 << 30):
        try:
            state = unpack(path)
        except StorageFormatError as exc:
            assert str(path) in str(exc)
            return
    assert all(isinstance(v, torch.Tensor) for v in state.values())
