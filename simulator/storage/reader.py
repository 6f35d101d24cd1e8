"""Reading a ``.pjc`` file (layout: ``simulator.storage.format``): ``unpack``, ``read_header``, ``read_record``.

**Hostile input**: ``unpack`` reads only a regular file of at most ``MAX_FILE_BYTES`` (a device, FIFO
or directory is refused before it is opened for reading), checks the checksum, then checks every
declared shape, count, width and block size against the payload before it allocates anything: a
fixed-width stream must be exactly ``entries x bits``, a Huffman stream holds at least one bit per
symbol, a sparse tensor has ``numel <= (entries + 1) x 2^index_bits`` (the filler rule,
``simulator.compress.sparse``), a dense one ``numel == entries``, the sections must add up to the
payload, and the decoded tensors must fit ``max(256 MiB, 4096 x file bytes)`` (``max_decoded_bytes``).
Decoding work is then bounded by the payload. Every failure is a ``StorageFormatError`` naming the
file, the tensor, what was expected and what was found; ``unpack`` never returns a silently wrong
model.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from simulator.fileio import InputFileError, read_regular_file_bytes
from simulator.compress import huffman
from simulator.compress.sparse import decode_positions
from simulator.errors import PjsimError
from simulator.frozen import FrozenMap
from simulator.storage.bits import unpack_fixed
from simulator.storage.format import (
    _DIGEST,
    _DIM,
    _DTYPES,
    _ENCODED,
    _ENCODED_KIND,
    _INDEX_CODED,
    _PREFIX,
    _RAW,
    _RAW_KIND,
    _SIGN_MAC,
    _STRLEN,
    _TENSOR,
    _VALUE_CODED,
    FORMAT_VERSION,
    MAGIC,
    MAX_BLOCK_SYMBOLS,
    MAX_EXPANSION,
    MAX_FILE_BYTES,
    MAX_INDEX_BITS,
    MAX_NDIM,
    MIN_DECODED_LIMIT_BYTES,
    StorageFormatError,
)
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["read_header", "read_record", "unpack"]


def _take(payload: np.ndarray, bit_offset: int, nbits: int) -> bytes:
    """``nbits`` bits of ``payload`` starting at ``bit_offset``, realigned to a byte boundary."""
    nbytes = (nbits + 7) >> 3
    start, r = bit_offset >> 3, bit_offset & 7
    if r == 0:
        out = payload[start:start + nbytes].astype(np.uint16)
    else:
        seg = payload[start:start + nbytes + 1].astype(np.uint16)
        if seg.size == nbytes:
            seg = np.append(seg, np.uint16(0))
        out = ((seg[:-1] << r) | (seg[1:] >> (8 - r))) & 0xFF
    if nbits & 7:
        out[-1] &= (0xFF << (8 - (nbits & 7))) & 0xFF
    return out.astype(np.uint8).tobytes()


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else is refused before reading
    (``simulator.fileio.read_regular_file_bytes``, the one bounded reader), as a ``StorageFormatError``."""
    try:
        return read_regular_file_bytes(path, max_bytes, "a .pjc compressed model")
    except InputFileError as exc:
        raise StorageFormatError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class _Tensor:
    """One tensor's descriptor, checked against the payload."""

    name: str
    shape: tuple[int, ...]
    numel: int
    offset_bits: int
    bits: int
    dtype: torch.dtype | None = None
    encoding: TensorEncoding | None = None
    entries: int = 0
    block_symbols: int = 0
    value_bits_total: int = 0
    index_bits_total: int = 0


