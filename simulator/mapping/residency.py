"""What must be on chip: the model's one ``Footprint``, decided here and nowhere else.

The mapper stores it on the ``Schedule``; every engine (the no-reuse baseline included) copies it into
the ``CostReport``; the fit chart, the SRAM-size curve and the verdict read it. No torch, no simpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.operands import onchip_bits
from simulator.workload import Workload

__all__ = ["Footprint", "footprint", "global_buffer_bits", "kept_activations", "used_weights"]


@dataclass(frozen=True, slots=True)
class Footprint:
    """The bits a model needs on chip and whether the profile's global buffer holds them.

    Attributes:
        capacity_bits: the global buffer's capacity (0 when the profile has only DRAM).
        weight_onchip_bits: all weights in their on-chip encoding (values + indices + fillers + codebook).
        peak_activation_bits: the largest set of live activations (aliases and unwritten outputs own no memory).
        layer_weight_bits: per layer (execution order), the on-chip bits of the weights it reads.
        layer_live_activation_bits: per layer, the most activation bits live while any of its ops runs;
            its maximum is ``peak_activation_bits``, so a fit chart's tallest bar (all weights + live
            activations) reaches ``needed_bits`` exactly.
        spilling_layers: layers with DRAM traffic beyond the compulsory model input/output.
        kv_cache_bits: a generation's KV cache at its maximum context (``simulator.generation``; 0 for
            one inference, whose traced cache inputs, if any, are activations already).
    """

    capacity_bits: int
    weight_onchip_bits: int
    peak_activation_bits: int
    layer_weight_bits: FrozenMap[str, int] = field(default_factory=FrozenMap)
    layer_live_activation_bits: FrozenMap[str, int] = field(default_factory=FrozenMap)
    spilling_layers: tuple[str, ...] = ()
    kv_cache_bits: int = 0

    @property
    def needed_bits(self) -> int:
        """The smallest global buffer that keeps the whole model resident: weights + peak live activations
        (+ the KV cache at the maximum context, for generation)."""
        return self.weight_onchip_bits + self.peak_activation_bits + self.kv_cache_bits

    @property
    def fits(self) -> bool:
        """Whether the whole model stays resident in the global buffer."""
        return self.capacity_bits > 0 and self.needed_bits <= self.capacity_bits

    @property
    def margin_bits(self) -> int:
        """Capacity left over (negative: missing) when the whole model is held on chip."""
        return self.capacity_bits - self.needed_bits


def global_buffer_bits(profile: HardwareProfile) -> int:
    """Capacity of the global buffer: the outermost on-chip level (0 when the profile has only DRAM)."""
    buffer = profile.global_buffer
    return buffer.capacity_bits if buffer is not None else 0


def used_weights(workload: Workload) -> dict[str, str]:
    """Weights some op reads -> the layer (module) that reads each first, in execution order."""
    first: dict[str, str] = {}
    for op in workload.ops:
        for access in op.reads:
            if access.tensor not in first and workload.tensors[access.tensor].kind == "weight":
                first[access.tensor] = op.module
    return first


def footprint(workload: Workload, capacity_bits: int, spilling_layers: tuple[str, ...] = ()) -> Footprint:
    """The model's ``Footprint`` against a global buffer of ``capacity_bits``.

    Weights count in their on-chip encoding (``operands.onchip_bits``: fixed-width entries, indices,
    fillers and codebook; Huffman codes are decoded on load), each once, charged to the first layer
    that reads it; weights no op reads (unused buffers) need no place. Activations count by
    ``Workload.live_bits_per_op`` (aliases and never-materialised outputs own no memory).

    Args:
        workload: the traced model.
        capacity_bits: the global buffer's capacity (``global_buffer_bits(profile)``).
        spilling_layers: layers whose data spills to DRAM, as found by the engine that mapped the model
            (the mapper's traffic, or the no-reuse baseline's).
    """
    layer_weights: dict[str, int] = {}
    for name, layer in used_weights(workload).items():
        layer_weights[layer] = layer_weights.get(layer, 0) + onchip_bits(workload.tensors[name])
    live = workload.live_bits_per_op()
    order = {m: i for i, m in enumerate(dict.fromkeys(op.module for op in workload.ops))}
    codes = np.fromiter((order[op.module] for op in workload.ops), dtype=np.int64, count=len(workload.ops))
    per_layer = np.zeros(len(order), dtype=np.int64)
    np.maximum.at(per_layer, codes, live)
    layer_live = dict(zip(order, per_layer.tolist()))
    ordered = {m: layer_weights.get(m, 0) for m in dict.fromkeys([*layer_live, *layer_weights])}
    return Footprint(
        capacity_bits=int(capacity_bits),
        weight_onchip_bits=int(sum(layer_weights.values())),
        peak_activation_bits=workload.peak_activation_bits,
        layer_weight_bits=FrozenMap(ordered),
        layer_live_activation_bits=FrozenMap({m: layer_live.get(m, 0) for m in ordered}),
        spilling_layers=tuple(spilling_layers),
    )


def _range_max(values: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``max(values[start[i] : end[i] + 1])`` for every i: a sparse table (log2(n) levels of numpy maxima)."""
    table = [values]
    while 2 ** len(table) <= values.size:
        prev, half = table[-1], 2 ** (len(table) - 1)
        table.append(np.maximum(prev[:-half], prev[half:]))
    level = np.floor(np.log2(end - start + 1)).astype(np.int64)
    out = np.empty(start.size, dtype=values.dtype)
    for k in np.unique(level):  # one vectorised query per table level
        sel = level == k
        out[sel] = np.maximum(table[k][start[sel]], table[k][end[sel] - 2**k + 1])
    return out


