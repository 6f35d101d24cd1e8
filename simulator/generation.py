"""Generation study (above the API): one prefill and decode steps over a growing KV cache.

``simulate_generation(model, profile, prompt_tokens=P, new_tokens=N, batch=B)`` costs autoregressive
generation of a decoder with an explicit KV cache (``models.llama.LlamaModel`` or anything with the
same hooks: ``config.kv_cache_bits(tokens, batch, bits)``, ``cache_value_bits``, ``token_inputs(batch,
tokens, device)``, ``empty_cache(batch, tokens, device)`` and ``step(start)``, a module whose
``forward(ids, *cache)`` writes its keys and values at ``start`` and attends over ``[0, start + T)``).
The model builds its own inputs, so this study never imports torch (design.md).

- **Prefill**: the prompt (B x P tokens) in one forward with a causal mask; its latency is the time to
  first token (the prefill's logits give the first new token).
- **Decode**: N steps of one token each, step j attending over a cache of P + j tokens (j = 0..N-1)
  plus its own. A decode step's cost is affine in the cache length (its weights are fixed, its KV reads
  grow by one token per step), so the study traces and simulates only ``samples`` distinct cache
  lengths spread over [P, P + N - 1] and interpolates the others linearly: the work grows with the
  number of samples, not with N.
- **Where the KV cache lives**: per sample, whether that step's weights, activations and cache fit the
  global buffer together (``CostReport.footprint.fits``); the step itself reads the cache from DRAM.
- **Speed**: a model with a ``shallow(n)`` hook and ``LAYER_PREFIX`` (``LlamaModel``) is traced with two
  blocks and the trace repeated to all of them (``simulator.trace.stack.stack_layers``, same costs as the
  full trace); a 7B config at P = 512, N = 2048 then runs in seconds (benchmarks/bench_llm.py).
- **Footprint**: weights + peak live activations (of the prefill, traced without a cache) + the KV
  cache at the maximum context P + N (``Footprint.kv_cache_bits``), and the context length at which it
  stops fitting a memory (the global buffer by default, or any capacity, e.g. a DRAM's).

KV-cache bits = 2 (k and v) x layers x kv_heads x head_dim x tokens x batch x bits per value.
The prefill is traced as the cached step at position 0 over a P-token cache, so writing the prompt's keys
and values into the cache is costed (P x the per-token cache bits), as every decode step's one-token write.

Compression: ``record`` (from ``simulator.compress``, e.g. ``GroupQuantize``/``SemiStructured24``) gives
the weights' encodings, keyed by the model's own parameter names; the cache is held, read and written at
``model.cache_value_bits`` (``KVCacheQuantize`` sets it; unset, a profile's ``[compute] precision``
activations type wins, e.g. fp16 for a float32 trace): the traced cache inputs and their views are
re-typed to that width (``simulator.mapping.precision.retype_tensors``), the attention arithmetic stays
at the model's type.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.api import resolve_profile, simulate, trace_model
from simulator.cost import CostReport
from simulator.frozen import FrozenMap
from simulator.hardware import HardwareProfile
from simulator.mapping.precision import retype_tensors
from simulator.mapping.residency import Footprint
from simulator.workload import CompressionRecord, DataType

__all__ = ["DecodeSample", "GenerationReport", "max_context_tokens", "simulate_generation"]


@dataclass(frozen=True, slots=True)
class DecodeSample:
    """One simulated decode step.

    Attributes:
        cache_tokens: tokens already in the cache; the step writes one more and attends over cache_tokens + 1.
        energy_pj: steady-state energy of the step (all B sequences).
        latency_s: its simulated time.
        dram_bits: bits read and written at DRAM during the step.
        kv_cache_bits: the cache the step reads (cache_tokens + 1 tokens, all B sequences).
        kv_cache_fits_on_chip: the step's weights, activations and cache fit the global buffer together
            (``CostReport.footprint.fits``). NB: the traced step receives the cache as model inputs, which
            the mapper reads from DRAM; a cache kept resident across steps is not costed yet.
    """

    cache_tokens: int
    energy_pj: float
    latency_s: float
    dram_bits: float
    kv_cache_bits: int
    kv_cache_fits_on_chip: bool


@dataclass(frozen=True, slots=True)
class GenerationReport:
    """Prefill + decode of ``new_tokens`` tokens after a ``prompt_tokens`` prompt, ``batch`` sequences at once."""

    model_name: str
    profile_name: str
    prompt_tokens: int
    new_tokens: int
    batch: int
    prefill: CostReport
    samples: tuple[DecodeSample, ...]
    decode_energy_pj: float
    decode_latency_s: float
    kv_cache_bits_per_token: int
    footprint: Footprint
    max_context_tokens: int

    @property
    def time_to_first_token_s(self) -> float:
        """The prefill's simulated latency."""
        return self.prefill.latency_s

    @property
    def energy_per_token_pj(self) -> float:
        """Decode energy per generated token (all sequences: N x B tokens)."""
        return self.decode_energy_pj / (self.new_tokens * self.batch)

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second during decode (N x B / decode time)."""
        return self.new_tokens * self.batch / self.decode_latency_s if self.decode_latency_s > 0 else math.inf


def max_context_tokens(weight_bits: int, activation_bits: int, kv_bits_per_token: int, capacity_bits: int) -> int:
    """The longest context whose weights + activations + KV cache fit ``capacity_bits`` (0: not even one token)."""
    room = capacity_bits - weight_bits - activation_bits
    return max(room // kv_bits_per_token, 0) if kv_bits_per_token > 0 else 0


def _step_record(record: CompressionRecord | None) -> CompressionRecord | None:
    """``record`` keyed for the traced step module (``CachedStep`` holds the model as ``model``)."""
    if record is None:
        return None
    return CompressionRecord(FrozenMap({f"model.{k}": v for k, v in record.encodings.items()}), record.steps)


def _cache_type(traced: DataType, bits: int) -> DataType:
    """The type the cache is held at: the traced one at its own width, else an integer (<= 8 bits) or float."""
    if bits == traced.bits:
        return traced
    return DataType("int", bits) if bits <= 8 else DataType(traced.kind, bits)


def simulate_generation(
    model: Any,
    profile: str | Path | HardwareProfile = "horowitz45-full",
    *,
    prompt_tokens: int,
    new_tokens: int,
    batch: int = 1,
    samples: int = 4,
    engine: str = "closed-form",
    device: str | None = None,
    memory_bits: int | None = None,
    record: CompressionRecord | None = None,
) -> GenerationReport:
    """Cost one prefill and ``new_tokens`` decode steps (module doc); ``device="meta"`` for large configs.

    Args:
        model: a decoder with the hooks named in the module doc (``models.llama.build_llama(...)``).
        profile: a shipped profile name, a TOML path or a ``HardwareProfile``.
        prompt_tokens, new_tokens, batch: P, N, B (positive).
        samples: distinct cache lengths simulated (at least 2 unless N == 1).
        engine: ``"closed-form"`` (default, fast) or ``"simpy"``.
        device: where to build inputs (None: the model's own device).
        memory_bits: the capacity the fit question is asked against (default: the global buffer).
        record: the weights' encodings (a ``simulator.compress`` transform's record for this model).
    """
    for name, value in (("prompt_tokens", prompt_tokens), ("new_tokens", new_tokens), ("batch", batch), ("samples", samples)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"simulate_generation: {name} must be a positive integer, got {value!r}")
    if samples < 2 and new_tokens > 1:
        raise ValueError(f"simulate_generation: samples must be at least 2 to interpolate {new_tokens} decode steps, got {samples}")
    for hook in ("token_inputs", "cache_value_bits", "empty_cache", "step", "config"):
        if not hasattr(model, hook):
            raise TypeError(f"simulate_generation: the model needs a '{hook}' hook (see simulator.generation), got {type(model).__name__}")
    hw = resolve_profile(profile)
    cache_bits_value = model.cache_value_bits
    precision = hw.compute.precision
    if getattr(model, "kv_cache_value_bits", None) is None and precision is not None and precision.activations is not None:
        # an unquantized cache is held at the float activations' precision the profile computes at
        cache_bits_value = precision.activations.bits
    name = type(model).__name__

    step_record = _step_record(record)

    layers = getattr(model.config, "layers", 0)
    stacked = layers > 2 and hasattr(model, "shallow") and hasattr(model, "LAYER_PREFIX")
    traced = model.shallow(2) if stacked else model

    def cost(start: int, tokens: int) -> CostReport:
        """The cached step writing ``tokens`` tokens at ``start`` over a cache of ``start + tokens``.

        Identical blocks are traced once: two blocks traced, repeated to all (``stack_layers``)."""
        cache = traced.empty_cache(batch, start + tokens, device=device)
        w = trace_model(traced.step(start), (*traced.token_inputs(batch, tokens, device), *cache), step_record)
        if stacked:
            from simulator.trace.stack import stack_layers  # simulator.trace imports torch: only when tracing

            fmt = model.LAYER_PREFIX
            w = stack_layers(w, fmt.format(0), fmt.format(1), fmt, layers)
        w = retype_tensors(w, {n: _cache_type(t.dtype, cache_bits_value) for n, t in w.tensors.items()
                               if t.kind == "input" and n != "input:0"})
        return simulate(w, hw, engine=engine, timeline=False)

    prefill = cost(0, prompt_tokens)

    lengths = np.unique(np.linspace(prompt_tokens, prompt_tokens + new_tokens - 1, min(samples, new_tokens)).round().astype(int))
    taken: list[DecodeSample] = []
    for c in lengths.tolist():
        r = cost(c, 1)
        taken.append(
            DecodeSample(
                cache_tokens=c,
                energy_pj=r.total_energy_pj,
                latency_s=r.latency_s,
                dram_bits=r.level_bits(hw.levels[-1].name),
                kv_cache_bits=model.config.kv_cache_bits(c + 1, batch, cache_bits_value),
                kv_cache_fits_on_chip=bool(r.footprint is not None and r.footprint.fits),
            )
        )
    steps = np.arange(prompt_tokens, prompt_tokens + new_tokens)
    xs = np.array([s.cache_tokens for s in taken], dtype=float)
    energy = float(np.interp(steps, xs, [s.energy_pj for s in taken]).sum())
    latency = float(np.interp(steps, xs, [s.latency_s for s in taken]).sum())

    per_token = model.config.kv_cache_bits(1, batch, cache_bits_value)
    base = prefill.footprint or Footprint(0, 0, 0)
    fp = dataclasses.replace(base, kv_cache_bits=per_token * (prompt_tokens + new_tokens))
    capacity = fp.capacity_bits if memory_bits is None else int(memory_bits)
    return GenerationReport(
        model_name=name,
        profile_name=hw.name,
        prompt_tokens=prompt_tokens,
        new_tokens=new_tokens,
        batch=batch,
        prefill=prefill,
        samples=tuple(taken),
        decode_energy_pj=energy,
        decode_latency_s=latency,
        kv_cache_bits_per_token=per_token,
        footprint=fp,
        max_context_tokens=max_context_tokens(fp.weight_onchip_bits, fp.peak_activation_bits, per_token, capacity),
    )
