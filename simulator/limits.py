"""Limits the CLI offers as option defaults, in a module of their own so ``pjsim --help`` can show them
without importing the machinery that enforces them (see ``simulator.engines`` for the same reason)."""

from __future__ import annotations

__all__ = ["MAX_PLAN_POINTS"]

#: Most points a sweep may sample (grid size, or ``samples``) unless the caller raises it
#: (``pjsim sweep --max-points``): a 10^10-point grid is refused before anything is allocated
#: (``simulator.sweep.plan.check_plan_size``).
MAX_PLAN_POINTS = 100_000
