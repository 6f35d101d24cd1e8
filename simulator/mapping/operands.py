"""How a tensor occupies memory and what decoding it costs, from its ``TensorEncoding``.

Conventions (stated in the report):
    * Off chip (DRAM) a weight is stored exactly as encoded: values (or their Huffman codes) + relative
      indices (or their codes) + filler entries + codebook (``TensorEncoding.stored_bits``, the same
      number the storage accountant and the ``.pjc`` file hold).
    * On chip it is held at fixed width: values + relative indices + filler entries + codebook; Huffman
      codes are decoded when the weights are loaded from DRAM (one decode per symbol per load)
      (``TensorEncoding.onchip_bits``). Both functions below are thin wrappers over those definitions.
    * Activations are held dense at their traced data type.
    * A sparse-stored weight (``index_bits > 0`` or ``density < 1``) only exists as its stored entries,
      so the compute array reads ``density`` x dense weight uses; with ``skip`` or ``gate`` zero handling
      the MACs with a zero weight (and, when measured, a zero activation) cost no energy, with ``skip``
      they also take no cycle.
"""

from __future__ import annotations

from simulator.hardware import HardwareProfile
from simulator.workload import TensorInfo

__all__ = ["entry_bits_onchip", "offchip_bits", "onchip_bits", "stored_fraction", "structured_skip", "weight_density"]


def onchip_bits(info: TensorInfo) -> int:
    """Bits the tensor occupies on chip (fixed-width entries + codebook; activations dense)."""
    enc = info.encoding
    if enc is None or info.kind != "weight":
        return info.dense_bits
    return enc.onchip_bits(info.numel)


def offchip_bits(info: TensorInfo) -> int:
    """Bits the tensor occupies in DRAM (its full encoding, Huffman included)."""
    enc = info.encoding
    if enc is None or info.kind != "weight":
        return info.dense_bits
    return enc.stored_bits(info.numel)


def entry_bits_onchip(info: TensorInfo) -> int:
    """Bits of one stored entry read by the compute array (value or codebook index + relative index)."""
    enc = info.encoding
    if enc is None or info.kind != "weight":
        return info.dtype.bits
    return enc.value_bits + enc.index_bits


def weight_density(info: TensorInfo) -> float:
    """Fraction of the dense weight values that exist as stored (non-zero) entries; 1.0 if dense."""
    enc = info.encoding
    return 1.0 if enc is None else enc.density


def stored_fraction(info: TensorInfo) -> float:
    """Stored entries (kept values + filler zeros) per dense element."""
    enc = info.encoding
    if enc is None or info.numel == 0:
        return 1.0
    return enc.stored_entries(info.numel) / info.numel


def structured_skip(info: TensorInfo | None, profile: HardwareProfile) -> bool:
    """The weight follows a sparsity pattern (``"2:4"``) the compute array declares: its pruned MACs take
    no cycle and no energy, whatever ``zero_handling`` says, and its metadata selects operands (a mux, not
    an index add)."""
    enc = None if info is None else info.encoding
    return enc is not None and bool(enc.structure) and enc.structure in profile.compute.structured_sparsity
