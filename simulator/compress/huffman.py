"""Canonical Huffman coding of symbol streams, vectorised with numpy (Deep Compression step 4).

Deep Compression Huffman-codes two streams per layer offline: the weight (codebook) indices and the
relative sparse indices; both are skewed, and the paper reports 20-30% savings.

Tables: a code is stored as one 5-bit length per alphabet symbol (``table_bytes``); the file packs
sections without padding, so a table costs exactly ``5 x alphabet`` bits (``table_bits``).

Code construction: Huffman code lengths from the symbol counts (a heap over the *alphabet*, never
over the data), limited to ``MAX_CODE_BITS`` by halving the counts until the longest code fits (only
extreme skews need this; the code then stays a valid, near-optimal prefix code). Codes are canonical
(assigned in order of (length, symbol)), so the code is fully described by one length per symbol.

Stream layout: the symbols are cut into blocks of ``block_symbols`` symbols; each block's bits start
on a byte boundary and the byte offset of every block but the first is stored (uint32), so decoding
runs all blocks in lock step: one vectorised table look-up per symbol position, not per symbol. The
padding (< 8 bits per block) and the offsets are counted in the stream's size.

Encoding is vectorised over chunks of symbols: each code lands in one or two 32-bit words, and since
codes never overlap, the words are sums of the parts (one ``bincount`` per chunk).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from simulator.compress.base import CompressError

__all__ = [
    "DEFAULT_BLOCK_SYMBOLS",
    "LENGTH_BITS",
    "MAX_CODE_BITS",
    "HuffmanCode",
    "HuffmanStream",
    "build_code",
    "decode",
    "encode",
    "entropy_bits",
    "symbol_counts",
]

MAX_CODE_BITS = 24  # a 32-bit window read at any bit offset holds 24 + 7 bits
LENGTH_BITS = 5  # bits per stored code length (lengths are 0..24)
DEFAULT_BLOCK_SYMBOLS = 4096  # = TensorEncoding.huffman_block_symbols's default
_ENCODE_CHUNK_BLOCKS = 256
OFFSET_BITS = 32  # bits per stored block offset


def _huffman_lengths(counts: np.ndarray) -> np.ndarray:
    """Unrestricted Huffman code lengths for ``counts`` (0 for absent symbols; 1 if only one symbol)."""
    lengths = np.zeros(counts.size, dtype=np.int64)
    present = np.flatnonzero(counts)
    if present.size == 1:
        lengths[present] = 1
        return lengths
    # Heap of (count, tiebreak, members); merging two nodes deepens every member by one.
    heap = [(int(counts[s]), int(s), [int(s)]) for s in present]
    heapq.heapify(heap)
    tiebreak = counts.size
    while len(heap) > 1:
        c1, _, m1 = heapq.heappop(heap)
        c2, _, m2 = heapq.heappop(heap)
        lengths[m1] += 1
        lengths[m2] += 1
        merged = m1 + m2 if len(m1) >= len(m2) else m2 + m1
        heapq.heappush(heap, (c1 + c2, tiebreak, merged))
        tiebreak += 1
    return lengths


@dataclass(frozen=True, slots=True)
class HuffmanCode:
    """A canonical prefix code over symbols ``0 .. alphabet - 1``.

    Attributes:
        lengths: code length in bits per symbol (0 = symbol absent), uint8, size ``alphabet``.
        codes: the canonical code word of each symbol (right-aligned), uint32.
    """

    lengths: np.ndarray
    codes: np.ndarray

    @property
    def alphabet(self) -> int:
        return int(self.lengths.size)

    @property
    def max_bits(self) -> int:
        return int(self.lengths.max()) if self.lengths.size else 0

    def table_bits(self) -> int:
        """Bits to store the code: one ``LENGTH_BITS``-bit length per alphabet symbol (no padding)."""
        return LENGTH_BITS * self.alphabet

    def table_bytes(self) -> bytes:
        """The stored table: the code lengths, ``LENGTH_BITS`` bits each, MSB first (the last byte's
        unused bits are zero; ``table_bits`` of them are stored)."""
        bits = (self.lengths.astype(np.uint8)[:, None] >> np.arange(LENGTH_BITS - 1, -1, -1, dtype=np.uint8)) & 1
        return np.packbits(bits.ravel()).tobytes()

    @classmethod
    def from_table(cls, table: bytes, alphabet: int) -> HuffmanCode:
        """Inverse of ``table_bytes`` for a code over ``alphabet`` symbols (checks size and Kraft)."""
        if len(table) != (LENGTH_BITS * alphabet + 7) // 8:
            raise CompressError(f"Huffman table of {len(table)} bytes does not describe {alphabet} symbols")
        bits = np.unpackbits(np.frombuffer(table, dtype=np.uint8), count=LENGTH_BITS * alphabet)
        weights = 1 << np.arange(LENGTH_BITS - 1, -1, -1)
        return cls.from_lengths(bits.reshape(alphabet, LENGTH_BITS) @ weights)

    def mean_bits(self, counts: np.ndarray) -> float:
        """Mean code length for symbol ``counts``."""
        total = counts.sum()
        return float((counts * self.lengths).sum() / total) if total else 0.0

    @classmethod
    def from_lengths(cls, lengths: np.ndarray) -> HuffmanCode:
        """The canonical code for the given lengths; checks the Kraft inequality.

        Raises:
            CompressError: lengths over ``MAX_CODE_BITS`` or violating Kraft (no prefix code exists).
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        if lengths.size and (lengths.min() < 0 or lengths.max() > MAX_CODE_BITS):
            raise CompressError(f"Huffman code lengths must be in 0..{MAX_CODE_BITS}, got max {lengths.max()}")
        present = np.flatnonzero(lengths)
        if present.size and (np.ldexp(1.0, -lengths[present])).sum() > 1.0 + 1e-12:
            raise CompressError("Huffman code lengths violate the Kraft inequality (corrupt code table)")
        order = present[np.lexsort((present, lengths[present]))]
        codes = np.zeros(lengths.size, dtype=np.uint32)
        code, prev_len = 0, 0
        # NB: a loop over the alphabet (<= 2^16 symbols), never over the data.
        for sym in order.tolist():
            length = int(lengths[sym])
            code <<= length - prev_len
            codes[sym] = code
            code += 1
            prev_len = length
        return cls(lengths=lengths.astype(np.uint8), codes=codes)


