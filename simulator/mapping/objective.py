"""What the tile search minimises (``simulate(..., objective=...)``) and the one tie-break rule.

Every candidate tiling of a boundary (``tiling.search_tile``) gets an energy and a latency, and the
objective picks the score:

* ``energy``: the energy of the traffic across the boundary (and, innermost, of the partial sums the
  compute array keeps in the tile);
* ``latency``: the boundary's cycles in the double-buffered pipeline of ``memsim.phases`` with the op's
  compute cycles ``C`` (the same for every tiling, ``compute.py``) and ``T`` steps (``pipeline_latency``):
  the first step's transfer is exposed, the other steps overlap transfer and compute, the last step's
  compute is exposed: ``max(Xp, Xc) / T + max(Xp + Pp, Xc + Pc, C) (T - 1) / T + C / T``, where
  ``Xp`` / ``Xc`` are the cycles the candidate's traffic keeps the parent's / the child's port busy
  (``bits / bandwidth_bits_per_cycle``; the two ports work concurrently) and ``Pp`` / ``Pc`` the cycles
  those ports spend on the op's other traffic (the outer boundaries already chosen, at least one pass
  through the level below);
* ``edp``: energy x latency.

Tie-break (``choose``, the one rule): among candidates of (relatively, 1e-9) equal score, the one with
the *most* steps (smaller steps let the memory model overlap the next step's transfers with this step's
compute; fewest steps serialises them), then the lower energy, then the lower latency, then the first in
enumeration order (loop orders as in ``tiling.ORDERS``, then the smaller m, n, k).

NB: the latency is an estimate per boundary; the simulated op (``memsim``) sees all boundaries at once,
so the latency objective's schedule can be a little slower than the energy objective's when both are
bound by the same port (ResNet-18 on ``horowitz45-sram512k``: +0.06%).
"""

from __future__ import annotations

import numpy as np

from simulator.engines import OBJECTIVES

__all__ = ["OBJECTIVES", "check_objective", "choose", "pipeline_latency"]


def check_objective(objective: str) -> str:
    """``objective`` if it names one of ``OBJECTIVES``; a ValueError naming the choices otherwise."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    return objective


def pipeline_latency(
    parent_port: np.ndarray, child_port: np.ndarray, port_load_cycles: tuple[float, float], compute_cycles: float,
    steps: np.ndarray,
) -> np.ndarray:
    """Cycles of the double-buffered pipeline per candidate (module docstring)."""
    load_p, load_c = port_load_cycles
    busy = np.maximum(np.maximum(parent_port + load_p, child_port + load_c), compute_cycles)
    return np.maximum(parent_port, child_port) / steps + busy * (steps - 1.0) / steps + compute_cycles / steps


def _relative(values: np.ndarray, of: np.ndarray | None = None) -> np.ndarray:
    """``values`` over the least finite entry of ``of`` (default: of ``values``), rounded to 1e-9: equal
    within that are ties."""
    ref = values if of is None else of
    finite = ref[np.isfinite(ref)]
    scale = max(float(finite.min()), 1e-9) if finite.size else 1.0
    return np.round(values / scale, 9)


def choose(
    objective: str, energy: np.ndarray, latency: np.ndarray, steps: np.ndarray, tie_break: str = "most_steps"
) -> int:
    """Index of the winning candidate: least score, then the tie-break rule of the module docstring."""
    score = _relative({"energy": energy, "latency": latency, "edp": energy * latency}[objective])
    tied = np.flatnonzero(score == score.min())
    if tied.size == 1:
        return int(tied[0])
    overlap = -steps[tied] if tie_break == "most_steps" else steps[tied]
    # np.lexsort sorts by the last key first; it is stable, so full ties keep enumeration order.
    order = np.lexsort((_relative(latency[tied], latency), _relative(energy[tied], energy), overlap))
    return int(tied[order[0]])
