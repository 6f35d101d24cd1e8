"""What-if compression: ``pjsim simulate MODEL --prune 0.1 --share-bits 5 --index-bits 5 --huffman``.

The model's real weights go through the Deep Compression transforms of this package without any
training (Han, Mao & Dally, ICLR 2016, steps 1, 2 and 4 one-shot): magnitude pruning of every
conv/linear weight to ``density`` (``prune.MagnitudePrune``), k-means sharing with ``share_bits``-bit
codebook indices (``sharing.WeightSharing``, linear init), Huffman coding of the stored streams
(``coding.HuffmanCoding``). The resulting ``CompressionRecord`` holds the encodings exactly as
``simulator.storage.pack`` would store them, so the cost model prices the transformed weights, not
a formula. Accuracy is not modelled (no retraining): the report says so.

Settings are checked before any work, each error naming its key (``prune``, ``share_bits``,
``index_bits``, ``huffman``), with the limits the storage format has: a codebook of at most 2^16
entries, relative indices no wider than a weight (``share_bits``, or 32 unshared), a density in (0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from torch import nn

from simulator.compress.base import CompressError
from simulator.workload import CompressionRecord

__all__ = ["DEFAULT_INDEX_BITS", "MAX_SHARE_BITS", "WhatIf", "apply_whatif"]

#: Widest shared-weight index: a codebook of 2^16 entries (the storage format's limit; wider is not sharing).
MAX_SHARE_BITS = 16
#: Relative-index bits when pruning without ``index_bits`` (Deep Compression's 5 for conv and fc, Table 1 note).
DEFAULT_INDEX_BITS = 5
#: Bits of an unshared float32 weight: the bound on ``index_bits`` when nothing is shared.
DENSE_WEIGHT_BITS = 32


@dataclass(frozen=True, slots=True)
class WhatIf:
    """One what-if compression of every conv/linear weight (2-D or more).

    Attributes:
        prune: density kept by magnitude pruning, in (0, 1] (0.1 keeps 10%: "pruned to 10%"); None: no pruning.
        share_bits: bits per shared-weight index (codebook of 2^bits entries), 1..16; None: no sharing.
        index_bits: relative-index bits of the sparse format (1..weight bits); default 5 when pruning.
        huffman: Huffman-code the index streams (after pruning and/or sharing).
    """

    prune: float | None = None
    share_bits: int | None = None
    index_bits: int | None = None
    huffman: bool = False

    def __post_init__(self) -> None:
        if self.prune is not None and (isinstance(self.prune, bool) or not isinstance(self.prune, (int, float))
                                       or not 0.0 < float(self.prune) <= 1.0):
            raise CompressError(f"prune: expected the density kept, in (0, 1] (0.1 keeps 10%), got {self.prune!r}")
        if self.share_bits is not None and (isinstance(self.share_bits, bool) or not isinstance(self.share_bits, int)
                                            or not 1 <= self.share_bits <= MAX_SHARE_BITS):
            raise CompressError(f"share_bits: expected a whole number in 1..{MAX_SHARE_BITS} (a codebook of at most "
                                f"2^{MAX_SHARE_BITS} entries), got {self.share_bits!r}")
        weight_bits = self.share_bits or DENSE_WEIGHT_BITS
        if self.index_bits is not None:
            if isinstance(self.index_bits, bool) or not isinstance(self.index_bits, int) or self.index_bits < 1:
                raise CompressError(f"index_bits: expected a whole number >= 1, got {self.index_bits!r}")
            if self.index_bits > min(weight_bits, 16):
                raise CompressError(f"index_bits: {self.index_bits} relative-index bits is wider than a weight "
                                    f"({weight_bits} bits{' shared' if self.share_bits else ''}) or than 16; expected "
                                    f"1..{min(weight_bits, 16)}")
            if self.prune is None or float(self.prune) == 1.0:
                raise CompressError("index_bits: relative indices exist only for pruned weights; give prune < 1 too")
        if self.huffman and self.prune in (None, 1.0) and self.share_bits is None:
            raise CompressError("huffman: codes the index streams of pruned or shared weights; give prune or share_bits too")
        if self.prune is None and self.share_bits is None:
            raise CompressError("what-if compression: give at least one of prune and share_bits")

    @classmethod
    def of(cls, setting: WhatIf | Mapping[str, Any]) -> WhatIf:
        """A ``WhatIf`` from itself or its keywords (unknown keys refused, naming them)."""
        if isinstance(setting, WhatIf):
            return setting
        if not isinstance(setting, Mapping):
            raise CompressError(f"compress: expected a WhatIf or a mapping of its settings, got {type(setting).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(setting) - known)
        if unknown:
            raise CompressError(f"compress: unknown setting(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}")
        return cls(**setting)

    def describe(self) -> str:
        """One line for the report: ``density 0.1, index 5 bit, shared 5 bit, Huffman``."""
        parts = []
        if self.prune is not None and self.prune < 1.0:
            parts.append(f"density {float(self.prune):g}, index {self.index_bits or DEFAULT_INDEX_BITS} bit")
        if self.share_bits is not None:
            parts.append(f"shared {self.share_bits} bit")
        if self.huffman:
            parts.append("Huffman")
        return ", ".join(parts) + " (one-shot, no retraining: accuracy not modelled)"


def apply_whatif(model: nn.Module, setting: WhatIf | Mapping[str, Any],
                 record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord, str]:
    """A compressed copy of ``model``, its record (encodings as packed) and a one-line description."""
    from simulator.compress.coding import HuffmanCoding
    from simulator.compress.prune import MagnitudePrune
    from simulator.compress.sharing import WeightSharing

    what = WhatIf.of(setting)
    record = record or CompressionRecord()
    pruned = what.prune is not None and what.prune < 1.0
    if pruned:
        model, record = MagnitudePrune(keep=float(what.prune), index_bits=what.index_bits or DEFAULT_INDEX_BITS).apply(model, record)
    if what.share_bits is not None:
        model, record = WeightSharing(what.share_bits, init="linear", inplace=pruned).apply(model, record)
    if what.huffman:
        model, record = HuffmanCoding().apply(model, record)
    return model, record, what.describe()
