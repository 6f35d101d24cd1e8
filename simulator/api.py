"""The Python API in one place: the same jobs the CLI runs, as functions.

``simulate`` takes a zoo name, an ``nn.Module`` or a traced ``Workload`` and a profile (name, path
or ``HardwareProfile``) and returns a ``CostReport``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.cost import CostReport
from simulator.energy import estimate_no_reuse
from simulator.hardware import HardwareProfile, load_profile
from simulator.workload import CompressionRecord, Workload

__all__ = ["resolve_profile", "simulate", "trace_model"]


def resolve_profile(profile: str | Path | HardwareProfile) -> HardwareProfile:
    """A ``HardwareProfile`` from a shipped name, a path, or a profile."""
    return profile if isinstance(profile, HardwareProfile) else load_profile(profile)


def trace_model(model: Any, example_inputs: Any = None, record: CompressionRecord | None = None, batch_size: int = 1) -> Workload:
    """Trace a zoo name (``"lenet_300_100"``), a ``package.module:factory`` path or an ``nn.Module``."""
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
    return trace(model, example_inputs, record=record, model_name=name)


def simulate(
    model_or_workload: Any,
    profile: str | Path | HardwareProfile = "horowitz45",
    example_inputs: Any = None,
    record: CompressionRecord | None = None,
    batch_size: int = 1,
) -> CostReport:
    """Cost one inference of a model (or an already traced ``Workload``) on a hardware profile.

    Currently the no-reuse baseline (``simulator.energy.estimate_no_reuse``); the SimPy memory
    hierarchy replaces it behind this same signature.
    """
    hw = resolve_profile(profile)
    workload = (
        model_or_workload
        if isinstance(model_or_workload, Workload)
        else trace_model(model_or_workload, example_inputs, record, batch_size)
    )
    return estimate_no_reuse(workload, hw)
