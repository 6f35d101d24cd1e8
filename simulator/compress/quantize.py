"""Linear (uniform) quantization of weights and activations to n bits.

``q = clamp(round(x / scale) + zero_point, qmin, qmax)`` and the model keeps the dequantized value
``(q - zero_point) * scale`` (fake quantization: the arithmetic stays float, the values are exactly
the 2^n representable ones). Symmetric: ``zero_point = 0``, ``q`` in ``[-(2^(n-1) - 1), 2^(n-1) - 1]``,
``scale = max|x| / (2^(n-1) - 1)``. Asymmetric: ``q`` in ``[0, 2^n - 1]`` over ``[min(x, 0), max(x, 0)]``.
Per-tensor uses one (scale, zero point); per-channel one per output channel (dim 0). Zero is always
representable exactly, so pruned weights stay zero.

Weights: ``LinearQuantize`` records ``value_bits = n``. Activations: ``ActivationQuantize`` attaches
forward hooks that fake-quantize the outputs of the chosen module types, with per-tensor ranges
calibrated on example inputs.

NB: the pjsim file stores a per-tensor quantized layer as a codebook of its (at most 2^n) distinct
values (the record says so: ``codebook_entries = 2^n``). Per-channel quantized layers are recorded with
``value_bits = n`` for the simulator, but the file format has no per-channel scales yet and stores
their values as float32 (``pack``'s packed record then says ``value_bits = 32``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from simulator.compress.base import CompressError, Transform, per_layer, prepare_model, register_transform
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["ActivationQuantize", "FakeQuant", "LinearQuantize", "quantize_tensor"]


def _params(x: torch.Tensor, bits: int, symmetric: bool, dims: tuple[int, ...] | None):
    if dims is None:
        lo, hi = x.min(), x.max()
    else:
        lo, hi = x.amin(dim=dims, keepdim=True), x.amax(dim=dims, keepdim=True)
    if symmetric:
        qmax = (1 << (bits - 1)) - 1
        scale = torch.maximum(lo.abs(), hi.abs()) / qmax
        zero = torch.zeros_like(scale)
        qmin = -qmax
    else:
        qmin, qmax = 0, (1 << bits) - 1
        lo, hi = torch.clamp(lo, max=0), torch.clamp(hi, min=0)
        scale = (hi - lo) / qmax
        zero = torch.round(-lo / torch.where(scale > 0, scale, torch.ones_like(scale)))
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return scale, zero, qmin, qmax


def quantize_tensor(x: torch.Tensor, bits: int, symmetric: bool = True, per_channel: bool = False) -> torch.Tensor:
    """The dequantized ``n``-bit linear quantization of ``x`` (same shape and dtype)."""
    if not 2 <= bits <= 16:
        raise CompressError(f"linear quantization bits must be in 2..16, got {bits}")
    dims = tuple(range(1, x.dim())) if per_channel and x.dim() > 1 else None
    scale, zero, qmin, qmax = _params(x.detach(), bits, symmetric, dims)
    q = torch.clamp(torch.round(x / scale) + zero, qmin, qmax)
    return ((q - zero) * scale).to(x.dtype)


@register_transform
class LinearQuantize(Transform):
    """Linear quantization of weights to ``bits`` (per layer or all), symmetric or not, per tensor or channel."""

    NAME = "quantize"
    KIND = "quantization"

    def __init__(self, bits: int | Mapping[str, int], symmetric: bool = True, per_channel: bool = False,
                 inplace: bool = False) -> None:
        self.bits, self.symmetric, self.per_channel, self.inplace = bits, symmetric, per_channel, inplace

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        model = prepare_model(model, self.inplace)
        record = record or CompressionRecord()
        params = dict(model.named_parameters())
        encodings = {}
        with torch.no_grad():
            for name, bits in per_layer(self.bits, model, "quantization layer").items():
                p = params[name]
                p.copy_(quantize_tensor(p, int(bits), self.symmetric, self.per_channel))
                prev = record.encodings.get(name, TensorEncoding())
                # Per tensor: at most 2^bits distinct values, stored as a codebook of them (exact).
                entries = 0 if self.per_channel else 1 << int(bits)
                encodings[name] = TensorEncoding(
                    density=prev.density, value_bits=int(bits), index_bits=prev.index_bits,
                    codebook_entries=entries, filler_entries=prev.filler_entries,
                )
        kind = f"{'symmetric' if self.symmetric else 'asymmetric'}, per-{'channel' if self.per_channel else 'tensor'}"
        return model, record.then(CompressionRecord(FrozenMap(encodings), (f"linear quantization ({kind})",)))


class FakeQuant:
    """Forward hook: replace a module's output by its ``bits``-bit linear quantization (fixed range)."""

    def __init__(self, bits: int, scale: float, zero: float, qmin: int, qmax: int) -> None:
        self.bits, self.scale, self.zero, self.qmin, self.qmax = bits, scale, zero, qmin, qmax

    def __call__(self, module: nn.Module, inputs, output: torch.Tensor) -> torch.Tensor:
        q = torch.clamp(torch.round(output / self.scale) + self.zero, self.qmin, self.qmax)
        return (q - self.zero) * self.scale


@register_transform
class ActivationQuantize(Transform):
    """Fake-quantize the outputs of every module of the given types to ``bits`` (ranges from ``calibration``).

    Args:
        bits: activation bits.
        calibration: example inputs whose activations set each output's range.
        module_types: whose outputs are quantized (default: Linear and Conv2d).
        symmetric: symmetric or asymmetric ranges.
    """

    NAME = "quantize-activations"
    KIND = "quantization"

    def __init__(self, bits: int, calibration: torch.Tensor, module_types: tuple[type, ...] = (nn.Linear, nn.Conv2d),
                 symmetric: bool = False, inplace: bool = False) -> None:
        if not 2 <= bits <= 16:
            raise CompressError(f"activation bits must be in 2..16, got {bits}")
        self.bits, self.calibration, self.types, self.symmetric, self.inplace = (
            bits, calibration, module_types, symmetric, inplace)

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        model = prepare_model(model, self.inplace)
        record = record or CompressionRecord()
        seen: dict[str, torch.Tensor] = {}
        targets = {n: m for n, m in model.named_modules() if isinstance(m, self.types)}
        if not targets:
            raise CompressError(f"no module of type {[t.__name__ for t in self.types]} to quantize in {type(model).__name__}")
        handles = [m.register_forward_hook(lambda mod, i, o, n=n: seen.__setitem__(n, o.detach())) for n, m in targets.items()]
        with torch.no_grad():
            model.eval()
            model(self.calibration)
        for h in handles:
            h.remove()
        for name, module in targets.items():
            scale, zero, qmin, qmax = _params(seen[name], self.bits, self.symmetric, None)
            module.register_forward_hook(FakeQuant(self.bits, float(scale), float(zero), qmin, qmax))
        step = f"activations quantized to {self.bits} bit ({len(targets)} outputs)"
        return model, record.then(CompressionRecord(FrozenMap({}), (step,)))
