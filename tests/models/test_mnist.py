"""The MNIST loader reads the real IDX files, verifies them, and fails clearly when it cannot."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch

from models.mnist import DataError, find_mnist, load_mnist
from simulator.compress.training import evaluate, train_classifier

# CI clones the repository with shared/ beside it: <root>/../shared/data/mnist.
MNIST_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not found at {MNIST_DIR}")


@needs_mnist
def test_test_split_shapes_and_label_counts():
    x, y = load_mnist("test", path=MNIST_DIR)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (10000,) and y.dtype == torch.int64
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    # Label counts of the test set (shared/reference.md section 6).
    assert torch.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@needs_mnist
def test_pjsim_data_env_is_used(monkeypatch):
    monkeypatch.setenv("PJSIM_DATA", str(MNIST_DIR))
    images, labels = find_mnist("test", download=False)
    assert images.name.startswith("t10k-images") and labels.parent == images.parent


@needs_mnist
def test_raw_files_load_and_corrupt_file_is_refused(tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(gzip.decompress((MNIST_DIR / f"{name}.gz").read_bytes()))
    x, _y = load_mnist("test", path=tmp_path)
    assert x.shape[0] == 10000
    raw = bytearray((tmp_path / "t10k-labels-idx1-ubyte").read_bytes())
    raw[100] ^= 1  # one flipped label
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "t10k-images-idx3-ubyte").write_bytes((tmp_path / "t10k-images-idx3-ubyte").read_bytes())
    (bad / "t10k-labels-idx1-ubyte").write_bytes(bytes(raw))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.*MD5"):
        load_mnist("test", path=bad)


def test_missing_everywhere_offline_names_places(tmp_path, monkeypatch):
    monkeypatch.setenv("PJSIM_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="nothing.*cache"):
        find_mnist("test", download=False)
    with pytest.raises(DataError, match="not found in"):
        load_mnist("test", path=tmp_path)
    with pytest.raises(DataError, match="unknown MNIST split"):
        find_mnist("validation")


@needs_mnist
def test_training_on_a_few_hundred_images_learns():
    torch.set_num_threads(1)
    from models import load_model

    x, y = load_mnist("test", path=MNIST_DIR)
    train, held = (x[:1000], y[:1000]), (x[1000:2000], y[1000:2000])
    model = load_model("lenet_300_100")
    before = evaluate(model, held).errors
    seen = []
    result = train_classifier(model, train, epochs=5, lr=0.05, batch_size=50, seed=1, progress=False,
                              callback=lambda m, s: seen.append(s.step))
    after = evaluate(model, held)
    assert result.steps == 100 and seen == list(range(1, 101))
    assert after.errors < before / 3 and after.error_rate < 0.2