def kept_activations(workload: Workload, budget_bits: float) -> frozenset[str]:
    """Model inputs and activations that stay on chip from their producer to their last reader.

    The unit decided is a tensor as some op writes it: a buffer's first value and each in-place
    rewrite of it (the ``relu_``/``add_`` outputs, aliases an op writes) are decided apart, each over
    its own span from producer to last reader; a tensor is kept when the live activation bits
    (``Workload.live_bits_per_op``, where a buffer counts once however often it is rewritten) never
    exceed ``budget_bits`` over its span. An in-place op whose input is kept and whose output is not
    spills the buffer there (or, the other way round, fills it). Aliases no op writes (views) live
    with their owner and extend its span.

    Monotone by construction: a larger budget keeps a superset. Safe: at every op the kept buffers are
    a subset of the live ones, so they never exceed the budget.
    """
    live = workload.live_bits_per_op()
    owners = set(workload.lifetimes().names)
    if not owners or not live.size:
        return frozenset()
    written = {a.tensor for op in workload.ops for a in op.writes}
    last = live.size - 1
    span: dict[str, list[int]] = {}
    views: list[tuple[str, str]] = []
    for t in workload.tensors.values():
        if t.kind == "weight" or (t.alias_of or t.name) not in owners:
            continue
        start = min(t.producer or 0, last)
        end = min(max(t.last_use if t.last_use is not None else start, start), last)
        if t.alias_of is None or t.name in written:
            span[t.name] = [start, max(span.get(t.name, [0, end])[1], end)]
        else:
            views.append((t.name, t.alias_of))
            span.setdefault(t.alias_of, [min(workload.tensors[t.alias_of].producer or 0, last), end])
            span[t.alias_of][1] = max(span[t.alias_of][1], end)
    names = list(span)
    bounds = np.asarray([span[n] for n in names], dtype=np.int64)
    peak = _range_max(live, bounds[:, 0], bounds[:, 1])
    kept = {n for n, p in zip(names, peak.tolist()) if p <= budget_bits}
    kept.update(view for view, owner in views if owner in kept)
    return frozenset(kept)
