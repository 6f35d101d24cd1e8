"""Vectorised tile search for one GEMM-shaped loop nest at one memory level.

Every op with MACs is viewed as ``G`` independent GEMMs ``O[M, N] += A[M, K] * B[K, N]`` (a conv is an
implicit GEMM: M = batch x output pixels, N = output channels per group, K = input channels per group x
kernel). A tile ``(m, n, k)`` of the child level and a loop order over the tiles determine how often each
operand crosses the boundary between the child and its parent level:

* an operand is re-fetched once for every iteration of an *irrelevant* loop that sits outside its
  innermost *relevant* loop (``A`` ignores ``N``, ``B`` ignores ``M``, ``O`` ignores ``K``);
* for ``O`` those re-visits are reduction passes: each pass writes the partial sums up, every pass
  but the first reads them back.

All candidate tiles (powers of two and even splits of each dimension) and all six loop orders (three
distinct classes: ``candidates.py`` builds the candidate grid of a shape once) are evaluated as numpy arrays
at once, scored by the run's objective (energy, latency or EDP of the traffic across the boundary) and the
winner taken by the one tie-break rule; both live in ``objective.py``.

Convolutions (``conv`` given): ``A`` is the input feature map, not an M x K matrix. Its tile holds the
input pixels of ``m`` output pixels x ``k`` reduction elements *including the halo*
(``ConvGeometry.input_tile_elems``), ``elem_bits[0]`` is then per input element, and one pass over all
tiles moves ``halo_factor`` = tiles x tile pixels / used input pixels (>= 1) times the used input.

NB: each level's tile is chosen for the whole loop nest independently of the other levels (the
boundaries are priced separately); nesting of the tiles is not enforced.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from simulator.mapping.candidates import DISTINCT, EXPAND, ORDERS, candidate_grid, candidate_sizes
from simulator.mapping.convgeom import ConvGeometry
from simulator.mapping.objective import OBJECTIVES, check_objective, choose, pipeline_latency

__all__ = ["OBJECTIVES", "ORDERS", "TileChoice", "candidate_scores", "candidate_sizes", "check_objective", "search_tile"]

#: First tie-break key (``objective.choose``): "most_steps" (default: overlap) or "fewest_steps" (v1).
#: Read at search time (clear ``search_tile.cache_clear()`` after changing it).
TIE_BREAK = "most_steps"


@dataclass(frozen=True, slots=True)
class TileChoice:
    """The chosen tile and what it implies at the boundary above it.

    ``refetch_a``/``refetch_b`` multiply the operand's full size; ``passes`` is the number of reduction
    passes of the outputs (writes = passes x O, read-backs = (passes - 1) x O); ``psum_passes`` the
    reduction chunks the compute array accumulates within one tile (used at the innermost level).
    """

    m: int
    n: int
    k: int
    order: str
    steps: int
    footprint_bits: float
    refetch_a: float
    refetch_b: float
    passes: float
    inner_passes: float
    energy_pj: float
    latency_cycles: float = 0.0


@lru_cache(maxsize=4096)
def search_tile(
    dims: tuple[int, int, int, int],
    elem_bits: tuple[float, float, float],
    streamed: tuple[bool, bool, bool],
    budget_bits: float | tuple[tuple[tuple[int, ...], float], ...],
    cost_pj: tuple[float, float, float, float],
    inner_psum_pj: tuple[float, float],
    conv: ConvGeometry | None = None,
    *,
    objective: str = "energy",
    parent_cycles: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    child_cycles: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    inner_psum_cycles: tuple[float, float] = (0.0, 0.0),
    compute_cycles: float = 0.0,
    port_load_cycles: tuple[float, float] = (0.0, 0.0),
    min_tile: tuple[int, int, int] = (1, 1, 1),
) -> TileChoice | None:
    """The tile of least ``objective`` of a ``G x (M, N, K)`` GEMM that fits ``budget_bits`` (None: none fits).

    Args:
        dims: ``(G, M, N, K)``.
        elem_bits: bits per element of A, B and O held in the child level.
        streamed: whether A, B, O cross this boundary at all (an operand already resident in the
            child level needs no tile space and moves nothing).
        budget_bits: capacity available to one tile set (already halved for double buffering); or, for a tier of
            sibling levels (``hierarchy.tiers``), ``((positions, bits), ...)``: the operands (0 A, 1 B, 2 O) each
            level keeps and its budget, every level's share checked apart.
        cost_pj: energy of moving the *whole* operand across the boundary once: A down, B down,
            O up (one reduction pass written), O down (one partial-sum read-back).
        inner_psum_pj: at the innermost level, energy of the compute array writing all outputs into
            the tile once and reading them back once (reduction chunks of ``k``); zeros elsewhere.
        conv: the conv's sliding-window geometry (A tiles include the halo), None for a plain GEMM.
        objective: ``"energy"``, ``"latency"`` or ``"edp"`` (see the module docstring).
        parent_cycles: cycles the parent's port spends on the same four whole-operand moves as ``cost_pj``.
        child_cycles: cycles the child's port spends on them.
        inner_psum_cycles: cycles the child's port spends on the two moves of ``inner_psum_pj``.
        compute_cycles: the compute array's cycles for the whole GEMM (the same for every tiling).
        port_load_cycles: cycles the parent's and the child's port spend on the op's other traffic.
        min_tile: the least ``(m, n, k)`` a tile may have (a distributed level's tile covers at least one step
            of the array's spatial unrolling, ``array_access.ArrayAccess.lanes_mnk``); capped at the dims.

    Returns:
        The ``TileChoice`` of least score, or None when even a 1 x 1 x 1 tile does not fit.
    """
    check_objective(objective)
    c = _evaluate(dims, elem_bits, streamed, budget_bits, cost_pj, inner_psum_pj, conv, parent_cycles,
                  child_cycles, inner_psum_cycles, compute_cycles, port_load_cycles, min_tile)
    if not c.feasible.any():
        return None
    mm, nn, kk, steps, footprint, inner_passes = c.mm, c.nn, c.kk, c.steps, c.footprint, c.inner_passes
    sa, sb, so = streamed
    energies, latency, refetch = c.energy_pj, c.latency_cycles, c.refetch
    flat_steps = np.broadcast_to(steps, energies.shape).ravel()
    best = choose(objective, energies.ravel(), latency.ravel(), flat_steps, TIE_BREAK)
    oi, ci = divmod(best, mm.size)
    order = ORDERS[DISTINCT[oi]]
    ra, rb, passes = refetch[order]
    return TileChoice(
        m=int(mm[ci]),
        n=int(nn[ci]),
        k=int(kk[ci]),
        order=order,
        steps=int(steps[ci]),
        footprint_bits=float(footprint[ci]),
        refetch_a=float(ra[ci]) if sa else 0.0,
        refetch_b=float(rb[ci]) if sb else 0.0,
        passes=float(passes[ci]) if so else 0.0,
        inner_passes=float(inner_passes[ci]),
        energy_pj=float(energies.ravel()[best]),
        latency_cycles=float(latency.ravel()[best]),
    )


@dataclass(frozen=True)
class _Candidates:
    """Every candidate tile x loop order of one search: (distinct orders, tiles) arrays, infeasible ones at inf."""

    mm: np.ndarray
    nn: np.ndarray
    kk: np.ndarray
    steps: np.ndarray
    footprint: np.ndarray
    inner_passes: np.ndarray
    refetch: dict
    energy_pj: np.ndarray
    latency_cycles: np.ndarray
    feasible: np.ndarray


def candidate_scores(
    dims: tuple[int, int, int, int],
    elem_bits: tuple[float, float, float],
    streamed: tuple[bool, bool, bool],
    budget_bits: float,
    cost_pj: tuple[float, float, float, float],
    inner_psum_pj: tuple[float, float],
    conv: ConvGeometry | None = None,
    *,
    parent_cycles: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    child_cycles: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    inner_psum_cycles: tuple[float, float] = (0.0, 0.0),
    compute_cycles: float = 0.0,
    port_load_cycles: tuple[float, float] = (0.0, 0.0),
) -> dict[str, np.ndarray]:
    """Every candidate's score under each objective (``search_tile``'s arguments), flattened in the order
    ``search_tile`` enumerates them (loop orders, then tiles); infeasible candidates score inf."""
    c = _evaluate(dims, elem_bits, streamed, budget_bits, cost_pj, inner_psum_pj, conv, parent_cycles,
                  child_cycles, inner_psum_cycles, compute_cycles, port_load_cycles)
    energy, latency = c.energy_pj[list(EXPAND)].ravel(), c.latency_cycles[list(EXPAND)].ravel()
    return {"energy": energy, "latency": latency, "edp": energy * latency}


def _evaluate(
    dims: tuple[int, int, int, int],
    elem_bits: tuple[float, float, float],
    streamed: tuple[bool, bool, bool],
    budget_bits: float | tuple[tuple[tuple[int, ...], float], ...],
    cost_pj: tuple[float, float, float, float],
    inner_psum_pj: tuple[float, float],
    conv: ConvGeometry | None,
    parent_cycles: tuple[float, float, float, float],
    child_cycles: tuple[float, float, float, float],
    inner_psum_cycles: tuple[float, float],
    compute_cycles: float,
    port_load_cycles: tuple[float, float],
    min_tile: tuple[int, int, int] = (1, 1, 1),
) -> _Candidates:
    """Footprint, refetches, energy and latency of every candidate at once (module docstring)."""
    grid = candidate_grid(dims, conv, tuple(int(x) for x in min_tile))
    mm, nn, kk, a_tile, steps, inner_passes = grid.mm, grid.nn, grid.kk, grid.a_tile, grid.steps, grid.inner_passes
    ra, rb, passes = grid.ra, grid.rb, grid.passes
    ea, eb, eo = elem_bits
    sa, sb, so = streamed
    parts = (a_tile * ea if sa else 0.0, kk * nn * eb if sb else 0.0, mm * nn * eo if so else 0.0)
    footprint = parts[0] + parts[1] + parts[2]
    energies, parent_port, child_port = (
        np.broadcast_to(np.asarray(x, dtype=np.float64), ra.shape).copy() if np.ndim(x) < 2 else x  # nothing streamed: the inner terms alone
        for x in (
            _moved(cost_pj, inner_psum_pj, ra, rb, passes, inner_passes, streamed),
            _moved(parent_cycles, (0.0, 0.0), ra, rb, passes, inner_passes, streamed),
            _moved(child_cycles, inner_psum_cycles, ra, rb, passes, inner_passes, streamed),
        )
    )
    feasible = np.ones(mm.shape, dtype=bool)
    for positions, bits in _budget_groups(budget_bits):
        feasible &= sum((parts[p] for p in positions), np.zeros(mm.shape)) <= bits
    latency = pipeline_latency(parent_port, child_port, port_load_cycles, compute_cycles, steps)
    energies[:, ~feasible] = np.inf
    latency[:, ~feasible] = np.inf
    return _Candidates(mm, nn, kk, steps, footprint, inner_passes, grid.refetch, energies, latency, feasible)


def _budget_groups(budget_bits) -> tuple[tuple[tuple[int, ...], float], ...]:
    """A single budget is shared by all three operands; a tier's budgets are per level (``search_tile``)."""
    if isinstance(budget_bits, tuple):
        return budget_bits
    return (((0, 1, 2), float(budget_bits)),)


def _moved(
    whole: tuple[float, float, float, float], inner_whole: tuple[float, float], ra: np.ndarray, rb: np.ndarray,
    passes: np.ndarray, inner_passes: np.ndarray, streamed: tuple[bool, bool, bool],
) -> np.ndarray:
    """Per candidate, the sum over operands of (times crossed) x (cost of one whole crossing): energy or cycles."""
    ca, cb, co_up, co_down = whole
    w0, r0 = inner_whole
    sa, sb, so = streamed
    inner = inner_passes * w0 + (inner_passes - 1.0) * r0
    return (ra * ca if sa else 0) + (rb * cb if sb else 0) + (passes * co_up + (passes - 1.0) * co_down if so else 0) + inner
