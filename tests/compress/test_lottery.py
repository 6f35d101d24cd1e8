"""Lottery tickets: per-layer magnitude pruning rates, rewinding to theta_0 on the surviving mask,
masks held through training, the random-reinit control, early stopping and the sparse encoding."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from models.lenet import LeNet300100
from simulator.compress.lottery import (
    LotteryConfig,
    LotteryTicket,
    full_masks,
    glorot_normal_init,
    layer_rates,
    lottery_ticket,
    prune_by_magnitude,
    random_reinit,
    rewind,
    sparse_encoding,
    train_masked,
    weights_remaining,
)

MNIST_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not found at {MNIST_DIR}")


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 40)
        self.fc2 = nn.Linear(40, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


@pytest.fixture(scope="module")
def mnist_small():
    if MNIST_DIR.is_dir():
        from models.mnist import load_mnist

        x, y = load_mnist("test", path=MNIST_DIR, verify=False)
    else:  # synthetic stand-in so the mechanics are still tested without the data
        gen = torch.Generator().manual_seed(0)
        x, y = torch.rand(1000, 1, 28, 28, generator=gen), torch.randint(0, 10, (1000,), generator=gen)
    return (x[:400], y[:400]), (x[400:600], y[400:600]), (x[600:800], y[600:800])


def test_paper_rates_and_closed_form_density():
    model = LeNet300100()
    rates = layer_rates(model, 0.2, 0.1)
    assert rates == {"fc1.weight": 0.2, "fc2.weight": 0.2, "fc3.weight": 0.1}
    counts = {n: p.numel() for n, p in model.named_parameters() if n in rates}
    # shared/reference.md section 4: 51.3% (k=3), 21.1% (k=7), 13.5% (k=9), 3.6% (k=15)
    for k, expected in ((3, 51.3), (7, 21.1), (9, 13.5), (15, 3.6)):
        assert 100 * weights_remaining(counts, rates, k) == pytest.approx(expected, abs=0.05)


def test_prune_removes_smallest_surviving_weights_per_layer():
    model = LeNet300100()
    glorot_normal_init(model, torch.Generator().manual_seed(0))
    rates = layer_rates(model)
    masks = full_masks(model)
    biases = {n: p.clone() for n, p in model.named_parameters() if n.endswith("bias")}
    for _ in range(3):
        new = prune_by_magnitude(model, masks, rates)
        for name, mask in new.items():
            alive_before = int(masks[name].sum())
            removed = alive_before - int(mask.sum())
            assert removed == round(rates[name] * alive_before)
            assert not (mask & ~masks[name]).any()  # nothing comes back
            w = dict(model.named_parameters())[name].detach().abs()
            gone = masks[name] & ~mask
            assert w[gone].max() <= w[mask].min()  # the removed ones are the smallest survivors
        masks = new
    assert all(torch.equal(p, biases[n]) for n, p in model.named_parameters() if n.endswith("bias"))


def test_rewound_weights_equal_initial_values_on_surviving_mask(mnist_small):
    train, val, test = mnist_small
    model = Tiny()
    glorot_normal_init(model, torch.Generator().manual_seed(0))
    theta0 = copy.deepcopy(model.state_dict())
    masks = full_masks(model)
    cfg = LotteryConfig(iterations=40, batch_size=20, eval_every=10)
    train_masked(model, masks, train, val, test, cfg, seed=1)
    trained = copy.deepcopy(model.state_dict())
    assert not torch.equal(trained["fc1.weight"], theta0["fc1.weight"])
    masks = prune_by_magnitude(model, masks, layer_rates(model))
    rewind(model, masks, theta0)
    for name, p in model.named_parameters():
        if name in masks:
            m = masks[name]
            assert torch.equal(p.detach()[m], theta0[name][m])
            assert (p.detach()[~m] == 0).all()
        else:
            assert torch.equal(p.detach(), theta0[name])
    # and the mask was chosen on the *trained* magnitudes
    w = trained["fc1.weight"].abs()
    assert w[~masks["fc1.weight"]].max() <= w[masks["fc1.weight"]].min()


def test_masks_survive_training_and_early_stop_is_min_val_loss(mnist_small):
    train, val, test = mnist_small
    model = Tiny()
    glorot_normal_init(model, torch.Generator().manual_seed(0))
    masks = prune_by_magnitude(model, full_masks(model), {"fc1.weight": 0.5, "fc2.weight": 0.3})
    cfg = LotteryConfig(iterations=60, batch_size=20, eval_every=20)
    outcome, _ = train_masked(model, masks, train, val, test, cfg, seed=1)
    params = dict(model.named_parameters())
    for name, m in masks.items():
        assert (params[name].detach()[~m] == 0).all()
    assert outcome.early_stop_iteration % 20 == 0
    assert 0 <= outcome.early_stop_iteration <= 60
    assert outcome.density == pytest.approx((0.5 * 31360 + 0.7 * 400) / 31760, abs=1e-3)
    from simulator.compress.training import evaluate

    assert evaluate(model, val).loss >= outcome.min_val_loss - 1e-6  # final >= minimum


def test_snapshot_for_late_rewinding_is_the_state_at_iteration_k(mnist_small):
    train, val, test = mnist_small
    cfg = LotteryConfig(iterations=30, batch_size=20, eval_every=10)
    a, b = Tiny(), Tiny()
    glorot_normal_init(a, torch.Generator().manual_seed(0))
    b.load_state_dict(a.state_dict())
    _, snap = train_masked(a, full_masks(a), train, val, test, cfg, seed=3, snapshot_at=10)
    train_masked(b, full_masks(b), train, val, test, LotteryConfig(iterations=10, batch_size=20, eval_every=10), seed=3)
    assert all(torch.allclose(snap[k], v) for k, v in b.state_dict().items())


def test_random_reinit_control_keeps_mask_but_not_values():
    model = Tiny()
    glorot_normal_init(model, torch.Generator().manual_seed(0))
    masks = prune_by_magnitude(model, full_masks(model), layer_rates(model))
    theta = copy.deepcopy(model.state_dict())
    random_reinit(model, masks, seed=99)
    w = model.fc1.weight.detach()
    m = masks["fc1.weight"]
    assert (w[~m] == 0).all()
    assert not torch.allclose(w[m], theta["fc1.weight"][m])
    # same distribution: Glorot normal std sqrt(2 / (fan_in + fan_out))
    assert float(w[m].std()) == pytest.approx((2 / (784 + 40)) ** 0.5, rel=0.05)


@needs_mnist
def test_lottery_rounds_end_to_end_on_a_few_hundred_images(mnist_small):
    train, val, test = mnist_small
    cfg = LotteryConfig(iterations=40, batch_size=20, eval_every=20, seed=0)
    seen = []
    model, record, results = lottery_ticket(Tiny(), train, val, test, rounds=2, config=cfg, control={2},
                                            on_round=seen.append)
    assert [r.round for r in results] == [0, 1, 2] and seen == results
    assert results[0].control is None and results[1].control is None and results[2].control is not None
    assert results[2].control.density == results[2].ticket.density
    assert results[2].layer_density["fc1.weight"] == pytest.approx(0.64, abs=1e-3)
    assert results[2].layer_density["fc2.weight"] == pytest.approx(0.81, abs=1e-3)
    assert results[2].ticket.test_accuracy > 30  # learnt something in 40 iterations
    enc = record.encodings["fc1.weight"]
    assert enc.density == pytest.approx(float((model.fc1.weight != 0).float().mean()), abs=1e-4)
    assert record.encodings["fc1.bias"].is_dense

    from simulator.api import simulate

    report = simulate(model, "horowitz45", example_inputs=test[0][:1], record=record)
    assert report.weight_stored_bits < report.weight_dense_bits


def test_transform_does_not_touch_callers_model(mnist_small):
    train, val, test = mnist_small
    model = Tiny()
    before = copy.deepcopy(model.state_dict())
    t = LotteryTicket(train, val, test, rounds=1, config=LotteryConfig(iterations=20, batch_size=20, eval_every=10))
    ticket, record = t.apply(model)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert ticket is not model and len(t.results) == 2 and record.steps[-1].startswith("lottery_ticket")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=300), st.integers(min_value=1, max_value=5))
def test_sparse_encoding_fillers_match_a_brute_force_encoder(bits, index_bits):
    mask = torch.tensor(bits)
    if not mask.any():
        with pytest.raises(ValueError):
            sparse_encoding(mask, 32, index_bits)
        return
    # brute force: walk the whole tensor (trailing zeros included: the filler rule also bounds the
    # tail) and emit a filler whenever a run of zeros reaches 2^b positions (the filler occupies the 2^b-th)
    fillers, run = 0, 0
    for keep in bits:
        run = 0 if keep else run + 1
        if run == 2 ** index_bits:
            fillers, run = fillers + 1, 0
    enc = sparse_encoding(mask, 32, index_bits)
    assert enc.filler_entries == fillers
    assert enc.density == pytest.approx(sum(bits) / len(bits))
