"""The optional accuracy step: a shipped checkpoint compressed by the point, tested on real MNIST."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.sweep import SweepSpecError, parse_spec, plan_sweep, report_inputs, run

# CI clones the repository with shared/ beside it: <root>/../shared/data/mnist.
MNIST_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not found at {MNIST_DIR}")


def _spec(**accuracy) -> dict:
    return {
        "sweep": {"name": "acc", "model": "lenet_300_100", "profile": "horowitz45"},
        "compression": {"index_bits": 5, "weight_sharing": True},
        "accuracy": {"dataset": "mnist", "data_path": str(MNIST_DIR), "test_images": 2000, **accuracy},
        "axis": [
            {"key": "profile.memory.sram.capacity", "values": [0.1, 1.0]},
            {"key": "compression.density", "values": [1.0, 0.05]},
            {"key": "compression.weight_bits", "values": [6]},
        ],
    }


@needs_mnist
def test_accuracy_column_and_three_objective_front():
    """Accuracy is joined per compression (same for both SRAM sizes) and drives a 3-objective front."""
    df = run(parse_spec(_spec()), backend="inprocess")
    assert len(df) == 4 and df["accuracy"].notna().all()
    by_density = df.groupby("compression.density")["accuracy"]
    assert (by_density.nunique() == 1).all()  # accuracy does not depend on the SRAM size
    dense, sparse = by_density.first()[1.0], by_density.first()[0.05]
    # The dense 6-bit-shared checkpoint keeps LeNet-300-100's ~98 % (1.43 % error dense, float32);
    # keeping 5 % of the weights without retraining loses a lot.
    assert dense > 0.95
    assert sparse < dense - 0.1
    assert set(df["accuracy_source"]) == {"mnist test (2000 images), checkpoint lenet_300_100-dense, no retraining"}
    inputs = report_inputs(df)
    assert "pareto_energy_storage_accuracy" in inputs["df"]
    # The dense point is the most accurate, so it is on the energy/storage/accuracy front.
    flagged = inputs["df"]
    assert flagged.loc[flagged["compression.density"] == 1.0, "pareto_energy_storage_accuracy"].any()


def test_unknown_checkpoint_is_refused_before_work():
    with pytest.raises(SweepSpecError, match="accuracy.checkpoint.*nope-dense"):
        plan_sweep(parse_spec(_spec(checkpoint="nope-dense")))


def test_unknown_dataset_is_refused():
    with pytest.raises(SweepSpecError, match="accuracy.dataset"):
        parse_spec(_spec(dataset="imagenet"))
