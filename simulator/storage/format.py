"""The pjsim compressed-model file (``.pjc``): ``pack(model, record, path)`` and ``unpack(path) -> state_dict``.

Layout, format version 2 (all integers little-endian)::

    prefix    28 bytes  magic b"PJSIMCZ\\0" (8), version u16, flags u16 (0), tensor count u32,
                        info bytes u32, payload bits u64
    info      strings   u16 count, then per string u16 length + UTF-8 bytes: the model name, the
                        metadata (a JSON object), then the record's steps
    tensors   one descriptor per tensor, in state-dict order:
                        u16 name length, u8 kind (0 raw, 1 encoded), u8 ndim, the UTF-8 name,
                        ndim x u64 shape, then 1 byte (raw: dtype code) or 44 bytes (encoded:
                        entries u64, kept u64, codebook entries u32, block symbols u32, value bits u8,
                        index bits u8, codebook value bits u8, flags u8, value section bits u64,
                        index section bits u64)
    payload   ceil(payload bits / 8) bytes: every tensor's sections, bit-packed with no padding
              between them (the last byte zero-padded)
    sha256    32 bytes over everything before it

**Size formula** (``header_bytes``): a file holds ``header_bytes + ceil(Σ tensor bits / 8)`` bytes, where
``header_bytes = 28 + info + 32 + Σ_tensors (4 + len(name) + 8 x ndim + (1 raw | 44 encoded))`` and
``info = 2 + Σ_strings (2 + len(string))`` (lengths in UTF-8 bytes). A tensor's bits are
``TensorEncoding.stored_bits(numel)`` for an encoded weight (the same number the record, the mapper and
the storage accountant use) and ``numel x element bits`` for a raw tensor (biases, buffers).

Sections of an encoded weight (``simulator.compress.streams``): the codebook (``codebook_entries``
float32), the value section (fixed-width codebook indices or raw float32 values; or, Huffman-coded,
the code table (5 bits per symbol), the block offsets (u32 each) and the byte-aligned blocks), and the
relative-index section (likewise, when ``index_bits > 0``).

Reading (bounded, every declared count checked against the payload before allocation) is in
``simulator.storage.reader``.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from simulator.compress.streams import EncodedLayer, encode_layer
from simulator.errors import PjsimError
from simulator.fileio import write_bytes_atomic
from simulator.storage.bits import pack_fixed
from simulator.workload import CompressionRecord

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_BLOCK_SYMBOLS",
    "MAX_EXPANSION",
    "MAX_FILE_BYTES",
    "MIN_DECODED_LIMIT_BYTES",
    "PackResult",
    "StorageFormatError",
    "encode_state",
    "header_bytes",
    "pack",
]

MAGIC = b"PJSIMCZ\0"
FORMAT_VERSION = 2
#: Largest ``.pjc`` file ``unpack`` reads (4 GiB); larger files are refused before reading.
MAX_FILE_BYTES = 1 << 32
#: Largest Huffman block (symbols per independently decodable block) a file may declare.
MAX_BLOCK_SYMBOLS = 1 << 20
MAX_INDEX_BITS = 16
#: Decoded tensors may take at most ``max(MIN_DECODED_LIMIT_BYTES, MAX_EXPANSION x file bytes)``: the
#: filler rule bounds a sparse tensor by its stream, but 16-bit relative indices still allow 2^16
#: elements per entry; Deep Compression files expand 35-50x, extreme sparsity a few hundred times.
MAX_EXPANSION = 4096
MIN_DECODED_LIMIT_BYTES = 256 << 20
MAX_NDIM = 8
_PREFIX = struct.Struct("<8sHHIIQ")
_STRLEN = struct.Struct("<H")
_TENSOR = struct.Struct("<HBB")
_DIM = struct.Struct("<Q")
_RAW = struct.Struct("<B")
_ENCODED = struct.Struct("<QQIIBBBBQQ")
_DIGEST = 32
_RAW_KIND, _ENCODED_KIND = 0, 1
_VALUE_CODED, _INDEX_CODED, _SIGN_MAC = 1, 2, 4
#: Raw tensor dtypes by their code in the file.
_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
           torch.int16, torch.int8, torch.uint8, torch.bool)


class StorageFormatError(PjsimError):
    """A compressed file is unreadable: names the file and what is wrong (truncated, corrupt, version)."""


class PackResult(dict):
    """What ``pack`` wrote: ``path``, ``file_bytes``, ``header_bytes`` (everything but the payload: see
    ``header_bytes``), ``payload_bytes`` and ``payload_bits`` (the sum of the tensors' stored bits)."""


def _info_bytes(strings: list[str]) -> int:
    return _STRLEN.size + sum(_STRLEN.size + len(s.encode("utf-8")) for s in strings)


def header_bytes(tensors: list[tuple[str, tuple[int, ...], bool]], strings: list[str]) -> int:
    """Bytes of a file besides its payload, by the documented formula.

    Args:
        tensors: ``(name, shape, encoded)`` per tensor.
        strings: the info strings (model name, metadata JSON, steps).
    """
    per_tensor = sum(_TENSOR.size + len(name.encode("utf-8")) + _DIM.size * len(shape)
                     + (_ENCODED.size if encoded else _RAW.size) for name, shape, encoded in tensors)
    return _PREFIX.size + _info_bytes(strings) + per_tensor + _DIGEST


class _BitWriter:
    """Concatenates bit strings (MSB first) with no padding between them; vectorised per piece."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.carry = 0  # pending high bits of the next byte
        self.carry_bits = 0
        self.bits = 0

    def write(self, data: bytes, nbits: int) -> None:
        if nbits == 0:
            return
        nbytes = (nbits + 7) >> 3
        arr = np.frombuffer(data, dtype=np.uint8, count=nbytes).astype(np.uint16)
        if nbits & 7:
            arr[-1] &= (0xFF << (8 - (nbits & 7))) & 0xFF
        r = self.carry_bits
        if r:
            out = np.empty(nbytes + 1, dtype=np.uint16)
            out[0] = self.carry | (arr[0] >> r)
            out[1:nbytes] = ((arr[:-1] << (8 - r)) | (arr[1:] >> r)) & 0xFF
            out[nbytes] = (arr[-1] << (8 - r)) & 0xFF
        else:
            out = arr
        total = r + nbits
        full = total >> 3
        self.chunks.append(out[:full].astype(np.uint8).tobytes())
        self.carry_bits = total & 7
        self.carry = int(out[full]) if self.carry_bits else 0
        self.bits += nbits

    def getvalue(self) -> bytes:
        tail = bytes([self.carry]) if self.carry_bits else b""
        return b"".join(self.chunks) + tail


def _encoded_sections(layer: EncodedLayer) -> list[tuple[bytes, int]]:
    """An encoded weight's sections as ``(bytes, bits)``, in file order."""
    enc = layer.encoding
    out: list[tuple[bytes, int]] = []
    if layer.codebook is not None:
        out.append((layer.codebook.astype("<f4").tobytes(), 32 * layer.codebook.size))
    if layer.value_stream is not None:
        out.append((layer.value_code.table_bytes(), layer.value_code.table_bits()))
        out.append((layer.value_stream.offsets.astype("<u4").tobytes(), 32 * layer.value_stream.offsets.size))
        out.append((layer.value_stream.data, 8 * len(layer.value_stream.data)))
    elif layer.symbols is not None:
        out.append((pack_fixed(layer.symbols, enc.value_bits), layer.entries * enc.value_bits))
    else:
        out.append((layer.raw_values.astype("<f4").tobytes(), 32 * layer.entries))
    if layer.sparse is not None:
        if layer.index_stream is not None:
            out.append((layer.index_code.table_bytes(), layer.index_code.table_bits()))
            out.append((layer.index_stream.offsets.astype("<u4").tobytes(), 32 * layer.index_stream.offsets.size))
            out.append((layer.index_stream.data, 8 * len(layer.index_stream.data)))
        else:
            out.append((pack_fixed(layer.sparse.rel, enc.index_bits), layer.entries * enc.index_bits))
    return out


def encode_state(model: nn.Module | dict, record: CompressionRecord, huffman_coded: bool | None = None,
                 block_symbols: int | None = None) -> dict[str, EncodedLayer | torch.Tensor]:
    """Every state-dict entry as stored: an ``EncodedLayer`` for compressed weights, the tensor otherwise
    (Huffman blocks of each encoding's ``huffman_block_symbols`` unless ``block_symbols`` is given)."""
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


def _string(s: str) -> bytes:
    blob = s.encode("utf-8")
    if len(blob) > 0xFFFF:
        raise PjsimError(f"pjsim file string of {len(blob)} bytes is longer than 65535: {s[:40]!r}...")
    return _STRLEN.pack(len(blob)) + blob


def pack(model: nn.Module | dict, record: CompressionRecord, path: str | Path, model_name: str = "",
         metadata: dict | None = None) -> PackResult:
    """Write ``model`` (module or state dict) compressed as ``record`` says to ``path`` (atomically).

    Huffman coding is used for a layer when its encoding says so (``mean_code_bits`` set), with the
    encoding's ``huffman_block_symbols``; every tensor's bits are its ``TensorEncoding.stored_bits``.

    Returns:
        A ``PackResult``; ``file_bytes == header_bytes + ceil(payload_bits / 8)``.
    """
    encoded = encode_state(model, record)
    writer = _BitWriter()
    descriptors: list[bytes] = []
    for name, item in encoded.items():
        shape = tuple(item.shape)
        if len(shape) > MAX_NDIM:
            raise PjsimError(f"tensor {name!r} has {len(shape)} dimensions; the pjsim file holds at most {MAX_NDIM}")
        name_blob = name.encode("utf-8")
        kind = _ENCODED_KIND if isinstance(item, EncodedLayer) else _RAW_KIND
        desc = _TENSOR.pack(len(name_blob), kind, len(shape)) + name_blob + b"".join(_DIM.pack(d) for d in shape)
        if isinstance(item, EncodedLayer):
            enc = item.encoding
            start = writer.bits
            sections = _encoded_sections(item)
            for blob, nbits in sections:
                writer.write(blob, nbits)
            numel = math.prod(shape)
            block_symbols = enc.huffman_block_symbols
            if not 1 <= block_symbols <= MAX_BLOCK_SYMBOLS:
                raise PjsimError(f"tensor {name!r}: Huffman block of {block_symbols} symbols; at most {MAX_BLOCK_SYMBOLS}")
            if writer.bits - start != enc.stored_bits(numel):  # NB: internal invariant
                raise AssertionError(f"{name}: wrote {writer.bits - start} bits, stored_bits says {enc.stored_bits(numel)}")
            flags = ((_VALUE_CODED if item.value_stream is not None else 0)
                     | (_INDEX_CODED if item.index_stream is not None else 0)
                     | (_SIGN_MAC if enc.mac_arithmetic == "sign" else 0))
            desc += _ENCODED.pack(item.entries, item.entries - enc.filler_entries, enc.codebook_entries, block_symbols,
                                  enc.value_bits, enc.index_bits, enc.codebook_value_bits, flags,
                                  enc.value_stream_bits(numel),
                                  enc.index_stream_bits(numel))
        else:
            t = item.contiguous()
            if t.dtype not in _DTYPES:
                raise PjsimError(f"tensor {name!r} has dtype {t.dtype}, which the pjsim file cannot store")
            blob = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""  # 0-dim too (BatchNorm counters)
            writer.write(blob, 8 * len(blob))
            desc += _RAW.pack(_DTYPES.index(t.dtype))
        descriptors.append(desc)
    strings = [model_name, json.dumps(metadata or {}, separators=(",", ":"), sort_keys=True), *record.steps]
    info = _STRLEN.pack(len(strings)) + b"".join(_string(s) for s in strings)
    payload = writer.getvalue()
    body = (_PREFIX.pack(MAGIC, FORMAT_VERSION, 0, len(descriptors), len(info), writer.bits) + info
            + b"".join(descriptors) + payload)
    data = body + hashlib.sha256(body).digest()
    write_bytes_atomic(path, data)
    return PackResult(path=Path(path), file_bytes=len(data), payload_bytes=len(payload), payload_bits=writer.bits,
                      header_bytes=len(data) - len(payload))
