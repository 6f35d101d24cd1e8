"""Low-rank factorization: the factorised layer reproduces the original within the SVD error bounds,
rank selection by energy, conv factorisation, and the tracer seeing two thinner layers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from models.lenet import LeNet300100
from simulator.compress.lowrank import (
    LowRank,
    choose_rank,
    factorize_conv2d,
    factorize_linear,
    low_rank,
    svd_error_bounds,
)

MNIST_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not found at {MNIST_DIR}")


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 40), st.integers(2, 40), st.integers(0, 10_000), st.data())
def test_linear_output_within_svd_bounds(out_f, in_f, seed, data):
    torch.manual_seed(seed)
    layer = nn.Linear(in_f, out_f).double()
    rank = data.draw(st.integers(1, min(in_f, out_f)))
    new, report = factorize_linear(layer, rank=rank)
    s = torch.linalg.svdvals(layer.weight.detach())
    frob, spectral = svd_error_bounds(s, rank)
    x = torch.randn(16, in_f, dtype=torch.float64)
    with torch.no_grad():
        err = new(x) - layer(x)
        w_r = new[1].weight @ new[0].weight
    # weights: ||W - W_r||_F is exactly the norm of the discarded singular values
    assert float((layer.weight.detach() - w_r).norm()) == pytest.approx(frob, rel=1e-6, abs=1e-9)
    # outputs: per sample ||(W - W_r) x|| <= s_{r+1} ||x||, and so for the batch in Frobenius norm
    assert (err.norm(dim=1) <= spectral * x.norm(dim=1) * (1 + 1e-6) + 1e-9).all()
    assert float(err.norm()) <= spectral * float(x.norm()) * (1 + 1e-6) + 1e-9
    assert report.rank == rank and report.weights_after == rank * (in_f + out_f)
    assert report.frobenius_error == pytest.approx(frob) and report.spectral_error == pytest.approx(spectral)


def test_full_rank_is_exact_and_bias_kept():
    layer = nn.Linear(30, 20)
    new, _ = factorize_linear(layer, rank=20)
    x = torch.randn(5, 30)
    assert torch.allclose(new(x), layer(x), atol=1e-5)
    assert new[0].bias is None and torch.equal(new[1].bias, layer.bias)


def test_choose_rank_by_energy():
    s = torch.tensor([3.0, 2.0, 1.0, 0.5])  # squares 9, 4, 1, 0.25 of 14.25
    assert choose_rank(s, 9 / 14.25) == 1
    assert choose_rank(s, 0.64) == 2
    assert choose_rank(s, 13 / 14.25) == 2
    assert choose_rank(s, 0.99) == 4
    assert choose_rank(s, 1.0) == 4
    with pytest.raises(ValueError, match="energy"):
        choose_rank(s, 0.0)
    assert svd_error_bounds(s, 2) == pytest.approx((math.sqrt(1.25), 1.0))
    assert svd_error_bounds(s, 4) == (0.0, 0.0)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1)])
def test_conv_factorisation_within_bound(stride, padding):
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 12, 3, stride=stride, padding=padding).double()
    x = torch.randn(2, 6, 9, 9, dtype=torch.float64)
    full, _ = factorize_conv2d(conv, rank=12)
    with torch.no_grad():
        assert torch.allclose(full(x), conv(x), atol=1e-9)
        new, report = factorize_conv2d(conv, rank=4)
        err = new(x) - conv(x)
    patches = nn.functional.unfold(x, 3, padding=padding, stride=stride)  # [B, C*k*k, L]
    # every output position is W_r applied to one patch: per-position bound with the spectral error
    per_position = err.flatten(2).norm(dim=1)  # [B, L]
    assert (per_position <= report.spectral_error * patches.norm(dim=1) * (1 + 1e-6)).all()
    assert new[0].kernel_size == (3, 3) and new[1].kernel_size == (1, 1) and new[0].out_channels == 4


def test_bad_requests_are_refused():
    model = LeNet300100()
    with pytest.raises(ValueError, match="exactly one"):
        low_rank(model, ranks={"fc1": 3}, energy=0.9)
    with pytest.raises(ValueError, match="fc9"):
        low_rank(model, ranks={"fc9": 3})
    with pytest.raises(ValueError, match=r"rank must be in \[1, 10\]"):
        low_rank(model, ranks={"fc3": 11})
    with pytest.raises(ValueError, match="groups"):
        factorize_conv2d(nn.Conv2d(4, 4, 3, groups=2), rank=2)


def test_tracer_sees_the_factorised_layers_and_simulate_costs_them():
    from simulator.api import simulate, trace_model

    model = LeNet300100()
    x = torch.rand(1, 1, 28, 28)
    factorised, record = LowRank(ranks={"fc1": 20, "fc2": 10}).apply(model)
    assert isinstance(model.fc1, nn.Linear)  # the caller's model is untouched
    workload = trace_model(factorised, x, record)
    macs = {op.module: op.macs for op in workload.ops if op.macs}
    assert macs == {"fc1.0": 784 * 20, "fc1.1": 20 * 300, "fc2.0": 300 * 10, "fc2.1": 10 * 100, "fc3": 1000}
    report = simulate(factorised, "horowitz45", example_inputs=x, record=record)
    dense = simulate(model, "horowitz45", example_inputs=x)
    assert report.total_macs == sum(macs.values()) < dense.total_macs
    assert report.total_energy_pj < dense.total_energy_pj
    assert "fc1: rank 20/300" in record.steps[0]


def test_energy_rule_skips_layers_that_would_not_shrink():
    model = LeNet300100()
    _, _, reports = low_rank(model, energy=0.999999)
    # at (almost) full rank r * (in + out) >= in * out for every layer: nothing replaced
    assert reports == [] and isinstance(model.fc1, nn.Linear)


@needs_mnist
def test_fine_tuning_recovers_after_truncation():
    from models.mnist import load_mnist
    from simulator.compress.training import evaluate, train_classifier

    x, y = load_mnist("test", path=MNIST_DIR, verify=False)
    train = (x[:600], y[:600])
    torch.manual_seed(0)
    model = LeNet300100()
    train_classifier(model, train, epochs=2, lr=0.05, batch_size=32, seed=0, progress=False)
    dense_loss = evaluate(model, train).loss

    def tune(m):
        train_classifier(m, train, epochs=1, lr=0.02, batch_size=32, seed=1, progress=False)

    truncated, _, _ = low_rank(model, ranks={"fc1": 4})
    cut_loss = evaluate(truncated, train).loss
    tuned, _, _ = low_rank(truncated, ranks={"fc2": 50}, fine_tune=tune)
    assert cut_loss > dense_loss  # rank 4 hurts
    assert evaluate(tuned, train).loss < cut_loss  # one epoch of fine-tuning recovers part of it
    assert isinstance(tuned.fc1[0], nn.Linear) and tuned.fc2[0].out_features == 50
