"""The lottery ticket hypothesis (Frankle & Carbin, ICLR 2019): iterative magnitude pruning with rewinding.

One round: train the (masked) network, remove the smallest-magnitude ``rate`` of each layer's
*surviving* weights (the paper: 20% for hidden layers, 10% for the output layer; biases are never
pruned), then reset the surviving weights to their values at initialisation (theta_0) or, optionally,
at an early iteration k of the first training run (rewinding, Frankle et al. 2019/2020). The control
is the same mask with a fresh random initialisation. Training evaluates the validation loss every
``eval_every`` iterations; the early-stopping iteration is the one of minimum validation loss, and the
test accuracy reported is the one at that iteration.

Masks are applied by zeroing the pruned weights before training and again after every optimizer
step, so the surviving weights see exactly the gradients of the masked network and the pruned ones
stay zero whatever the optimizer's state. Everything is vectorised (one ``topk`` per layer per round).

The winning ticket is an ordinary ``nn.Module`` whose pruned weights are zero; its
``CompressionRecord`` gives each pruned weight a sparse encoding (density, 32-bit values, relative
indices with filler entries counted exactly), so ``simulate`` costs it like any pruned model.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from simulator.compress.base import Transform, register_transform
from simulator.compress.sparse import count_fillers
from simulator.compress.training import evaluate, train_classifier
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = [
    "LotteryConfig",
    "LotteryTicket",
    "RoundResult",
    "TrainOutcome",
    "apply_masks",
    "full_masks",
    "glorot_normal_init",
    "layer_rates",
    "lottery_ticket",
    "prunable_weights",
    "prune_by_magnitude",
    "random_reinit",
    "rewind",
    "sparse_encoding",
    "ticket_record",
    "train_masked",
    "weights_remaining",
]

Masks = dict[str, torch.Tensor]
Data = Sequence[torch.Tensor]


@dataclass(frozen=True, slots=True)
class LotteryConfig:
    """The experiment's knobs; defaults are Frankle & Carbin's LeNet-300-100 setup.

    Attributes:
        iterations: training iterations per round (paper: 50,000).
        batch_size: samples per iteration (paper: 60).
        lr: Adam learning rate (paper: 1.2e-3).
        eval_every: validation interval in iterations (paper: 100).
        hidden_rate: fraction of surviving hidden-layer weights removed per round (paper: 0.2).
        output_rate: fraction of surviving output-layer weights removed per round (paper: 0.1).
        rewind_iteration: 0 = reset to theta_0; k > 0 = reset to the weights at iteration k of the
            first (dense) training run.
        index_bits: relative-index bits used for the sparse encoding in the record.
        seed: seeds initialisation, shuffling and the control's re-initialisation.
    """

    iterations: int = 50_000
    batch_size: int = 60
    lr: float = 1.2e-3
    eval_every: int = 100
    hidden_rate: float = 0.2
    output_rate: float = 0.1
    rewind_iteration: int = 0
    index_bits: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("iterations", "batch_size", "eval_every"):
            if getattr(self, name) <= 0:
                raise ValueError(f"LotteryConfig.{name} must be positive, got {getattr(self, name)}")
        for name in ("hidden_rate", "output_rate"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"LotteryConfig.{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0 <= self.rewind_iteration < self.iterations:
            raise ValueError(f"LotteryConfig.rewind_iteration must be in [0, iterations), got {self.rewind_iteration}")


@dataclass(frozen=True, slots=True)
class TrainOutcome:
    """One training run of a (masked) network.

    Attributes:
        early_stop_iteration: iteration of minimum validation loss.
        min_val_loss: that loss.
        val_accuracy: validation accuracy [%] at that iteration.
        test_accuracy: test accuracy [%] at that iteration (the paper's reported accuracy).
        final_test_accuracy: test accuracy [%] after the last iteration.
        density: fraction of prunable weights remaining.
    """

    early_stop_iteration: int
    min_val_loss: float
    val_accuracy: float
    test_accuracy: float
    final_test_accuracy: float
    density: float


@dataclass(frozen=True, slots=True)
class RoundResult:
    """A pruning round: the ticket's outcome, the random-reinit control's (None at round 0) and per-layer densities."""

    round: int
    density: float
    ticket: TrainOutcome
    control: TrainOutcome | None
    layer_density: FrozenMap[str, float] = field(default_factory=FrozenMap)


def prunable_weights(model: nn.Module) -> list[str]:
    """Names of the weights of every Linear and Conv layer, in module order (biases are never pruned)."""
    names = []
    for mod_name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            names.append(f"{mod_name}.weight" if mod_name else "weight")
    if not names:
        raise ValueError(f"{type(model).__name__} has no Linear or Conv layer to prune")
    return names


def layer_rates(model: nn.Module, hidden_rate: float = 0.2, output_rate: float = 0.1) -> dict[str, float]:
    """Per-layer pruning rates: ``output_rate`` for the last prunable layer, ``hidden_rate`` for the others."""
    names = prunable_weights(model)
    return {name: (output_rate if i == len(names) - 1 else hidden_rate) for i, name in enumerate(names)}


def weights_remaining(counts: Mapping[str, int], rates: Mapping[str, float], rounds: int) -> float:
    """Closed form of the surviving fraction after ``rounds``: sum n_l (1 - r_l)^k / sum n_l (rounding ignored)."""
    total = sum(counts.values())
    return sum(n * (1.0 - rates[name]) ** rounds for name, n in counts.items()) / total


def _params(model: nn.Module) -> dict[str, nn.Parameter]:
    return dict(model.named_parameters())


def full_masks(model: nn.Module) -> Masks:
    """All-ones masks for every prunable weight."""
    params = _params(model)
    return {name: torch.ones_like(params[name], dtype=torch.bool) for name in prunable_weights(model)}


@torch.no_grad()
def apply_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> None:
    """Zero the pruned weights in place."""
    params = _params(model)
    for name, mask in masks.items():
        params[name].mul_(mask)


@torch.no_grad()
def prune_by_magnitude(model: nn.Module, masks: Mapping[str, torch.Tensor], rates: Mapping[str, float]) -> Masks:
    """New masks: per layer, remove the ``rate`` fraction (rounded) of surviving weights smallest in |w|.

    Ties are broken by ``topk``'s order; already-pruned weights are never counted twice.
    """
    params = _params(model)
    new_masks = {}
    for name, mask in masks.items():
        w = params[name]
        alive = int(mask.sum())
        k = round(rates.get(name, 0.0) * alive)
        flat = mask.flatten().clone()
        if k > 0:
            scores = torch.where(flat, w.detach().abs().flatten(), torch.full_like(w.flatten(), math.inf))
            flat[torch.topk(scores, k, largest=False).indices] = False
        new_masks[name] = flat.view_as(mask)
    return new_masks


@torch.no_grad()
def rewind(model: nn.Module, masks: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]) -> None:
    """Reset every parameter to ``state`` (theta_0 or theta_k) and zero the pruned weights."""
    model.load_state_dict(state)
    apply_masks(model, masks)


@torch.no_grad()
def glorot_normal_init(model: nn.Module, generator: torch.Generator) -> None:
    """Gaussian Glorot (Xavier normal) weights and zero biases for every Linear/Conv (Frankle & Carbin)."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            fan_out = module.weight.shape[0] * module.weight[0, 0].numel()
            fan_in = module.weight[0].numel()
            std = math.sqrt(2.0 / (fan_in + fan_out))
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * std)
            if module.bias is not None:
                module.bias.zero_()


