"""``train_classifier(checkpoint=...)``: a run interrupted after a full epoch and resumed from its
checkpoint ends with exactly the weights of the uninterrupted run (dropout, jitter, momentum and a
per-epoch schedule all exercise the saved state)."""

from __future__ import annotations

import time

import pytest
import torch

from models.mnist_mlps import MlpRecipe, MnistMLP, train_mlp
from simulator.compress.training import MomentumRampSchedule, checkpoint_elapsed, train_classifier

RECIPE = MlpRecipe(epochs=3, schedule=MomentumRampSchedule(0.5, 0.8, 0.5, 0.9, 2), batch_size=16, max_norm=2.0,
                   jitter_px=2, seed=3)


def _data():
    gen = torch.Generator().manual_seed(0)
    return torch.rand(40, 1, 28, 28, generator=gen), torch.randint(0, 10, (40,), generator=gen)


def _net():
    torch.manual_seed(5)
    return MnistMLP((12, 12), input_dropout=0.2, hidden_dropout=0.5)


class _Interrupt(Exception):
    pass


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    data = _data()
    whole = _net()
    train_mlp(whole, data, RECIPE)

    ckpt = tmp_path / "run.ckpt.pt"
    first = _net()

    def stop_in_second_epoch(_model, step):
        if step.step == 4:  # 3 steps per epoch: epoch 1 is saved, epoch 2 is half done
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train_mlp(first, data, RECIPE, checkpoint=ckpt, callback=stop_in_second_epoch)
    assert ckpt.is_file()
    assert torch.load(ckpt, weights_only=True)["epoch"] == 1

    resumed = _net()  # fresh weights: everything comes from the checkpoint
    result = train_mlp(resumed, data, RECIPE, checkpoint=ckpt)
    assert result.steps == 9 and result.epochs == 3
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    # without the checkpoint the interrupted weights differ: the test would notice a resume that restarts
    assert not torch.equal(first.fc1.weight, whole.fc1.weight)


def test_resumed_run_counts_the_earlier_processes_full_epochs(tmp_path):
    """The checkpoint keeps the time of the epochs it holds, and a resumed run's times include them."""
    data, ckpt = _data(), tmp_path / "run.ckpt.pt"

    def slow_first_epoch_then_stop(_model, step):
        if step.step == 1:
            time.sleep(0.3)  # wall time only
            spin_until = time.process_time() + 0.2
            while time.process_time() < spin_until:  # CPU time too
                pass
        if step.step == 4:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train_mlp(_net(), data, RECIPE, checkpoint=ckpt, callback=slow_first_epoch_then_stop)
    seconds, cpu_seconds = checkpoint_elapsed(ckpt)
    assert seconds >= 0.5 and cpu_seconds >= 0.2
    result = train_mlp(_net(), data, RECIPE, checkpoint=ckpt)
    assert result.seconds > seconds and result.cpu_seconds > cpu_seconds
    assert train_mlp(_net(), data, RECIPE).seconds < seconds  # a run without the slow epoch is faster


def test_checkpoint_of_another_model_is_a_clear_error(tmp_path):
    data = _data()
    ckpt = tmp_path / "run.ckpt.pt"
    train_classifier(MnistMLP((12, 12)), data, epochs=1, batch_size=20, checkpoint=ckpt)
    with pytest.raises(ValueError, match="does not fit"):
        train_classifier(MnistMLP((8, 8)), data, epochs=2, batch_size=20, checkpoint=ckpt)
