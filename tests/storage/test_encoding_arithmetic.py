"""Properties of the one encoding arithmetic (``TensorEncoding``) and of the streams that realise it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.compress.streams import encode_layer
from simulator.workload import TensorEncoding


@settings(max_examples=200, deadline=None)
@given(numel=st.integers(1, 10**7), density=st.floats(1e-4, 1.0), value_bits=st.integers(1, 16),
       index_bits=st.integers(0, 8), shared=st.booleans(), fillers=st.integers(0, 1000),
       mean=st.one_of(st.none(), st.floats(0.5, 16.0)), mean_index=st.one_of(st.none(), st.floats(0.5, 8.0)))
def test_parts_sum_to_stored_bits_and_fixed_width_is_onchip(numel, density, value_bits, index_bits, shared, fillers,
                                                            mean, mean_index):
    enc = TensorEncoding(density=density, value_bits=value_bits, index_bits=index_bits,
                         codebook_entries=2**value_bits if shared else 0, filler_entries=fillers if index_bits else 0,
                         mean_code_bits=mean, mean_index_code_bits=mean_index if index_bits else None)
    assert sum(enc.stored_bits_by_part(numel).values()) == enc.stored_bits(numel) == enc.encoded_bits(numel)
    assert min(enc.stored_bits_by_part(numel).values()) >= 0
    fixed = TensorEncoding(density=enc.density, value_bits=value_bits, index_bits=index_bits,
                           codebook_entries=enc.codebook_entries, filler_entries=enc.filler_entries)
    entries = fixed.stored_entries(numel)
    assert fixed.stored_bits(numel) == fixed.onchip_bits(numel) == entries * (value_bits + index_bits) + fixed.codebook_bits()
    assert enc.onchip_bits(numel) == fixed.onchip_bits(numel)  # Huffman never sits on chip


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 300), keep=st.floats(0.01, 1.0), bits=st.integers(1, 6),
       index_bits=st.integers(0, 6), coded=st.booleans(), block=st.integers(1, 700), seed=st.integers(0, 10**6))
def test_encode_layer_is_exactly_its_encoding(rows, cols, keep, bits, index_bits, coded, block, seed):
    """Any shared (and possibly pruned, Huffman-coded) weight: the packed encoding's stored bits are the
    sum of the stored parts, and the record's 2^b codebook is what is stored."""
    rng = np.random.default_rng(seed)
    codebook = rng.normal(size=2**bits).astype(np.float32)
    w = codebook[rng.integers(0, 2**bits, size=(rows, cols))]
    if index_bits:
        w[rng.random((rows, cols)) > keep] = 0.0
        w.flat[rng.integers(0, w.size)] = 1.5  # at least one kept weight
    enc = TensorEncoding(value_bits=bits + 1, index_bits=index_bits, codebook_entries=2 ** (bits + 1))
    layer = encode_layer(w, enc, coded, block)
    packed = layer.encoding
    assert packed.codebook_entries == 2 ** (bits + 1) and layer.codebook.size == 2 ** (bits + 1)
    assert layer.total_bits == packed.stored_bits(w.size)
    assert packed.onchip_bits(w.size) == layer.entries * (bits + 1 + index_bits) + 32 * 2 ** (bits + 1)
