"""Relative-index sparse encoding, the storage rule of Deep Compression (Han et al. 2016, Fig. 2; EIE).

A pruned tensor is flattened in row-major order (CSR over the ``[out, in * kh * kw]`` matrix; the
index runs on across row ends, as in the paper's figure, so no row pointers are needed to decode).
Each stored entry carries a relative index: the number of zeros between it and the previous stored
entry, in ``index_bits`` bits (0 .. 2^b - 1). When more zeros precede a kept value than the bits can
express, a **filler zero** entry (value zero, relative index 2^b - 1) is inserted; each filler
consumes 2^b positions, so a run of z zeros costs ``z // 2^b`` fillers and the kept value then stores
``z % 2^b``. Trailing zeros follow the same rule: a trailing run of z zeros costs ``z // 2^b`` fillers
(so fewer than 2^b zeros follow the last stored entry). That makes the tensor's size bounded by its
stream: ``numel <= (entries + 1) * 2^b``, which the file reader checks before it allocates anything
(a declared shape cannot ask for more memory than the payload can describe). Fully vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SparseStream", "count_fillers", "decode_positions", "encode_positions"]


@dataclass(frozen=True, slots=True)
class SparseStream:
    """The entries stored for one tensor.

    Attributes:
        positions: flat position of every stored entry (kept values and fillers), ascending, int64.
        is_filler: True where the entry is a filler zero.
        rel: the relative index stored with each entry (zeros skipped before it), int64.
        index_bits: bits of one relative index.
    """

    positions: np.ndarray
    is_filler: np.ndarray
    rel: np.ndarray
    index_bits: int

    @property
    def entries(self) -> int:
        return int(self.positions.size)

    @property
    def fillers(self) -> int:
        return int(self.is_filler.sum())


def _gaps(kept: np.ndarray) -> np.ndarray:
    """Zeros before each kept position (the first counts from position 0)."""
    return np.diff(kept, prepend=-1) - 1


def _tail(kept: np.ndarray, numel: int) -> int:
    """Zeros after the last kept position of a tensor of ``numel`` elements."""
    last = int(kept[-1]) if kept.size else -1
    if last >= numel:
        raise ValueError(f"kept position {last} lies outside a tensor of {numel} elements")
    return numel - 1 - last


def count_fillers(kept: np.ndarray, index_bits: int, numel: int) -> int:
    """Filler entries needed for the sorted kept positions ``kept`` of a ``numel``-element tensor
    with ``index_bits``-bit indices (gaps between entries and the trailing run)."""
    if index_bits <= 0:
        raise ValueError(f"index_bits must be positive, got {index_bits}")
    kept = np.asarray(kept, dtype=np.int64)
    return int((_gaps(kept) >> index_bits).sum()) + (_tail(kept, numel) >> index_bits)


def encode_positions(kept: np.ndarray, index_bits: int, numel: int) -> SparseStream:
    """Relative-index stream for the ascending kept positions ``kept`` (int) of a ``numel``-element
    tensor, fillers inserted (between entries and in the trailing run)."""
    if index_bits <= 0 or index_bits > 32:
        raise ValueError(f"index_bits must be in 1..32, got {index_bits}")
    kept = np.asarray(kept, dtype=np.int64)
    span = np.int64(1) << index_bits
    gaps = _gaps(kept)
    if gaps.size and gaps.min() < 0:
        raise ValueError("kept positions must be strictly ascending")
    fillers = gaps >> index_bits
    counts = fillers + 1
    total = int(counts.sum())
    owner = np.repeat(np.arange(kept.size), counts)
    first = np.cumsum(counts) - counts
    j = np.arange(total, dtype=np.int64) - first[owner]
    is_filler = j < fillers[owner]
    prev = np.concatenate(([-1], kept[:-1]))
    positions = np.where(is_filler, prev[owner] + (j + 1) * span, kept[owner])
    rel = np.where(is_filler, span - 1, gaps[owner] & (span - 1))
    tail = _tail(kept, numel) >> index_bits
    if tail:
        last = int(kept[-1]) if kept.size else -1
        positions = np.concatenate([positions, last + np.arange(1, tail + 1, dtype=np.int64) * span])
        is_filler = np.concatenate([is_filler, np.ones(tail, dtype=bool)])
        rel = np.concatenate([rel, np.full(tail, span - 1, dtype=np.int64)])
    return SparseStream(positions=positions, is_filler=is_filler, rel=rel, index_bits=index_bits)


def decode_positions(rel: np.ndarray) -> np.ndarray:
    """Flat positions of the stored entries from their relative indices (inverse of ``encode_positions``)."""
    return np.cumsum(np.asarray(rel, dtype=np.int64) + 1) - 1