def random_reinit(model: nn.Module, masks: Mapping[str, torch.Tensor], seed: int) -> None:
    """The control: a fresh Glorot-normal initialisation (``seed``) under the same masks."""
    glorot_normal_init(model, torch.Generator().manual_seed(seed))
    apply_masks(model, masks)


def _accuracy_and_loss(model: nn.Module, data: Data) -> tuple[float, float]:
    result = evaluate(model, data, batch_size=5000)
    return 100.0 * (1.0 - result.error_rate), result.loss


def _density(masks: Mapping[str, torch.Tensor]) -> float:
    return sum(int(m.sum()) for m in masks.values()) / sum(m.numel() for m in masks.values())


def train_masked(
    model: nn.Module,
    masks: Mapping[str, torch.Tensor],
    train: Data,
    val: Data,
    test: Data,
    config: LotteryConfig,
    seed: int,
    snapshot_at: int | None = None,
) -> tuple[TrainOutcome, dict[str, torch.Tensor] | None]:
    """Train with Adam for ``config.iterations`` keeping ``masks``; early-stopping bookkeeping on ``val``.

    The model ends at its final (last-iteration) weights, which the next round prunes.

    Returns:
        ``(outcome, snapshot)``: the outcome and, if ``snapshot_at`` is given, a copy of the state
        dict after that many iterations (for rewinding to iteration k).
    """
    apply_masks(model, masks)
    params = _params(model)
    masked = [(params[name], mask) for name, mask in masks.items()]
    best = {"loss": math.inf, "iteration": 0, "state": None}
    snapshot: dict[str, torch.Tensor] | None = None

    def check(it: int) -> None:
        acc, loss = _accuracy_and_loss(model, val)
        model.train()
        if loss < best["loss"]:
            best.update(loss=loss, iteration=it, val_acc=acc, state=copy.deepcopy(model.state_dict()))

    def callback(m: nn.Module, step) -> None:
        nonlocal snapshot
        with torch.no_grad():
            for p, mask in masked:
                p.mul_(mask)
        if snapshot_at is not None and step.step == snapshot_at:
            snapshot = copy.deepcopy(m.state_dict())
        if step.step % config.eval_every == 0:
            check(step.step)

    check(0)
    per_epoch = math.ceil(train[0].shape[0] / config.batch_size)
    train_classifier(model, train, epochs=config.iterations / per_epoch + 1, lr=config.lr, batch_size=config.batch_size,
                     optimizer="adam", seed=seed, max_steps=config.iterations, callback=callback, progress=False)
    final_test, _ = _accuracy_and_loss(model, test)
    final_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best["state"])
    test_acc, _ = _accuracy_and_loss(model, test)
    model.load_state_dict(final_state)
    outcome = TrainOutcome(
        early_stop_iteration=best["iteration"], min_val_loss=best["loss"], val_accuracy=best.get("val_acc", float("nan")),
        test_accuracy=test_acc, final_test_accuracy=final_test, density=_density(masks),
    )
    return outcome, snapshot


