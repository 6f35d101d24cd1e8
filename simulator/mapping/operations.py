"""The operation stream of a mapped op: MACs after zero handling, decode work, other arithmetic.

``zero_handling`` applies the profile's zero handling (``skip``: zero weights and activations take
neither energy nor cycles; ``gate``: they take cycles but no energy); ``decode_operations`` counts
codebook lookups and sparse-index adds of an encoded weight; ``mac_operations`` prices a MAC as
multiply + add, or as an add for sign-arithmetic weights; ``gemm_schedule`` assembles the
``OpSchedule`` of one op from its tiled GEMMs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulator.hardware.profile import HardwareProfile
from simulator.mapping.context import MappingContext, Traffic, edge_traffic, role_of
from simulator.mapping.operands import stored_fraction, structured_skip, weight_density
from simulator.mapping.spatial import arith_cycles, array_cycles
from simulator.mapping.schedule import OperationCount, OpSchedule, Tile
from simulator.workload import DataType, Op, TensorInfo

if TYPE_CHECKING:
    from simulator.mapping.gemm import GemmView

__all__ = [
    "GemmResult", "arith_operations", "decode_operations", "gemm_cycles", "gemm_schedule", "mac_operations",
    "zero_handling",
]


def arith_operations(op: Op) -> list[OperationCount]:
    """The op's non-MAC arithmetic (``op.arith``) as operations."""
    return [OperationCount(a.operation, a.dtype.name, float(a.count)) for a in op.arith]


def zero_handling(
    macs: int, profile: HardwareProfile, weight: TensorInfo | None, activation: TensorInfo | None
) -> tuple[float, float, float]:
    """(MACs that cost energy, MACs that take cycles, weight density) under the profile's zero handling."""
    dw = weight_density(weight) if weight is not None else 1.0
    da = activation.measured_density if activation is not None and activation.measured_density is not None else 1.0
    mode = "structured" if structured_skip(weight, profile) else profile.zero_handling
    if mode == "structured":  # 2:4 sparse tensor cores: only the weight pattern is skipped
        return macs * dw, macs * dw, dw
    if mode == "skip":
        return macs * dw * da, macs * dw * da, dw
    if mode == "gate":
        return macs * dw * da, float(macs), dw
    return float(macs), float(macs), dw


def gemm_cycles(
    profile: HardwareProfile, view: GemmView, macs: int, loops: dict[str, int] | None, weight: TensorInfo | None,
    activation: TensorInfo | None,
) -> tuple[float, float, float, float]:
    """(MACs that cost energy, MACs that take cycles, weight density, compute cycles) of one GEMM of ``macs``."""
    e_macs, c_macs, dw = zero_handling(macs, profile, weight, activation)
    return e_macs, c_macs, dw, array_cycles(profile.compute, loops, (view.g, view.m, view.n, view.k), macs, c_macs)


def decode_operations(macs: int, weight: TensorInfo | None, dw: float) -> list[OperationCount]:
    """Codebook lookups per used weight and index adds per used stored entry."""
    if weight is None or weight.encoding is None or weight.kind != "weight":
        return []
    enc = weight.encoding
    uses_per_element = macs / max(weight.numel, 1)
    out = []
    # Sign-arithmetic weights keep one scale per filter, applied once per output (see mac_operations).
    if enc.codebook_entries > 0 and enc.mac_arithmetic != "sign":
        out.append(OperationCount("codebook", f"{weight.dtype.kind}{enc.codebook_value_bits}", macs * dw, "weights"))
    if enc.index_bits > 0 and not enc.structure:  # 2:4 metadata selects operands (a mux), no index add
        entries = weight.numel * stored_fraction(weight)
        out.append(OperationCount("index_add", f"int{enc.index_bits}", entries * uses_per_element, "weights"))
    return out


def mac_operations(result: GemmResult, dtype: str, op: Op) -> list[OperationCount]:
    """The MACs of one GEMM as operations.

    Declared rule: with sign-arithmetic weights (binary/ternary, ``TensorEncoding.mac_arithmetic ==
    "sign"``) a MAC is an add/subtract at the activation's type, and the per-filter scale costs one
    multiply per output element (XNOR-Net's binary-weight networks); otherwise a MAC is multiply + add.
    """
    enc = result.weight.encoding if result.weight is not None else None
    if enc is None or enc.mac_arithmetic != "sign":
        return [OperationCount("mac", dtype, result.e_macs)]
    outputs = sum(a.bits for a in op.writes) / max(DataType.parse(dtype).bits, 1)
    return [OperationCount("add", dtype, result.e_macs), OperationCount("mult", dtype, outputs)]


@dataclass
class GemmResult:
    """What one tiled GEMM added to an op: its tiles, DRAM-boundary steps and operation counts."""

    tiles: list[Tile]
    steps: int
    e_macs: float
    c_macs: float
    operations: list[OperationCount]
    weight: TensorInfo | None
    cycles: float


def gemm_schedule(op: Op, ctx: MappingContext, traffic: Traffic, results: list[GemmResult], extras: list[str], reads: list[str]) -> OpSchedule:
    """Extras streamed once, compulsory edge traffic, and the op's operation stream, for tiled GEMMs."""
    for extra in extras:
        if extra not in ctx.free_reads[op.index]:
            traffic.through(extra, role_of(op, extra), ctx.home(extra))
    edge_traffic(op, ctx, traffic, reads)
    dtype = op.mac_dtype.name if op.mac_dtype else "float32"
    merged: dict[tuple[str, str, str], float] = {}
    for o in (o for r in results for o in mac_operations(r, dtype, op)):
        merged[(o.operation, o.dtype, o.operand)] = merged.get((o.operation, o.dtype, o.operand), 0.0) + o.count
    operations = [OperationCount(kind, dt, count, operand) for (kind, dt, operand), count in merged.items()]
    operations += arith_operations(op)
    for r in results:
        operations += r.operations
    weights = [r.weight for r in results if r.weight is not None and r.weight.encoding is not None]
    if traffic.huffman_symbols and weights:
        operations.append(OperationCount("huffman_symbol", f"int{weights[0].encoding.value_bits}", traffic.huffman_symbols, "weights"))
    arith = sum(a.count for a in op.arith)
    return OpSchedule(
        index=op.index, layer=op.module, kind=op.kind.value, aten=op.aten, mapping="gemm",
        tiles=tuple(t for r in results for t in r.tiles), traffic_bits=traffic.frozen(), operations=tuple(operations),
        macs=op.macs, compute_cycles=sum(r.cycles for r in results) + arith_cycles(ctx.profile.compute, arith),
        steps=sum(r.steps for r in results),
    )