class _Cursor:
    """Reads the header with a bounds check on every field."""

    def __init__(self, path: Path, data: bytes, start: int, end: int) -> None:
        self.path, self.data, self.pos, self.end = path, data, start, end

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > self.end:
            raise StorageFormatError(f"{self.path}: header ends inside {what} (needs {n} bytes at offset {self.pos}, "
                                     f"header ends at {self.end})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, st: struct.Struct, what: str) -> tuple:
        return st.unpack(self.take(st.size, what))

    def string(self, what: str) -> str:
        (n,) = self.unpack(_STRLEN, what)
        try:
            return self.take(n, what).decode("utf-8")
        except UnicodeDecodeError:
            raise StorageFormatError(f"{self.path}: {what} is not UTF-8 text") from None


def _stream_check(path: Path, name: str, what: str, entries: int, fixed_bits: int, coded: bool, total: int,
                  alphabet: int, block: int) -> None:
    """A section's declared bits against its counts: exact for fixed width, >= 1 bit per symbol coded."""
    def bad(expected: str) -> StorageFormatError:
        return StorageFormatError(f"{path}: tensor {name!r} {what} section: expected {expected}, found {total} bits")
    if not coded:
        if total != entries * fixed_bits:
            raise bad(f"{entries} x {fixed_bits} = {entries * fixed_bits} bits")
        return
    blocks = -(-entries // block)
    overhead = huffman.LENGTH_BITS * alphabet + 32 * max(blocks - 1, 0)
    data_bits = total - overhead
    if data_bits < 0 or data_bits % 8:
        raise bad(f"a {overhead}-bit table and offsets plus whole bytes")
    if entries > data_bits:
        raise bad(f"at least 1 bit per symbol: {entries} symbols need >= {entries + overhead} bits")


def _parse(path: Path, data: bytes) -> tuple[dict, list[_Tensor], np.ndarray]:
    """Header, checked tensor descriptors and the payload (uint8) of a verified file's bytes."""
    if len(data) < _PREFIX.size + _DIGEST:
        raise StorageFormatError(f"{path}: truncated ({len(data)} bytes, shorter than the fixed header)")
    magic, version, _flags, count, info_len, payload_bits = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise StorageFormatError(f"{path}: not a pjsim compressed file (magic {magic!r})")
    if version != FORMAT_VERSION:
        raise StorageFormatError(f"{path}: format version {version}, this pjsim reads version {FORMAT_VERSION}")
    if hashlib.sha256(data[:-_DIGEST]).digest() != data[-_DIGEST:]:
        raise StorageFormatError(f"{path}: checksum mismatch (the file is corrupt or truncated)")
    payload_bytes = (payload_bits + 7) >> 3
    header_end = len(data) - _DIGEST - payload_bytes
    if header_end < _PREFIX.size + info_len:
        raise StorageFormatError(f"{path}: truncated or padded: {len(data)} bytes cannot hold a {payload_bytes}-byte "
                                 f"payload after a {_PREFIX.size + info_len}-byte prefix and info")
    cur = _Cursor(path, data, _PREFIX.size, _PREFIX.size + info_len)
    (nstrings,) = cur.unpack(_STRLEN, "the info strings")
    strings = [cur.string(f"info string {i}") for i in range(nstrings)]
    if cur.pos != cur.end or nstrings < 2:
        raise StorageFormatError(f"{path}: info block: expected {info_len} bytes holding >= 2 strings, found "
                                 f"{cur.pos - _PREFIX.size} bytes and {nstrings} strings")
    try:
        metadata = json.loads(strings[1])
    except json.JSONDecodeError:
        metadata = None
    if not isinstance(metadata, dict):
        raise StorageFormatError(f"{path}: metadata: expected a JSON object, found {strings[1][:60]!r}")
    if count > (header_end - cur.pos) // _TENSOR.size:
        raise StorageFormatError(f"{path}: declares {count} tensors, the header has room for at most "
                                 f"{(header_end - cur.pos) // _TENSOR.size}")
    cur = _Cursor(path, data, cur.pos, header_end)
    tensors: list[_Tensor] = []
    offset = 0
    for i in range(count):
        name_len, kind, ndim = cur.unpack(_TENSOR, f"tensor {i}'s descriptor")
        try:
            name = cur.take(name_len, f"tensor {i}'s name").decode("utf-8")
        except UnicodeDecodeError:
            raise StorageFormatError(f"{path}: tensor {i}'s name is not UTF-8 text") from None
        if ndim > MAX_NDIM:
            raise StorageFormatError(f"{path}: tensor {name!r}: expected at most {MAX_NDIM} dimensions, found {ndim}")
        shape = tuple(cur.unpack(_DIM, f"tensor {name!r}'s shape")[0] for _ in range(ndim))
        numel = math.prod(shape)
        if kind == _RAW_KIND:
            (code,) = cur.unpack(_RAW, f"tensor {name!r}'s dtype")
            if code >= len(_DTYPES):
                raise StorageFormatError(f"{path}: tensor {name!r}: expected a dtype code < {len(_DTYPES)}, found {code}")
            dtype = _DTYPES[code]
            bits = numel * 8 * torch.empty(0, dtype=dtype).element_size()
            if offset + bits > payload_bits:
                raise StorageFormatError(f"{path}: tensor {name!r} shape: expected at most the {payload_bits - offset} "
                                         f"payload bits left, found {list(shape)} needing {bits} bits")
            tensors.append(_Tensor(name, shape, numel, offset, bits, dtype=dtype))
            offset += bits
            continue
        if kind != _ENCODED_KIND:
            raise StorageFormatError(f"{path}: tensor {name!r}: expected kind 0 (raw) or 1 (encoded), found {kind}")
        (entries, kept, cb_entries, block, value_bits, index_bits, cb_value_bits, flags,
         value_total, index_total) = cur.unpack(_ENCODED, f"tensor {name!r}'s encoding")
        t = _encoded(path, name, shape, numel, offset, payload_bits, entries, kept, cb_entries, block, value_bits,
                     index_bits, cb_value_bits, flags, value_total, index_total)
        tensors.append(t)
        offset += t.bits
    if cur.pos != header_end:
        raise StorageFormatError(f"{path}: {header_end - cur.pos} unexplained bytes after the tensor descriptors")
    if offset != payload_bits:
        raise StorageFormatError(f"{path}: the tensors hold {offset} bits, the payload has {payload_bits}")
    header = {"format": "pjsim-compressed", "version": version, "model": strings[0], "metadata": metadata,
              "steps": strings[2:],
              "tensors": [{"name": t.name, "kind": "raw" if t.encoding is None else "encoded", "shape": list(t.shape),
                           "bits": t.bits, **({"dtype": str(t.dtype).removeprefix("torch.")} if t.dtype else {})}
                          for t in tensors]}
    payload = np.frombuffer(data, dtype=np.uint8, count=payload_bytes, offset=header_end)
    return header, tensors, payload


def _encoded(path: Path, name: str, shape: tuple[int, ...], numel: int, offset: int, payload_bits: int, entries: int,
             kept: int, cb_entries: int, block: int, value_bits: int, index_bits: int, cb_value_bits: int, flags: int,
             value_total: int, index_total: int) -> _Tensor:
    """An encoded tensor's descriptor, every count checked against the payload (nothing allocated)."""
    def bad(field: str, expected: str, found: object) -> StorageFormatError:
        return StorageFormatError(f"{path}: tensor {name!r} {field}: expected {expected}, found {found}")
    value_coded, index_coded = bool(flags & _VALUE_CODED), bool(flags & _INDEX_CODED)
    if flags & ~(_VALUE_CODED | _INDEX_CODED | _SIGN_MAC):
        raise bad("flags", "bits 0-2 only", flags)
    if not 1 <= value_bits <= 32:
        raise bad("value bits", "1..32", value_bits)
    if not 0 <= index_bits <= MAX_INDEX_BITS:
        raise bad("index bits", f"0..{MAX_INDEX_BITS}", index_bits)
    if cb_value_bits != 32:
        raise bad("codebook value bits", "32 (float32 codebooks)", cb_value_bits)
    if cb_entries > min(1 << value_bits, 1 << 16):
        raise bad("codebook entries", f"at most {min(1 << value_bits, 1 << 16)} for {value_bits}-bit indices", cb_entries)
    if cb_entries == 0 and (value_bits != 32 or value_coded):
        raise bad("values", "raw float32 (32 bits, not coded) without a codebook", f"{value_bits} bits")
    if index_bits == 0 and index_coded:
        raise bad("index stream", "no Huffman code without relative indices", "a coded index stream")
    if (value_coded or index_coded) and not 1 <= block <= MAX_BLOCK_SYMBOLS:
        raise bad("block symbols", f"1..{MAX_BLOCK_SYMBOLS}", block)
    if not 1 <= kept <= entries:
        raise bad("kept entries", f"1..{entries} (the stored entries)", kept)
    if index_bits == 0:
        if not entries == kept == numel:
            raise bad("entries", f"{numel} (a dense tensor of shape {list(shape)} stores every element)", entries)
    elif not entries <= numel <= (entries + 1) << index_bits:
        raise bad("shape", f"{entries} <= elements <= (entries + 1) x 2^{index_bits} = {(entries + 1) << index_bits} "
                  "(the filler rule bounds a sparse tensor by its stream)", f"{list(shape)} = {numel} elements")
    bits = 32 * cb_entries + value_total + index_total
    if offset + bits > payload_bits:
        raise bad("sections", f"at most the {payload_bits - offset} payload bits left", f"{bits} bits")
    _stream_check(path, name, "value", entries, value_bits, value_coded, value_total, cb_entries, max(block, 1))
    _stream_check(path, name, "index", entries, index_bits, index_coded, index_total, 1 << index_bits, max(block, 1))
    encoding = TensorEncoding(
        density=kept / numel, value_bits=value_bits, index_bits=index_bits, codebook_entries=cb_entries,
        mean_code_bits=value_total / entries if value_coded else None, codebook_value_bits=cb_value_bits,
        filler_entries=entries - kept, mean_index_code_bits=index_total / entries if index_coded else None,
        mac_arithmetic="sign" if flags & _SIGN_MAC else "multiply",
        huffman_block_symbols=block if block >= 1 else huffman.DEFAULT_BLOCK_SYMBOLS,
    )
    if encoding.stored_bits(numel) != bits or encoding.stored_entries(numel) != entries:  # NB: float round trip
        raise bad("encoding", f"{bits} bits", f"{encoding.stored_bits(numel)} from its TensorEncoding")
    return _Tensor(name, shape, numel, offset, bits, encoding=encoding, entries=entries, block_symbols=block,
                   value_bits_total=value_total, index_bits_total=index_total)


def _read(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[dict, list[_Tensor], np.ndarray]:
    path = Path(path)
    return _parse(path, _read_bytes(path, max_bytes))


def read_header(path: str | Path) -> dict:
    """The verified header of a compressed file: model, metadata, steps and per tensor its shape and bits."""
    return _read(path)[0]


def read_record(path: str | Path) -> CompressionRecord:
    """The ``CompressionRecord`` stored in a file (encodings exactly as packed)."""
    header, tensors, _ = _read(path)
    enc = {t.name: t.encoding for t in tensors if t.encoding is not None}
    return CompressionRecord(FrozenMap(enc), tuple(header["steps"]))


def _stream(path: Path, t: _Tensor, payload: np.ndarray, offset: int, total: int, coded: bool, alphabet: int,
            bits: int) -> np.ndarray:
    """One value or index section decoded into symbols (uint)."""
    if not coded:
        return unpack_fixed(_take(payload, offset, total), bits, t.entries)
    table_bits = huffman.LENGTH_BITS * alphabet
    blocks = -(-t.entries // t.block_symbols)
    offsets_bits = 32 * (blocks - 1)
    code = huffman.HuffmanCode.from_table(_take(payload, offset, table_bits), alphabet)
    offsets = np.frombuffer(_take(payload, offset + table_bits, offsets_bits), dtype="<u4")
    data = _take(payload, offset + table_bits + offsets_bits, total - table_bits - offsets_bits)
    return huffman.decode(huffman.HuffmanStream(data, t.entries, t.block_symbols, offsets), code)


def _decode_tensor(path: Path, t: _Tensor, payload: np.ndarray) -> torch.Tensor:
    if t.encoding is None:
        blob = _take(payload, t.offset_bits, t.bits)
        if not t.numel:
            return torch.empty(t.shape, dtype=t.dtype)
        return torch.frombuffer(bytearray(blob), dtype=torch.uint8).view(t.dtype).reshape(t.shape).clone()
    enc = t.encoding
    pos = t.offset_bits
    if enc.codebook_entries > 0:
        codebook = np.frombuffer(_take(payload, pos, 32 * enc.codebook_entries), dtype="<f4")
        pos += 32 * enc.codebook_entries
        symbols = _stream(path, t, payload, pos, t.value_bits_total, enc.mean_code_bits is not None,
                          enc.codebook_entries, enc.value_bits)
        if symbols.size and int(symbols.max()) >= codebook.size:
            raise StorageFormatError(f"{path}: tensor {t.name!r}: expected codebook indices < {codebook.size}, "
                                     f"found {int(symbols.max())}")
        values = codebook[symbols]
    else:
        values = np.frombuffer(_take(payload, pos, t.value_bits_total), dtype="<f4")
    pos += t.value_bits_total
    if enc.index_bits > 0:
        rel = _stream(path, t, payload, pos, t.index_bits_total, enc.mean_index_code_bits is not None,
                      1 << enc.index_bits, enc.index_bits)
        positions = decode_positions(rel)
        if positions.size and positions[-1] >= t.numel:
            raise StorageFormatError(f"{path}: tensor {t.name!r}: expected relative indices within its {t.numel} "
                                     f"elements, found one reaching position {int(positions[-1])}")
        flat = np.zeros(t.numel, dtype=np.float32)
        flat[positions] = values
    else:
        flat = np.array(values, dtype=np.float32)
    return torch.from_numpy(flat).reshape(t.shape)


def _check_decoded_size(path: Path, tensors: list[_Tensor], file_bytes: int, limit: int | None) -> None:
    """Refuse, before decoding, a file whose tensors would decode to more than the limit."""
    limit = max(MIN_DECODED_LIMIT_BYTES, MAX_EXPANSION * file_bytes) if limit is None else limit
    total = 0
    for t in tensors:
        total += t.bits // 8 if t.encoding is None else 4 * t.numel
        if total > limit:
            raise StorageFormatError(
                f"{path}: tensor {t.name!r} of shape {list(t.shape)}: expected the decoded tensors to fit the "
                f"{limit}-byte limit (max({MIN_DECODED_LIMIT_BYTES}, {MAX_EXPANSION} x {file_bytes} file bytes)), "
                f"found {total} bytes up to this tensor")


def unpack(path: str | Path, max_bytes: int = MAX_FILE_BYTES,
           max_decoded_bytes: int | None = None) -> OrderedDict[str, torch.Tensor]:
    """Read a compressed file back into a state dict (every tensor decoded and checked).

    Args:
        path: the ``.pjc`` file (a regular file).
        max_bytes: the largest file accepted (default ``MAX_FILE_BYTES``).
        max_decoded_bytes: the most memory the decoded tensors may take (default
            ``max(MIN_DECODED_LIMIT_BYTES, MAX_EXPANSION x file bytes)``), checked before decoding.

    Raises:
        StorageFormatError: not a regular file, too large, truncated, corrupt (checksum), of another
            version, declaring more than its payload holds, or with streams that do not decode to the
            stored shapes.
    """
    path = Path(path)
    data = _read_bytes(path, max_bytes)
    _header, tensors, payload = _parse(path, data)
    _check_decoded_size(path, tensors, len(data), max_decoded_bytes)
    state = OrderedDict()
    for t in tensors:
        try:
            state[t.name] = _decode_tensor(path, t, payload)
        except StorageFormatError:
            raise
        except (ValueError, PjsimError) as exc:
            raise StorageFormatError(f"{path}: tensor {t.name!r} does not decode ({exc})") from None
    return state
