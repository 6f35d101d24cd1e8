"""LLM compression: weight-only group quantization, 2:4 semi-structured sparsity, KV-cache quantization.

Each transform returns ``(model, CompressionRecord)`` like every other (``simulator.compress.base``), and
the record is what ``simulate``/``simulate_generation`` cost:

- ``GroupQuantize(bits=4, group_size=128)``: weight-only int4/int8 with one scale (and zero point) per
  ``group_size`` consecutive input channels of every ``nn.Linear`` (GPTQ, Frantar et al. 2023; AWQ, Lin
  et al. 2024). Stored bits = ``numel x bits + groups x (scale + zero bits)``
  (``TensorEncoding.group_params_bits``), in DRAM and on chip; activations and MACs stay at their
  floating-point type (the weights are dequantized on the fly).
- ``SemiStructured24()``: 2:4 sparsity (Mishra et al. 2021, "Accelerating Sparse Deep Neural Networks",
  NVIDIA Ampere sparse tensor cores): in every 4 consecutive input channels the 2 of largest magnitude
  are kept, each with 2 bits of metadata naming its position (``index_bits = 2``, density 0.5). A profile
  whose compute declares ``structured_sparsity = ["2:4"]`` skips the pruned MACs (no energy, no cycle).
- ``KVCacheQuantize(bits=8)``: keys and values cached at ``bits`` (KIVI, Liu et al. 2024; per-token
  scales are not counted). It sets the model's ``cache_value_bits`` hook, which ``simulate_generation``
  reads for the cache size and for the width the cache is read and written at.

On the meta device (a 7B config built without weights) the weight transforms only write the record:
there are no values to round or prune, and the cost depends on the encoding alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from simulator.compress.base import CompressError, Transform, prepare_model, register_transform
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord, TensorEncoding

__all__ = ["GroupQuantize", "KVCacheQuantize", "SemiStructured24", "group_quantize_tensor", "linear_weights", "prune_2_4"]


def linear_weights(model: nn.Module, skip: Iterable[str] = ("lm_head",)) -> dict[str, nn.Parameter]:
    """The weights of every ``nn.Linear`` (and HF GPT-2's ``Conv1D``) by parameter name, except modules named in ``skip``.

    ``skip`` names modules by their last component or full name (default: the LM head, which
    weight-only schemes usually keep at 16 bits).
    """
    skip = set(skip)
    out = {}
    for name, module in model.named_modules():
        if name in skip or name.rsplit(".", 1)[-1] in skip:
            continue
        if isinstance(module, nn.Linear) or type(module).__name__ == "Conv1D":
            out[f"{name}.weight" if name else "weight"] = module.weight
    if not out:
        raise CompressError(f"no linear layer to compress in {type(model).__name__} (skipped: {sorted(skip)})")
    return out


def _input_dim(module_weight_name: str, model: nn.Module) -> int:
    """The dimension of a linear weight that runs over input channels (1 for nn.Linear, 0 for HF Conv1D)."""
    module = model.get_submodule(module_weight_name.rsplit(".", 1)[0]) if "." in module_weight_name else model
    return 0 if type(module).__name__ == "Conv1D" else 1


def group_quantize_tensor(w: torch.Tensor, bits: int, group_size: int, symmetric: bool, dim: int = 1) -> torch.Tensor:
    """Dequantized group-wise ``bits``-bit quantization of ``w`` along ``dim`` (same shape and dtype)."""
    x = w.detach().movedim(dim, -1)
    g = x.reshape(*x.shape[:-1], x.shape[-1] // group_size, group_size).float()
    if symmetric:
        qmax = (1 << (bits - 1)) - 1
        scale = g.abs().amax(-1, keepdim=True) / qmax
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        q = torch.clamp(torch.round(g / scale), -qmax, qmax) * scale
    else:
        qmax = (1 << bits) - 1
        lo, hi = g.amin(-1, keepdim=True), g.amax(-1, keepdim=True)
        scale = (hi - lo) / qmax
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        zero = torch.round(-lo / scale)
        q = (torch.clamp(torch.round(g / scale) + zero, 0, qmax) - zero) * scale
    return q.reshape(x.shape).movedim(-1, dim).to(w.dtype)


def prune_2_4(w: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """``w`` with the 2 smallest-magnitude values of every 4 consecutive along ``dim`` set to zero."""
    x = w.detach().movedim(dim, -1)
    g = x.reshape(*x.shape[:-1], x.shape[-1] // 4, 4)
    drop = g.abs().argsort(dim=-1)[..., :2]
    kept = g.scatter(-1, drop, 0.0)
    return kept.reshape(x.shape).movedim(-1, dim).contiguous()


def _check_divisible(name: str, p: nn.Parameter, dim: int, by: int, what: str) -> None:
    if p.shape[dim] % by:
        raise CompressError(f"{what}: {name} has {p.shape[dim]} input channels (shape {tuple(p.shape)}), not a multiple of {by}")


@register_transform
class GroupQuantize(Transform):
    """Weight-only ``bits``-bit quantization with per-group scales (module doc).

    Args:
        bits: 2..8 (int4 and int8 are the common ones).
        group_size: consecutive input channels per scale (128 is GPTQ/AWQ's default).
        scale_bits: bits of one scale (16: fp16).
        zero_bits: bits of one zero point: 0 for symmetric quantization, else e.g. 16 (fp16 zero) or
            ``bits`` (an integer zero at the weight's width).
        skip: module names left uncompressed (default: the LM head).
    """

    NAME = "group-quantize"
    KIND = "quantization"

    def __init__(self, bits: int = 4, group_size: int = 128, scale_bits: int = 16, zero_bits: int = 16,
                 skip: Iterable[str] = ("lm_head",), inplace: bool = False) -> None:
        if not 2 <= bits <= 8:
            raise CompressError(f"group quantization bits must be in 2..8, got {bits}")
        if group_size < 1 or scale_bits < 1 or zero_bits < 0:
            raise CompressError(f"group quantization needs group_size >= 1, scale_bits >= 1, zero_bits >= 0; "
                                f"got {group_size}, {scale_bits}, {zero_bits}")
        self.bits, self.group_size, self.scale_bits, self.zero_bits = bits, group_size, scale_bits, zero_bits
        self.skip, self.inplace = tuple(skip), inplace

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        model = prepare_model(model, self.inplace)
        record = record or CompressionRecord()
        encodings = {}
        with torch.no_grad():
            for name, p in linear_weights(model, self.skip).items():
                dim = _input_dim(name, model)
                _check_divisible(name, p, dim, self.group_size, "group quantization")
                if p.device.type != "meta":
                    p.copy_(group_quantize_tensor(p, self.bits, self.group_size, self.zero_bits == 0, dim))
                prev = record.encodings.get(name, TensorEncoding())
                encodings[name] = TensorEncoding(
                    density=prev.density, value_bits=self.bits, index_bits=prev.index_bits, structure=prev.structure,
                    group_size=self.group_size, group_param_bits=self.scale_bits + self.zero_bits,
                )
        step = (f"weight-only int{self.bits}, groups of {self.group_size} "
                f"({self.scale_bits}-bit scale + {self.zero_bits}-bit zero per group), {len(encodings)} layers")
        return model, record.then(CompressionRecord(FrozenMap(encodings), (step,)))


@register_transform
class SemiStructured24(Transform):
    """2:4 semi-structured sparsity along the input channels of every linear layer (module doc)."""

    NAME = "sparsity-2:4"
    KIND = "structured"

    #: Metadata bits per kept value in NVIDIA's format (2 bits name one of 4 positions).
    METADATA_BITS = 2

    def __init__(self, skip: Iterable[str] = ("lm_head",), inplace: bool = False) -> None:
        self.skip, self.inplace = tuple(skip), inplace

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        model = prepare_model(model, self.inplace)
        record = record or CompressionRecord()
        encodings = {}
        with torch.no_grad():
            for name, p in linear_weights(model, self.skip).items():
                dim = _input_dim(name, model)
                _check_divisible(name, p, dim, 4, "2:4 sparsity")
                if p.device.type != "meta":
                    p.copy_(prune_2_4(p, dim))
                prev = record.encodings.get(name, TensorEncoding())
                encodings[name] = TensorEncoding(
                    density=0.5, value_bits=prev.value_bits, index_bits=self.METADATA_BITS, structure="2:4",
                    group_size=prev.group_size, group_param_bits=prev.group_param_bits,
                )
        step = f"2:4 semi-structured sparsity ({self.METADATA_BITS}-bit metadata per kept value), {len(encodings)} layers"
        return model, record.then(CompressionRecord(FrozenMap(encodings), (step,)))


@register_transform
class KVCacheQuantize(Transform):
    """Cache keys and values at ``bits`` (module doc); the model must have the ``cache_value_bits`` hook."""

    NAME = "kv-cache-quantize"
    KIND = "quantization"

    def __init__(self, bits: int = 8, inplace: bool = False) -> None:
        if not 2 <= bits <= 16:
            raise CompressError(f"KV-cache bits must be in 2..16, got {bits}")
        self.bits, self.inplace = bits, inplace

    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        if not hasattr(model, "cache_value_bits"):
            raise CompressError(f"KV-cache quantization: {type(model).__name__} has no 'cache_value_bits' hook "
                                "(a decoder with a KV cache, see simulator.generation)")
        model = prepare_model(model, self.inplace)
        model.kv_cache_value_bits = self.bits
        record = record or CompressionRecord()
        return model, record.then(CompressionRecord(FrozenMap({}), (f"KV cache quantized to {self.bits} bit",)))
