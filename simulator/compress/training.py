"""A ready classification training loop and evaluation, vectorised over tensors already in memory.

``train_classifier`` runs mini-batch SGD (with momentum) or Adam over ``(inputs, labels, *extra)``
tensors: batches are index slices of one seeded permutation per epoch, so a run is deterministic for
a given ``seed`` and thread count. Compression transforms use it for retraining (pruning keeps its
masks through ``torch.nn.utils.parametrize``, so any optimizer works); other methods plug in their
own ``loss_fn`` (distillation passes soft targets as an extra tensor) or ``augment`` (input jitter,
``random_shift``), and a ``callback`` can apply weight constraints after each step (``apply_max_norm``).

This is the library's one training loop (``models/`` and ``benchmarks/`` call it; it imports nothing
from ``models``).

``evaluate`` returns the number of test errors and the error rate, the figures the papers report.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

__all__ = ["OPTIMIZERS", "EvalResult", "MomentumRampSchedule", "TrainResult", "TrainStep", "apply_max_norm", "evaluate",
           "checkpoint_elapsed", "random_shift", "train_classifier"]


@dataclass(frozen=True, slots=True)
class TrainStep:
    """Passed to the callback after every optimizer step: 1-based ``step``, 0-based ``epoch``, batch ``loss``."""

    step: int
    epoch: int
    loss: float


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a training run did: steps taken, epochs started, mean loss of the last epoch, stopped early?

    ``seconds`` / ``cpu_seconds``: wall-clock and process CPU time of the whole run, including the full
    epochs of earlier processes when it resumed from a checkpoint (``checkpoint_elapsed``).
    """

    steps: int
    epochs: int
    last_epoch_loss: float
    stopped_early: bool
    seconds: float = 0.0
    cpu_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class EvalResult:
    """Classification result on a data set: ``errors`` of ``count`` samples, the mean cross-entropy ``loss``."""

    errors: int
    count: int
    loss: float

    @property
    def error_rate(self) -> float:
        """Fraction misclassified, in [0, 1]."""
        return self.errors / self.count if self.count else 0.0

    @property
    def error_percent(self) -> float:
        return 100.0 * self.error_rate


@dataclass(frozen=True, slots=True)
class MomentumRampSchedule:
    """Per-epoch learning rate and momentum of the dropout papers' SGD.

    Hinton, Srivastava, Krizhevsky, Sutskever & Salakhutdinov 2012 ("Improving neural networks by
    preventing co-adaptation of feature detectors", arXiv:1207.0580, Appendix A) train their MNIST
    dropout nets with momentum rising linearly from 0.5 to 0.99 over the first epochs, then held,
    and a learning rate that decays exponentially per epoch; the update is
    ``dw_t = p_t dw_(t-1) - (1 - p_t) lr_t grad``, so the ``(1 - p_t)`` factor keeps the step size
    near ``lr_t`` while momentum grows. Srivastava et al. 2014 (JMLR 15, "Dropout", Appendix A/B.1)
    use the same recipe with a max-norm constraint, which is what makes such large rates stable.

    At 0-based epoch ``e``:

        p_e  = momentum_start + (momentum_end - momentum_start) * min(e / ramp_epochs, 1)
        lr_e = lr0 * lr_decay**e * (1 - p_e)      (the torch SGD learning rate)

    NB: torch's SGD keeps ``v = p v + g`` and steps ``lr v``; with ``lr`` fixed within an epoch this is
    the papers' update with ``lr = (1 - p) lr_t``. Between epochs the stored velocity is rescaled by
    the new rate, a small departure at the epoch boundaries only.
    """

    lr0: float
    lr_decay: float = 1.0
    momentum_start: float = 0.5
    momentum_end: float = 0.99
    ramp_epochs: int = 1

    def __post_init__(self) -> None:
        if self.lr0 <= 0 or not 0 < self.lr_decay <= 1:
            raise ValueError(f"MomentumRampSchedule needs lr0 > 0 and 0 < lr_decay <= 1, got {self.lr0}, "
                             f"{self.lr_decay}")
        if not (0 <= self.momentum_start < 1 and 0 <= self.momentum_end < 1) or self.ramp_epochs < 1:
            raise ValueError(f"MomentumRampSchedule needs momenta in [0, 1) and ramp_epochs >= 1, got "
                             f"{self.momentum_start}, {self.momentum_end}, {self.ramp_epochs}")

    def __call__(self, epoch: int) -> tuple[float, float]:
        """``(lr, momentum)`` for 0-based ``epoch``."""
        ramp = min(epoch / self.ramp_epochs, 1.0)
        momentum = self.momentum_start + (self.momentum_end - self.momentum_start) * ramp
        return self.lr0 * self.lr_decay ** epoch * (1.0 - momentum), momentum


