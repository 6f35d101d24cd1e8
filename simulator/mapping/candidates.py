"""The candidate tilings of one GEMM shape, searched by ``tiling.search_tile`` at every on-chip level.

A tile ``(m, n, k)`` of ``G x (M, N, K)`` takes its extents from ``candidate_sizes`` (powers of two and even
splits of each dimension). ``candidate_grid`` builds every candidate of a shape with what it implies whatever
the boundary's costs and capacity: the trips of each loop, the steps, the reduction passes, the input tile
elements of a conv (halo included, ``convgeom``) and how often each operand crosses the boundary per loop
order. It is computed once per shape and shared by the searches at every level of an op, and by every op of
that shape (``lru_cache``; arrays read-only).

An operand is re-fetched once per iteration of its one *irrelevant* loop (A ignores N, B ignores M, O ignores
K: for O those re-visits are reduction passes) when that loop sits outside the operand's innermost relevant
loop. A loop order matters only through this, and the six orders fall into three classes: MNK = NMK (A and B
re-fetched), MKN = KMN (B and the partial sums), NKM = KNM (A and the partial sums). The grid holds one row
per class (``DISTINCT``: the first order of each in ``ORDERS``), and ``EXPAND`` maps every order to its row.
A search over the three rows picks what a search over all six picks: equal rows score equally, and the
tie-break (``objective.choose``) takes the first in enumeration order, which is the class's first order
(``tests/mapping/test_tiling_orders.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations

import numpy as np

from simulator.mapping.convgeom import ConvGeometry

__all__ = ["DISTINCT", "EXPAND", "ORDERS", "CandidateGrid", "candidate_grid", "candidate_sizes"]

#: The six loop orders, outermost first.
ORDERS: tuple[str, ...] = tuple("".join(p) for p in permutations("MNK"))
_RELEVANT = {"A": "MK", "B": "KN", "O": "MN"}


def _refetched(operand: str) -> tuple[np.ndarray, str]:
    """Per loop order (``ORDERS``), whether ``operand``'s one irrelevant loop sits outside its innermost relevant
    loop (it is then re-fetched once per iteration of that loop, else once); and that loop."""
    relevant = _RELEVANT[operand]
    irrelevant = next(loop for loop in "MNK" if loop not in relevant)
    mask = np.array([order.index(irrelevant) < max(order.index(loop) for loop in relevant) for order in ORDERS])
    return mask, irrelevant


_REFETCHED = {x: _refetched(x) for x in "ABO"}
_CLASS = [next(j for j in range(i + 1) if all(_REFETCHED[x][0][j] == _REFETCHED[x][0][i] for x in "ABO"))
          for i in range(len(ORDERS))]
#: Indices in ``ORDERS`` of the first order of each class (module docstring).
DISTINCT: tuple[int, ...] = tuple(sorted(set(_CLASS)))
#: For every order of ``ORDERS``, the row of its class in the grid.
EXPAND: tuple[int, ...] = tuple(DISTINCT.index(c) for c in _CLASS)


@lru_cache(maxsize=1024)
def candidate_sizes(dim: int) -> np.ndarray:
    """Tile extents tried for a loop of ``dim`` iterations: powers of two and ceil(dim / 2^j) (read-only)."""
    j = np.arange(0, max(1, math.ceil(math.log2(max(dim, 1)))) + 1)
    sizes = np.concatenate([np.minimum(2**j, dim), np.ceil(dim / 2.0**j)])
    out = np.unique(sizes.astype(np.int64))
    out.flags.writeable = False
    return out


def _at_least(sizes: np.ndarray, lo: int, dim: int) -> np.ndarray:
    """Candidate extents of at least ``lo`` (capped at ``dim``), ``lo`` itself included."""
    lo = min(int(lo), dim)
    return sizes if lo <= 1 else np.union1d(sizes[sizes >= lo], np.array([lo], dtype=sizes.dtype))


@dataclass(frozen=True)
class CandidateGrid:
    """Every candidate tile of one GEMM shape: (candidates,) tile extents ``mm``/``nn``/``kk``, input tile
    elements ``a_tile`` (halo included for a conv), ``steps``, reduction passes within a tile ``inner_passes``;
    (classes, candidates) times A, B cross the boundary (``ra`` with the halo) and output passes; ``refetch``
    the same three rows by loop order."""

    mm: np.ndarray
    nn: np.ndarray
    kk: np.ndarray
    a_tile: np.ndarray
    steps: np.ndarray
    inner_passes: np.ndarray
    ra: np.ndarray
    rb: np.ndarray
    passes: np.ndarray
    refetch: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


@lru_cache(maxsize=512)
def candidate_grid(dims: tuple[int, int, int, int], conv: ConvGeometry | None,
                   min_tile: tuple[int, int, int] = (1, 1, 1)) -> CandidateGrid:
    """The candidates of ``dims`` = ``(G, M, N, K)`` (``conv``: a conv's sliding-window geometry, else None)
    whose extents are at least ``min_tile`` (a distributed level's tile covers one step of the array)."""
    g, m_dim, n_dim, k_dim = dims
    cm, cn, ck = (_at_least(candidate_sizes(d), lo, d) for d, lo in zip((m_dim, n_dim, k_dim), min_tile))
    mm, nn, kk = (a.ravel() for a in np.meshgrid(cm, cn, ck, indexing="ij"))
    trips = {
        "M": np.ceil(m_dim / mm),
        "N": np.ceil(n_dim / nn),
        "K": np.ceil(k_dim / kk),
    }
    if conv is None:
        a_tile = mm * kk
        halo = np.ones_like(a_tile, dtype=np.float64)
    else:
        a_tile = conv.input_tile_elems(mm, kk)
        halo = np.maximum(trips["M"] * trips["K"] * a_tile / max(conv.used_input_elems, 1), 1.0)
    steps = g * trips["M"] * trips["N"] * trips["K"]
    rows = list(DISTINCT)
    ra, rb, passes = (np.where(_REFETCHED[x][0][rows, None], trips[_REFETCHED[x][1]][None, :], 1.0) for x in "ABO")
    ra = ra * halo
    arrays = (mm, nn, kk, a_tile, steps, trips["K"], ra, rb, passes)
    for a in arrays:
        a.flags.writeable = False
    return CandidateGrid(*arrays, {order: (ra[i], rb[i], passes[i]) for order, i in zip(ORDERS, EXPAND)})
