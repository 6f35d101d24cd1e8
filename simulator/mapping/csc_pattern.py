"""The weight side of EIE's compressed sparse column (CSC) dataflow: a weight's non-zero pattern and the
work it gives each PE (split out of ``sparse_csc``; the dataflow is described there).

EIE (Han et al., ISCA 2016, Sec. III-IV) interleaves rows over the PEs: row ``i`` belongs to PE
``i mod P`` and is its local row ``i // P``; each stored entry carries a relative row index of ``r`` bits,
so a run of ``z`` zeros before a non-zero needs ``z >> r`` filler entries (the rule of
``simulator.compress.sparse.count_fillers``); a column starts a fresh run (its pointer says where it begins)
and trailing zeros need none (its end pointer says where it ends).

Which activations are zero: the tracer records the *fraction* of non-zero activations, not their
positions, so ``active_columns`` takes an evenly strided set of columns of that size (deterministic; with
unstructured weights any set of that size gives the same expected work).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.hardware.profile import CSCConfig

__all__ = ["WeightPattern", "active_columns", "pe_column_entries"]


@dataclass(frozen=True, slots=True, eq=False)
class WeightPattern:
    """The non-zero pattern of a 2-D weight ``[rows (outputs), cols (inputs)]`` in CSC form.

    ``col_ptr`` (``cols + 1`` int64) and ``row_idx`` (ascending within each column, int32): the rows of
    column ``j``'s non-zeros are ``row_idx[col_ptr[j]:col_ptr[j + 1]]``. Values are not kept: the
    dataflow's work depends only on where the non-zeros are.
    """

    rows: int
    cols: int
    col_ptr: np.ndarray
    row_idx: np.ndarray

    def __post_init__(self) -> None:
        if self.col_ptr.shape != (self.cols + 1,) or int(self.col_ptr[-1]) != self.row_idx.size:
            raise ValueError(
                f"WeightPattern: col_ptr must have cols + 1 = {self.cols + 1} entries ending at the "
                f"{self.row_idx.size} non-zeros, got shape {self.col_ptr.shape}"
            )

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> WeightPattern:
        """The pattern of a boolean ``[rows, cols]`` mask (True = non-zero weight)."""
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim != 2:
            raise ValueError(f"WeightPattern.from_mask: expected a 2-D [rows, cols] mask, got shape {mask.shape}")
        rows, cols = mask.shape
        col, row = np.nonzero(mask.T)  # column-major order: sorted by column, then row
        col_ptr = np.zeros(cols + 1, dtype=np.int64)
        np.cumsum(np.bincount(col, minlength=cols), out=col_ptr[1:])
        return cls(rows, cols, col_ptr, row.astype(np.int32))

    @property
    def nonzeros(self) -> int:
        return int(self.row_idx.size)

    @property
    def density(self) -> float:
        return self.nonzeros / max(self.rows * self.cols, 1)


def pe_column_entries(pattern: WeightPattern, cfg: CSCConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per column and PE: (stored entries incl. fillers, non-zeros), each ``[cols, pes]`` int64.

    PE of row ``i``: ``i % pes``; its local row ``i // pes``. Entries of one (column, PE) are in
    ascending local row; the first one's run counts from local row 0.
    """
    p = cfg.pes
    col = np.repeat(np.arange(pattern.cols, dtype=np.int64), np.diff(pattern.col_ptr))
    row = pattern.row_idx.astype(np.int64)
    pe, local = row % p, row // p
    group = col * p + pe
    # Sort by (column, PE, local row): rows within a column ascend, so a stable sort on the group keeps it.
    order = np.argsort(group, kind="stable")
    group, local = group[order], local[order]
    first = np.ones(group.size, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    prev = np.where(first, -1, np.concatenate(([-1], local[:-1])))
    fillers = (local - prev - 1) >> cfg.relative_index_bits
    size = pattern.cols * p
    nonzeros = np.bincount(group, minlength=size).reshape(pattern.cols, p)
    entries = nonzeros + np.bincount(group, weights=fillers, minlength=size).astype(np.int64).reshape(pattern.cols, p)
    return entries, nonzeros


def active_columns(cols: int, density: float) -> np.ndarray:
    """``round(density x cols)`` evenly strided column indices: the non-zero activations of a given density."""
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"activation density must be in [0, 1], got {density}")
    n = int(round(density * cols))
    return np.floor(np.arange(n) * (cols / max(n, 1))).astype(np.int64)
