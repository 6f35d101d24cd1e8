"""Magnitude pruning (Han et al. 2015), one-shot or iterative with retraining between rounds.

Two ways to choose what survives in each layer:

* ``keep``: the fraction of the layer's weights kept (the papers' per-layer tables), the largest
  magnitudes win;
* ``quality``: Han 2015's threshold rule, prune ``|w| < quality x std(w)`` with the standard deviation
  of the layer's weights at the time of pruning.

Pruning sets weights to exactly zero. During retraining the zeros are held by a mask
parametrization (``torch.nn.utils.parametrize``: the layer computes ``weight_orig * mask``), so no
optimizer, momentum or weight decay can revive a pruned weight; ``keep_masks`` removes the
parametrization afterwards, leaving plain zeros. Biases are never pruned.

The record gives each pruned weight ``density`` (kept / numel), 32-bit values, ``index_bits``-bit
relative indices and the exact number of filler entries those indices need
(``simulator.compress.sparse``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping

import torch
from torch import nn
from torch.nn.utils import parametrize

from simulator.compress.base import CompressError, Transform, per_layer, prepare_model, register_transform
from simulator.compress.sparse import count_fillers
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["MagnitudePrune", "iterative_prune", "keep_masks", "magnitude_mask", "masks_of", "sparse_encoding"]

TrainFn = Callable[[nn.Module], object]


def magnitude_mask(weight: torch.Tensor, keep: float | None = None, quality: float | None = None) -> torch.Tensor:
    """Boolean mask of the weights that survive: the ``keep`` fraction of largest magnitudes, or
    ``|w| >= quality * std(w)``. Already-zero weights never survive."""
    w = weight.detach()
    mag = w.abs().flatten()
    if keep is not None:
        if not 0.0 < keep <= 1.0:
            raise CompressError(f"keep fraction must be in (0, 1], got {keep}")
        k = max(1, round(keep * mag.numel()))
        order = torch.argsort(mag, descending=True, stable=True)  # ties: earlier positions first
        mask = torch.zeros_like(mag, dtype=torch.bool)
        mask[order[:k]] = True
    elif quality is not None:
        if quality < 0:
            raise CompressError(f"pruning quality must be >= 0, got {quality}")
        mask = mag >= quality * float(w.std())
    else:
        raise CompressError("magnitude pruning needs keep= or quality=")
    return (mask & (mag != 0)).view_as(w)


def sparse_encoding(weight: torch.Tensor, index_bits: int, previous: TensorEncoding | None = None) -> TensorEncoding:
    """The encoding of a weight's zeros as relative-index storage (density, fillers), other fields kept."""
    flat = weight.detach().reshape(-1)
    kept = torch.nonzero(flat).squeeze(1).numpy()
    numel = flat.numel()
    if kept.size == 0:
        raise CompressError("a layer with no surviving weight cannot be stored (prune less)")
    base = previous or TensorEncoding()
    if kept.size == numel and index_bits == 0:
        return TensorEncoding(value_bits=base.value_bits, codebook_entries=base.codebook_entries,
                              codebook_value_bits=base.codebook_value_bits)
    fillers = count_fillers(kept, index_bits, numel) if index_bits > 0 else 0
    return TensorEncoding(
        density=kept.size / numel, value_bits=base.value_bits, index_bits=index_bits,
        codebook_entries=base.codebook_entries, codebook_value_bits=base.codebook_value_bits,
        filler_entries=fillers,
    )


