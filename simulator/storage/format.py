"""The pjsim compressed-model file: ``pack(model, record, path)`` and ``unpack(path) -> state_dict``.

Layout (all integers little-endian)::

    offset 0   magic     8 bytes  b"PJSIMCZ\\0"
           8   version   uint16   FORMAT_VERSION
          10   flags     uint16   0 (reserved)
          12   json_len  uint32   length of the JSON header
          16   payload   uint64   length of the payload
          24   header    JSON (UTF-8): per tensor its shape, encoding and the byte ranges of its sections
           .   payload   the sections, byte-aligned, in header order
         end   sha256    32 bytes over everything before it

Per compressed weight (``simulator.compress.streams``): the codebook (float32), the value stream
(fixed-width codebook indices or raw float32 values, or their Huffman bitstream and block offsets),
the relative-index stream (fixed-width or Huffman), and the Huffman tables (one 5-bit code length per
symbol). Every other tensor of the state dict (biases, buffers) is stored raw in its dtype.

``unpack`` refuses a file whose magic, version, lengths or checksum are wrong, and a stream that does
not decode to exactly the stored shape, with a ``StorageFormatError`` naming the file and the problem:
it never returns a silently wrong model.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from simulator.compress import huffman
from simulator.compress.sparse import decode_positions
from simulator.compress.streams import EncodedLayer, encode_layer
from simulator.errors import PjsimError
from simulator.fileio import write_bytes_atomic
from simulator.frozen import FrozenMap
from simulator.storage.bits import pack_fixed, unpack_fixed
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["FORMAT_VERSION", "MAGIC", "PackResult", "StorageFormatError", "encode_state", "pack", "read_header", "read_record", "unpack"]

MAGIC = b"PJSIMCZ\0"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sHHIQ")
_DIGEST = 32


class StorageFormatError(PjsimError):
    """A compressed file is unreadable: names the file and what is wrong (truncated, corrupt, version)."""


class PackResult(dict):
    """What ``pack`` wrote: ``path``, ``file_bytes``, ``header_bytes`` (prefix + JSON + checksum), ``payload_bytes``."""


def _layer_sections(layer: EncodedLayer) -> list[tuple[str, bytes]]:
    enc = layer.encoding
    out: list[tuple[str, bytes]] = []
    if layer.codebook is not None:
        out.append(("codebook", layer.codebook.astype("<f4").tobytes()))
    if layer.value_stream is not None:
        out.append(("values", layer.value_stream.data))
        out.append(("value_offsets", layer.value_stream.offsets.astype("<u4").tobytes()))
        out.append(("value_lengths", layer.value_code.table_bytes()))
    elif layer.symbols is not None:
        out.append(("values", pack_fixed(layer.symbols, enc.value_bits)))
    else:
        out.append(("values", layer.raw_values.astype("<f4").tobytes()))
    if layer.sparse is not None:
        if layer.index_stream is not None:
            out.append(("indices", layer.index_stream.data))
            out.append(("index_offsets", layer.index_stream.offsets.astype("<u4").tobytes()))
            out.append(("index_lengths", layer.index_code.table_bytes()))
        else:
            out.append(("indices", pack_fixed(layer.sparse.rel, enc.index_bits)))
    return out


def encode_state(model: nn.Module | dict, record: CompressionRecord, huffman_coded: bool | None = None,
                 block_symbols: int = huffman.DEFAULT_BLOCK_SYMBOLS) -> dict[str, EncodedLayer | torch.Tensor]:
    """Every state-dict entry as stored: an ``EncodedLayer`` for compressed weights, the tensor otherwise."""
    state = model.state_dict() if isinstance(model, nn.Module) else model
    missing = [n for n in record.encodings if n not in state]
    if missing:
        raise PjsimError(f"record names parameters the model lacks: {', '.join(missing)}")
    out: dict[str, EncodedLayer | torch.Tensor] = OrderedDict()
    for name, tensor in state.items():
        enc = record.encodings.get(name)
        if enc is not None and not enc.is_dense:
            weight = tensor.detach().to(torch.float32).cpu().numpy()
            out[name] = encode_layer(weight, enc, huffman_coded, block_symbols, name)
        else:
            out[name] = tensor.detach().cpu()
    return out


def pack(model: nn.Module | dict, record: CompressionRecord, path: str | Path, model_name: str = "",
         metadata: dict | None = None, block_symbols: int = huffman.DEFAULT_BLOCK_SYMBOLS) -> PackResult:
    """Write ``model`` (module or state dict) compressed as ``record`` says to ``path`` (atomically).

    Huffman coding is used for a layer when its encoding says so (``mean_code_bits`` set).

    Returns:
        A ``PackResult`` with the file's size and its header's size in bytes.
    """
    encoded = encode_state(model, record, None, block_symbols)
    payload: list[bytes] = []
    offset = 0
    tensors = []
    for name, item in encoded.items():
        if isinstance(item, EncodedLayer):
            sections = {}
            for key, blob in _layer_sections(item):
                sections[key] = [offset, len(blob)]
                payload.append(blob)
                offset += len(blob)
            tensors.append({
                "name": name, "kind": "encoded", "shape": list(item.shape), "entries": item.entries,
                "huffman": item.value_stream is not None or item.index_stream is not None,
                "block_symbols": block_symbols, "encoding": asdict(item.encoding), "sections": sections,
                "parts_bits": item.parts_bits,
            })
        else:
            t = item.contiguous()
            blob = t.numpy().tobytes() if t.numel() else b""
            tensors.append({"name": name, "kind": "raw", "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."),
                            "sections": {"raw": [offset, len(blob)]}})
            payload.append(blob)
            offset += len(blob)
    header = {"format": "pjsim-compressed", "model": model_name, "steps": list(record.steps),
              "metadata": metadata or {}, "tensors": tensors}
    header_blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    body = _PREFIX.pack(MAGIC, FORMAT_VERSION, 0, len(header_blob), offset) + header_blob + b"".join(payload)
    data = body + hashlib.sha256(body).digest()
    write_bytes_atomic(path, data)
    return PackResult(path=Path(path), file_bytes=len(data), payload_bytes=offset,
                      header_bytes=len(data) - offset)


def _read(path: str | Path) -> tuple[dict, memoryview]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StorageFormatError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) < _PREFIX.size + _DIGEST:
        raise StorageFormatError(f"{path}: truncated ({len(data)} bytes, shorter than the fixed header)")
    magic, version, _flags, json_len, payload_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise StorageFormatError(f"{path}: not a pjsim compressed file (magic {magic!r})")
    if version != FORMAT_VERSION:
        raise StorageFormatError(f"{path}: format version {version}, this pjsim reads version {FORMAT_VERSION}")
    expected = _PREFIX.size + json_len + payload_len + _DIGEST
    if len(data) != expected:
        raise StorageFormatError(f"{path}: truncated or padded: {len(data)} bytes, header says {expected}")
    if hashlib.sha256(data[:-_DIGEST]).digest() != data[-_DIGEST:]:
        raise StorageFormatError(f"{path}: checksum mismatch (the file is corrupt)")
    try:
        header = json.loads(data[_PREFIX.size:_PREFIX.size + json_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StorageFormatError(f"{path}: header is not valid JSON ({exc})") from None
    start = _PREFIX.size + json_len
    return header, memoryview(data)[start:start + payload_len]


def read_header(path: str | Path) -> dict:
    """The verified JSON header of a compressed file (tensors, encodings, steps, metadata)."""
    return _read(path)[0]


def read_record(path: str | Path) -> CompressionRecord:
    """The ``CompressionRecord`` stored in a file (encodings exactly as packed)."""
    header = read_header(path)
    enc = {t["name"]: TensorEncoding(**t["encoding"]) for t in header["tensors"] if t["kind"] == "encoded"}
    return CompressionRecord(FrozenMap(enc), tuple(header.get("steps", ())))


def _decode_tensor(path: Path, t: dict, payload: memoryview) -> torch.Tensor:
    name = t["name"]
    shape = tuple(t["shape"])
    numel = math.prod(shape)

    def section(key: str) -> bytes:
        if key not in t["sections"]:
            raise StorageFormatError(f"{path}: tensor {name!r} lacks its {key} section")
        off, length = t["sections"][key]
        if off < 0 or off + length > len(payload):
            raise StorageFormatError(f"{path}: tensor {name!r} section {key} lies outside the payload")
        return bytes(payload[off:off + length])

    if t["kind"] == "raw":
        dtype = getattr(torch, t["dtype"], None)
        if not isinstance(dtype, torch.dtype):
            raise StorageFormatError(f"{path}: tensor {name!r} has unknown dtype {t['dtype']!r}")
        blob = section("raw")
        if len(blob) != numel * torch.empty(0, dtype=dtype).element_size():
            raise StorageFormatError(f"{path}: tensor {name!r} raw data has {len(blob)} bytes for shape {shape}")
        return torch.frombuffer(bytearray(blob), dtype=dtype).reshape(shape).clone() if numel else torch.empty(shape, dtype=dtype)
    enc = TensorEncoding(**t["encoding"])
    entries = int(t["entries"])
    block = int(t["block_symbols"])

    def stream(prefix: str, alphabet: int | None, bits: int) -> np.ndarray:
        if f"{prefix}_lengths" in t["sections"]:
            code = huffman.HuffmanCode.from_table(section(f"{prefix}_lengths"), alphabet)
            offsets = np.frombuffer(section(f"{prefix}_offsets"), dtype="<u4")
            hs = huffman.HuffmanStream(section("values" if prefix == "value" else "indices"), entries, block, offsets)
            return huffman.decode(hs, code)
        key = "values" if prefix == "value" else "indices"
        return unpack_fixed(section(key), bits, entries)

    try:
        if enc.codebook_entries > 0:
            codebook = np.frombuffer(section("codebook"), dtype="<f4")
            if codebook.size != enc.codebook_entries:
                raise StorageFormatError(f"{path}: tensor {name!r} codebook has {codebook.size} entries, expected {enc.codebook_entries}")
            symbols = stream("value", codebook.size, enc.value_bits)
            if symbols.size and int(symbols.max()) >= codebook.size:
                raise StorageFormatError(f"{path}: tensor {name!r} indexes past its codebook")
            values = codebook[symbols]
        else:
            raw = np.frombuffer(section("values"), dtype="<f4")
            if raw.size != entries:
                raise StorageFormatError(f"{path}: tensor {name!r} has {raw.size} values, expected {entries}")
            values = raw
        if enc.index_bits > 0:
            rel = stream("index", 1 << enc.index_bits, enc.index_bits)
            positions = decode_positions(rel)
            if positions.size and positions[-1] >= numel:
                raise StorageFormatError(f"{path}: tensor {name!r} relative indices run past its {numel} elements")
            flat = np.zeros(numel, dtype=np.float32)
            flat[positions] = values
        else:
            if values.size != numel:
                raise StorageFormatError(f"{path}: tensor {name!r} stores {values.size} values for {numel} elements")
            flat = np.asarray(values, dtype=np.float32)
    except (ValueError, PjsimError) as exc:
        if isinstance(exc, StorageFormatError):
            raise
        raise StorageFormatError(f"{path}: tensor {name!r} does not decode ({exc})") from None
    return torch.from_numpy(flat.copy()).reshape(shape)


def unpack(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Read a compressed file back into a state dict (every tensor decoded and checked).

    Raises:
        StorageFormatError: the file is truncated, corrupt (checksum), of another version, or its
            streams do not decode to the stored shapes.
    """
    path = Path(path)
    header, payload = _read(path)
    if header.get("format") != "pjsim-compressed" or not isinstance(header.get("tensors"), list):
        raise StorageFormatError(f"{path}: header lacks the pjsim-compressed tensor table")
    state = OrderedDict()
    for t in header["tensors"]:
        try:
            state[t["name"]] = _decode_tensor(path, t, payload)
        except (KeyError, TypeError) as exc:
            raise StorageFormatError(f"{path}: tensor entry is malformed ({exc!r})") from None
    return state
