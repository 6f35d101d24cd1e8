"""The Huffman-coding transform (Deep Compression step 4): codes each compressed layer's streams.

It changes no weight. For every parameter the record marks as compressed (sparse or shared), it
builds the layer's streams exactly as the file stores them (``simulator.compress.streams``) and
Huffman-codes the value-index and relative-index streams; the new record carries each layer's
encoding *as packed*: exact density and filler count, codebook size, and the mean code lengths
(including block padding, offsets and the code tables), so ``TensorEncoding.stored_bits`` equals the
layer's bits in the file.
"""

from __future__ import annotations

import torch
from torch import nn

from simulator.compress.base import Transform, register_transform
from simulator.compress.huffman import DEFAULT_BLOCK_SYMBOLS
from simulator.compress.streams import encode_layer
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["HuffmanCoding", "packed_record"]


def packed_record(model: nn.Module, record: CompressionRecord, huffman_coded: bool,
                  block_symbols: int | None = DEFAULT_BLOCK_SYMBOLS) -> dict[str, TensorEncoding]:
    """Each compressed parameter's encoding as the file would store it."""
    params = dict(model.named_parameters())
    out = {}
    for name, enc in record.encodings.items():
        if name not in params or enc.is_dense:
            continue
        weight = params[name].detach().to(torch.float32).cpu().numpy()
        coded = huffman_coded and (enc.codebook_entries > 0 or enc.index_bits > 0)
        out[name] = encode_layer(weight, enc, coded, block_symbols, name).encoding
    return out


@register_transform
class HuffmanCoding(Transform):
    """Huffman-code the weight-index and relative-index streams of every compressed layer.

    Args:
        block_symbols: symbols per independently decodable block (see ``simulator.compress.huffman``).
    """

    NAME = "huffman"
    KIND = "coding"

    def __init__(self, block_symbols: int = DEFAULT_BLOCK_SYMBOLS) -> None:
        self.block_symbols = block_symbols

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        record = record or CompressionRecord()
        encodings = packed_record(model, record, True, self.block_symbols)
        return model, record.then(CompressionRecord(FrozenMap(encodings), ("huffman coding",)))