def build_code(counts: np.ndarray, max_bits: int = MAX_CODE_BITS) -> HuffmanCode:
    """The canonical Huffman code for symbol ``counts`` (int array over the alphabet), lengths <= ``max_bits``."""
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 1 or counts.size == 0 or counts.min() < 0:
        raise CompressError("Huffman counts must be a non-empty 1-D array of non-negative integers")
    if counts.size > 1 << 16:
        raise CompressError(f"Huffman alphabet of {counts.size} symbols is larger than 2^16")
    if (counts > 0).sum() > 1 << max_bits:
        raise CompressError(f"{(counts > 0).sum()} symbols cannot be coded in {max_bits} bits")
    work = counts.copy()
    lengths = _huffman_lengths(work)
    while lengths.max() > max_bits:  # NB: rare; flattens the distribution until the code fits
        work = np.where(work > 0, (work + 1) // 2, 0)
        lengths = _huffman_lengths(work)
    return HuffmanCode.from_lengths(lengths)


def symbol_counts(symbols: np.ndarray, alphabet: int, chunk: int = 1 << 22) -> np.ndarray:
    """Occurrences of each symbol ``0 .. alphabet - 1``; chunked, because ``np.bincount`` widens its input to int64."""
    symbols = np.asarray(symbols).ravel()
    counts = np.zeros(alphabet, dtype=np.int64)
    for s in range(0, symbols.size, chunk):
        counts += np.bincount(symbols[s:s + chunk], minlength=alphabet)[:alphabet]
    return counts


def entropy_bits(counts: np.ndarray) -> float:
    """Shannon entropy (bits per symbol) of the empirical distribution ``counts``: the lower bound."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


@dataclass(frozen=True, slots=True)
class HuffmanStream:
    """An encoded stream: ``data`` bytes, ``count`` symbols, blocks of ``block_symbols`` (byte-aligned),
    ``offsets`` the byte offset of every block after the first (uint32)."""

    data: bytes
    count: int
    block_symbols: int
    offsets: np.ndarray

    @property
    def blocks(self) -> int:
        return math.ceil(self.count / self.block_symbols) if self.count else 0

    def stored_bits(self) -> int:
        """Bits the stream occupies: its bytes plus the block offsets."""
        return 8 * len(self.data) + OFFSET_BITS * int(self.offsets.size)


def encode(symbols: np.ndarray, code: HuffmanCode, block_symbols: int = DEFAULT_BLOCK_SYMBOLS) -> HuffmanStream:
    """Encode ``symbols`` (ints < ``code.alphabet``) with ``code``.

    Raises:
        CompressError: a symbol outside the alphabet or without a code.
    """
    symbols = np.asarray(symbols).ravel()
    n = symbols.size
    if n and (symbols.min() < 0 or symbols.max() >= code.alphabet):
        raise CompressError("symbol outside the Huffman code's alphabet")
    nblocks = math.ceil(n / block_symbols) if n else 0
    chunks: list[bytes] = []
    block_bytes = np.zeros(nblocks, dtype=np.int64)
    chunk_syms = block_symbols * _ENCODE_CHUNK_BLOCKS
    codes_all = code.codes.astype(np.uint64)
    for c0 in range(0, n, chunk_syms):
        sym = symbols[c0:c0 + chunk_syms]
        lens = code.lengths[sym]
        if not lens.all():
            raise CompressError("symbol without a code word in the Huffman code")
        m = sym.size
        csum = np.cumsum(lens, dtype=np.int64)  # inclusive, within the chunk
        last = np.minimum(np.arange(block_symbols - 1, m + block_symbols - 1, block_symbols), m - 1)
        bits_per_block = np.diff(csum[last], prepend=0)
        bytes_per_block = (bits_per_block + 7) >> 3
        b0 = c0 // block_symbols
        block_bytes[b0:b0 + last.size] = bytes_per_block
        # Each block starts on a byte boundary: shift its codes by the padding accumulated before it.
        pad = 8 * (np.cumsum(bytes_per_block) - bytes_per_block) - (csum[last] - bits_per_block)
        start = csum - lens + np.repeat(pad, block_symbols)[:m]
        # Place each code into 32-bit big-endian words. Codes never overlap, so OR-ing the parts that
        # fall into one word equals adding them: a bincount sums them (exactly: sums stay < 2^32).
        nbytes = int(bytes_per_block.sum())
        nwords = (nbytes + 3) // 4 + 1
        word = start >> 5
        end = ((start & 31) + lens).astype(np.uint64)  # bit just past the code, from the word's top bit
        placed = codes_all[sym] << (np.uint64(64) - end)  # code aligned in a 64-bit window at the word
        words = np.bincount(word, weights=(placed >> np.uint64(32)).astype(np.float64), minlength=nwords)
        spill = np.flatnonzero(end > 32)
        if spill.size:
            low = (placed[spill] & np.uint64(0xFFFFFFFF)).astype(np.float64)
            words += np.bincount(word[spill] + 1, weights=low, minlength=nwords)
        chunks.append(words.astype(np.uint32).astype(">u4").tobytes()[:nbytes])
    offsets = np.cumsum(block_bytes)[:-1].astype(np.uint32) if nblocks > 1 else np.zeros(0, dtype=np.uint32)
    if nblocks and int(block_bytes.sum()) >= 1 << 32:
        raise CompressError("Huffman stream larger than 4 GiB")
    return HuffmanStream(data=b"".join(chunks), count=n, block_symbols=block_symbols, offsets=offsets)


def decode(stream: HuffmanStream, code: HuffmanCode) -> np.ndarray:
    """Decode ``stream`` back into its symbols (uint8 or uint16 by alphabet size).

    Work and memory are bounded by the stream: every code word is at least one bit, so a stream
    claiming more symbols than it has bits is refused before anything is allocated, and the lock-step
    loop runs ``min(block_symbols, count)`` steps.

    Raises:
        CompressError: the stream is inconsistent with the code (wrong offsets, runs past its end).
    """
    n = stream.count
    dtype = np.uint8 if code.alphabet <= 256 else np.uint16
    if n < 0 or stream.block_symbols < 1:
        raise CompressError(f"Huffman stream of {n} symbols in blocks of {stream.block_symbols}: both must be positive")
    if n == 0:
        return np.zeros(0, dtype=dtype)
    if n > 8 * len(stream.data):
        raise CompressError(f"Huffman stream claims {n} symbols but holds only {8 * len(stream.data)} bits "
                            "(every code word is at least 1 bit)")
    nblocks = stream.blocks
    if stream.offsets.size != nblocks - 1:
        raise CompressError(f"Huffman stream has {stream.offsets.size} block offsets, expected {nblocks - 1}")
    max_bits = code.max_bits
    if max_bits == 0:
        raise CompressError("Huffman code has no symbols but the stream is not empty")
    # Look-up table over max_bits-bit windows: canonical order gives contiguous ranges per symbol.
    present = np.flatnonzero(code.lengths)
    order = present[np.lexsort((present, code.lengths[present]))]
    span = np.left_shift(1, max_bits - code.lengths[order].astype(np.int64))
    table_sym = np.repeat(order.astype(dtype), span)
    table_len = np.repeat(code.lengths[order], span)
    size = 1 << max_bits
    complete = table_sym.size == size
    if not complete:  # incomplete code (one symbol): windows with no code word mark corruption
        table_sym = np.concatenate([table_sym, np.zeros(size - table_sym.size, dtype=dtype)])
        table_len = np.concatenate([table_len, np.zeros(size - table_len.size, dtype=np.uint8)])
    steps = min(stream.block_symbols, n)  # one block when block_symbols >= n
    last_len = n - (nblocks - 1) * stream.block_symbols
    # Padding lets the last (short) block decode garbage past its end without a bounds check per step.
    slack = (steps * max_bits) // 8 + 8
    data = np.frombuffer(stream.data + bytes(slack), dtype=np.uint8)
    # A big-endian 32-bit window starting at every byte: a strided view, no copy.
    windows = np.ndarray(shape=(data.size - 3,), dtype=">u4", buffer=data, strides=(1,))
    starts = np.concatenate(([0], stream.offsets.astype(np.int64)))
    if np.diff(starts).min(initial=1) < 0 or starts[-1] > len(stream.data):
        raise CompressError("Huffman block offsets are not ascending within the stream")
    pos_dtype = np.int32 if 8 * data.size < 1 << 31 else np.int64
    pos = (starts * 8).astype(pos_dtype)
    top = pos_dtype(32 - max_bits)
    mask = np.uint32(size - 1)
    out = np.empty((steps, nblocks), dtype=dtype)  # step-major: each step writes one contiguous row
    last_end = 0
    for step in range(steps):
        word = windows[pos >> 3]
        window = (word >> (top - (pos & 7)).astype(np.uint32)) & mask
        out[step] = table_sym[window]
        advance = table_len[window]
        if not complete and not advance.all():
            bad = np.flatnonzero(advance == 0)
            if (bad * steps + step < n).any():
                raise CompressError("Huffman stream holds a bit pattern with no code word (corrupt stream)")
        pos += advance
        if step == last_len - 1:
            last_end = int(pos[-1])
    # Every block must end where the next one starts (less its < 8 padding bits): anything else is a
    # corrupt stream, offsets or block size, never a silently different decoding.
    ends = pos.astype(np.int64)
    ends[-1] = last_end
    limits = np.append(starts[1:], len(stream.data)) * 8
    wrong = np.flatnonzero((ends > limits) | (ends <= limits - 8))
    if wrong.size:
        b = int(wrong[0])
        raise CompressError(f"Huffman block {b} of {nblocks} ends at bit {int(ends[b])}, expected within 8 bits "
                            f"before bit {int(limits[b])} (corrupt stream, offsets or block size)")
    symbols = np.empty(nblocks * steps, dtype=dtype)
    symbols.reshape(nblocks, steps)[:] = out.T
    del out
    return symbols[:n]