@register_transform
class MagnitudePrune(Transform):
    """Prune each listed layer by magnitude (one shot; see ``iterative_prune`` for rounds + retraining).

    Args:
        keep: fraction kept, for every weight (a float) or per layer (``{"fc1": 0.08}``).
        quality: Han 2015 threshold multiplier of the layer's std, scalar or per layer (instead of keep).
        index_bits: relative-index bits of the sparse storage (Deep Compression: 5 for LeNet, 4 AlexNet).
        inplace: modify the given model instead of a copy.
    """

    NAME = "prune"
    KIND = "unstructured"

    def __init__(self, keep: float | Mapping[str, float] | None = None, quality: float | Mapping[str, float] | None = None,
                 index_bits: int = 5, inplace: bool = False) -> None:
        if (keep is None) == (quality is None):
            raise CompressError("MagnitudePrune needs exactly one of keep= and quality=")
        if not 1 <= index_bits <= 16:
            raise CompressError(f"index_bits must be in 1..16, got {index_bits}")
        self.keep, self.quality, self.index_bits, self.inplace = keep, quality, index_bits, inplace

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        model = prepare_model(model, self.inplace)
        record = record or CompressionRecord()
        setting = self.keep if self.keep is not None else self.quality
        amounts = per_layer(setting, model, "pruning layer")
        params = dict(model.named_parameters())
        encodings = {}
        with torch.no_grad():
            for name, amount in amounts.items():
                p = params[name]
                mask = magnitude_mask(p, keep=amount if self.keep is not None else None,
                                      quality=amount if self.quality is not None else None)
                p.copy_(torch.where(mask, p, torch.zeros_like(p)))  # +0.0, never -0.0
                encodings[name] = sparse_encoding(p, self.index_bits, record.encodings.get(name))
        rule = "keep" if self.keep is not None else "quality"
        step = f"prune({rule}, index {self.index_bits} bit)"
        return model, record.then(CompressionRecord(FrozenMap(encodings), (step,)))


class _Mask(nn.Module):
    """Parametrization ``weight = original * mask`` (the mask is a buffer, never trained)."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mask", mask.to(torch.bool))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(self.mask, x, torch.zeros_like(x))


def masks_of(model: nn.Module, names: list[str] | None = None) -> dict[str, torch.Tensor]:
    """``weight != 0`` for the named weights (default: every weight with at least one zero)."""
    params = dict(model.named_parameters())
    chosen = names if names is not None else [n for n, p in params.items() if p.dim() >= 2 and bool((p == 0).any())]
    return {n: params[n].detach() != 0 for n in chosen}


@contextlib.contextmanager
def keep_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> Iterator[nn.Module]:
    """Hold pruned weights at zero while the block runs (e.g. retraining); plain weights afterwards."""
    modules = dict(model.named_modules())
    registered = []
    try:
        for name, mask in masks.items():
            mod_name, _, attr = name.rpartition(".")
            module = modules[mod_name]
            parametrize.register_parametrization(module, attr, _Mask(mask))
            registered.append((module, attr))
        yield model
    finally:
        for module, attr in registered:
            parametrize.remove_parametrizations(module, attr, leave_parametrized=True)


def iterative_prune(
    model: nn.Module,
    keep: float | Mapping[str, float],
    rounds: int,
    train: TrainFn | None,
    index_bits: int = 5,
    record: CompressionRecord | None = None,
    inplace: bool = False,
) -> tuple[nn.Module, CompressionRecord]:
    """Prune to ``keep`` in ``rounds`` geometric steps, retraining with masks after every round.

    Round r keeps ``keep ** (r / rounds)`` of each layer (so 3 rounds to 8% keep 43%, 19%, 8%), as in
    Han 2015's iterative pruning. ``train(model)`` is called after each round with the masks held
    (pass None for one-shot pruning in rounds without retraining).

    Returns:
        The pruned, retrained model and ``record`` followed by the final pruning step.
    """
    if rounds < 1:
        raise CompressError(f"pruning rounds must be >= 1, got {rounds}")
    model = prepare_model(model, inplace)
    base = record or CompressionRecord()
    fractions = keep if isinstance(keep, Mapping) else None
    out = base
    for r in range(1, rounds + 1):
        if fractions is not None:
            step_keep: float | dict[str, float] = {k: v ** (r / rounds) for k, v in fractions.items()}
        else:
            step_keep = float(keep) ** (r / rounds)
        model, out = MagnitudePrune(keep=step_keep, index_bits=index_bits, inplace=True).apply(model, base)
        if train is not None:
            names = [n for n in out.encodings if n not in base.encodings or out.encodings[n] != base.encodings.get(n)]
            with keep_masks(model, masks_of(model, names)):
                train(model)
    # Re-derive the encodings from the final weights (retraining never revives a pruned weight).
    params = dict(model.named_parameters())
    final = {n: sparse_encoding(params[n], index_bits, base.encodings.get(n))
             for n, e in out.encodings.items() if e.index_bits > 0}
    steps = base.steps + (f"iterative prune ({rounds} rounds{', retrained' if train else ''}, index {index_bits} bit)",)
    return model, CompressionRecord(FrozenMap({**out.encodings, **final}), steps)
