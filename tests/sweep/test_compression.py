"""Analytic compression: the record applied to a traced workload equals tracing with the record."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simulator.sweep.compression import analytic_record, apply_record, compressible_weights, expected_fillers
from simulator.sweep.spec_types import CompressionParams
from simulator.trace import trace
from tests.sweep.tiny_models import two_linear


def test_apply_record_equals_tracing_with_the_record():
    model, x = two_linear(), torch.rand(1, 64)
    workload = trace(model, x)
    record = analytic_record(workload, CompressionParams(density=0.1, weight_bits=5, index_bits=3, weight_sharing=True))
    assert apply_record(workload, record) == trace(model, x, record=record)


def test_only_conv_and_linear_weights_are_compressed():
    workload = trace(two_linear(), torch.rand(1, 64))
    assert set(compressible_weights(workload)) == {"0.weight", "2.weight"}
    record = analytic_record(workload, CompressionParams(density=0.5, weight_bits=4, index_bits=4, weight_sharing=True))
    enc = record.encodings["0.weight"]
    assert (enc.density, enc.value_bits, enc.index_bits, enc.codebook_entries) == (0.5, 4, 4, 16)
    # 64 * 32 = 2048 weights at density 0.5 -> 1024 kept * (4 + 4) bits + 16 * 32 codebook bits
    # (fillers: q = 0.5 ** 16, 1024 * q / (1 - q) = 0.016 -> 0).
    compressed = apply_record(workload, record)
    assert compressed.tensors["0.weight"].stored_bits == 1024 * 8 + 16 * 32
    assert compressed.tensors["0.bias"].stored_bits == 32 * 32  # bias untouched


def test_dense_params_leave_the_workload_alone():
    workload = trace(two_linear(), torch.rand(1, 64))
    assert apply_record(workload, analytic_record(workload, CompressionParams())) is workload


def test_expected_fillers_matches_simulation_of_random_gaps():
    # Random positions at density 0.05 with 3-bit indices (span 8): fillers per kept = q / (1 - q).
    rng = np.random.default_rng(0)
    n, d, bits = 200_000, 0.05, 3
    kept = np.flatnonzero(rng.random(n) < d)
    gaps = np.diff(np.concatenate(([-1], kept))) - 1
    simulated = int((gaps // 2**bits).sum())
    assert expected_fillers(len(kept) / d, d, bits) == pytest.approx(simulated, rel=0.05)


def test_sparse_without_index_bits_is_an_error():
    workload = trace(two_linear(), torch.rand(1, 64))
    with pytest.raises(ValueError, match="index_bits"):
        analytic_record(workload, CompressionParams(density=0.5, weight_bits=8, index_bits=0))