def sparse_encoding(mask: torch.Tensor, value_bits: int = 32, index_bits: int = 5) -> TensorEncoding:
    """The encoding of a pruned tensor stored as (value, relative index) entries in row-major order.

    Fillers are counted exactly by ``simulator.compress.sparse.count_fillers`` (a run of ``z`` zeros
    costs ``z // 2**index_bits`` filler entries, Deep Compression's rule).
    """
    flat = mask.flatten()
    positions = torch.nonzero(flat).flatten()
    kept = int(positions.numel())
    if kept == 0:
        raise ValueError("a mask that prunes every weight cannot be encoded (density must be > 0)")
    if index_bits == 0:
        return TensorEncoding(density=kept / flat.numel(), value_bits=value_bits)
    fillers = count_fillers(positions.numpy(), index_bits, flat.numel())
    return TensorEncoding(density=kept / flat.numel(), value_bits=value_bits, index_bits=index_bits, filler_entries=fillers)


def ticket_record(model: nn.Module, masks: Mapping[str, torch.Tensor], config: LotteryConfig, rounds: int) -> CompressionRecord:
    """Sparse encodings for the pruned weights, dense float32 for every other parameter."""
    encodings = {name: TensorEncoding.dense(32) for name, _ in model.named_parameters()}
    for name, mask in masks.items():
        encodings[name] = sparse_encoding(mask, 32, config.index_bits)
    step = (f"lottery_ticket(rounds={rounds}, hidden_rate={config.hidden_rate:g}, output_rate={config.output_rate:g}, "
            f"rewind_iteration={config.rewind_iteration}, density={_density(masks):.4f})")
    return CompressionRecord(FrozenMap(encodings), (step,))


