"""The shipped checkpoints load, and their recorded test errors are what they measure on MNIST."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.pretrained import available_checkpoints, load_checkpoint
from simulator.errors import ModelError

MNIST_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"


def test_shipped_checkpoints_are_listed_and_unknown_names_fail():
    names = set(available_checkpoints())
    assert {"lenet_300_100-dense", "lenet_300_100-deep-compression", "lenet5-dense", "lenet5-deep-compression"} <= names
    with pytest.raises(ModelError, match="no checkpoint 'lenet7-dense'"):
        load_checkpoint("lenet7-dense")


@pytest.mark.parametrize("name", ["lenet_300_100", "lenet5"])
def test_compressed_checkpoint_matches_its_metadata(name):
    model, record, meta = load_checkpoint(f"{name}-deep-compression")
    assert meta["model"] == name and "training" in load_checkpoint(name)[2]
    for param, enc in record.encodings.items():
        weight = model.state_dict()[param]
        assert enc.density == pytest.approx(float((weight != 0).double().mean()), abs=1e-9)
        assert len(torch.unique(weight[weight != 0])) <= 2**enc.value_bits
    if MNIST_DIR.is_dir():
        from models.mnist import load_mnist
        from simulator.compress.training import evaluate

        assert evaluate(model, load_mnist("test", path=MNIST_DIR)).errors == meta["test_errors"]


def test_shipped_distillation_teacher_measures_its_recorded_errors():
    """The distillation teacher ships with its recipe's cache key and measures the test errors it records."""
    model, record, meta = load_checkpoint("mlp_1200_1200_dropout")
    assert meta["stage"] == "dense" and meta["cache_key"].startswith("distill2-teacher-") and not record.encodings
    assert sum(p.numel() for p in model.parameters()) == 784 * 1200 + 1200 * 1200 + 1200 * 10 + 1200 + 1200 + 10
    if MNIST_DIR.is_dir():
        from models.mnist import load_mnist
        from simulator.compress.training import evaluate

        assert evaluate(model, load_mnist("test", path=MNIST_DIR)).errors == meta["test_errors"]
