"""Flash-style attention (Dao et al. 2022, "FlashAttention", Algorithm 1) when the profile says so.

``[compute] attention = "flash"``: the scores of an attention op are produced and consumed in tiles that
stay on chip (online softmax: a running max and sum per query row), so they are never written to or read
from DRAM, however long the sequence. In the GEMM chain the mapper builds for attention (Q K^T, then P V)
the internal ``scores`` tensor is therefore homed in the global buffer under this mode; the two GEMMs are
tiled as usual, so q, k and v move (and are re-read per query tile) as the tiler decides. With
``"materialize"`` (the default) the scores live on chip only when they fit the activation budget, else
they spill to DRAM: written once by Q K^T and read once by P V (2 x B x H x L x S x bits).

``flash_spill_saved_bits`` is the hand arithmetic of what flash saves over a spilling materialized
attention (tests/mapping/test_flash.py).
"""

from __future__ import annotations

from simulator.hardware import HardwareProfile
from simulator.ops import AttentionDims

__all__ = ["flash_spill_saved_bits", "scores_on_chip"]


def scores_on_chip(internal_name: str, profile: HardwareProfile) -> bool:
    """An attention chain's internal tensor that flash tiling keeps on chip whatever its size."""
    return profile.compute.attention == "flash" and internal_name == "scores"


def flash_spill_saved_bits(att: AttentionDims, bits: int) -> int:
    """DRAM bits flash avoids when materialized scores spill: written once, read once (B x H x L x S each)."""
    return 2 * att.batch * att.heads * att.query_length * att.key_length * bits