def lottery_ticket(
    model: nn.Module,
    train: Data,
    val: Data,
    test: Data,
    rounds: int,
    config: LotteryConfig = LotteryConfig(),
    control: bool | Collection[int] = True,
    rates: Mapping[str, float] | None = None,
    on_round: Callable[[RoundResult], None] | None = None,
    init: bool = True,
) -> tuple[nn.Module, CompressionRecord, list[RoundResult]]:
    """Run ``rounds`` pruning rounds after the dense run (round 0) and return the last winning ticket.

    Args:
        model: the network; Glorot-normal initialised here when ``init`` (else its current weights are theta_0).
        train, val, test: ``(inputs, labels)`` tensors; the paper holds 5,000 training images out as ``val``.
        rounds: pruning rounds (paper: up to ~20; 15 rounds leave 3.6% of LeNet-300-100's weights).
        config: the training and pruning knobs.
        control: also train the random-reinitialisation control: True = at every round >= 1, or the
            collection of rounds at which to train it (False = never).
        rates: per-weight pruning rates (default: ``layer_rates`` with the config's hidden/output rates).
        on_round: called with each ``RoundResult`` as soon as it is known (progress, logging).
        init: initialise the model with ``glorot_normal_init`` seeded by ``config.seed``.

    Returns:
        ``(ticket, record, results)``: the trained winning ticket of the last round (final weights),
        its sparse ``CompressionRecord``, and one ``RoundResult`` per round (0 = dense).
    """
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0, got {rounds}")
    if init:
        glorot_normal_init(model, torch.Generator().manual_seed(config.seed))
    rates = dict(rates) if rates is not None else layer_rates(model, config.hidden_rate, config.output_rate)
    masks = full_masks(model)
    theta0 = copy.deepcopy(model.state_dict())
    results: list[RoundResult] = []
    rewind_state = theta0
    for k in range(rounds + 1):
        if k > 0:
            masks = prune_by_magnitude(model, masks, rates)
            rewind(model, masks, rewind_state)
        snap_at = config.rewind_iteration if (k == 0 and config.rewind_iteration > 0) else None
        ticket, snapshot = train_masked(model, masks, train, val, test, config, seed=config.seed + 1, snapshot_at=snap_at)
        if snapshot is not None:
            rewind_state = snapshot
        control_outcome = None
        if k > 0 and (control is True or (not isinstance(control, bool) and k in control)):
            other = copy.deepcopy(model)
            random_reinit(other, masks, seed=config.seed + 1000 + k)
            control_outcome, _ = train_masked(other, masks, train, val, test, config, seed=config.seed + 1)
        result = RoundResult(k, _density(masks), ticket, control_outcome,
                             FrozenMap({n: float(m.float().mean()) for n, m in masks.items()}))
        results.append(result)
        if on_round is not None:
            on_round(result)
    model.eval()
    return model, ticket_record(model, masks, config, rounds), results


@register_transform
class LotteryTicket(Transform):
    """Transform form of ``lottery_ticket``: ``apply`` returns the last round's winning ticket.

    The round-by-round outcomes of the last ``apply`` are kept in ``self.results``.
    """

    NAME = "lottery_ticket"
    KIND = "unstructured"

    def __init__(self, train: Data, val: Data, test: Data, rounds: int, config: LotteryConfig = LotteryConfig(),
                 control: bool | Collection[int] = False, init: bool = True, inplace: bool = False) -> None:
        self.data = (train, val, test)
        self.rounds, self.config, self.control, self.init, self.inplace = rounds, config, control, init, inplace
        self.results: list[RoundResult] = []

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        from simulator.compress.base import prepare_model

        work = prepare_model(model, self.inplace)
        work, new, self.results = lottery_ticket(work, *self.data, self.rounds, self.config, control=self.control, init=self.init)
        return work, (record or CompressionRecord()).then(new)
