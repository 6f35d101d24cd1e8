"""k-means weight sharing per layer, and fine-tuning of the shared centroids (Deep Compression step 3).

Each listed layer's surviving (non-zero) weights are clustered by ``kmeans_1d`` into shared values;
every weight is replaced by its centroid, so the layer stores one ``bits``-bit codebook index per
weight plus the codebook (one codebook per layer; layers never share). ``k = 2 ** bits``; the record
declares ``codebook_entries = 2 ** bits`` and the file stores all of them, used or not (the one
convention of ``TensorEncoding.codebook_bits``), so the record's bits are the file's bits.

NB: in a pruned layer, codebook entry 0 is reserved for the value zero, which the filler entries of
the sparse format need; k-means then learns ``2 ** bits - 1`` centroids for the surviving weights.
A dense layer uses all ``2 ** bits`` entries.

Fine-tuning (``shared_finetuning``): each layer's weight becomes ``codebook[labels]`` through a
parametrization whose trainable tensor is the codebook, so autograd gives every centroid the sum of
the gradients of the weights in its cluster (the paper's rule) and any optimizer can update it;
pruned positions index a constant zero.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from simulator.compress.base import CompressError, Transform, per_layer, prepare_model, register_transform
from simulator.compress.kmeans import kmeans_1d
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["SharedLayer", "WeightSharing", "finetune_shared", "share_weights", "shared_finetuning"]


class SharedLayer(nn.Module):
    """Parametrization ``weight = concat(codebook, [0])[labels]``; the codebook is the trained tensor."""

    def __init__(self, codebook: torch.Tensor, labels: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("labels", labels.to(torch.int64))
        self._codebook = codebook.detach().clone()

    def forward(self, codebook: torch.Tensor) -> torch.Tensor:
        return torch.cat([codebook, codebook.new_zeros(1)])[self.labels]

    def right_inverse(self, weight: torch.Tensor) -> torch.Tensor:
        return self._codebook


def share_weights(weight: torch.Tensor, bits: int, init: str = "linear", seed: int = 0,
                  reserve_zero: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Cluster ``weight``'s non-zero values; returns ``(codebook, labels)``.

    ``labels`` has ``weight``'s shape; pruned positions get label ``len(codebook)`` (the constant zero).

    Args:
        weight: the layer's weights (zeros = pruned).
        bits: index bits; the layer's codebook has ``2 ** bits`` entries.
        init: k-means initialisation (``linear``, ``density``, ``random``).
        seed: for ``random`` / ``density`` initialisation.
        reserve_zero: keep one entry for zero (default: when the layer has zeros).
    """
    if not 1 <= bits <= 16:
        raise CompressError(f"weight-sharing bits must be in 1..16, got {bits}")
    w = weight.detach().reshape(-1)
    nz = torch.nonzero(w).squeeze(1)
    if nz.numel() == 0:
        raise CompressError("cannot share the weights of a layer with no non-zero weight")
    if reserve_zero is None:
        reserve_zero = nz.numel() < w.numel()
    k = (1 << bits) - (1 if reserve_zero else 0)
    if k < 1:
        raise CompressError(f"{bits} bit leaves no codebook entry beside the reserved zero")
    values = w[nz].numpy().astype(np.float32)
    result = kmeans_1d(values, k, init=init, seed=seed)
    labels = torch.full((w.numel(),), result.centroids.size, dtype=torch.int64)
    labels[nz] = torch.from_numpy(result.labels.astype(np.int64))
    return torch.from_numpy(result.centroids.copy()), labels.view_as(weight)


@register_transform
class WeightSharing(Transform):
    """k-means weight sharing of each listed layer (no fine-tuning; see ``shared_finetuning``).

    Args:
        bits: index bits for every weight (an int) or per layer (``{"fc1": 6}``).
        init: centroid initialisation, ``"linear"`` (the paper's choice), ``"density"`` or ``"random"``.
        seed: for ``random``/``density`` initialisation.
        inplace: modify the given model instead of a copy.
    """

    NAME = "share"
    KIND = "codebook"

    def __init__(self, bits: int | Mapping[str, int], init: str = "linear", seed: int = 0, inplace: bool = False) -> None:
        self.bits, self.init, self.seed, self.inplace = bits, init, seed, inplace

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        model = prepare_model(model, self.inplace)
        record = record or CompressionRecord()
        params = dict(model.named_parameters())
        encodings = {}
        with torch.no_grad():
            for name, bits in per_layer(self.bits, model, "weight-sharing layer").items():
                p = params[name]
                codebook, labels = share_weights(p, int(bits), self.init, self.seed)
                p.copy_(torch.cat([codebook, codebook.new_zeros(1)])[labels])
                prev = record.encodings.get(name, TensorEncoding())
                density = float((p != 0).sum()) / p.numel()
                encodings[name] = TensorEncoding(
                    density=density, value_bits=int(bits), index_bits=prev.index_bits,
                    codebook_entries=1 << int(bits), codebook_value_bits=32, filler_entries=prev.filler_entries,
                )
        step = f"k-means weight sharing ({self.init} init)"
        return model, record.then(CompressionRecord(FrozenMap(encodings), (step,)))


@contextlib.contextmanager
def shared_finetuning(model: nn.Module, names: list[str] | None = None) -> Iterator[list[nn.Parameter]]:
    """Train only the codebooks of shared layers while the block runs; yields the codebook parameters.

    Each named weight (default: every weight with at most 2^16 distinct non-zero values) is split
    into its codebook (its distinct non-zero values) and labels, and parametrized as
    ``codebook[labels]``. On exit the weights are plain tensors again, holding the tuned shared values.

    Example::

        with shared_finetuning(model) as codebooks:
            train_classifier(model, data, params=codebooks, ...)
    """
    params = dict(model.named_parameters())
    modules = dict(model.named_modules())
    chosen = names if names is not None else [n for n, p in params.items() if p.dim() >= 2]
    registered, codebooks = [], []
    try:
        for name in chosen:
            w = params[name].detach()
            flat = w.reshape(-1)
            nz = flat != 0
            values, inverse = torch.unique(flat[nz], return_inverse=True)
            if values.numel() > 1 << 16:
                if names is not None:
                    raise CompressError(f"layer {name!r} has {values.numel()} distinct values: not weight-shared")
                continue
            labels = torch.full_like(flat, values.numel(), dtype=torch.int64)
            labels[nz] = inverse
            mod_name, _, attr = name.rpartition(".")
            module = modules[mod_name]
            parametrize.register_parametrization(module, attr, SharedLayer(values, labels.view_as(w)), unsafe=True)
            registered.append((module, attr))
            codebooks.append(module.parametrizations[attr].original)
        yield codebooks
    finally:
        for module, attr in registered:
            parametrize.remove_parametrizations(module, attr, leave_parametrized=True)


def finetune_shared(model: nn.Module, train: Callable[[nn.Module, list[nn.Parameter]], object],
                    names: list[str] | None = None) -> nn.Module:
    """Run ``train(model, codebooks)`` with the shared layers' codebooks as the only changing weights."""
    with shared_finetuning(model, names) as codebooks:
        train(model, codebooks)
    return model
