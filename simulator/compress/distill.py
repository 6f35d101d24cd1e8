"""Knowledge distillation (Hinton, Vinyals & Dean 2015): train a student on a teacher's soft targets.

Loss per batch, with student logits ``s``, teacher logits ``t``, hard labels ``y`` and temperature T:

    L = alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(s, y)

The T^2 factor keeps the soft term's gradients at the same scale as the hard term's when T changes
(soft-target gradients scale as 1/T^2). At high T the T^2-scaled soft term tends to squared error on
the logits, ``sum (z_s - z_t)^2 / (2 C)`` for C zero-mean classes (Hinton et al. 2015, section 2.1),
whose gradient grows with the logit error, whereas cross-entropy's is bounded: a step size tuned for
hard labels can diverge. Measured (issue 19; 10,000 MNIST images, 3 epochs, 784-800-800-10 student,
the dropout papers' SGD with momentum ramp 0.5 -> 0.99 and lr0 = 1.0): T = 1 494 test errors, T = 2
1,008, T = 5/10/20 8,990 (dead network), also with a max-norm bound of 4; lr0 = 0.3: 715 / 492 / 432 /
471 / 676; Adam (1e-3): 467 / 449 / 420 / 430 / 457. So the student recipe's rate is set for the
soft loss, and the student trained alone uses the same one. KL differs from the paper's soft cross-entropy only by the
teacher's entropy, a constant, so gradients are identical. The teacher runs under ``torch.no_grad``
in eval mode (its dropout off): once over the whole transfer set when the inputs are not augmented
(its logits are then fixed, and one pass costs a fraction of an epoch), else once per batch on the
augmented batch. Only the student's parameters are optimised.
Works for any pair of classifiers that map the same inputs to logits over the same classes.

The result is an ordinary dense model: the ``CompressionRecord`` holds a dense float32 encoding
for every student parameter and a step naming the teacher and (T, alpha), so the student goes
through ``simulator.api.simulate`` like any other model; its saving is its smaller size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from simulator.compress.base import Transform, prepare_model, register_transform
from simulator.compress.training import MomentumRampSchedule, train_classifier
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["Distill", "DistillConfig", "dense_record", "distill", "distillation_loss"]


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    temperature: float,
    alpha: float,
) -> torch.Tensor:
    """``alpha * T^2 * KL(p_teacher^T || p_student^T) + (1 - alpha) * CE(student, labels)``, batch mean.

    Args:
        student_logits: ``[B, C]`` logits of the student (with grad).
        teacher_logits: ``[B, C]`` logits of the teacher (no grad needed).
        labels: ``[B]`` int64 hard labels.
        temperature: T > 0 of the soft targets and the student's soft predictions.
        alpha: weight of the soft term in [0, 1]; the hard term gets ``1 - alpha``.
    """
    if temperature <= 0:
        raise ValueError(f"distillation temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation alpha must be in [0, 1], got {alpha}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student logits {tuple(student_logits.shape)} and teacher logits {tuple(teacher_logits.shape)} differ")
    t = float(temperature)
    soft = F.kl_div(F.log_softmax(student_logits / t, dim=1), F.log_softmax(teacher_logits / t, dim=1),
                    reduction="batchmean", log_target=True)
    hard = F.cross_entropy(student_logits, labels)
    return alpha * t * t * soft + (1.0 - alpha) * hard


@dataclass(frozen=True, slots=True)
class DistillConfig:
    """How to distil: temperature, soft-term weight and the SGD schedule (``simulator.compress.training``).

    Defaults: T = 20 (Hinton et al.'s MNIST run) and alpha = 0.9 ("a considerably lower weight on the
    hard term"; the paper gives no number). ``schedule`` (per-epoch learning rate and momentum)
    replaces ``lr``, ``momentum`` and ``lr_decay`` when given, so a student distilled and the same
    student trained alone can share one schedule.
    """

    temperature: float = 20.0
    alpha: float = 0.9
    epochs: float = 1.0
    lr: float = 0.05
    batch_size: int = 128
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 0.0
    lr_decay: float = 1.0
    seed: int = 0
    schedule: MomentumRampSchedule | None = None


class _StudentWithTeacher(nn.Module):
    """Runs the student (with grad) and the frozen teacher (no grad, eval mode) on the same batch."""

    def __init__(self, student: nn.Module, teacher: nn.Module) -> None:
        super().__init__()
        self.student = student
        self.teacher = teacher

    def train(self, mode: bool = True) -> _StudentWithTeacher:
        self.training = mode
        self.student.train(mode)
        self.teacher.eval()  # the teacher's dropout stays off: soft targets are its eval-mode outputs
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            teacher_logits = self.teacher(x)
        return self.student(x), teacher_logits


@torch.no_grad()
def _logits(teacher: nn.Module, inputs: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """The teacher's eval-mode logits for every input, in batches (no grad)."""
    teacher.eval()
    return torch.cat([teacher(inputs[i:i + batch_size]) for i in range(0, inputs.shape[0], batch_size)])


def dense_record(model: nn.Module, step: str, bits: int = 32) -> CompressionRecord:
    """A record giving every parameter of ``model`` a dense ``bits``-bit encoding, plus ``step``."""
    enc = TensorEncoding.dense(bits)
    return CompressionRecord(FrozenMap({name: enc for name, _ in model.named_parameters()}), (step,))


def distill(
    student: nn.Module,
    teacher: nn.Module,
    train_data: Sequence[torch.Tensor],
    config: DistillConfig = DistillConfig(),
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    callback: Callable | None = None,
    progress: bool | None = None,
    checkpoint: str | Path | None = None,
) -> tuple[nn.Module, CompressionRecord]:
    """Train ``student`` in place on ``teacher``'s soft targets plus the hard labels.

    Args:
        student: the network to train (its parameters are the only ones optimised).
        teacher: a trained classifier over the same classes; left unchanged, in eval mode.
        train_data: ``(inputs, labels)`` tensors (the transfer set).
        config: temperature, alpha and the optimisation schedule.
        augment: optional per-batch input transform (applied before both networks see the batch;
            without it the teacher's logits are computed once for the whole transfer set).
        callback: ``callback(student, TrainStep)`` after every optimizer step (see ``train_classifier``).
        progress: show a progress bar (None = only on a terminal).
        checkpoint: per-epoch resume file of the student's training (``train_classifier``).

    Returns:
        ``(student, record)``: the trained student (eval mode) and a dense ``CompressionRecord``.
    """
    teacher_params = [p.requires_grad for p in teacher.parameters()]
    for p in teacher.parameters():
        p.requires_grad_(False)
    temperature, alpha = config.temperature, config.alpha
    if augment is None:
        # Fixed inputs: the teacher's logits are fixed too; one pass, then an extra training tensor.
        inputs, labels = train_data[0], train_data[1]
        teacher_logits = _logits(teacher, inputs)
        model, data = student, (inputs, labels, teacher_logits)

        def loss_fn(s: torch.Tensor, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return distillation_loss(s, t, y, temperature, alpha)
    else:
        model, data = _StudentWithTeacher(student, teacher), train_data

        def loss_fn(outputs: tuple[torch.Tensor, torch.Tensor], y: torch.Tensor) -> torch.Tensor:
            s, t = outputs
            return distillation_loss(s, t, y, temperature, alpha)

    try:
        train_classifier(
            model, data, epochs=config.epochs, lr=config.lr, batch_size=config.batch_size,
            optimizer=config.optimizer, momentum=config.momentum, weight_decay=config.weight_decay,
            seed=config.seed, loss_fn=loss_fn, augment=augment, lr_decay=config.lr_decay,
            callback=None if callback is None else (lambda _module, step: callback(student, step)),
            params=list(student.parameters()), progress=progress, description="distill",
            schedule=config.schedule, checkpoint=checkpoint,
        )
    finally:
        for p, flag in zip(teacher.parameters(), teacher_params):
            p.requires_grad_(flag)
    student.eval()
    teacher.eval()
    step = (f"distill(teacher={type(teacher).__name__}, T={config.temperature:g}, alpha={config.alpha:g}, "
            f"epochs={config.epochs:g})")
    return student, dense_record(student, step)


@register_transform
class Distill(Transform):
    """Transform form of ``distill``: ``apply(student)`` trains the student on ``teacher``'s soft targets."""

    NAME = "distill"
    KIND = "training"

    def __init__(self, teacher: nn.Module, train_data: Sequence[torch.Tensor], config: DistillConfig = DistillConfig(),
                 augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None, inplace: bool = False) -> None:
        self.teacher, self.train_data, self.config, self.augment, self.inplace = teacher, train_data, config, augment, inplace

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        student = prepare_model(model, self.inplace)
        student, new = distill(student, self.teacher, self.train_data, self.config, self.augment, progress=False)
        return student, (record or CompressionRecord()).then(new)
