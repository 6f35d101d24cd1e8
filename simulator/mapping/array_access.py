"""The compute array's own accesses to the innermost memory of each operand: broadcast and spatial reduction.

The array reads each operand from the innermost level that keeps it (``hierarchy.serving_level``). One instance
of that level feeds the array axes named in its ``shared_axes`` (ZigZag's ``served_dimensions``; undeclared:
none, so profiles without the key keep the v1 rule of one access per MAC). Along a shared axis, lanes whose unrolled loop dim does not index
the operand use the same word: it is read once and broadcast. So a TPU-like array unrolling output channels K on
one axis reads each input once per 32 MACs from a shared SRAM, while a weight register per PE (no shared axis) is
read on every MAC. For outputs, lanes along a shared axis that unrolls a reduction dim (C, FY, FX, R) are summed by
an adder tree before the level is touched once.

Per operand the array's accesses are ``MACs / factor``, ``factor`` = product over the level's shared axes whose
dim the operand does not index of the axis's mean used lanes (extent / folds on that axis, so a 3-channel conv on
a 32-lane C axis broadcasts over 3). Without an array or ``shared_axes``, the factor is 1.

Copies: along an axis a level with several instances is *not* shared over, lanes whose dim does not index the
operand each keep their own copy in their own instance (a per-PE output register under a C-unrolling axis holds
one partial sum per lane): the distinct elements the level can hold are its capacity / copies
(``ArrayAccess.copies``; the tile search sizes that operand's footprint with it).

Port granularity (``min_access``): a level whose ports cannot move fewer than ``min_access_bits`` per access
(ZigZag's ``bandwidth_min``) charges a cycle of narrower array reads as that many bits (a 3-channel first conv
reads 24 input bits a cycle from a 64-bit-minimum SRAM port and pays 64).

Accumulator rule (``accumulates_per_mac``): when the innermost level keeping outputs is a register file that keeps
only outputs (ZigZag's ``rf_2B``: one partial sum per PE), it *is* the accumulator: the array reads and writes it
once per (reduced) MAC, at the accumulator width. Otherwise the MAC unit accumulates internally and the level sees
one write per reduction chunk (``gemm.tile_gemm``, the v1 rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.hardware.profile import COMPOSITE_DIMS, HardwareProfile, MemoryLevel
from simulator.mapping.hierarchy import serving_level
from simulator.mapping.spatial import unroll

__all__ = ["ArrayAccess", "INDEXED_BY", "accumulates_per_mac", "array_access", "min_access"]

#: Loop dims each GEMM position indexes (A: input feature map, B: weights, O: outputs); the composites
#: P = B OY OX and R = C FY FX index what any of their members does.
INDEXED_BY: dict[str, frozenset[str]] = {
    "A": frozenset({"B", "G", "C", "OY", "OX", "FY", "FX", "P", "R"}),
    "B": frozenset({"G", "K", "C", "FY", "FX", "R"}),
    "O": frozenset({"B", "G", "K", "OY", "OX", "P"}),
}


#: The GEMM dim (``O[M, N] += A[M, K] B[K, N]``) each loop dim belongs to (``spatial.gemm_loop_nest``).
_GEMM_DIM = {"B": "M", "OY": "M", "OX": "M", "P": "M", "K": "N", "C": "K", "FY": "K", "FX": "K", "R": "K", "G": "M"}


@dataclass(frozen=True, slots=True)
class ArrayAccess:
    """Accesses per MAC the array makes to each operand's innermost level (1.0: one per MAC, no sharing), and
    the copies of each element that level holds (``copies``: A, B, O; > 1 where lanes along an axis the level is
    not shared over use the same element, so each of their instances keeps its own copy or partial sum)."""

    a: float
    b: float
    o: float
    copies: tuple[float, float, float] = (1.0, 1.0, 1.0)
    #: Lanes busy per GEMM dim (M: B OY OX P, N: K, K: C FY FX R): one step of the spatial unrolling.
    lanes_mnk: tuple[int, int, int] = (1, 1, 1)


def _shared_axes(level: MemoryLevel) -> tuple[str, ...]:
    return level.shared_axes if level.shared_axes is not None else ()


def array_access(profile: HardwareProfile, loops: dict[str, int], roles: tuple[str, str]) -> ArrayAccess:
    """Per-MAC access fractions of A, B and O (``roles``: the operand names of A and B, for routing)."""
    array = profile.compute.array
    if array is None:
        return ArrayAccess(1.0, 1.0, 1.0)
    choice = unroll(array, loops)
    lanes: dict[str, float] = {}
    for axis in array.axes:
        dim = choice.unrolled.get(axis.name)
        if dim is None:
            continue
        extent = loops.get(dim, 1) if dim not in COMPOSITE_DIMS else math.prod(loops.get(x, 1) for x in COMPOSITE_DIMS[dim])
        unrolled_by = math.prod(a.size for a in array.axes if choice.unrolled.get(a.name) == dim)
        lanes[axis.name] = axis.size * extent / (math.ceil(extent / unrolled_by) * unrolled_by)
    out, copies = [], []
    for position, operand in (("A", roles[0]), ("B", roles[1]), ("O", "outputs")):
        level = profile.levels[serving_level(profile, operand, 0)]
        shared = _shared_axes(level)
        factor = copy = 1.0
        for axis, dim in choice.unrolled.items():
            if dim in INDEXED_BY[position]:
                continue
            if axis in shared:
                factor *= lanes[axis]
            elif level.instances > 1:
                copy *= lanes[axis]
        out.append(1.0 / factor)
        copies.append(copy)
    per_dim = {"M": 1.0, "N": 1.0, "K": 1.0}
    for axis, dim in choice.unrolled.items():
        per_dim[_GEMM_DIM[dim]] *= lanes[axis]
    lanes_mnk = tuple(max(1, round(per_dim[d])) for d in "MNK")
    return ArrayAccess(*out, copies=tuple(copies), lanes_mnk=lanes_mnk)


def accumulates_per_mac(profile: HardwareProfile) -> bool:
    """Whether the innermost output level is an output-only register file the array updates on every MAC."""
    level = profile.levels[serving_level(profile, "outputs", 0)]
    return level.kind == "register_file" and level.operands == ("outputs",)


def min_access(profile: HardwareProfile, operand: str, cycles: float, bits: float) -> float:
    """Bits charged for the array reading ``bits`` of ``operand`` over ``cycles`` from its innermost level: a level
    with a ``min_access_bits`` port granularity (ZigZag's ``bandwidth_min``) costs at least that per cycle."""
    level = profile.levels[serving_level(profile, operand, 0)]
    return max(bits, cycles * level.min_access_bits) if bits and level.min_access_bits else bits
