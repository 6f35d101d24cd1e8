"""The engines that time a schedule (``simulator.api.simulate(engine=...)``), named in one place.

A module of its own so the CLI and sweep specs can offer the choice without importing the cost
model (``pjsim --help`` stays fast): ``"simpy"`` (discrete-event memory model), ``"closed-form"``
(the same phases timed by formula) and ``"baseline"`` (no reuse: every operand from DRAM per op).
"""

from __future__ import annotations

__all__ = ["ENGINES", "FIDELITIES", "OBJECTIVES"]

ENGINES: tuple[str, ...] = ("simpy", "closed-form", "baseline")

#: How the SimPy engine plays each op (``simulate(fidelity=...)``): ``"window"`` simulates a window of
#: steady-state steps and extrapolates (bounded events); ``"full"`` plays every step (for verification).
FIDELITIES: tuple[str, ...] = ("window", "full")

#: What the mapper's tile search minimises (``simulate(objective=...)``, ``--objective``): energy, latency
#: or energy-delay product; scores and tie-break in ``simulator.mapping.objective``.
OBJECTIVES: tuple[str, ...] = ("energy", "latency", "edp")
