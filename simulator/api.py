"""The Python API in one place: the same jobs the CLI runs, as functions.

``simulate`` takes a zoo name, an ``nn.Module`` or a traced ``Workload`` and a profile (name, path
or ``HardwareProfile``) and returns a ``CostReport``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.cost import CostReport
from simulator.frozen import FrozenMap
from simulator.energy import estimate_no_reuse
from simulator.engines import ENGINES, FIDELITIES, OBJECTIVES
from simulator.hardware import HardwareProfile, Precision, load_profile
from simulator.workload import CompressionRecord, Workload

if TYPE_CHECKING:
    from simulator.memsim.dram import DramDevice

__all__ = [
    "ENGINES", "FIDELITIES", "LAYER_MODES", "resolve_precision", "resolve_profile", "simulate", "trace_model",
    "weight_patterns", "with_activation_density",
]


def resolve_profile(profile: str | Path | HardwareProfile) -> HardwareProfile:
    """A ``HardwareProfile`` from a shipped name, a path, or a profile."""
    return profile if isinstance(profile, HardwareProfile) else load_profile(profile)


def trace_model(
    model: Any,
    example_inputs: Any = None,
    record: CompressionRecord | None = None,
    batch_size: int | None = None,
    device: str | None = None,
    input_shape: tuple[int, ...] | None = None,
    inputs: Any = None,
) -> Workload:
    """Trace a model argument, a ``models.resolve.ResolvedModel`` or an ``nn.Module``.

    A string goes through ``models.resolve.resolve_model`` (one resolver for the CLI and the API): a
    zoo name (``"lenet_300_100"``), ``package.module:factory`` (needs ``input_shape`` or
    ``example_inputs``) or a ``.pjc`` file (costed with its stored encodings unless ``record`` is
    given), ``.pt``/``.pth`` (``FILE.pt@ARCH``) or ``.onnx``. ``input_shape`` is batch first and its
    batch is honoured; ``inputs`` are typed input specs instead (``"ids:int64[1,128]"``, one per
    forward argument; ``models.input_spec``). ``device="meta"`` traces without weight or activation
    memory (see ``simulator.trace.trace``).
    """
    from simulator.trace import trace

    name = None
    if isinstance(model, str) or _is_resolved(model):
        from models.resolve import resolve_model

        resolved = model if _is_resolved(model) else resolve_model(
            model, input_shape, batch_size, example_inputs, inputs=inputs)
        name = resolved.name if resolved.source in ("zoo", "import", "onnx") else f"{resolved.name} ({resolved.label})"
        model, example_inputs = resolved.module, resolved.example_inputs
        record = resolved.record if record is None else record
    if example_inputs is None and inputs:
        from models.input_spec import make_inputs

        example_inputs = make_inputs(list(inputs), model, batch_size)
    if example_inputs is None:
        raise ValueError("example_inputs (or inputs=[...] specs) are needed to trace an nn.Module")
    return trace(model, example_inputs, record=record, model_name=name, device=device)


def _is_resolved(model: Any) -> bool:
    """A ``models.resolve.ResolvedModel`` (checked by name: the API does not import torch to test it)."""
    return type(model).__name__ == "ResolvedModel" and hasattr(model, "example_inputs")


LAYER_MODES = ("network", "independent")


def resolve_precision(
    workload: Workload, hw: HardwareProfile, precision: str | Precision | None
) -> tuple[Workload, HardwareProfile]:
    """The workload re-typed at the run's precision (else the profile's ``[compute.precision]``) and the
    profile with the run's accumulator width; both unchanged when neither declares one."""
    from dataclasses import replace

    from simulator.mapping.precision import at_precision

    chosen = Precision.parse(precision) if isinstance(precision, str) else precision
    chosen = chosen if chosen is not None else hw.compute.precision
    if chosen is None:
        return workload, hw
    if chosen.accumulator_bits is not None and chosen.accumulator_bits != hw.compute.accumulator_bits:
        hw = replace(hw, compute=replace(hw.compute, accumulator_bits=chosen.accumulator_bits))
    return at_precision(workload, chosen), hw


