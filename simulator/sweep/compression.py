"""Analytic compression: a ``CompressionRecord`` from (density, bits, index bits, sharing), without training.

A sweep point's compression parameters become one ``TensorEncoding`` per conv/linear weight (every
weight tensor with two or more dimensions; biases and norm parameters stay dense), and the record is
applied to the already traced ``Workload``. The tracer does nothing with a record but copy each
weight's encoding into its ``TensorInfo``, so ``apply_record(trace(m), r)`` equals
``trace(m, record=r)`` (a test checks this) while the model is traced once per (model, batch size).

NB: positions of the kept weights are taken as uniformly random. With ``index_bits = i`` a relative
index spans at most ``2**i - 1`` zeros; a longer gap costs a filler entry every ``2**i`` positions
(Han et al. 2016, Sec. 3). For a geometric gap G with P(G >= g) = (1 - d)**g, the expected fillers
per kept weight are ``sum_k P(G >= k 2**i) = q / (1 - q)`` with ``q = (1 - d)**(2**i)``.
"""

from __future__ import annotations

import dataclasses

from simulator.frozen import FrozenMap
from simulator.sweep.spec_types import CompressionParams
from simulator.workload import CompressionRecord, TensorEncoding, Workload

__all__ = ["analytic_record", "apply_record", "compressible_weights", "expected_fillers"]

#: Bits of one codebook entry (the shared value is kept at float32).
CODEBOOK_VALUE_BITS = 32


def compressible_weights(workload: Workload) -> tuple[str, ...]:
    """Names of the weights the analytic compression applies to: tensors of 2+ dimensions."""
    return tuple(t.name for t in workload.weights if len(t.shape) >= 2)


def expected_fillers(numel: int, density: float, index_bits: int) -> int:
    """Expected filler entries for ``numel`` values at ``density`` with ``index_bits``-bit relative indices."""
    if density >= 1.0 or index_bits <= 0:
        return 0
    q = (1.0 - density) ** (2**index_bits)
    kept = density * numel
    return round(kept * q / (1.0 - q)) if q < 1.0 else 0


def analytic_record(workload: Workload, params: CompressionParams) -> CompressionRecord:
    """The ``CompressionRecord`` that ``params`` describes for ``workload``'s conv/linear weights.

    Raises:
        ValueError: ``density < 1`` with ``index_bits == 0`` (a sparse tensor needs an index).
    """
    if params.is_identity:
        return CompressionRecord()
    if params.density < 1.0 and params.index_bits <= 0:
        raise ValueError(f"compression.density = {params.density} < 1 needs compression.index_bits >= 1")
    encodings = {}
    for name in compressible_weights(workload):
        info = workload.tensors[name]
        encodings[name] = TensorEncoding(
            density=params.density,
            value_bits=params.weight_bits,
            index_bits=params.index_bits if params.density < 1.0 else 0,
            codebook_entries=2**params.weight_bits if params.weight_sharing else 0,
            codebook_value_bits=CODEBOOK_VALUE_BITS,
            filler_entries=expected_fillers(info.numel, params.density, params.index_bits),
        )
    steps = ((f"analytic(density={params.density}, weight_bits={params.weight_bits}, "
             f"index_bits={params.index_bits}, weight_sharing={params.weight_sharing})"),)
    return CompressionRecord(FrozenMap(encodings), steps)


def apply_record(workload: Workload, record: CompressionRecord) -> Workload:
    """``workload`` with each weight named in ``record`` carrying the record's encoding."""
    if not record.encodings:
        return workload
    tensors = dict(workload.tensors)
    for name, encoding in record.encodings.items():
        if name not in tensors:
            raise KeyError(f"compression record names '{name}', which is not a weight of {workload.model_name}")
        tensors[name] = dataclasses.replace(tensors[name], encoding=encoding)
    return dataclasses.replace(workload, tensors=FrozenMap(tensors))
