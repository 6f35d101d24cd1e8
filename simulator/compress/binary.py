"""Binary and ternary weights: XNOR-Net's binary-weight networks and ternary weight networks.

Binary (Rastegari et al. 2016, "BWN"): each output filter ``l`` (row of a Linear weight, output
channel of a conv) becomes ``alpha_l * sign(W_l)`` with ``alpha_l = mean |W_l|``, the scale that
minimises ``||W_l - alpha B_l||^2`` over binary ``B_l``. Ternary (Li & Liu 2016, "TWN"): values in
``{-alpha_l, 0, +alpha_l}`` with threshold ``delta_l = 0.7 * mean |W_l|`` and ``alpha_l`` the mean of
the |weights| above the threshold. ``sign(0)`` is taken as +1 so every weight is exactly +-alpha.

Training: ``quantize_weights(..., train=fn)`` registers a parametrization on each chosen weight that
quantizes the latent full-precision weight in the forward pass and passes gradients straight through
(the straight-through estimator of BinaryConnect / XNOR-Net), runs ``fn(model)`` (e.g. a few epochs of
``simulator.compress.training.train_classifier``), then bakes the quantized values into the plain weight. The
result is an ordinary model whose weights take exactly 2 (or 3) values per filter, so the tracer sees
it as it is.

Encoding (``CompressionRecord``): binary -> ``value_bits=1`` plus one 32-bit ``alpha`` per filter held
as the codebook (``codebook_entries = filters``); ternary -> ``value_bits=2``, ``density`` = the
non-zero fraction (the MACs that do work) and every zero stored explicitly as a 2-bit code, counted as
``filler_entries`` (stored entries whose value is zero), so stored bits = numel x 2 + filters x 32.
How the arithmetic is priced (sign-flip + add instead of a multiply, zero skipping) is the
profile's and the energy model's business: this module only reports what the weights are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn
from torch.nn.utils import parametrize

from simulator.compress.base import Transform, prepare_model, register_transform
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["MODES", "BinaryWeights", "binarize_tensor", "quantize_weights", "ternarize_tensor"]

#: mode -> bits per stored weight code.
MODES = {"binary": 1, "ternary": 2}
TERNARY_THRESHOLD = 0.7  # Li & Liu 2016: delta = 0.7 * E|W| approximates the optimal threshold


def _rows(w: torch.Tensor) -> torch.Tensor:
    return w.reshape(w.shape[0], -1)


def binarize_tensor(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(alpha [filters], quantized w)``: ``alpha_l = mean |W_l|``, values ``alpha_l * sign(W_l)`` (sign(0) = +1)."""
    rows = _rows(w)
    alpha = rows.abs().mean(dim=1)
    signs = torch.where(rows >= 0, 1.0, -1.0).to(w.dtype)
    return alpha, (alpha[:, None] * signs).reshape(w.shape)


def ternarize_tensor(w: torch.Tensor, threshold: float = TERNARY_THRESHOLD) -> tuple[torch.Tensor, torch.Tensor]:
    """``(alpha [filters], quantized w)`` with values in ``{-alpha_l, 0, +alpha_l}`` (TWN thresholds)."""
    rows = _rows(w)
    magnitude = rows.abs()
    delta = threshold * magnitude.mean(dim=1, keepdim=True)
    keep = magnitude > delta
    count = keep.sum(dim=1).clamp_min(1)
    alpha = (magnitude * keep).sum(dim=1) / count
    q = torch.sign(rows) * keep * alpha[:, None]
    return alpha, q.reshape(w.shape)


_QUANTIZERS: dict[str, Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]] = {
    "binary": binarize_tensor,
    "ternary": ternarize_tensor,
}