def _sgd(params, lr: float, weight_decay: float, momentum: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def _adam(params, lr: float, weight_decay: float, momentum: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


#: Optimizer name -> factory(params, lr, weight_decay, momentum).
OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {"sgd": _sgd, "adam": _adam}


def _default_loss(output: torch.Tensor, labels: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(output, labels)


def _progress(enabled: bool | None, total: int, description: str):
    """A rich progress bar (or a do-nothing stand-in); ``None`` = only on an interactive terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]:.4f}"),
        TimeRemainingColumn(), transient=True,
    )
    bar.start()
    bar.add_task(description, total=total, loss=float("nan"))
    return bar


def train_classifier(
    model: nn.Module,
    train_data: Sequence[torch.Tensor],
    epochs: float = 1,
    lr: float = 0.01,
    batch_size: int = 64,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    seed: int = 0,
    loss_fn: Callable[..., torch.Tensor] | None = None,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    lr_decay: float = 1.0,
    max_steps: int | None = None,
    callback: Callable[[nn.Module, TrainStep], bool | None] | None = None,
    params: Sequence[nn.Parameter] | None = None,
    progress: bool | None = None,
    description: str = "train",
    schedule: Callable[[int], tuple[float, float]] | None = None,
    checkpoint: str | Path | None = None,
) -> TrainResult:
    """Train ``model`` in place on in-memory tensors.

    Args:
        model: the network; put in train mode during the run and left in eval mode.
        train_data: ``(inputs, labels, *extra)`` tensors with the same first dimension; ``extra``
            tensors are sliced alongside and passed to ``loss_fn``.
        epochs: passes over the data; a fraction runs that share of the last epoch's batches.
        lr: learning rate; multiplied by ``lr_decay`` after every full epoch.
        batch_size: samples per step.
        optimizer: a key of ``OPTIMIZERS`` (``"sgd"`` with ``momentum``, or ``"adam"``).
        momentum: SGD momentum (ignored by Adam).
        weight_decay: L2 penalty passed to the optimizer.
        seed: seeds the shuffling permutation and torch's global RNG (dropout), so runs repeat.
        loss_fn: ``loss_fn(output, labels, *extra) -> scalar``; cross-entropy by default.
        augment: ``augment(inputs, generator) -> inputs`` applied to each batch (e.g. jitter).
        lr_decay: per-epoch multiplicative decay of the learning rate.
        max_steps: stop after this many optimizer steps (None = no limit).
        callback: called after every step with ``(model, TrainStep)``; returning True stops training.
        params: parameters to optimise (default: every parameter with ``requires_grad``).
        progress: show a rich progress bar (None = only when stderr is a terminal).
        description: the progress bar's label.
        schedule: ``schedule(epoch) -> (lr, momentum)`` set at the start of every epoch (0-based),
            e.g. a ``MomentumRampSchedule``; replaces ``lr``, ``lr_decay`` and ``momentum``.
        checkpoint: a file written (atomically) after every full epoch with everything the run
            needs to continue: weights, optimizer state (momentum buffers, rates), the shuffling
            generator's and torch's global RNG states (dropout), epoch and step. If the file exists
            at the start, training resumes from it, so an interrupted run ends with the same weights
            as an uninterrupted one (same thread count). The caller deletes it when done.

    Returns:
        A ``TrainResult``.

    Raises:
        ValueError: unknown optimizer, mismatched tensor lengths or non-positive sizes.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {sorted(OPTIMIZERS)}")
    if batch_size <= 0 or epochs <= 0:
        raise ValueError(f"batch_size and epochs must be positive, got {batch_size} and {epochs}")
    tensors = tuple(train_data)
    if len(tensors) < 2:
        raise ValueError("train_data must be (inputs, labels, *extra)")
    n = tensors[0].shape[0]
    if any(t.shape[0] != n for t in tensors):
        raise ValueError(f"train_data tensors differ in length: {[t.shape[0] for t in tensors]}")
    loss_fn = loss_fn or _default_loss
    trainable = list(params) if params is not None else [p for p in model.parameters() if p.requires_grad]
    opt = OPTIMIZERS[optimizer](trainable, lr, weight_decay, momentum)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    batches_per_epoch = math.ceil(n / batch_size)
    total_steps = math.ceil(epochs * batches_per_epoch)
    if max_steps is not None:
        total_steps = min(total_steps, max_steps)
    bar = _progress(progress, total_steps, description)
    step, epoch, stopped = 0, 0, False
    epoch_loss_sum, epoch_batches, last_epoch_loss = 0.0, 0, float("nan")
    wall_start, cpu_start, prior = time.perf_counter(), time.process_time(), (0.0, 0.0)

    def elapsed() -> tuple[float, float]:
        return prior[0] + time.perf_counter() - wall_start, prior[1] + time.process_time() - cpu_start

    if checkpoint is not None and Path(checkpoint).is_file():
        step, epoch, last_epoch_loss, prior = _resume(Path(checkpoint), model, opt, gen)
        if bar is not None:
            bar.update(bar.task_ids[0], advance=step)
    model.train()
    try:
        while step < total_steps and not stopped:
            order = torch.randperm(n, generator=gen)
            epoch_loss_sum, epoch_batches = 0.0, 0
            if schedule is not None:
                epoch_lr, epoch_momentum = schedule(epoch)
                for group in opt.param_groups:
                    group["lr"] = epoch_lr
                    if "momentum" in group:
                        group["momentum"] = epoch_momentum
            for start in range(0, n, batch_size):
                if step >= total_steps:
                    break
                idx = order[start:start + batch_size]
                inputs, labels, *extra = (t[idx] for t in tensors)
                if augment is not None:
                    inputs = augment(inputs, gen)
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(inputs), labels, *extra)
                loss.backward()
                opt.step()
                step += 1
                value = float(loss.detach())
                epoch_loss_sum += value
                epoch_batches += 1
                if bar is not None:
                    bar.update(bar.task_ids[0], advance=1, loss=value)
                if callback is not None and callback(model, TrainStep(step, epoch, value)):
                    stopped = True
                    break
            last_epoch_loss = epoch_loss_sum / max(epoch_batches, 1)
            epoch += 1
            for group in opt.param_groups:
                group["lr"] *= lr_decay
            if checkpoint is not None and not stopped and epoch_batches == batches_per_epoch:
                _save_checkpoint(Path(checkpoint), model, opt, gen, step, epoch, last_epoch_loss, elapsed())
    finally:
        if bar is not None:
            bar.stop()
        model.eval()
    seconds, cpu_seconds = elapsed()
    return TrainResult(steps=step, epochs=epoch, last_epoch_loss=last_epoch_loss, stopped_early=stopped,
                       seconds=seconds, cpu_seconds=cpu_seconds)


def checkpoint_elapsed(path: str | Path) -> tuple[float, float]:
    """``(wall seconds, CPU seconds)`` of the training a ``train_classifier`` checkpoint holds: every full
    epoch up to it, over all the processes that ran them ((0, 0) for checkpoints written before it was kept)."""
    return _elapsed(torch.load(path, weights_only=True))


def _elapsed(state: dict) -> tuple[float, float]:
    return float(state.get("seconds", 0.0)), float(state.get("cpu_seconds", 0.0))


def _save_checkpoint(path: Path, model: nn.Module, opt: torch.optim.Optimizer, gen: torch.Generator, step: int,
                     epoch: int, last_epoch_loss: float, elapsed: tuple[float, float]) -> None:
    """Write the state ``train_classifier`` needs to continue after ``epoch`` full epochs (atomic rename),
    with the training time spent so far (``checkpoint_elapsed``)."""
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
             "torch_rng": torch.get_rng_state(), "step": step, "epoch": epoch, "last_epoch_loss": last_epoch_loss,
             "seconds": elapsed[0], "cpu_seconds": elapsed[1]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def _resume(path: Path, model: nn.Module, opt: torch.optim.Optimizer, gen: torch.Generator
            ) -> tuple[int, int, float, tuple[float, float]]:
    """Load a ``_save_checkpoint`` file into the run's objects; returns ``(step, epoch, last_epoch_loss,
    (wall seconds, CPU seconds) spent so far)``."""
    try:
        state = torch.load(path, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
    except (KeyError, RuntimeError, ValueError) as err:
        raise ValueError(f"training checkpoint {path} does not fit this model/optimizer: {err}") from err
    gen.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    return int(state["step"]), int(state["epoch"]), float(state["last_epoch_loss"]), _elapsed(state)


@torch.no_grad()
def evaluate(model: nn.Module, data: Sequence[torch.Tensor], batch_size: int = 2000) -> EvalResult:
    """Count misclassified samples of ``data = (inputs, labels)`` (argmax of the output vs the label).

    The model is put in eval mode and left there.
    """
    inputs, labels = data[0], data[1]
    model.eval()
    errors, loss_sum = 0, 0.0
    for start in range(0, inputs.shape[0], batch_size):
        out = model(inputs[start:start + batch_size])
        y = labels[start:start + batch_size]
        errors += int((out.argmax(dim=1) != y).sum())
        loss_sum += float(nn.functional.cross_entropy(out, y, reduction="sum"))
    count = int(inputs.shape[0])
    return EvalResult(errors=errors, count=count, loss=loss_sum / max(count, 1))


@torch.no_grad()
def apply_max_norm(model: nn.Module, max_norm: float) -> None:
    """Rescale every Linear layer's incoming weight vectors (rows) to L2 norm <= ``max_norm``.

    The "weight constraints" of Hinton et al. 2015 / Srivastava et al. 2014; called after each step.
    """
    for module in model.modules():
        if isinstance(module, nn.Linear):
            w = module.weight
            norms = w.norm(dim=1, keepdim=True).clamp_min(1e-12)
            w.mul_(torch.clamp(max_norm / norms, max=1.0))


def random_shift(images: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Jitter each image by an independent random shift of up to ``max_shift`` pixels in x and y.

    Hinton et al. 2015 train the MNIST teacher "with the input images jittered by up to two pixels
    in any direction". Vacated pixels are zero (MNIST background). Vectorised: one gather per batch.

    Args:
        images: ``[B, C, H, W]`` batch.
        generator: the RNG (``train_classifier`` passes its seeded generator).
        max_shift: largest shift in pixels.
    """
    b, c, h, w = images.shape
    m = int(max_shift)
    padded = nn.functional.pad(images, (m, m, m, m))
    dy = torch.randint(0, 2 * m + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * m + 1, (b,), generator=generator)
    rows = (torch.arange(h)[None, :] + dy[:, None])[:, None, :, None].expand(b, c, h, w)
    cols = (torch.arange(w)[None, :] + dx[:, None])[:, None, None, :].expand(b, c, h, w)
    flat = padded.reshape(b, c, -1)
    index = (rows * (w + 2 * m) + cols).reshape(b, c, -1)
    return torch.gather(flat, 2, index).reshape(b, c, h, w)
