"""Spatial unrolling of one loop nest on the profile's compute array: compute cycles from geometry.

An op with MACs is the loop nest ``B, G, K, C, OY, OX, FY, FX`` (ZigZag's names: batch, groups, output
channels, input channels, output rows/cols, filter rows/cols; a GEMM ``O[M, N] += A[M, K] B[K, N]`` is
``B = M, C = K, K = N``). Two composite dims flatten a group of loops the way SCALE-Sim's array sees
them: ``P = B x OY x OX`` (output pixels, an output-stationary array's rows) and ``R = C x FY x FX``
(the reduction window). Each axis of the array (``ArrayAxis``) may unroll one dim of its declared list;
an axis of ``size`` lanes unrolling a dim of ``d`` iterations runs ``ceil(d / size)`` folds of it, so a
3-channel first conv on an axis of 32 input-channel lanes keeps 3 of the 32 busy (under-utilisation
follows from the geometry). Two axes choosing the same dim unroll it by the product of their sizes.

Compute cycles = folds x (temporal iterations per fold + fill/drain cycles per fold), where the
temporal iterations are the product of the loops no axis unrolls; fill/drain is the profile's systolic
pipeline cost per fold (SCALE-Sim OS: ``2 rows + cols - 2``). Every assignment of dims to axes is
evaluated at once in numpy and the one of fewest cycles is chosen (ties: the first in axis-list order).

A profile without an array (only ``macs_per_cycle``) keeps the v1 rule, compute cycles = MACs /
macs_per_cycle (a 1-D array unrolling any dim perfectly); the mapper does not call this module then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from simulator.frozen import FrozenMap
from simulator.ops import ConvDims
from simulator.hardware.profile import ComputeUnit, COMPOSITE_DIMS, LOOP_DIMS, UNROLLABLE_DIMS, ComputeArray

__all__ = ["SpatialChoice", "arith_cycles", "array_cycles", "conv_loop_nest", "gemm_loop_nest", "peak_macs_per_cycle", "unroll"]


@dataclass(frozen=True, slots=True)
class SpatialChoice:
    """The chosen unrolling of one loop nest and the compute cycles it implies.

    ``unrolled`` maps each axis name to the dim it unrolls (absent: the axis idles, one lane used);
    ``folds`` the spatial folds, ``temporal_per_fold`` the loop iterations each fold runs,
    ``cycles = folds x (temporal_per_fold + fill_drain_cycles)``; ``utilisation`` = MACs / (cycles x PEs).
    """

    unrolled: FrozenMap[str, str]
    folds: int
    temporal_per_fold: int
    cycles: float
    utilisation: float


def conv_loop_nest(dims: ConvDims) -> dict[str, int] | None:
    """The loop nest of a traced direct conv (``B G K C OY OX FY FX``); 1-D convs get OY = FY = 1.

    ``K`` and ``C`` are per group (the array unrolls within one group; groups are a separate loop). None
    for a transposed conv (mapped as its scatter GEMM, whose loops are the GEMM's); 3-D folds into rows.
    """
    if dims.transposed:
        return None
    g = dims.groups
    out, ker = _two_d(list(dims.output_size)), _two_d(list(dims.kernel_size))
    return {
        "B": dims.batch, "G": g, "K": dims.out_channels // g, "C": dims.in_channels // g,
        "OY": out[0], "OX": out[1], "FY": ker[0], "FX": ker[1],
    }


def _two_d(sizes: list[int]) -> list[int]:
    """Spatial sizes as (rows, cols): 1-D gets rows = 1, 3-D folds the leading dims into rows."""
    if len(sizes) <= 2:
        return ([1] * (2 - len(sizes)) + sizes)[-2:]
    return [math.prod(sizes[:-1]), sizes[-1]]


def gemm_loop_nest(g: int, m: int, n: int, k: int) -> dict[str, int]:
    """The loop nest of ``g`` GEMMs ``O[m, n] += A[m, k] B[k, n]``: B = m, K = n, C = k."""
    return {"B": m, "G": g, "K": n, "C": k, "OY": 1, "OX": 1, "FY": 1, "FX": 1}


def unroll(array: ComputeArray, loops: dict[str, int]) -> SpatialChoice:
    """The unrolling of ``loops`` on ``array`` with the fewest compute cycles (see the module docstring)."""
    key = tuple(int(loops.get(d, 1)) for d in LOOP_DIMS)
    return _unroll(array, key)


@lru_cache(maxsize=8192)
def _unroll(array: ComputeArray, sizes: tuple[int, ...]) -> SpatialChoice:
    loops = dict(zip(LOOP_DIMS, sizes))
    names = list(UNROLLABLE_DIMS)
    extent = np.array(
        [loops[d] if d in loops else math.prod(loops[x] for x in COMPOSITE_DIMS[d]) for d in names], dtype=np.float64
    )
    # members[i, j]: unrollable name i covers base loop j.
    members = np.array([[d == b or b in COMPOSITE_DIMS.get(d, ()) for b in LOOP_DIMS] for d in names])
    # Candidate assignments: each axis picks one of its dims or idles (index -1); all combinations at once.
    options = [np.array([-1, *(names.index(d) for d in axis.unrolls)]) for axis in array.axes]
    grids = [g.ravel() for g in np.meshgrid(*options, indexing="ij")]
    n_cand = grids[0].size
    factor = np.ones((n_cand, len(names)))
    for axis, pick in zip(array.axes, grids):
        used = pick >= 0
        factor[np.nonzero(used)[0], pick[used]] *= axis.size
    chosen = factor > 1.0
    # Base loops covered by each candidate's chosen dims; a base loop covered twice (P and OX) is invalid.
    cover = chosen.astype(np.int64) @ members.astype(np.int64)
    valid = (cover <= 1).all(axis=1)
    folds = np.where(chosen, np.ceil(extent / factor), 1.0).prod(axis=1)
    base = np.array(sizes, dtype=np.float64)
    temporal = np.where(cover >= 1, 1.0, base).prod(axis=1)
    cycles = folds * (temporal + array.fill_drain_cycles)
    cycles[~valid] = np.inf
    best = int(np.argmin(cycles))
    macs = float(np.prod(base))
    unrolled = {axis.name: names[int(pick[best])] for axis, pick in zip(array.axes, grids) if pick[best] >= 0}
    return SpatialChoice(
        unrolled=FrozenMap(unrolled),
        folds=int(folds[best]),
        temporal_per_fold=int(temporal[best]),
        cycles=float(cycles[best]),
        utilisation=macs / (float(cycles[best]) * array.pes) if cycles[best] > 0 else 0.0,
    )


def peak_macs_per_cycle(compute: ComputeUnit) -> int:
    """MACs one core's array can do per cycle at full utilisation: its PEs, or ``macs_per_cycle`` (v1)."""
    return compute.array.pes if compute.array is not None else compute.macs_per_cycle


def array_cycles(
    compute: ComputeUnit, loops: dict[str, int] | None, gemm: tuple[int, int, int, int], macs: float, cycle_macs: float
) -> float:
    """Compute cycles of one GEMM-shaped op: the one home of "how long the array computes".

    With an array: the cycles of the best unrolling of ``loops`` (default: the GEMM ``(g, m, n, k)``'s
    nest), scaled by ``cycle_macs / macs`` (MACs that take a cycle after zero skipping). Without one (v1
    profiles): ``cycle_macs / macs_per_cycle``.
    """
    if compute.array is None:
        return cycle_macs / compute.macs_per_cycle
    nest = loops if loops is not None else gemm_loop_nest(*gemm)
    choice = unroll(compute.array, nest)
    return choice.cycles * (cycle_macs / macs if macs else 0.0)


def arith_cycles(compute: ComputeUnit, operations: float) -> float:
    """Cycles of ``operations`` non-MAC operations (or MACs of an op without GEMMs): one per MAC lane per cycle."""
    return operations / compute.macs_per_cycle
