"""Huffman codec invariants: exact round trip, entropy bound, at most fixed width + 1 bit per symbol."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.compress.huffman import build_code, decode, encode, entropy_bits


@settings(max_examples=50, deadline=None)
@given(
    alphabet=st.integers(1, 300),
    n=st.integers(0, 9000),
    skew=st.floats(0.05, 3.0),
    block=st.sampled_from([1, 7, 64, 4096]),
    seed=st.integers(0, 2**31 - 1),
)
def test_round_trip_and_bounds(alphabet, n, skew, block, seed):
    rng = np.random.default_rng(seed)
    p = rng.random(alphabet) ** (1 / skew)
    x = rng.choice(alphabet, size=n, p=p / p.sum())
    counts = np.bincount(x, minlength=alphabet)
    if n == 0:
        counts[0] = 1  # a code needs one symbol; the stream stays empty
    code = build_code(counts)
    stream = encode(x, code, block)
    assert np.array_equal(decode(stream, code), x)
    if n:
        mean = code.mean_bits(counts)
        used = int((counts > 0).sum())
        fixed = math.ceil(math.log2(used)) if used > 1 else 1
        assert mean >= entropy_bits(counts) - 1e-9  # never beats the entropy bound
        assert mean <= fixed + 1  # never worse than fixed width + 1 bit
        assert mean < entropy_bits(counts) + 1 + 1e-9  # Huffman is within 1 bit of entropy
        # The stream holds exactly the code bits, plus < 8 bits of padding per block and the offsets.
        code_bits = int((counts * code.lengths).sum())
        assert code_bits <= 8 * len(stream.data) < code_bits + 8 * stream.blocks


def test_canonical_code_by_hand():
    # counts 5, 2, 1, 1 -> lengths 1, 2, 3, 3 -> canonical codes 0, 10, 110, 111
    code = build_code(np.array([5, 2, 1, 1]))
    assert code.lengths.tolist() == [1, 2, 3, 3]
    assert code.codes.tolist() == [0b0, 0b10, 0b110, 0b111]
    # symbols 0 1 2 3 0 -> bits 0 10 110 111 0 = 0101 1011 10(000000) -> 0x5B 0x80
    assert encode(np.array([0, 1, 2, 3, 0]), code).data == bytes([0x5B, 0x80])


def test_extreme_skew_is_length_limited():
    counts = np.array([int(1.6**i) + 1 for i in range(40)])  # Fibonacci-like: unrestricted lengths > 24
    code = build_code(counts)
    assert code.max_bits <= 24
    x = np.repeat(np.arange(40), np.minimum(counts, 50))
    assert np.array_equal(decode(encode(x, code), code), x)
