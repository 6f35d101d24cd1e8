"""Binary / ternary weights: exactly two (three) values per filter with the XNOR-Net / TWN scales,
straight-through training, and the 1- or 2-bit encodings the simulator reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models.lenet import LeNet5, LeNet300100
from simulator.compress.binary import BinaryWeights, binarize_tensor, quantize_weights, ternarize_tensor

MNIST_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not found at {MNIST_DIR}")

shapes = st.sampled_from([(7, 5), (3, 1), (4, 2, 3, 3), (1, 9), (6, 3, 5, 5)])


@settings(max_examples=50, deadline=None)
@given(shapes, st.integers(0, 10_000))
def test_binary_two_values_per_filter_alpha_mean_abs(shape, seed):
    w = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    alpha, q = binarize_tensor(w)
    rows, qrows = w.reshape(shape[0], -1), q.reshape(shape[0], -1)
    assert torch.allclose(alpha, rows.abs().mean(dim=1))
    for i in range(shape[0]):
        assert set(qrows[i].unique().tolist()) <= {alpha[i].item(), -alpha[i].item()}
        # each weight keeps its sign (sign(0) = +1)
        assert torch.equal(qrows[i] > 0, rows[i] >= 0)


@settings(max_examples=50, deadline=None)
@given(shapes, st.integers(0, 10_000))
def test_ternary_three_values_per_filter(shape, seed):
    w = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    alpha, q = ternarize_tensor(w)
    rows, qrows = w.reshape(shape[0], -1), q.reshape(shape[0], -1)
    for i in range(shape[0]):
        delta = 0.7 * rows[i].abs().mean()
        keep = rows[i].abs() > delta
        assert set(qrows[i].unique().tolist()) <= {alpha[i].item(), 0.0, -alpha[i].item()}
        assert torch.equal(qrows[i] != 0, keep)
        if keep.any():
            assert alpha[i].item() == pytest.approx(rows[i].abs()[keep].mean().item(), rel=1e-6)


def test_encodings_and_storage_bits():
    model = LeNet300100()
    model, record = quantize_weights(model, "binary")
    enc = record.encodings["fc1.weight"]
    assert (enc.value_bits, enc.density, enc.codebook_entries, enc.codebook_value_bits) == (1, 1.0, 300, 32)
    assert enc.encoded_bits(784 * 300) == 784 * 300 + 300 * 32
    assert record.encodings["fc1.bias"].is_dense
    model2, record2 = quantize_weights(LeNet300100(), "ternary", layers=["fc2"])
    enc2 = record2.encodings["fc2.weight"]
    nonzero = int((model2.fc2.weight != 0).sum())
    assert enc2.value_bits == 2 and enc2.density == pytest.approx(nonzero / 30000)
    assert enc2.encoded_bits(30000) == 30000 * 2 + 100 * 32  # zeros are stored as 2-bit codes too
    assert record2.encodings["fc1.weight"].is_dense  # not chosen


def test_conv_layers_quantize_per_output_channel():
    model, record = BinaryWeights("binary", layers=["conv1", "conv2"]).apply(LeNet5())
    w = model.conv2.weight.detach().reshape(50, -1)
    assert all(row.abs().unique().numel() == 1 for row in w)
    assert record.encodings["conv2.weight"].codebook_entries == 50
    assert record.encodings["ip1.weight"].is_dense


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="quaternary"):
        quantize_weights(LeNet300100(), "quaternary")
    with pytest.raises(ValueError, match="fc7"):
        quantize_weights(LeNet300100(), "binary", layers=["fc7"])


@needs_mnist
def test_straight_through_training_on_a_few_hundred_images():
    from models.mnist import load_mnist
    from simulator.compress.training import evaluate, train_classifier

    x, y = load_mnist("test", path=MNIST_DIR, verify=False)
    train, held = (x[:600], y[:600]), (x[600:1000], y[600:1000])
    torch.manual_seed(0)
    before, _ = quantize_weights(LeNet300100(), "binary")  # same init (seed below), quantized untrained
    torch.manual_seed(0)
    model = LeNet300100()
    losses = []

    def train_fn(m):
        # the forward pass already sees the quantized latent weights (up to float rounding of the STE)
        latent = m.fc2.parametrizations.weight.original.detach()
        assert torch.allclose(m.fc2.weight.detach(), binarize_tensor(latent)[1], atol=1e-6)
        train_classifier(m, train, epochs=2, lr=3e-3, optimizer="adam", batch_size=32, seed=0, progress=False,
                         callback=lambda _m, s: losses.append(s.loss))

    model, record = quantize_weights(model, "binary", train=train_fn)
    assert not any(hasattr(mod, "parametrizations") for mod in model.modules())  # plain layers again
    for name in ("fc1", "fc2", "fc3"):
        w = getattr(model, name).weight.detach()
        for row in w:
            values = row.unique()
            assert values.numel() <= 2 and torch.allclose(values.abs(), values.abs()[0].expand_as(values))
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    assert evaluate(model, held).error_rate < evaluate(before, held).error_rate - 0.3

    from simulator.api import simulate

    report = simulate(model, "horowitz45", example_inputs=held[0][:1], record=record)
    assert report.weight_stored_bits < report.weight_dense_bits / 20


def test_binary_weights_turn_multiplies_into_adds():
    """Sign-arithmetic rule: a binary-weight MAC is one add; the per-filter alpha one multiply per output.

    One Linear 8 -> 4 at batch 1 on horowitz45: 32 MACs.
    dense:  32 x (float32 mult 3.7 + float32 add 0.9) = 147.2 pJ, plus the bias add 4 x 0.9 = 3.6 pJ
    binary: 32 x float32 add 0.9 + 4 outputs x float32 mult 3.7 = 28.8 + 14.8 = 43.6 pJ, plus 3.6 pJ.
    """
    from simulator.api import simulate

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 4)).eval()
    x = torch.rand(1, 8)
    dense = simulate(model, "horowitz45", example_inputs=x)
    binary_model, record = quantize_weights(model, "binary")
    binary = simulate(binary_model, "horowitz45", example_inputs=x, record=record)

    def compute(report):
        return sum(v for (_, comp, _), v in report.energy_pj.items() if comp == "compute")

    assert compute(dense) == pytest.approx(32 * (3.7 + 0.9) + 4 * 0.9)
    assert compute(binary) == pytest.approx(32 * 0.9 + 4 * 3.7 + 4 * 0.9)