class _StraightThrough(nn.Module):
    """Parametrization: forward = quantized latent weight, backward = identity (straight-through)."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        _, q = _QUANTIZERS[self.mode](latent)
        return latent + (q - latent).detach()


def _layer_weights(model: nn.Module, layers: Iterable[str] | None) -> dict[str, nn.Module]:
    kinds = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    modules = dict(model.named_modules())
    if layers is None:
        chosen = {n: m for n, m in modules.items() if isinstance(m, kinds)}
    else:
        chosen = {}
        for n in layers:
            if n not in modules or not isinstance(modules[n], kinds):
                names = ", ".join(k for k, m in modules.items() if isinstance(m, kinds))
                raise ValueError(f"quantize_weights: no Linear/Conv layer named '{n}' in {type(model).__name__}; layers: {names}")
            chosen[n] = modules[n]
    if not chosen:
        raise ValueError(f"quantize_weights: {type(model).__name__} has no Linear/Conv layer")
    return chosen


def quantize_weights(
    model: nn.Module,
    mode: str = "binary",
    layers: Iterable[str] | None = None,
    train: Callable[[nn.Module], None] | None = None,
) -> tuple[nn.Module, CompressionRecord]:
    """Make the chosen layers' weights binary or ternary per output filter, in place.

    Args:
        model: the network.
        mode: ``"binary"`` ({-a, +a}) or ``"ternary"`` ({-a, 0, +a}).
        layers: module names (default: every Linear/Conv layer). Biases stay float32.
        train: optional ``train(model)`` run with straight-through quantized weights (latent weights
            are trained; the forward pass sees the quantized ones).

    Returns:
        ``(model, record)``: weights replaced by their quantized values; record with 1- or 2-bit
        encodings for the quantized weights and dense float32 for every other parameter.
    """
    if mode not in MODES:
        raise ValueError(f"quantize_weights: unknown mode {mode!r}; expected one of {sorted(MODES)}")
    chosen = _layer_weights(model, layers)
    if train is not None:
        for module in chosen.values():
            parametrize.register_parametrization(module, "weight", _StraightThrough(mode))
        try:
            train(model)
        finally:
            for module in chosen.values():
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)
    encodings = {name: TensorEncoding.dense(32) for name, _ in model.named_parameters()}
    with torch.no_grad():
        for name, module in chosen.items():
            _, q = _QUANTIZERS[mode](module.weight)
            module.weight.copy_(q)
            encodings[f"{name}.weight" if name else "weight"] = _encoding(q, mode)
    model.eval()
    step = f"{mode}_weights(layers={', '.join(chosen)}{', straight-through training' if train is not None else ''})"
    return model, CompressionRecord(FrozenMap(encodings), (step,))


def _encoding(q: torch.Tensor, mode: str) -> TensorEncoding:
    filters = q.shape[0]
    if mode == "binary":
        return TensorEncoding(density=1.0, value_bits=1, codebook_entries=filters, codebook_value_bits=32,
                              mac_arithmetic="sign")
    nonzero = int((q != 0).sum())
    if nonzero == 0:
        raise ValueError("ternary quantization zeroed a whole tensor; nothing left to encode")
    return TensorEncoding(density=nonzero / q.numel(), value_bits=2, codebook_entries=filters,
                          codebook_value_bits=32, filler_entries=q.numel() - nonzero, mac_arithmetic="sign")


@register_transform
class BinaryWeights(Transform):
    """Transform form of ``quantize_weights``: ``BinaryWeights("binary")`` or ``BinaryWeights("ternary")``."""

    NAME = "binary_weights"
    KIND = "quantization"

    def __init__(self, mode: str = "binary", layers: Iterable[str] | None = None,
                 train: Callable[[nn.Module], None] | None = None, inplace: bool = False) -> None:
        if mode not in MODES:
            raise ValueError(f"BinaryWeights: unknown mode {mode!r}; expected one of {sorted(MODES)}")
        self.mode, self.layers, self.train, self.inplace = mode, layers, train, inplace

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        work = prepare_model(model, self.inplace)
        work, new = quantize_weights(work, self.mode, self.layers, self.train)
        return work, (record or CompressionRecord()).then(new)
