"""Compute cycles of an op: the one home every engine reads (the mapper's schedules and the no-reuse baseline).

How long the array computes does not depend on tiling or residency, only on the op's GEMMs, the array
and the zero handling, so it is decided here once:

* an op with GEMMs (``conv`` / ``linear`` / ``matmul`` as one GEMM, ``gemm.gemm_view``; attention,
  transformer and recurrent layers as their chain, ``transformer.op_chain``): per GEMM
  ``spatial.array_cycles`` of its loop nest (a direct conv's own ``B G K C OY OX FY FX``, otherwise the
  GEMM's) for the MACs that take a cycle under the profile's zero handling (``operations.gemm_cycles``);
* its other arithmetic (``op.arith``: adds, compares, exponentials ...) and every op without GEMMs:
  ``spatial.arith_cycles``, one operation per MAC lane per cycle (``compute.macs_per_cycle``).

NB: a sparse dataflow (``dataflows.DATAFLOW_MAPPERS``) times its ops from the weights' non-zero
patterns, which the baseline does not have; the baseline times them dense.
"""

from __future__ import annotations

from simulator.hardware.profile import HardwareProfile
from simulator.mapping.gemm import GemmView, gemm_view
from simulator.mapping.operations import gemm_cycles
from simulator.mapping.spatial import arith_cycles, conv_loop_nest
from simulator.mapping.transformer import op_chain
from simulator.ops import OpKind
from simulator.workload import Op, TensorInfo, Workload

__all__ = ["op_compute_cycles", "op_gemms", "roles"]

#: Kinds mapped as one GEMM (``gemm_view``).
_ONE_GEMM = (OpKind.CONV, OpKind.LINEAR, OpKind.MATMUL)


def op_gemms(op: Op, workload: Workload) -> list[tuple[GemmView, int, dict[str, int] | None]] | None:
    """The GEMMs the mapper tiles for ``op``, each with its MACs and its loop nest for the array (None: the
    GEMM's own); None when the op has no GEMMs (streamed)."""
    if op.macs <= 0:
        return None
    if op.kind in _ONE_GEMM:
        view = gemm_view(op, workload)
        if view is None:
            return None
        return [(view, op.macs, conv_loop_nest(op.dims) if op.kind is OpKind.CONV else None)]
    chain = op_chain(op, workload, [(a.tensor, float(a.bits)) for a in op.writes])
    return [(v, v.g * v.m * v.n * v.k, None) for v, _ in chain.gemms] if chain is not None else None


def roles(view: GemmView, workload: Workload) -> tuple[TensorInfo | None, TensorInfo | None]:
    """(weight, activation) of a GEMM: the weight operand if either is one; a chain's internal tensors
    (q, k, scores ...) are not in the workload and count as dense activations."""
    a, b = workload.tensors.get(view.a), workload.tensors.get(view.b)
    weight = b if b is not None and b.kind == "weight" else (a if a is not None and a.kind == "weight" else None)
    return weight, (a if weight is not None and weight is b else b)


def op_compute_cycles(op: Op, workload: Workload, profile: HardwareProfile) -> float:
    """Compute cycles of one op on ``profile`` (see the module docstring)."""
    arith = sum(a.count for a in op.arith)
    gemms = op_gemms(op, workload)
    if gemms is None:
        return arith_cycles(profile.compute, op.macs + arith)
    total = sum(gemm_cycles(profile, view, macs, loops, *roles(view, workload))[3] for view, macs, loops in gemms)
    return total + arith_cycles(profile.compute, arith)
