"""pjsim: a hardware-aware energy and memory simulator for neural networks.

Public API (imported lazily, so ``import simulator.energy`` never pulls in torch)::

    from simulator import simulate, load_profile, write_html
    from simulator.trace import trace        # trace(model, example_inputs, record=None) -> Workload
    report = simulate("lenet_300_100", "horowitz45")
    write_html(report, "reports/lenet.html")
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "CostReport",
    "HardwareProfile",
    "Workload",
    "load_profile",
    "simulate",
    "trace_model",
    "write_html",
]

_LAZY = {
    "CostReport": "simulator.cost",
    "HardwareProfile": "simulator.hardware",
    "Workload": "simulator.workload",
    "load_profile": "simulator.hardware",
    "simulate": "simulator.api",
    "trace_model": "simulator.api",
    "write_html": "simulator.report",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
