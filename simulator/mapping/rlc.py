"""Run-length coding (RLC) of feature maps to and from DRAM, as the Eyeriss chip does it.

Chen, Krishna, Emer, Sze, "Eyeriss: an energy-efficient reconfigurable accelerator for deep convolutional
neural networks", JSSC 2017, Sec. IV-B ("Compression"): ifmaps read from and ofmaps written to DRAM are
run-length coded; each (run, level) pair is a 5-bit count of zeros followed by a 16-bit value, three pairs
are packed into one 64-bit word (the remaining bit marks the last word). A run longer than 31 zeros
continues with a pair whose value is itself a zero.

Two forms of the same rule: ``rlc_words_of`` counts the 64-bit words of a real tensor (exact, numpy), and
``rlc_words_expected`` the expected count for ``n`` values with a fraction ``density`` of non-zeros placed
independently (what the mapper has: the tracer records the density, not the positions).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RLC_PAIRS_PER_WORD", "RLC_RUN_BITS", "RLC_WORD_BITS", "rlc_bits_expected", "rlc_words_expected",
           "rlc_words_of"]

#: Bits of a run (zeros before the value): 5 (JSSC 2017, Sec. IV-B).
RLC_RUN_BITS = 5
#: (run, level) pairs per 64-bit DRAM word: 3 x (5 + 16) = 63 bits (JSSC 2017, Sec. IV-B).
RLC_PAIRS_PER_WORD = 3
#: Bits of one coded DRAM word (JSSC 2017: 64-bit off-chip data bus).
RLC_WORD_BITS = 64
_MAX_RUN = (1 << RLC_RUN_BITS) - 1


def _pairs_of(values: np.ndarray) -> int:
    """(run, level) pairs coding ``values`` in order: one per non-zero, plus one per 32 zeros in a run
    (a run of ``z`` zeros needs ``z // 32`` zero-valued pairs before the next value, and trailing zeros
    are closed by the pairs they need)."""
    flat = np.asarray(values).reshape(-1)
    nz = np.flatnonzero(flat)
    gaps = np.diff(np.concatenate(([-1], nz, [flat.size]))) - 1  # zeros before each non-zero, then trailing
    fillers = int((gaps[:-1] // (_MAX_RUN + 1)).sum())
    trailing = int(gaps[-1])
    tail = -(-trailing // (_MAX_RUN + 1)) if trailing else 0  # trailing zeros closed by zero-valued pairs
    return int(nz.size) + fillers + tail


def rlc_words_of(values: np.ndarray) -> int:
    """64-bit words of a real tensor's run-length code (the whole tensor as one stream)."""
    return -(-_pairs_of(values) // RLC_PAIRS_PER_WORD)


def rlc_words_expected(n: float, density: float) -> float:
    """Expected 64-bit words for ``n`` values, a fraction ``density`` non-zero, zeros placed independently.

    Before each non-zero the run of zeros is geometric: P(run >= 32 k) = z^(32 k) with z = 1 - density, so
    the expected filler pairs per non-zero are z^32 / (1 - z^32). An all-zero stream needs n / 32 pairs.
    """
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"RLC: activation density must be in [0, 1], got {density}")
    z = 1.0 - density
    if density == 0.0:
        pairs = n / (_MAX_RUN + 1)
    else:
        zr = z ** (_MAX_RUN + 1)
        pairs = n * density * (1.0 + zr / (1.0 - zr))
    return pairs / RLC_PAIRS_PER_WORD


def rlc_bits_expected(n: float, density: float) -> float:
    """Expected bits moved for ``n`` run-length-coded values (``rlc_words_expected`` x 64)."""
    return rlc_words_expected(n, density) * RLC_WORD_BITS
