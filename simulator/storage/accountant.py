"""The storage accountant: bits per layer, split into parts, for each Deep Compression stage.

Stages (Deep Compression Fig. 1): ``dense`` (every weight float32), ``pruned`` (kept weights and
filler zeros as float32 plus fixed-width relative indices), ``quantized`` (codebook indices in
``value_bits`` plus the codebook: weight sharing or linear quantization) and ``huffman`` (both
streams Huffman-coded, plus their tables). A stage is listed only when the record reaches it.

Parts: ``values``, ``indices``, ``fillers`` (the filler entries' value and index bits), ``codebook``,
``huffman_tables`` and ``biases`` (every tensor stored raw: biases and buffers). Each layer's bits
are computed by ``simulator.compress.streams.encode_layer``, the function ``pack`` writes with, and
sum to ``TensorEncoding.stored_bits`` of the layer's packed encoding (the mapper's off-chip bits), so
the final stage's total equals the file's payload bits exactly (sections are bit-packed); the file
adds ``simulator.storage.format.header_bytes`` and rounds the payload up to a whole byte. A codebook
counts every entry the record declares (``2^b`` for weight sharing, see ``TensorEncoding.codebook_bits``).

Conventions: sizes are bits; KB = 1000 bytes and MB = 10^6 bytes (decimal, as Deep Compression's
tables: LeNet-300-100's 266,610 float32 parameters = 1066 KB, quoted as 1070 KB). Biases are kept
float32 and counted by default (``include_biases``), as in the authors' released AlexNet file; pass
``include_biases=False`` to count weights only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from simulator.compress.streams import PARTS, encode_layer
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["CONVENTIONS", "STAGES", "StorageReport", "storage_report"]

STAGES = ("dense", "pruned", "quantized", "huffman")
CONVENTIONS = ("bits per part; KB = 1000 B, MB = 10^6 B; biases and buffers stored raw (float32) and "
               "{biases}; Huffman stage includes code tables and block offsets; file header not included")


@dataclass(frozen=True, slots=True)
class StorageReport:
    """Bits by (stage, layer, part).

    Attributes:
        bits: ``(stage, layer, part) -> bits``.
        stages: the stages present, in pipeline order.
        include_biases: whether raw tensors (biases, buffers) are counted.
        conventions: the counting conventions in words.
    """

    bits: FrozenMap[tuple[str, str, str], int]
    stages: tuple[str, ...]
    include_biases: bool = True
    conventions: str = field(default="")

    def total_bits(self, stage: str) -> int:
        return sum(v for (s, _, _), v in self.bits.items() if s == stage)

    def total_bytes(self, stage: str) -> float:
        return self.total_bits(stage) / 8

    def layer_bits(self, stage: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for (s, layer, _), v in self.bits.items():
            if s == stage:
                out[layer] = out.get(layer, 0) + v
        return out

    def part_bits(self, stage: str) -> dict[str, int]:
        out = dict.fromkeys(PARTS, 0)
        for (s, _, part), v in self.bits.items():
            if s == stage:
                out[part] += v
        return out

    def rate(self, stage: str) -> float:
        """Compression rate of ``stage`` relative to ``dense``."""
        return self.total_bits("dense") / max(self.total_bits(stage), 1)

    def table(self) -> str:
        """A plain-text table: one row per stage with the parts in KB (decimal) and the rate."""
        head = f"{'stage':<10}" + "".join(f"{p:>15}" for p in PARTS) + f"{'total KB':>11}{'rate':>8}"
        rows = [head]
        for stage in self.stages:
            parts = self.part_bits(stage)
            rows.append(f"{stage:<10}" + "".join(f"{parts[p] / 8000:>15.2f}" for p in PARTS)
                        + f"{self.total_bits(stage) / 8000:>11.2f}{self.rate(stage):>7.1f}x")
        return "\n".join(rows)

    def layer_table(self, stage: str) -> str:
        """Per-layer parts of one stage, in bits."""
        layers = list(dict.fromkeys(layer for (s, layer, _) in self.bits if s == stage))
        rows = [f"{'layer':<24}" + "".join(f"{p:>15}" for p in PARTS)]
        for layer in layers:
            rows.append(f"{layer:<24}" + "".join(f"{self.bits.get((stage, layer, p), 0):>15}" for p in PARTS))
        return "\n".join(rows)


def storage_report(model: nn.Module | dict, record: CompressionRecord, include_biases: bool = True) -> StorageReport:
    """Account every state-dict tensor of ``model`` at each stage ``record`` reaches.

    Args:
        model: the compressed model (or its state dict).
        record: what compression did (``deep_compression``'s record, or any composition).
        include_biases: count raw tensors (biases, buffers) in the totals.
    """
    state = model.state_dict() if isinstance(model, nn.Module) else model
    encs = {n: e for n, e in record.encodings.items() if n in state and not e.is_dense}
    pruned = any(e.index_bits > 0 for e in encs.values())
    quantized = any(e.codebook_entries > 0 for e in encs.values())
    coded = any(e.mean_code_bits is not None or e.mean_index_code_bits is not None for e in encs.values())
    stages = tuple(s for s, on in zip(STAGES, (True, pruned, quantized, coded)) if on)
    bits: dict[tuple[str, str, str], int] = {}
    for name, tensor in state.items():
        layer = name
        enc = encs.get(name)
        if enc is None:
            if include_biases:
                raw_bits = tensor.numel() * tensor.element_size() * 8
                for stage in stages:
                    bits[(stage, layer, "biases")] = raw_bits
            continue
        weight = tensor.detach().to(torch.float32).cpu().numpy()
        for stage in stages:
            if stage == "dense":
                bits[(stage, layer, "values")] = weight.size * 32
                continue
            if stage == "pruned":
                stage_enc = TensorEncoding(index_bits=enc.index_bits) if enc.index_bits > 0 else None  # float32 values
                if stage_enc is None:
                    bits[(stage, layer, "values")] = weight.size * 32
                    continue
                parts = encode_layer(weight, stage_enc, False, name=name).parts_bits
            else:
                parts = encode_layer(weight, enc, stage == "huffman", name=name).parts_bits
            for part, v in parts.items():
                if v:
                    bits[(stage, layer, part)] = int(v)
    conventions = CONVENTIONS.format(biases="counted" if include_biases else "not counted")
    return StorageReport(bits=FrozenMap(bits), stages=stages, include_biases=include_biases, conventions=conventions)
