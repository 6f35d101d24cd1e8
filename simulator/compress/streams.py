"""One layer's stored streams, exactly as the pjsim file holds them; shared by Huffman coding and storage.

``encode_layer(weight, encoding)`` turns a compressed weight into what is stored:

* the stored entries: every value of a dense layer, or (``index_bits > 0``) the kept values plus the
  filler zeros of the relative-index format (``simulator.compress.sparse``), in row-major order;
* their values: raw float32, or (``codebook_entries > 0``) indices into the layer's codebook: the
  sorted distinct stored values (0.0 included when fillers or zeros are stored), padded to the
  record's ``codebook_entries`` with repeats of the largest value (never indexed). The codebook
  stores all the entries the record declares (``2^b`` for weight sharing; see
  ``TensorEncoding.codebook_bits`` for why), so the record, the accountant and the file agree;
* optionally both streams Huffman-coded (``simulator.compress.huffman``); a stream is coded only when
  its code plus its table is smaller than fixed width (tiny layers, e.g. LeNet-5's conv1, stay fixed).

The returned ``EncodedLayer`` carries the ``TensorEncoding`` *as packed* (exact density, filler count,
codebook size and mean code lengths; NB: a mean code length is the stream's stored bits, including its
block padding, block offsets and its code table, divided by the entries, so that
``TensorEncoding.stored_bits`` equals the layer's bits in the file), and the exact bits of each part;
``encode_layer`` checks that the parts sum to ``stored_bits``, so the simulator's stored bits, the
storage accountant and the file agree bit for bit. Fixed-width streams cost exactly
``entries x bits`` (the file packs sections without byte padding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.compress import huffman
from simulator.compress.base import CompressError
from simulator.compress.sparse import SparseStream, encode_positions
from simulator.workload import TensorEncoding

__all__ = ["PARTS", "EncodedLayer", "encode_layer"]

#: The parts a layer's bits are split into (storage accountant columns).
PARTS = ("values", "indices", "fillers", "codebook", "huffman_tables", "biases")


@dataclass(frozen=True, slots=True)
class EncodedLayer:
    """A weight as stored. Arrays are numpy; ``None`` where a part does not apply."""

    shape: tuple[int, ...]
    encoding: TensorEncoding
    sparse: SparseStream | None
    codebook: np.ndarray | None
    symbols: np.ndarray | None
    raw_values: np.ndarray | None
    value_code: huffman.HuffmanCode | None
    value_stream: huffman.HuffmanStream | None
    index_code: huffman.HuffmanCode | None
    index_stream: huffman.HuffmanStream | None
    parts_bits: dict

    @property
    def entries(self) -> int:
        return int(self.sparse.entries if self.sparse is not None else math.prod(self.shape))

    @property
    def total_bits(self) -> int:
        return int(sum(self.parts_bits.values()))


def encode_layer(weight: np.ndarray, encoding: TensorEncoding, huffman_coded: bool | None = None,
                 block_symbols: int | None = None, name: str = "weight") -> EncodedLayer:
    """Encode one weight as the file stores it.

    Args:
        weight: the compressed weight (float32 array; zeros are pruned positions when ``index_bits > 0``).
        encoding: what compression did (its ``index_bits``, ``value_bits`` and ``codebook_entries`` are
            used; density and fillers are recomputed exactly).
        huffman_coded: Huffman-code the streams (default: when ``encoding`` says they are coded).
        block_symbols: Huffman block length (symbols per independently decodable block); default the
            encoding's ``huffman_block_symbols``. The packed encoding records the one used.
        name: the parameter's name, for error messages.

    Raises:
        CompressError: more distinct values than the encoding's ``codebook_entries`` (at most
            ``2 ** value_bits``) allow, or a layer with nothing to store.
    """
    block_symbols = encoding.huffman_block_symbols if block_symbols is None else int(block_symbols)
    w = np.ascontiguousarray(weight, dtype=np.float32)
    flat = w.reshape(-1)
    if huffman_coded is None:
        huffman_coded = encoding.mean_code_bits is not None or encoding.mean_index_code_bits is not None
    sparse = None
    if encoding.index_bits > 0:
        kept = np.flatnonzero(flat)
        if kept.size == 0:
            raise CompressError(f"{name}: every weight is zero; nothing to store in sparse format")
        sparse = encode_positions(kept, encoding.index_bits, flat.size)
        values = flat[sparse.positions]
        n_kept = int(kept.size)
    else:
        values = flat
        n_kept = int(flat.size)
    entries = int(values.size)
    fillers = sparse.fillers if sparse is not None else 0
    codebook = symbols = raw = None
    value_code = value_stream = index_code = index_stream = None
    parts = dict.fromkeys(PARTS, 0)
    if encoding.codebook_entries > 0:
        size = encoding.codebook_entries
        if size > 1 << encoding.value_bits or size > 1 << 16:
            raise CompressError(f"{name}: a codebook of {size} entries cannot be indexed with {encoding.value_bits} "
                                f"bits (at most {min(1 << encoding.value_bits, 1 << 16)} entries)")
        used = np.unique(values)
        used = np.unique(np.where(used == 0, np.float32(0.0), used).astype(np.float32))  # -0.0 -> 0.0
        if used.size > size:
            raise CompressError(
                f"{name}: {used.size} distinct values do not fit a {encoding.value_bits}-bit codebook "
                f"of {size} entries; share the weights first"
            )
        codebook = np.concatenate([used, np.full(size - used.size, used[-1], dtype=np.float32)])
        symbols = np.searchsorted(used, values).astype(np.uint8 if size <= 256 else np.uint16)
        parts["codebook"] = 32 * size
    else:
        raw = values
    is_filler = sparse.is_filler if sparse is not None else None
    # Values: Huffman-coded when asked and when that is smaller than fixed width (tables included).
    width = encoding.value_bits if symbols is not None else 32
    value_bits_total = entries * width
    if symbols is not None and huffman_coded:
        code = huffman.build_code(huffman.symbol_counts(symbols, codebook.size))
        coded = huffman.encode(symbols, code, block_symbols)
        if coded.stored_bits() + code.table_bits() < value_bits_total:
            value_code, value_stream = code, coded
    if value_stream is not None:
        filler_bits = int(value_code.lengths[symbols[is_filler]].sum()) if is_filler is not None else 0
        parts["values"] = value_stream.stored_bits() - filler_bits
        parts["fillers"] += filler_bits
        parts["huffman_tables"] += value_code.table_bits()
        value_bits_total = value_stream.stored_bits()
    else:
        parts["fillers"] += fillers * width
        parts["values"] = value_bits_total - fillers * width
    # Relative indices, likewise.
    index_bits_total = 0
    if sparse is not None:
        rel = sparse.rel
        index_bits_total = entries * encoding.index_bits
        if huffman_coded:
            code = huffman.build_code(huffman.symbol_counts(rel, 1 << encoding.index_bits))
            coded = huffman.encode(rel, code, block_symbols)
            if coded.stored_bits() + code.table_bits() < index_bits_total:
                index_code, index_stream = code, coded
        if index_stream is not None:
            filler_bits = int(index_code.lengths[rel[is_filler]].sum())
            parts["indices"] = index_stream.stored_bits() - filler_bits
            parts["fillers"] += filler_bits
            parts["huffman_tables"] += index_code.table_bits()
            index_bits_total = index_stream.stored_bits()
        else:
            parts["fillers"] += fillers * encoding.index_bits
            parts["indices"] = index_bits_total - fillers * encoding.index_bits
    packed = TensorEncoding(
        density=n_kept / flat.size,
        value_bits=encoding.value_bits if symbols is not None else 32,
        index_bits=encoding.index_bits,
        codebook_entries=int(codebook.size) if codebook is not None else 0,
        mean_code_bits=(value_bits_total + value_code.table_bits()) / entries if value_stream is not None else None,
        codebook_value_bits=32,
        filler_entries=fillers,
        mean_index_code_bits=(index_bits_total + index_code.table_bits()) / entries if index_stream is not None else None,
        mac_arithmetic=encoding.mac_arithmetic,
        huffman_block_symbols=block_symbols,
    )
    stored = packed.stored_bits(int(flat.size))
    if sum(parts.values()) != stored:  # NB: an internal invariant, not an input check
        raise AssertionError(f"{name}: parts sum to {sum(parts.values())} bits, TensorEncoding.stored_bits says {stored}")
    return EncodedLayer(
        shape=tuple(w.shape), encoding=packed, sparse=sparse, codebook=codebook, symbols=symbols, raw_values=raw,
        value_code=value_code, value_stream=value_stream, index_code=index_code, index_stream=index_stream,
        parts_bits=parts,
    )
