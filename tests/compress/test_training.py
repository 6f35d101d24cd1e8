"""The library's training loop (``simulator.compress.training``): the dropout papers' momentum-ramp
schedule by hand, the loop applying it per epoch, the max-norm constraint and input jitter."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from simulator.compress.training import MomentumRampSchedule, apply_max_norm, random_shift, train_classifier


def test_momentum_ramp_schedule_by_hand():
    """lr0 = 2, decay 0.5, momentum 0.5 -> 0.9 over 4 epochs:
    e=0: p = 0.5, lr = 2 * 1 * 0.5 = 1.0;  e=2: p = 0.5 + 0.4 * 2/4 = 0.7, lr = 2 * 0.25 * 0.3 = 0.15;
    e=6: p = 0.9 (held), lr = 2 * 0.5**6 * 0.1 = 0.003125."""
    sched = MomentumRampSchedule(lr0=2.0, lr_decay=0.5, momentum_start=0.5, momentum_end=0.9, ramp_epochs=4)
    assert sched(0) == pytest.approx((1.0, 0.5))
    assert sched(2) == pytest.approx((0.15, 0.7))
    assert sched(6) == pytest.approx((0.003125, 0.9))


@pytest.mark.parametrize("kwargs", [{"lr0": 0.0}, {"lr0": 1.0, "lr_decay": 1.5}, {"lr0": 1.0, "momentum_end": 1.0},
                                    {"lr0": 1.0, "ramp_epochs": 0}])
def test_bad_schedules_are_refused(kwargs):
    with pytest.raises(ValueError, match="MomentumRampSchedule"):
        MomentumRampSchedule(**kwargs)


def _toy():
    gen = torch.Generator().manual_seed(0)
    return torch.randn(40, 6, generator=gen), torch.randint(0, 3, (40,), generator=gen)


def test_loop_sets_lr_and_momentum_at_every_epoch():
    asked, seen = [], []
    model = nn.Linear(6, 3)
    x, y = _toy()

    def schedule(epoch):
        asked.append(epoch)
        return (0.0, 0.3) if epoch == 1 else (0.1, 0.6)

    opt_lrs = []
    original = torch.optim.SGD.step

    def spy(self, *a, **k):
        opt_lrs.append((self.param_groups[0]["lr"], self.param_groups[0]["momentum"]))
        return original(self, *a, **k)

    torch.optim.SGD.step = spy
    try:
        before = model.weight.detach().clone()
        train_classifier(model, (x, y), epochs=3, batch_size=20, lr=5.0, momentum=0.0, schedule=schedule,
                         callback=lambda m, s: seen.append(m.weight.detach().clone()), progress=False)
    finally:
        torch.optim.SGD.step = original
    assert asked == [0, 1, 2]
    assert opt_lrs == [(0.1, 0.6)] * 2 + [(0.0, 0.3)] * 2 + [(0.1, 0.6)] * 2
    assert not torch.equal(before, seen[1])
    # epoch 1 has lr 0: no step moves the weights (momentum buffers are scaled by lr 0 too)
    assert torch.equal(seen[1], seen[2]) and torch.equal(seen[2], seen[3])


def test_max_norm_bounds_every_incoming_weight_vector():
    layer = nn.Linear(5, 4)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, 4, 0, 0, 0], [0.3, 0.4, 0, 0, 0], [10, 0, 0, 0, 0], [0, 0, 0, 0, 1]]))
    apply_max_norm(nn.Sequential(layer), 2.0)
    # rows of norm 5 and 10 are scaled to 2; rows of norm 0.5 and 1 are left alone
    assert layer.weight.norm(dim=1).tolist() == pytest.approx([2.0, 0.5, 2.0, 1.0])
    assert layer.weight[0].tolist() == pytest.approx([1.2, 1.6, 0, 0, 0])


def test_random_shift_moves_each_image_by_at_most_max_shift():
    images = torch.zeros(64, 1, 9, 9)
    images[:, 0, 4, 4] = 1.0  # one lit pixel in the centre
    out = random_shift(images, torch.Generator().manual_seed(0), max_shift=2)
    assert torch.equal(out.sum(dim=(1, 2, 3)), torch.ones(64))  # nothing falls off a 9x9 image
    pos = out[:, 0].flatten(1).argmax(dim=1)
    rows, cols = pos // 9, pos % 9
    assert set(rows.tolist()) <= {2, 3, 4, 5, 6} and set(cols.tolist()) <= {2, 3, 4, 5, 6}
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10  # independent shifts per image
