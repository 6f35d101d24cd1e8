"""Magnitude pruning: fractions and the std rule, masks hold during retraining, a tiny MNIST run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models import load_model
from simulator.compress import MagnitudePrune, iterative_prune
from simulator.compress.base import CompressError

MNIST_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"


def test_keep_fraction_and_quality_rule():
    model, rec = MagnitudePrune(keep={"fc1": 0.08, "fc3": 0.26}).apply(load_model("lenet_300_100"))
    assert int((model.fc1.weight != 0).sum()) == round(0.08 * 784 * 300)  # 18,816 kept
    assert rec.encodings["fc3.weight"].density == pytest.approx(0.26, abs=1e-3)
    assert "fc2.weight" not in rec.encodings and bool((model.fc2.weight != 0).all())
    dense = load_model("lenet_300_100")
    w = dense.fc2.weight.detach()
    m2, _ = MagnitudePrune(quality=1.0).apply(dense)
    assert not bool((m2.fc2.weight.view(torch.int32) == torch.tensor(0.0).neg().view(torch.int32)).any())  # no -0.0
    assert torch.equal(m2.fc2.weight != 0, w.abs() >= w.std())
    with pytest.raises(CompressError, match="'fc7'"):
        MagnitudePrune(keep={"fc7": 0.1}).apply(load_model("lenet_300_100"))


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="MNIST not available")
def test_iterative_pruning_with_retraining_keeps_zeros_and_learns():
    from models.mnist import load_mnist
    from simulator.compress.training import evaluate, train_classifier

    torch.set_num_threads(1)
    x, y = load_mnist("test", path=MNIST_DIR)
    train, held = (x[:600], y[:600]), (x[600:1600], y[600:1600])
    model = load_model("lenet_300_100")
    train_classifier(model, train, epochs=4, lr=0.05, batch_size=50, progress=False)
    masks_seen = []

    def retrain(m):
        masks_seen.append(m.fc1.weight.detach() == 0)  # inside: parametrized weight, zeros held
        train_classifier(m, train, epochs=2, lr=0.05, batch_size=50, weight_decay=1e-3, progress=False)
        assert bool((m.fc1.weight.detach()[masks_seen[-1]] == 0).all())

    pruned, rec = iterative_prune(model, {"fc1": 0.1, "fc2": 0.2}, rounds=2, train=retrain, index_bits=5)
    assert len(masks_seen) == 2
    assert rec.encodings["fc1.weight"].density == pytest.approx(0.1, abs=1e-3)
    assert not hasattr(pruned.fc1, "parametrizations")
    assert evaluate(pruned, held).error_rate < 0.3