def weight_patterns(module: Any) -> dict[str, Any]:
    """The non-zero pattern (``sparse_csc.WeightPattern``) of every 2-D weight of an ``nn.Module``, by
    parameter name (the workload's weight names): what sparse dataflows cost each PE's work from."""
    from simulator.mapping.sparse_csc import WeightPattern

    return {
        name: WeightPattern.from_mask(p.detach().cpu().numpy() != 0)
        for name, p in module.named_parameters()
        if p.dim() == 2 and not p.is_meta
    }


def with_activation_density(workload: Workload, activation_density: Mapping[str, float]) -> Workload:
    """The workload with the input activations of the named layers set to a density of non-zeros.

    ``{layer: d}``: every non-weight tensor read by an op of module ``layer`` gets
    ``measured_density = d`` (it replaces a density measured during tracing). The key ``"*"`` names every
    layer with MACs (``pjsim simulate --activation-density 0.35``); a named layer overrides it.

    Raises:
        ValueError: a layer the workload does not have (naming the known layers), or ``d`` outside (0, 1].
    """
    from simulator.workload import make_workload

    layers = {op.module for op in workload.ops}
    tensors = dict(workload.tensors)
    if "*" in activation_density:
        every = {op.module: activation_density["*"] for op in workload.ops if op.macs > 0}
        activation_density = {**every, **{k: v for k, v in activation_density.items() if k != "*"}}
    for layer, density in activation_density.items():
        if layer not in layers:
            raise ValueError(
                f"activation_density: no layer {layer!r} in {workload.model_name}; layers: {sorted(layers)}"
            )
        if not isinstance(density, (int, float)) or not 0.0 < float(density) <= 1.0:
            raise ValueError(f"activation_density[{layer!r}]: expected a density in (0, 1], got {density!r}")
        for op in workload.ops:
            if op.module == layer:
                for access in op.reads:
                    info = tensors[access.tensor]
                    if info.kind != "weight":
                        tensors[access.tensor] = replace(info, measured_density=float(density))
    return make_workload(workload.model_name, workload.ops, tensors, workload.unsupported, workload.batch_size)


