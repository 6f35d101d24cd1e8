"""The distillation MLPs' recipes: the dropout papers' schedule compressed in time, and ``train_mlp``
applying max-norm (a few steps on random data)."""

from __future__ import annotations

import pytest
import torch

from models.mnist_mlps import (PAPER_EPOCHS, STUDENT_RECIPE, TEACHER_RECIPE, MlpRecipe, MnistMLP, compressed_schedule,
                               mlp_1200_1200_dropout, train_mlp)
from simulator.compress.training import MomentumRampSchedule


def test_compressed_schedule_keeps_the_papers_shape():
    """Hinton et al. 2012: 3000 epochs, momentum 0.5 -> 0.99 over 500, lr x 0.998 per epoch.
    Squeezed into 60 epochs: ramp 500/50 = 10 epochs, decay 0.998^50 per epoch, same total decay."""
    sched = compressed_schedule(1.0, 60)
    assert sched.ramp_epochs == 10
    assert sched.lr_decay ** 60 == pytest.approx(0.998 ** PAPER_EPOCHS, rel=1e-9)
    assert sched(0) == pytest.approx((0.5, 0.5))
    assert sched(10)[1] == pytest.approx(0.99)


def test_teacher_and_student_recipes_are_the_papers_regime():
    assert TEACHER_RECIPE.jitter_px == 2 and TEACHER_RECIPE.max_norm is not None and TEACHER_RECIPE.batch_size == 100
    teacher = mlp_1200_1200_dropout()
    assert teacher.drop_in.p == 0.2 and teacher.drop1.p == 0.5 and teacher.drop2.p == 0.5
    assert STUDENT_RECIPE.jitter_px == 0 and STUDENT_RECIPE.max_norm is None


def test_with_epochs_keeps_rate_momenta_and_total_decay():
    """200 -> 3 epochs: the same lr0, momenta and overall decay (1/100), the ramp's share rounded up."""
    assert TEACHER_RECIPE.epochs == 200
    short = TEACHER_RECIPE.with_epochs(3)
    assert short.schedule.lr0 == TEACHER_RECIPE.schedule.lr0 and short.epochs == 3
    assert short.schedule.lr_decay ** 3 == pytest.approx(TEACHER_RECIPE.schedule.lr_decay ** 200, rel=1e-9)
    assert short.schedule.lr_decay ** 3 == pytest.approx(1 / 100, rel=1e-9)
    assert short.schedule.ramp_epochs == 1
    assert (short.max_norm, short.jitter_px, short.seed, short.optimizer) == (4.0, 2, 0, "adam")
    sgd = MlpRecipe(epochs=60, schedule=MomentumRampSchedule(lr0=1.0, lr_decay=(1 / 25) ** (1 / 60), ramp_epochs=10))
    assert sgd.with_epochs(3).schedule.ramp_epochs == 1 and sgd.with_epochs(120).schedule.ramp_epochs == 20
    assert sgd.with_epochs(3).schedule(2)[1] == pytest.approx(0.99)
    student = STUDENT_RECIPE.with_epochs(1)
    assert student.optimizer == "adam" and student.schedule(0) == pytest.approx((2e-3, 0.0))


def test_recipe_keys_leave_the_default_optimizer_out():
    """Cache keys of SGD recipes are what they were before ``optimizer`` existed; Adam is in the key."""
    sgd = MlpRecipe(epochs=60, schedule=MomentumRampSchedule(lr0=1.0))
    assert "optimizer" not in sgd.to_dict()
    assert TEACHER_RECIPE.to_dict()["optimizer"] == STUDENT_RECIPE.to_dict()["optimizer"] == "adam"


def test_train_mlp_runs_the_schedule_and_applies_max_norm():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(200, 1, 28, 28, generator=gen)
    y = (x.flatten(1)[:, :392].sum(1) > x.flatten(1)[:, 392:].sum(1)).long()  # a learnable rule
    recipe = TEACHER_RECIPE.with_epochs(3)
    model = MnistMLP((32, 32), input_dropout=0.2, hidden_dropout=0.5)
    with torch.no_grad():
        model.fc1.weight.mul_(100.0)  # far outside the bound before training
    result = train_mlp(model, (x, y), recipe, progress=False)
    assert result.steps == 3 * 2
    for layer in (model.fc1, model.fc2, model.fc3):
        assert float(layer.weight.detach().norm(dim=1).max()) <= recipe.max_norm * (1 + 1e-5)
