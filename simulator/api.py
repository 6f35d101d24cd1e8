"""The Python API in one place: the same jobs the CLI runs, as functions.

``simulate`` takes a zoo name, an ``nn.Module`` or a traced ``Workload`` and a profile (name, path
or ``HardwareProfile``) and returns a ``CostReport``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.cost import CostReport
from simulator.energy import estimate_no_reuse
from simulator.hardware import HardwareProfile, Precision, load_profile
from simulator.workload import CompressionRecord, Workload

if TYPE_CHECKING:
    from simulator.memsim.dram import DramDevice

__all__ = ["ENGINES", "FIDELITIES", "LAYER_MODES", "resolve_precision", "resolve_profile", "simulate", "trace_model"]


def resolve_profile(profile: str | Path | HardwareProfile) -> HardwareProfile:
    """A ``HardwareProfile`` from a shipped name, a path, or a profile."""
    return profile if isinstance(profile, HardwareProfile) else load_profile(profile)


def trace_model(
    model: Any,
    example_inputs: Any = None,
    record: CompressionRecord | None = None,
    batch_size: int = 1,
    device: str | None = None,
) -> Workload:
    """Trace a zoo name (``"lenet_300_100"``), a ``package.module:factory`` path or an ``nn.Module``.

    ``device="meta"`` traces without weight or activation memory (see ``simulator.trace.trace``).
    """
    from models import load_model, model_spec
    from simulator.trace import trace

    name = None
    if isinstance(model, str):
        name = model
        if example_inputs is None and ":" not in model:
            example_inputs = model_spec(model).example_input(batch_size)
        model = load_model(model)
        model.eval()
    if example_inputs is None:
        raise ValueError("example_inputs are needed to trace a model that is not in the zoo")
    return trace(model, example_inputs, record=record, model_name=name, device=device)


ENGINES = ("simpy", "closed-form", "baseline")
LAYER_MODES = ("network", "independent")
FIDELITIES = ("window", "full")


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


def simulate(
    model_or_workload: Any,
    profile: str | Path | HardwareProfile = "horowitz45",
    example_inputs: Any = None,
    record: CompressionRecord | None = None,
    batch_size: int = 1,
    *,
    engine: str = "simpy",
    fuse_elementwise: bool = True,
    strict: bool = False,
    timeline: bool = True,
    precision: str | Precision | None = None,
    layers: str = "network",
    dram: str | DramDevice | None = None,
    cores: int | None = None,
    fidelity: str = "window",
) -> CostReport:
    """Cost one inference of a model (or an already traced ``Workload``) on a hardware profile.

    Pipeline: trace (unless given a workload) -> map (``simulator.mapping.map_workload``) -> play the
    schedule (``engine``) -> price it (``simulator.energy.estimate_energy``).

    Args:
        model_or_workload: a zoo name, a ``package.module:factory`` path, an ``nn.Module`` or a ``Workload``.
        profile: a shipped profile name, a TOML path or a ``HardwareProfile``.
        example_inputs: inputs to trace with (zoo models have a default).
        record: compression record describing the weights' encodings.
        batch_size: batch of the default example input.
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
        dram: the DRAM behind the profile's DRAM level: a preset name (``"lpddr4-3200"``, ``"ddr4-3200-x64"``,
            ``"hbm2"``; ``simulator.memsim.dram_presets``), a ``DramDevice``, or ``"flat"`` (per-bit energy,
            flat bandwidth and latency); default: the profile's ``[memory.<dram>] device``. With a device,
            DRAM energy is its per-command energy. Ignored by ``engine="baseline"`` (always flat).
        cores: requestors sharing the DRAM (batch split: each core runs one inference; the report is per
            inference); default: the profile's ``[compute] cores``. Needs ``engine="simpy"`` when > 1.
        fidelity: ``"window"`` (bounded events: a window of steady-state steps per op, extrapolated) or
            ``"full"`` (every step; for verification). SimPy engine only.

    Raises:
        MappingError: a memory level cannot hold an op's smallest tile (names the op and the capacity needed).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if layers not in LAYER_MODES:
        raise ValueError(f"layers must be one of {LAYER_MODES}, got {layers!r}")
    if fidelity not in FIDELITIES:
        raise ValueError(f"fidelity must be one of {FIDELITIES}, got {fidelity!r}")
    hw = resolve_profile(profile)
    cores = hw.compute.cores if cores is None else cores
    if not isinstance(cores, int) or cores < 1:
        raise ValueError(f"cores must be a whole number >= 1, got {cores!r}")
    if cores > 1 and engine != "simpy":
        raise ValueError(f"cores={cores} (several requestors sharing the DRAM) needs engine='simpy', got {engine!r}")
    workload = (
        model_or_workload
        if isinstance(model_or_workload, Workload)
        else trace_model(model_or_workload, example_inputs, record, batch_size)
    )
    workload, hw = resolve_precision(workload, hw, precision)
    if engine == "baseline":
        return estimate_no_reuse(workload, hw)
    from simulator.energy import estimate_energy
    from simulator.mapping import map_workload
    from simulator.memsim import closed_form_stats, simulate_schedule
    from simulator.memsim.dram_presets import resolve_dram

    where = "dram= of simulate()" if dram is not None else f"{hw.path or hw.name}: memory.{hw.dram.name}.device"
    device = resolve_dram(dram, hw.dram.device, where)
    schedule = map_workload(workload, hw, fuse_elementwise=fuse_elementwise, strict=strict,
                            independent_layers=layers == "independent")
    if engine == "simpy":
        stats = simulate_schedule(schedule, hw, timeline=timeline, fidelity=fidelity, dram=device, cores=cores)
    else:
        stats = closed_form_stats(schedule, hw, dram=device)
    return estimate_energy(workload, schedule, stats, hw, dram=device)
