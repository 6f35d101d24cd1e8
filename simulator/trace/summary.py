"""Per-layer summary of a ``Workload``: MACs, weights, activation traffic and weight encoding per module.

Used by ``pjsim trace`` to print its table. A weight belongs to the first module whose ops read it
(so a tied weight is counted once). Pure Python; no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.workload import TensorEncoding, Workload

__all__ = ["LayerSummary", "describe_encoding", "layer_summaries"]


@dataclass(frozen=True, slots=True)
class LayerSummary:
    """One module's share of a workload.

    Attributes:
        module: fully qualified module name (``""`` = top level).
        ops: number of costed ops attributed to it.
        macs: multiply-accumulates.
        weight_elements: elements of the weight tensors (parameters and buffers) it reads first.
        weight_dense_bits: those weights at their traced dtype.
        weight_stored_bits: those weights in their encoding.
        activation_bits: bits of the outputs its ops write.
        encoding: the encoding of its largest weight tensor in words (``"dense"``,
            ``"density 0.08, 4-bit codebook (16)"``); ``"-"`` when it reads no weights.
    """

    module: str
    ops: int
    macs: int
    weight_elements: int
    weight_dense_bits: int
    weight_stored_bits: int
    activation_bits: int
    encoding: str


def describe_encoding(encoding: TensorEncoding | None, value_bits: int) -> str:
    """A short description of one weight's encoding (``value_bits`` = its dtype width when dense)."""
    if encoding is None or encoding.is_dense and encoding.value_bits == value_bits:
        return "dense"
    parts = []
    if encoding.density < 1.0:
        parts.append(f"density {encoding.density:.3g}")
    if encoding.codebook_entries:
        parts.append(f"{encoding.value_bits}-bit codebook ({encoding.codebook_entries})")
    elif encoding.value_bits != value_bits:
        parts.append(f"{encoding.value_bits}-bit values")
    if encoding.index_bits:
        parts.append(f"{encoding.index_bits}-bit index")
    if encoding.mean_code_bits is not None:
        parts.append(f"Huffman {encoding.mean_code_bits:.2f} b")
    return ", ".join(parts) or "dense"


def layer_summaries(workload: Workload) -> list[LayerSummary]:
    """One ``LayerSummary`` per module, in the order modules first run."""
    order: list[str] = []
    acc: dict[str, dict[str, int]] = {}
    owned: dict[str, list[str]] = {}
    claimed: set[str] = set()
    for op in workload.ops:
        if op.module not in acc:
            order.append(op.module)
            acc[op.module] = {"ops": 0, "macs": 0, "act": 0}
            owned[op.module] = []
        row = acc[op.module]
        row["ops"] += 1
        row["macs"] += op.macs
        for a in op.accesses:
            if a.direction == "write":
                row["act"] += a.bits
            elif a.role == "weights" and a.tensor not in claimed:
                claimed.add(a.tensor)
                owned[op.module].append(a.tensor)
    out = []
    for module in order:
        weights = [workload.tensors[n] for n in owned[module]]
        largest = max(weights, key=lambda w: w.numel) if weights else None
        out.append(
            LayerSummary(
                module=module,
                ops=acc[module]["ops"],
                macs=acc[module]["macs"],
                weight_elements=sum(w.numel for w in weights),
                weight_dense_bits=sum(w.dense_bits for w in weights),
                weight_stored_bits=sum(w.stored_bits for w in weights),
                activation_bits=acc[module]["act"],
                encoding=describe_encoding(largest.encoding, largest.dtype.bits) if largest is not None else "-",
            )
        )
    return out
