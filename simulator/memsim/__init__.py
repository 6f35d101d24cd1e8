"""memsim: the SimPy model of the memory hierarchy that plays a Schedule.

Only ``levels.py`` and ``engine.py`` import simpy; they are loaded lazily so that importing
``simulator.memsim.stats`` (as the energy model does) never pulls simpy in.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from simulator.memsim.closed_form import closed_form_stats
from simulator.memsim.stats import MemoryStats

__all__ = ["MemoryStats", "closed_form_stats", "simulate_schedule"]


def __getattr__(name: str) -> Any:
    if name == "simulate_schedule":
        return import_module("simulator.memsim.engine").simulate_schedule
    raise AttributeError(f"module 'simulator.memsim' has no attribute {name!r}")