def simulate(
    model_or_workload: Any,
    profile: str | Path | HardwareProfile = "horowitz45",
    example_inputs: Any = None,
    record: CompressionRecord | None = None,
    batch_size: int | None = None,
    *,
    input_shape: tuple[int, ...] | None = None,
    inputs: Any = None,
    compress: Any = None,
    engine: str = "simpy",
    fuse_elementwise: bool = True,
    strict: bool = False,
    timeline: bool = True,
    precision: str | Precision | None = None,
    layers: str = "network",
    activation_density: Mapping[str, float] | None = None,
    patterns: Mapping[str, Any] | None = None,
    dram: str | DramDevice | None = None,
    cores: int | None = None,
    fidelity: str = "window",
    objective: str = "energy",
    mapping: Any = None,
) -> CostReport:
    """Cost one inference of a model (or an already traced ``Workload``) on a hardware profile.

    Pipeline: trace (unless given a workload) -> map (``simulator.mapping.map_workload``) -> play the
    schedule (``engine``) -> price it (``simulator.energy.estimate_energy``).

    Args:
        model_or_workload: a zoo name, a ``package.module:factory`` path, a ``.pjc``/``.pt``/``.onnx``
            file, a ``models.resolve.ResolvedModel``, an ``nn.Module`` or a ``Workload`` (strings as
            ``trace_model`` resolves them).
        profile: a shipped profile name, a TOML path or a ``HardwareProfile``.
        example_inputs: inputs to trace with (zoo models have a default).
        record: compression record describing the weights' encodings.
        batch_size: batch of the default example input (default 1).
        input_shape: shape of the example input, batch first (its batch is honoured).
        inputs: typed input specs instead of a shape, one per forward argument
            (``["ids:int64[1,128]"]``; ``models.input_spec``).
        compress: what-if compression of the real weights before costing: a
            ``simulator.compress.whatif.WhatIf`` or its keywords (``{"prune": 0.1, "share_bits": 5,
            "index_bits": 5, "huffman": True}``); no training (prune + k-means share + encode).
        engine: ``"simpy"`` (discrete-event model, default), ``"closed-form"`` (same phases, timed by
            formula, no timeline) or ``"baseline"`` (no reuse: every operand from DRAM once per op).
        fuse_elementwise: fold elementwise ops into their producer.
        strict: raise ``MappingError`` for op kinds the mapper has no rule for (default: cost them as
            streaming ops and list them in the report's metadata).
        timeline: keep the SimPy timeline in the report (for the Gantt chart).
        precision: cost float tensors at these types, e.g. ``"int8"`` or ``"w=int8,a=int8,acc=32"`` (or a
            ``Precision``); default: the profile's ``[compute.precision]``, else as traced.
        layers: ``"network"`` (default: activations stay on chip while they fit, weights resident when
            everything fits) or ``"independent"`` (every layer costed on its own, reading its inputs from and
            writing its outputs to DRAM, as ZigZag's and SCALE-Sim's reference numbers do).
        activation_density: ``{layer: d}``, the fraction of non-zero input activations of a layer, set
            explicitly (replaces the density measured while tracing); recorded in the report's metadata.
        patterns: weights' non-zero patterns for sparse dataflows (``weight_patterns(module)``); taken
            from the module itself when the profile's dataflow needs them and a module is given.
        dram: the DRAM behind the profile's DRAM level: a preset name (``"lpddr4-3200"``, ``"ddr4-3200-x64"``,
            ``"hbm2"``; ``simulator.memsim.dram_presets``), a ``DramDevice``, or ``"flat"`` (per-bit energy,
            flat bandwidth and latency); default: the profile's ``[memory.<dram>] device``. With a device,
            DRAM energy is its per-command energy. Ignored by ``engine="baseline"`` (always flat).
        cores: requestors sharing the DRAM (batch split: each core runs one inference; the report is per
            inference); default: the profile's ``[compute] cores``. Needs ``engine="simpy"`` when > 1.
        fidelity: ``"window"`` (bounded events: a window of steady-state steps per op, extrapolated) or
            ``"full"`` (every step; for verification). SimPy engine only.
        objective: what the mapper's tile search minimises: ``"energy"`` (default), ``"latency"`` or
            ``"edp"`` (energy x latency); ``simulator.mapping.objective`` states the scores and the tie-break.
            Ignored by ``engine="baseline"`` (no mapping).
        mapping: fixed mappings for some layers instead of the search: a ``FixedMapping`` (with ``layer``), an
            iterable of them, or a TOML file (``simulator.mapping.fixed.load_fixed_mapping``); counted by
            ``simulator.mapping.loopnest``; or a dataflow preset ``"os"``, ``"ws"``, ``"is"``, ``"rs"``
            (``simulator.mapping.fixed_templates``) for every MAC op; or ``"zigzag:PATH.yaml"``, a ZigZag mapping
            file replayed for every MAC op (``simulator.mapping.zigzag_replay``). Not with ``engine="baseline"``.

    Raises:
        MappingError: a memory level cannot hold an op's smallest tile (names the op and the capacity needed).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if layers not in LAYER_MODES:
        raise ValueError(f"layers must be one of {LAYER_MODES}, got {layers!r}")
    if fidelity not in FIDELITIES:
        raise ValueError(f"fidelity must be one of {FIDELITIES}, got {fidelity!r}")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    hw = resolve_profile(profile)
    model_name = None
    needs_module = compress is not None or (hw.compute.dataflow != "dense" and patterns is None)
    if needs_module and (isinstance(model_or_workload, str) or _is_resolved(model_or_workload)):
        from models.resolve import resolve_model  # the real weights: their pattern, or to compress them

        resolved = model_or_workload if _is_resolved(model_or_workload) else resolve_model(
            model_or_workload, input_shape, batch_size, example_inputs, inputs=inputs)
        model_or_workload, example_inputs = resolved.module, resolved.example_inputs
        record = resolved.record if record is None else record
        model_name = resolved.name if resolved.source in ("zoo", "import", "onnx") else f"{resolved.name} ({resolved.label})"
    compress_note = None
    if compress is not None:
        if isinstance(model_or_workload, Workload):
            raise ValueError("compress= needs the model's weights: give a model, not a traced Workload")
        from simulator.compress.whatif import apply_whatif

        model_or_workload, record, compress_note = apply_whatif(model_or_workload, compress, record)
    if patterns is None and hw.compute.dataflow != "dense" and not isinstance(model_or_workload, Workload):
        patterns = weight_patterns(model_or_workload)
    cores = hw.compute.cores if cores is None else cores
    if not isinstance(cores, int) or cores < 1:
        raise ValueError(f"cores must be a whole number >= 1, got {cores!r}")
    if cores > 1 and engine != "simpy":
        raise ValueError(f"cores={cores} (several requestors sharing the DRAM) needs engine='simpy', got {engine!r}")
    workload = (
        model_or_workload
        if isinstance(model_or_workload, Workload)
        else trace_model(model_or_workload, example_inputs, record, batch_size, input_shape=input_shape, inputs=inputs)
    )
    if model_name is not None and not isinstance(model_or_workload, Workload):
        workload = replace(workload, model_name=model_name)
    if activation_density:
        workload = with_activation_density(workload, activation_density)
    workload, hw = resolve_precision(workload, hw, precision)
    if engine == "baseline":
        if mapping is not None:
            raise ValueError("mapping= (fixed mappings) needs engine='simpy' or 'closed-form', not 'baseline'")
        return estimate_no_reuse(workload, hw)
    from simulator.energy import estimate_energy
    from simulator.mapping import map_workload
    from simulator.memsim import closed_form_stats, simulate_schedule
    from simulator.memsim.dram_presets import resolve_dram

    where = "dram= of simulate()" if dram is not None else f"{hw.path or hw.name}: memory.{hw.dram.name}.device"
    device = resolve_dram(dram, hw.dram.device, where)
    schedule = map_workload(workload, hw, fuse_elementwise=fuse_elementwise, strict=strict,
                            independent_layers=layers == "independent", weight_patterns=patterns,
                            objective=objective)
    if isinstance(mapping, str) and mapping.startswith("zigzag:"):
        from simulator.mapping.zigzag_replay import apply_zigzag_mapping

        schedule = apply_zigzag_mapping(schedule, workload, hw, mapping.removeprefix("zigzag:"))
    elif mapping is not None:
        from simulator.mapping.fixed_apply import apply_mapping_option

        schedule = apply_mapping_option(schedule, workload, hw, mapping)
    if engine == "simpy":
        stats = simulate_schedule(schedule, hw, timeline=timeline, fidelity=fidelity, dram=device, cores=cores)
    else:
        stats = closed_form_stats(schedule, hw, dram=device)
    report = estimate_energy(workload, schedule, stats, hw, dram=device)
    notes = {}
    if objective != "energy":
        notes["mapping objective"] = objective
    if compress_note:
        notes["what-if compression"] = compress_note
    if activation_density:
        notes["activation density (set)"] = ", ".join(f"{k}={float(v):.4g}" for k, v in activation_density.items())
    sparse = sorted({op.mapping for op in schedule.ops if op.mapping.startswith(hw.compute.dataflow)} - {"dense"})
    if hw.compute.dataflow != "dense":
        notes["dataflow"] = ", ".join(sparse) if sparse else f"{hw.compute.dataflow} (no op used it)"
    if notes:
        report = replace(report, metadata=FrozenMap({**report.metadata, **notes}))
    return report
