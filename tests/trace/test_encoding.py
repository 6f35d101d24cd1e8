"""Weight encodings: from a CompressionRecord, or detected from values (zeros, codebooks, prune masks, dtypes)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils import prune

from simulator.frozen import FrozenMap
from simulator.trace import trace
from simulator.trace.encoding import detect_encoding
from simulator.workload import CompressionRecord, TensorEncoding


def test_dense_float_weights_have_no_encoding():
    """Random float weights: no zeros, > 256 distinct values -> None (dense at float32)."""
    assert detect_encoding(torch.randn(300, 100)) is None


def test_constant_and_all_zero_tensors_are_dense():
    """A fresh norm weight of ones (k = 1) and a zero bias are not reported as shared or pruned."""
    assert detect_encoding(torch.ones(64)) is None
    assert detect_encoding(torch.zeros(64)) is None


def test_codebook_with_pruning():
    """16 shared non-zero values in a 25%-dense tensor -> density 0.25, 4-bit indices, 16 entries."""
    gen = torch.Generator().manual_seed(0)
    centroids = torch.linspace(-1, 1, 17)[torch.arange(17) != 8]  # 16 values, none of them zero
    values = centroids[torch.randint(0, 16, (4096,), generator=gen)]
    values[torch.randperm(4096, generator=gen)[:3072]] = 0.0  # prune 3 of 4
    enc = detect_encoding(values.reshape(64, 64))
    assert enc == TensorEncoding(density=0.25, value_bits=4, codebook_entries=16, codebook_value_bits=32)


def test_codebook_must_save_storage():
    """10 distinct values in 10 elements: a codebook (10*4 + 10*32 bits) would not beat 10*32 -> dense."""
    assert detect_encoding(torch.arange(1.0, 11.0)) is None


@pytest.mark.filterwarnings("ignore::simulator.trace.encoding.EncodingGuessWarning")
@settings(max_examples=40, deadline=None)
@given(k=st.integers(2, 300), n=st.integers(600, 5000), seed=st.integers(0, 1000))
def test_detected_codebook_matches_distinct_count(k, n, seed):
    """For any k distinct non-zero values in n elements: shared iff k <= 256 (and it saves), bits = ceil(log2 k)."""
    gen = torch.Generator().manual_seed(seed)
    table = torch.randn(k, generator=gen).abs() + 0.1
    idx = torch.cat([torch.arange(k), torch.randint(0, k, (max(n - k, 0),), generator=gen)])
    t = table[idx[torch.randperm(idx.numel(), generator=gen)]]
    k_real = int(torch.unique(t).numel())
    enc = detect_encoding(t)
    b = math.ceil(math.log2(k_real))
    saves = t.numel() * 32 > t.numel() * b + 2**b * 32  # the codebook stores all 2^b entries
    if k_real <= 256 and saves:
        assert enc is not None and enc.codebook_entries == 2**b and enc.value_bits == b
    else:
        assert enc is None


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
def test_integer_and_quantized_dtypes_report_their_bits():
    """int8 weights with 200 distinct values: dense at 8 bits; a qint8 tensor is read through int_repr."""
    t = torch.randint(-100, 100, (64, 64), dtype=torch.int8)
    t[t == 0] = 1
    enc = detect_encoding(t)
    # 199 distinct values: 8-bit indices save nothing against 8-bit values -> dense int8 (None)
    assert enc is None
    q = torch.quantize_per_tensor(torch.tensor([0.0, 0.5, 1.0, 0.5] * 256), 0.5, 0, torch.qint8)
    enc = detect_encoding(q)
    # values 0, 1, 2 as integers: density 3/4 (a quarter are zero), stored at 8 bits: an integer tensor
    # is never read as weight-shared (issue 14), only a record can say so
    assert enc == TensorEncoding(density=0.75, value_bits=8)


def test_dense_integer_weights_stay_dense_and_a_sharing_guess_is_reported():
    """Issue 14: an int16 weight with <= 256 distinct values is an int16 weight, not a shared one; the
    float sharing heuristic, when it fires, warns with the weight's name (during tracing too)."""
    import warnings

    from simulator.trace.encoding import EncodingGuessWarning

    ints = torch.randint(1, 100, (64, 64), dtype=torch.int16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert detect_encoding(ints) is None
    shared = torch.tensor([0.25, -0.5, 0.75, 1.0]).repeat(1024)
    with pytest.warns(EncodingGuessWarning, match="weight 'w': 4 distinct non-zero values.*2-bit indices"):
        assert detect_encoding(shared, "w").codebook_entries == 4
    model = nn.Sequential(nn.Linear(64, 64, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(shared.reshape(64, 64))
    with pytest.warns(EncodingGuessWarning, match="weight '0.weight'"):
        trace(model, torch.randn(1, 64))


class IntWeightLinear(nn.Module):
    """A linear layer that stores int8 weights and a scale, dequantizing on the fly."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("qweight", torch.randint(-127, 127, (8, 16), dtype=torch.int8))
        self.scale = 0.01

    def forward(self, x):
        return x @ (self.qweight.float() * self.scale).t()


def test_int8_buffer_is_a_weight_read_at_8_bits():
    """The int8 buffer is recognised as a weight with dtype int8 and read as 8*16*8 = 1,024 bits."""
    w = trace(IntWeightLinear(), torch.rand(2, 16))
    info = w.tensors["qweight"]
    assert info.kind == "weight" and info.dtype.name == "int8" and info.dense_bits == 8 * 16 * 8
    first = w.ops[0]
    assert first.aten == "aten._to_copy.default"
    assert [(a.tensor, a.bits) for a in first.reads] == [("qweight", 1_024)]
    assert w.total_macs == 2 * 8 * 16


def _pruned_mlp() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    prune.l1_unstructured(model[0], "weight", amount=0.75)  # keeps 50 of 200
    return model.eval()


def test_prune_reparametrisation_is_the_weight_with_mask_density():
    """weight_orig * weight_mask (a forward pre-hook) becomes the weight '0.weight' at density 0.25."""
    model = _pruned_mlp()
    w = trace(model, torch.rand(3, 10))
    names = {t.name for t in w.weights}
    assert names == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert w.tensors["0.weight"].encoding.density == 50 / 200
    assert w.tensors["2.weight"].encoding is None
    # no op for the mask multiply; the linear reads the effective weight as 'weights'
    assert [op.aten for op in w.ops] == ["aten.addmm.default", "aten.relu.default", "aten.addmm.default"]
    assert {a.tensor: a.role for a in w.ops[0].reads}["0.weight"] == "weights"
    assert w.parameter_count == 200 + 20 + 100 + 5


def test_compression_record_overrides_detection():
    """An encoding in the record is used as given, by parameter name."""
    model = _pruned_mlp()
    given_enc = TensorEncoding(density=0.25, value_bits=5, index_bits=4, codebook_entries=32)
    record = CompressionRecord(FrozenMap({"0.weight": given_enc}), ("test",))
    w = trace(model, torch.rand(3, 10), record=record)
    assert w.tensors["0.weight"].encoding is given_enc
    assert w.weight_stored_bits < w.weight_dense_bits


def test_detection_agrees_with_a_shipped_deep_compression_record():
    """The shipped Deep-Compression LeNet-300-100: detected density and index bits equal the record's.

    Both count all 2^b codebook entries (a centroid no weight uses is invisible in the values, but
    the codebook still holds it), so the detected codebook equals the record's.
    """
    pretrained = pytest.importorskip("models.pretrained")
    model, record, _ = pretrained.load_checkpoint("lenet_300_100-deep-compression")
    w = trace(model.eval(), torch.rand(1, 1, 28, 28))
    for name, given_enc in record.encodings.items():
        detected = w.tensors[name].encoding
        assert detected.density == pytest.approx(given_enc.density, abs=1e-12), name
        assert detected.value_bits == given_enc.value_bits, name
        assert detected.codebook_entries == given_enc.codebook_entries == 2**given_enc.value_bits, name
