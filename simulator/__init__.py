"""pjsim: a hardware-aware energy and memory simulator for neural networks.

Public API (imported lazily, so ``import simulator.energy`` never pulls in torch); each CLI command
has its function here::

    from simulator import simulate, load_profile, write_html
    from simulator.trace import trace        # trace(model, example_inputs, record=None) -> Workload
    report = simulate("lenet_300_100", "horowitz45")       # pjsim simulate
    report.headline(), report.to_frame()                   # summary view; tidy pandas table (the data API)
    write_html(configuration_for("lenet_300_100"), "reports/lenet.html")   # pjsim report (simulator.studies)
    run_demo("reports/demo.html")                          # pjsim demo
    deep_compression(model, recipe, ...)                   # pjsim compress
    run_sweep("examples/sweeps/lenet_sram_density.toml")   # pjsim sweep
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "CostReport",
    "HardwareProfile",
    "Workload",
    "configuration_for",
    "deep_compression",
    "load_profile",
    "load_report_json",
    "pack",
    "run_demo",
    "run_sweep",
    "simulate",
    "trace_model",
    "unpack",
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
    "configuration_for": "simulator.studies",
    "load_report_json": "simulator.report",
    "run_demo": "simulator.demo",
    "deep_compression": "simulator.compress",
    "pack": "simulator.storage",
    "unpack": "simulator.storage",
    "run_sweep": ("simulator.sweep", "run"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        target = _LAZY[name]
        module, attr = target if isinstance(target, tuple) else (target, name)
        return getattr(import_module(module), attr)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
