"""Knowledge distillation: the loss is the formula, the teacher is frozen and run once per batch, and a
few hundred MNIST images of distillation move the student towards the teacher."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from models.mnist_mlps import MnistMLP
from simulator.compress.training import random_shift
from simulator.compress.distill import Distill, DistillConfig, distill, distillation_loss

MNIST_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not found at {MNIST_DIR}")


def _by_hand(s: torch.Tensor, t: torch.Tensor, y: torch.Tensor, temp: float, alpha: float) -> float:
    """alpha T^2 KL(p_t || p_s) + (1 - alpha) CE, written out element by element in float64."""
    s, t = s.double().tolist(), t.double().tolist()
    soft_total, hard_total = 0.0, 0.0
    for row_s, row_t, label in zip(s, t, y.tolist()):
        zs = [v / temp for v in row_s]
        zt = [v / temp for v in row_t]
        log_norm_s = math.log(sum(math.exp(v) for v in zs))
        log_norm_t = math.log(sum(math.exp(v) for v in zt))
        p_t = [math.exp(v - log_norm_t) for v in zt]
        soft_total += sum(p * ((a - log_norm_t) - (b - log_norm_s)) for p, a, b in zip(p_t, zt, zs))
        hard_total += -(row_s[label] - math.log(sum(math.exp(v) for v in row_s)))
    n = len(s)
    return alpha * temp * temp * soft_total / n + (1 - alpha) * hard_total / n


# A 3-class example worked by hand (Hinton et al. 2015, section 2): student logits s = (0, 0, 0), so
# p_s = (1/3, 1/3, 1/3) at every T; teacher logits t = (2 ln 2, 0, 0); hard label 0; alpha = 0.9.
#   T = 1: p_t = softmax(2 ln 2, 0, 0) = (4, 1, 1) / 6 = (2/3, 1/6, 1/6)
#          KL(p_t || p_s) = sum p_t ln(3 p_t) = 2/3 ln 2 + 2 (1/6) ln(1/2) = (1/3) ln 2
#          L = 0.9 * 1 * (1/3) ln 2 + 0.1 * ln 3 = 0.3 ln 2 + 0.1 ln 3
#   T = 2: p_t = softmax(ln 2, 0, 0) = (2, 1, 1) / 4 = (1/2, 1/4, 1/4)
#          KL = 1/2 ln(3/2) + 2 (1/4) ln(3/4) = (1/2) ln(9/8)
#          L = 0.9 * 4 * (1/2) ln(9/8) + 0.1 * ln 3 = 1.8 ln(9/8) + 0.1 ln 3
# Gradients w.r.t. s: d/ds [T^2 KL(p_t || softmax(s/T))] = T^2 (1/T)(p_s - p_t) = T (p_s - p_t)
#   T = 1: 1 * (1/3 - 2/3, 1/3 - 1/6, 1/3 - 1/6) = (-1/3, 1/6, 1/6)
#   T = 2: 2 * (1/3 - 1/2, 1/3 - 1/4, 1/3 - 1/4) = (-1/3, 1/6, 1/6)   (without T^2: a quarter of that)
#   hard term: 0.1 (p_s - onehot(0)) = 0.1 (-2/3, 1/3, 1/3) = (-1/15, 1/30, 1/30)
#   total: 0.9 (-1/3, 1/6, 1/6) + (-1/15, 1/30, 1/30) = (-11/30, 11/60, 11/60) at both temperatures.
HAND_LOSS = {1.0: 0.3 * math.log(2) + 0.1 * math.log(3), 2.0: 1.8 * math.log(9 / 8) + 0.1 * math.log(3)}
HAND_GRAD = (-11 / 30, 11 / 60, 11 / 60)


@pytest.mark.parametrize("temp", [1.0, 2.0])
def test_three_class_loss_and_gradient_by_hand(temp):
    s = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[2 * math.log(2), 0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([0])
    loss = distillation_loss(s, t, y, temp, 0.9)
    assert float(loss.detach()) == pytest.approx(HAND_LOSS[temp], rel=1e-12)
    grad, = torch.autograd.grad(loss, s)
    assert grad[0].tolist() == pytest.approx(HAND_GRAD, rel=1e-12)
    # the soft term alone: T (p_s - p_t) = (-1/3, 1/6, 1/6) at T = 1 and 2; without T^2 it falls as 1/T^2
    soft, = torch.autograd.grad(distillation_loss(s, t, y, temp, 1.0), s)
    assert soft[0].tolist() == pytest.approx((-1 / 3, 1 / 6, 1 / 6), rel=1e-12)
    assert (soft / temp ** 2)[0].tolist() == pytest.approx((-1 / 3 / temp ** 2, 1 / 6 / temp ** 2, 1 / 6 / temp ** 2))
    # a batch is the mean over its rows: the same row twice gives the same loss
    assert float(distillation_loss(s.detach().repeat(2, 1), t.repeat(2, 1), y.repeat(2), temp, 0.9)) == pytest.approx(
        HAND_LOSS[temp], rel=1e-12)


@pytest.mark.parametrize("temp, alpha", [(1.0, 0.5), (20.0, 0.9), (4.0, 1.0), (3.0, 0.0)])
def test_loss_is_the_formula(temp, alpha):
    gen = torch.Generator().manual_seed(1)
    s = torch.randn(7, 10, generator=gen) * 3
    t = torch.randn(7, 10, generator=gen) * 3
    y = torch.randint(0, 10, (7,), generator=gen)
    got = float(distillation_loss(s, t, y, temp, alpha))
    assert got == pytest.approx(_by_hand(s, t, y, temp, alpha), rel=1e-5, abs=1e-6)


def test_soft_targets_change_the_loss_as_the_formula_says():
    # float64: the difference of two losses at T = 20 (x T^2 = 400) cancels most float32 digits
    gen = torch.Generator().manual_seed(2)
    s = torch.randn(5, 10, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 10, (5,), generator=gen)
    t1 = torch.randn(5, 10, generator=gen, dtype=torch.float64)
    t2 = torch.randn(5, 10, generator=gen, dtype=torch.float64)
    temp, alpha = 20.0, 0.9
    d_loss = float(distillation_loss(s, t2, y, temp, alpha) - distillation_loss(s, t1, y, temp, alpha))
    d_hand = _by_hand(s, t2, y, temp, alpha) - _by_hand(s, t1, y, temp, alpha)
    assert d_loss == pytest.approx(d_hand, rel=1e-4, abs=1e-6)
    assert abs(d_loss) > 1e-4  # the teacher really matters
    # identical teacher and student logits: only the hard term is left
    assert float(distillation_loss(s, s.clone(), y, temp, alpha)) == pytest.approx(
        0.1 * float(nn.functional.cross_entropy(s, y)), rel=1e-5)


def test_soft_gradient_scale_is_kept_by_t_squared():
    """The T^2 factor keeps soft-term gradients independent of T at high T (Hinton et al.): T = 10 vs 40."""
    gen = torch.Generator().manual_seed(3)
    t = torch.randn(64, 10, generator=gen)
    y = torch.zeros(64, dtype=torch.long)
    norms, unscaled = [], []
    for temp in (10.0, 40.0):
        s = (torch.randn(64, 10, generator=torch.Generator().manual_seed(4))).requires_grad_()
        loss = distillation_loss(s, t, y, temp, 1.0)
        grad, = torch.autograd.grad(loss, s, retain_graph=True)
        grad_plain, = torch.autograd.grad(loss / temp ** 2, s)
        norms.append(float(grad.norm()))
        unscaled.append(float(grad_plain.norm()))
    # gradient of T^2 KL ~ (s - t) / C for large T: about the same at T = 10 and T = 40;
    # without the T^2 factor it would shrink about 16x
    assert 0.8 < norms[0] / norms[1] < 1.25
    assert 12.0 < unscaled[0] / unscaled[1] < 20.0


@pytest.mark.parametrize("kwargs, match", [({"temperature": 0.0}, "temperature"), ({"alpha": 1.5}, "alpha")])
def test_bad_settings_are_refused(kwargs, match):
    s = torch.zeros(2, 10)
    args = {"temperature": 2.0, "alpha": 0.5, **kwargs}
    with pytest.raises(ValueError, match=match):
        distillation_loss(s, s, torch.zeros(2, dtype=torch.long), **args)
    with pytest.raises(ValueError, match="differ"):
        distillation_loss(s, torch.zeros(2, 5), torch.zeros(2, dtype=torch.long), 2.0, 0.5)


@pytest.mark.parametrize("augmented", [False, True])
def test_teacher_frozen_and_run_under_no_grad(augmented):
    """Without augmentation the teacher labels the transfer set once; with it, once per (augmented) batch."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(100, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (100,), generator=gen)
    teacher = MnistMLP((32, 32), input_dropout=0.2, hidden_dropout=0.5)
    student = MnistMLP((16, 16))
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    calls = []
    teacher.register_forward_hook(lambda m, i, o: calls.append((torch.is_grad_enabled(), m.training)))
    cfg = DistillConfig(temperature=5.0, alpha=0.9, epochs=2, batch_size=25, lr=0.01)
    augment = (lambda b, g: random_shift(b, g, 1)) if augmented else None
    steps = []
    out, record = distill(student, teacher, (x, y), cfg, augment=augment, progress=False,
                          callback=lambda m, step: steps.append(m is student))
    assert out is student
    assert steps == [True] * (2 * 4)  # the callback sees the student after each of 2 epochs x 4 batches
    assert len(calls) == (2 * 4 if augmented else 1)
    assert all(not grad and not training for grad, training in calls)
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    assert all(p.requires_grad for p in teacher.parameters())  # restored afterwards
    assert set(record.encodings) == {n for n, _ in student.named_parameters()}
    assert all(e.is_dense and e.value_bits == 32 for e in record.encodings.values())
    assert "T=5" in record.steps[0]


