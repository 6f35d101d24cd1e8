"""Weight encodings detected from the tensor itself, for weights a ``CompressionRecord`` does not name.

What can be read off the values (vectorised, never a Python loop over weights):

- density: the fraction of non-zero values (a pruned tensor keeps its zeros in dense storage);
- weight sharing (a heuristic, floating-point tensors only): the number k of distinct (non-zero)
  values; when 2 <= k <= 256 and a codebook would save storage (n*b > n*ceil(log2 k) +
  2^ceil(log2 k)*b), each value is a ceil(log2 k)-bit index into a codebook of b-bit values that, like
  every codebook, holds all 2^ceil(log2 k) entries (``TensorEncoding.codebook_bits`` says why) (Deep
  Compression's weight sharing). The guess never passes silently: it is reported with an
  ``EncodingGuessWarning`` naming the tensor and what was inferred; a ``CompressionRecord`` that names
  the tensor replaces the guess (the tracer asks only for weights no record names);
- integer and quantized dtypes: their bit width (a ``qint8`` tensor is detected from ``int_repr``) and
  density, never a codebook: an int8 or int16 weight with few distinct values is an integer weight, and
  only a record can say it is shared (issue 14: no silent guess).

NB: a constant tensor (k = 1, e.g. a freshly initialised norm weight of ones) and an all-zero tensor
(a fresh bias) are reported dense: calling them "shared" or "pruned" would misdescribe untrained
models. Tensors on the meta device carry no values, so nothing is detected (None = dense at dtype).
"""

from __future__ import annotations

import math
import warnings

import torch

from simulator.trace.op_rules import data_type_of
from simulator.workload import TensorEncoding

__all__ = ["MAX_CODEBOOK_ENTRIES", "EncodingGuessWarning", "detect_encoding"]


class EncodingGuessWarning(UserWarning):
    """A weight's storage format was inferred from its values (weight sharing), not read from a record."""

#: Above this many distinct values a tensor is not treated as weight-shared (8-bit indices at most).
MAX_CODEBOOK_ENTRIES = 256

# Distinct values are first counted on an evenly strided sample of this many elements: a sample with
# more than MAX_CODEBOOK_ENTRIES distinct values proves the tensor has too, without sorting it all.
_SAMPLE = 8192


def _distinct_up_to(values: torch.Tensor, limit: int) -> int:
    """Number of distinct entries of the 1-d ``values``, or ``limit + 1`` if there are more than ``limit``."""
    n = values.numel()
    if n == 0:
        return 0
    if n > _SAMPLE:
        sample = values[:: n // _SAMPLE]
        if torch.unique(sample).numel() > limit:
            return limit + 1
    return min(int(torch.unique(values).numel()), limit + 1)


def detect_encoding(t: torch.Tensor, name: str = "<tensor>") -> TensorEncoding | None:
    """The encoding a tensor's values show, or None when it is dense at its dtype.

    Args:
        t: a weight tensor (any device except meta gives an answer; quantized tensors are read
            through their integer representation).
        name: the tensor's name, for the ``EncodingGuessWarning`` issued when sharing is inferred.

    Returns:
        A ``TensorEncoding`` with the detected density, value bits and codebook, or None when the
        tensor is dense, unshared and stored at its dtype's width.
    """
    if t.is_meta or t.numel() == 0:
        return None
    values = t.int_repr() if t.is_quantized else t
    if values.is_complex():
        return None
    flat = values.detach().reshape(-1)
    bits = data_type_of(t.dtype).bits
    n = flat.numel()
    kept = int(torch.count_nonzero(flat))
    if kept == 0:
        return None
    density = kept / n
    if t.is_quantized or not (t.is_floating_point()):
        # Integer weights are stored at their width; a codebook is never inferred for them.
        return None if density == 1.0 else TensorEncoding(density=density, value_bits=bits)
    # Count distinct values over the whole tensor first (a zero adds at most one), so that the
    # masked copy of the non-zeros is made only for tensors that can be shared.
    k = _distinct_up_to(flat, MAX_CODEBOOK_ENTRIES + 1)
    if kept < n and k <= MAX_CODEBOOK_ENTRIES + 1:
        k = _distinct_up_to(flat[flat != 0], MAX_CODEBOOK_ENTRIES)
    if 2 <= k <= MAX_CODEBOOK_ENTRIES:
        index_bits = math.ceil(math.log2(k))
        entries = 1 << index_bits  # a codebook holds all 2^b entries (TensorEncoding.codebook_bits)
        if kept * bits > kept * index_bits + entries * bits:
            warnings.warn(
                f"weight '{name}': {k} distinct non-zero values among {kept} read as weight sharing "
                f"({index_bits}-bit indices into a {entries}-entry codebook of {bits}-bit values), inferred "
                "from the values; a CompressionRecord naming this weight states its encoding instead",
                EncodingGuessWarning,
                stacklevel=2,
            )
            return TensorEncoding(density=density, value_bits=index_bits, codebook_entries=entries,
                                  codebook_value_bits=bits)
    if density == 1.0:
        return None
    return TensorEncoding(density=density, value_bits=bits)
