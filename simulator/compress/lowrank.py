"""Low-rank factorization: replace a layer by two thinner ones through a truncated SVD.

A Linear layer ``y = W x + b`` with ``W`` of shape ``[out, in]`` becomes ``y = B (A x) + b`` with
``A = sqrt(S_r) V_r^T`` (``[r, in]``, no bias) and ``B = U_r sqrt(S_r)`` (``[out, r]``, the bias), the
best rank-r approximation of ``W`` (Eckart-Young). MACs and weights drop from ``out * in`` to
``r * (out + in)``. A Conv2d with weight ``[out, in, kh, kw]`` (groups = 1) is factorised the same way
on its ``[out, in * kh * kw]`` matrix into a ``kh x kw`` conv with ``r`` filters followed by a 1x1 conv
(Jaderberg et al. 2014 / Denton et al. 2014 style, "scheme 1" on the filter matrix).

Error bound: for any input ``x``, ``||(W - W_r) x||_2 <= s_{r+1} ||x||_2`` (spectral) and, for a batch
``X``, ``||(W - W_r) X||_F <= s_{r+1} ||X||_F``; the weights themselves satisfy
``||W - W_r||_F = sqrt(sum_{i>r} s_i^2)``. ``svd_error_bounds`` returns both numbers.

The rank is given per layer or chosen as the smallest that keeps an ``energy`` fraction of
sum(s_i^2). The factorised layer replaces the original module in the model (an ``nn.Sequential`` of
the two layers, at the same attribute name), so the tracer sees two ordinary layers as they are;
the ``CompressionRecord`` holds dense float32 encodings for the new parameters and names the ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from simulator.compress.base import Transform, prepare_model, register_transform
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = [
    "LowRank",
    "LowRankReport",
    "choose_rank",
    "factorize_conv2d",
    "factorize_linear",
    "low_rank",
    "svd_error_bounds",
]


@dataclass(frozen=True, slots=True)
class LowRankReport:
    """What happened to one layer: original shape, kept rank, parameter counts and the SVD error bounds."""

    layer: str
    rank: int
    full_rank: int
    weights_before: int
    weights_after: int
    energy_kept: float
    frobenius_error: float
    spectral_error: float


def _matrix(module: nn.Module) -> torch.Tensor:
    w = module.weight.detach()
    return w.reshape(w.shape[0], -1)


def choose_rank(singular_values: torch.Tensor, energy: float) -> int:
    """Smallest r with ``sum(s[:r]^2) >= energy * sum(s^2)`` (at least 1)."""
    if not 0.0 < energy <= 1.0:
        raise ValueError(f"low-rank energy fraction must be in (0, 1], got {energy}")
    sq = singular_values.double() ** 2
    cumulative = torch.cumsum(sq, 0) / sq.sum()
    return max(1, int(torch.searchsorted(cumulative, torch.tensor(energy, dtype=torch.float64) - 1e-12)) + 1)


def svd_error_bounds(singular_values: torch.Tensor, rank: int) -> tuple[float, float]:
    """``(||W - W_r||_F, ||W - W_r||_2) = (sqrt(sum_{i>r} s_i^2), s_{r+1})`` (0 when nothing is dropped)."""
    tail = singular_values[rank:].double()
    frob = float(torch.sqrt((tail ** 2).sum())) if tail.numel() else 0.0
    spectral = float(tail[0]) if tail.numel() else 0.0
    return frob, spectral


def _factors(matrix: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    u, s, vh = torch.linalg.svd(matrix.double(), full_matrices=False)
    root = torch.sqrt(s[:rank])
    first = (root[:, None] * vh[:rank]).to(matrix.dtype)  # [r, in]
    second = (u[:, :rank] * root[None, :]).to(matrix.dtype)  # [out, r]
    return first, second, s.to(matrix.dtype)


def _resolve_rank(s: torch.Tensor, rank: int | None, energy: float | None, name: str) -> int:
    full = int(s.numel())
    if (rank is None) == (energy is None):
        raise ValueError(f"layer '{name}': give exactly one of rank or energy")
    r = choose_rank(s, energy) if rank is None else int(rank)
    if not 1 <= r <= full:
        raise ValueError(f"layer '{name}': rank must be in [1, {full}], got {r}")
    return r


@torch.no_grad()
def factorize_linear(layer: nn.Linear, rank: int | None = None, energy: float | None = None,
                     name: str = "linear") -> tuple[nn.Sequential, LowRankReport]:
    """Two Linear layers ``in -> r`` (no bias) and ``r -> out`` (with the original bias)."""
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"layer '{name}': expected nn.Linear, got {type(layer).__name__}")
    w = _matrix(layer)
    s = torch.linalg.svdvals(w.double())
    r = _resolve_rank(s, rank, energy, name)
    first_w, second_w, s = _factors(w, r)
    like = {"dtype": w.dtype, "device": w.device}
    first = nn.Linear(layer.in_features, r, bias=False, **like)
    second = nn.Linear(r, layer.out_features, bias=layer.bias is not None, **like)
    first.weight.copy_(first_w)
    second.weight.copy_(second_w)
    if layer.bias is not None:
        second.bias.copy_(layer.bias)
    return nn.Sequential(first, second), _report(name, w, s, r, first.weight.numel() + second.weight.numel())


@torch.no_grad()
def factorize_conv2d(layer: nn.Conv2d, rank: int | None = None, energy: float | None = None,
                     name: str = "conv") -> tuple[nn.Sequential, LowRankReport]:
    """A ``kh x kw`` conv with ``r`` filters (the original stride/padding/dilation, no bias), then a 1x1 conv."""
    if not isinstance(layer, nn.Conv2d):
        raise TypeError(f"layer '{name}': expected nn.Conv2d, got {type(layer).__name__}")
    if layer.groups != 1:
        raise ValueError(f"layer '{name}': only groups=1 convolutions can be factorised, got groups={layer.groups}")
    if layer.padding_mode != "zeros":
        raise ValueError(f"layer '{name}': only zero padding is supported, got {layer.padding_mode!r}")
    w = _matrix(layer)
    s = torch.linalg.svdvals(w.double())
    r = _resolve_rank(s, rank, energy, name)
    first_w, second_w, s = _factors(w, r)
    like = {"dtype": w.dtype, "device": w.device}
    first = nn.Conv2d(layer.in_channels, r, layer.kernel_size, layer.stride, layer.padding, layer.dilation, bias=False, **like)
    second = nn.Conv2d(r, layer.out_channels, 1, bias=layer.bias is not None, **like)
    first.weight.copy_(first_w.reshape(first.weight.shape))
    second.weight.copy_(second_w.reshape(second.weight.shape))
    if layer.bias is not None:
        second.bias.copy_(layer.bias)
    return nn.Sequential(first, second), _report(name, w, s, r, first.weight.numel() + second.weight.numel())


def _report(name: str, w: torch.Tensor, s: torch.Tensor, r: int, after: int) -> LowRankReport:
    frob, spectral = svd_error_bounds(s, r)
    sq = s.double() ** 2
    return LowRankReport(name, r, int(s.numel()), w.numel(), after, float(sq[:r].sum() / sq.sum()), frob, spectral)


_FACTORIZERS: dict[type, Callable[..., tuple[nn.Sequential, LowRankReport]]] = {
    nn.Linear: factorize_linear,
    nn.Conv2d: factorize_conv2d,
}


def _set_submodule(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, new)


def low_rank(
    model: nn.Module,
    ranks: Mapping[str, int] | None = None,
    energy: float | None = None,
    layers: tuple[str, ...] | None = None,
    include_conv: bool = False,
    only_if_smaller: bool = True,
    fine_tune: Callable[[nn.Module], None] | None = None,
) -> tuple[nn.Module, CompressionRecord, list[LowRankReport]]:
    """Factorise layers of ``model`` in place.

    Args:
        model: the network.
        ranks: layer name -> rank (the layers factorised are exactly these).
        energy: alternatively, the fraction of squared singular values to keep in every eligible layer.
        layers: restrict the energy rule to these layer names (default: every Linear, plus Conv2d
            when ``include_conv``).
        include_conv: also factorise groups=1 Conv2d layers under the energy rule.
        only_if_smaller: under the energy rule, leave a layer alone when factorising would not
            reduce its weight count (r * (in + out) >= in * out).
        fine_tune: optional ``fine_tune(model)`` called after factorisation (e.g. a few epochs of
            ``simulator.compress.training.train_classifier``), for recovering accuracy.

    Returns:
        ``(model, record, reports)``: the factorised model, a record with dense float32 encodings of
        its parameters and a step naming the ranks, and one ``LowRankReport`` per factorised layer.

    Raises:
        ValueError: a named layer is missing or not factorisable, a rank is out of range, or neither /
            both of ``ranks`` and ``energy`` are given.
    """
    if (ranks is None) == (energy is None):
        raise ValueError("low_rank: give exactly one of ranks= or energy=")
    modules = dict(model.named_modules())
    if ranks is not None:
        targets = {}
        for name, r in ranks.items():
            if name not in modules:
                raise ValueError(f"low_rank: no layer named '{name}' in {type(model).__name__}")
            targets[name] = {"rank": r}
    else:
        kinds = (nn.Linear, nn.Conv2d) if include_conv else (nn.Linear,)
        names = layers if layers is not None else tuple(n for n, m in modules.items() if type(m) in kinds)
        for n in names:
            if n not in modules:
                raise ValueError(f"low_rank: no layer named '{n}' in {type(model).__name__}")
        targets = {n: {"energy": energy} for n in names}
    reports = []
    for name, how in targets.items():
        module = modules[name]
        factorizer = _FACTORIZERS.get(type(module))
        if factorizer is None:
            raise ValueError(f"low_rank: layer '{name}' is {type(module).__name__}; expected one of "
                             f"{sorted(t.__name__ for t in _FACTORIZERS)}")
        new, report = factorizer(module, name=name, **how)
        if ranks is None and only_if_smaller and report.weights_after >= report.weights_before:
            continue
        _set_submodule(model, name, new)
        reports.append(report)
    if fine_tune is not None:
        fine_tune(model)
    model.eval()
    dense = TensorEncoding.dense(32)
    step = "low_rank(" + ", ".join(f"{r.layer}: rank {r.rank}/{r.full_rank}" for r in reports) + \
        (", fine-tuned" if fine_tune is not None else "") + ")"
    record = CompressionRecord(FrozenMap({n: dense for n, _ in model.named_parameters()}), (step,))
    return model, record, reports


@register_transform
class LowRank(Transform):
    """Transform form of ``low_rank`` (same arguments); the per-layer reports of the last ``apply`` are in ``self.reports``."""

    NAME = "low_rank"
    KIND = "structured"

    def __init__(self, ranks: Mapping[str, int] | None = None, energy: float | None = None, layers: tuple[str, ...] | None = None,
                 include_conv: bool = False, only_if_smaller: bool = True,
                 fine_tune: Callable[[nn.Module], None] | None = None, inplace: bool = False) -> None:
        self.kwargs = {"ranks": ranks, "energy": energy, "layers": layers, "include_conv": include_conv,
                       "only_if_smaller": only_if_smaller, "fine_tune": fine_tune}
        self.inplace = inplace
        self.reports: list[LowRankReport] = []

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        work = prepare_model(model, self.inplace)
        work, new, self.reports = low_rank(work, **self.kwargs)
        # parameters of replaced layers no longer exist: drop their old encodings
        previous = record or CompressionRecord()
        names = {n for n, _ in work.named_parameters()}
        kept = CompressionRecord(FrozenMap({k: v for k, v in previous.encodings.items() if k in names}), previous.steps)
        return work, kept.then(new)