@needs_mnist
def test_distilling_on_a_few_hundred_mnist_images_moves_student_to_teacher():
    from models.mnist import load_mnist
    from simulator.compress.training import evaluate, train_classifier

    x, y = load_mnist("test", path=MNIST_DIR, verify=False)
    train, held = (x[:600], y[:600]), (x[600:1000], y[600:1000])
    torch.manual_seed(0)
    teacher = MnistMLP((128, 128), hidden_dropout=0.2)
    train_classifier(teacher, train, epochs=3, lr=0.05, batch_size=32, seed=0, progress=False,
                     augment=lambda b, g: random_shift(b, g, 1))
    torch.manual_seed(1)
    student = MnistMLP((64, 64))
    temp = 4.0

    def kl_to_teacher(model):
        with torch.no_grad():
            return float(distillation_loss(model(held[0]), teacher(held[0]), held[1], temp, 1.0))

    before = kl_to_teacher(student)
    student, _ = Distill(teacher, train, DistillConfig(temperature=temp, alpha=0.9, epochs=2, batch_size=32,
                                                            lr=0.05)).apply(student)
    assert kl_to_teacher(student) < 0.5 * before
    with torch.no_grad():
        agreement = float((student(held[0]).argmax(1) == teacher(held[0]).argmax(1)).float().mean())
    assert agreement > 0.7  # the student has learnt the teacher's function on unseen images
    assert evaluate(student, held).error_rate < 0.45  # far better than chance (0.9) after 2 epochs


def test_distilled_student_goes_through_simulate():
    from simulator.api import simulate

    student = MnistMLP((40, 30))
    teacher = MnistMLP((50, 50))
    x = torch.rand(20, 1, 28, 28)
    student, record = distill(student, teacher, (x, torch.zeros(20, dtype=torch.long)), DistillConfig(epochs=1, batch_size=10))
    report = simulate(student, "horowitz45", example_inputs=x[:1], record=record)
    assert report.total_macs == 784 * 40 + 40 * 30 + 30 * 10
    assert report.total_energy_pj > 0
