"""Timing of EIE's CSC dataflow: the activation queues and how column pointers that overflow a PE's
pointer SRAM reach it (split out of ``sparse_csc``; the dataflow is described there).

Pointer SRAM overflow (``CSCConfig.pointer_capacity``, ``CSCConfig.pointer_overflow``): a PE needs ``cols + 1``
column pointers (column ``j`` spans pointers ``j`` and ``j + 1``); EIE's 32 KB pointer SRAM of 16-bit pointers
holds 16,384, so VGG-16 fc6 (25,088 inputs) does not fit. How the paper ran that layer is not in its text, so
each way of running it is a labelled strategy (``POINTER_OVERFLOW``), chosen by the profile:

* ``"reload-idle"``: the overflow is loaded by the central unit's DMA in I/O mode, when "all of the PEs are
  idle" (Han et al. 2016, Sec. IV, Central Control Unit; recalled, not in reference.md): ``cols + 1 - capacity``
  pointers per PE per vector (the rest stays resident), read from DRAM before the PEs start.
* ``"stream"`` (pjsim assumption): the LNZD broadcasts the non-zero activations in ascending column order
  (Sec. IV), so the first ``capacity`` pointers stay resident and the DMA streams the rest, ``p[capacity]`` to
  ``p[cols]``, in column order into the slots of pointers already consumed, while the PEs compute; column
  ``j`` is broadcast only once ``p[j + 1]`` has arrived. The same DRAM volume as ``reload-idle``, but
  overlapped. (The DMA would have to run a whole pointer SRAM ahead of the PEs to overwrite a pointer still
  needed; at EIE's 4 DRAM cycles per column it stays behind, so that bound is not modelled.)
* ``"stream-active"`` (pjsim assumption): as ``"stream"``, but only the (start, end) pointer pairs of the
  overflow columns whose activation is non-zero are fetched, which needs the non-zero positions before the
  broadcast (a gather DMA fed by a scan of the activation SRAM, not described in the paper).
* ``"double-buffer"`` (pjsim assumption): the pointer SRAM as two halves of ``capacity / 2`` pointers; the
  layer runs in passes of ``capacity / 2 - 1`` columns, the first resident, each next one loaded by DMA into
  the other half while the current one computes (once the pass before the current one has finished on
  every PE); a pass's columns wait for its whole load. Halving the resident part, it streams more pointers
  than ``"stream"``. (Not EIE's even/odd banks, which hold the even and odd pointers of every column so
  that a column's start and end pointer are read in one cycle.)
* ``"double-buffer-active"`` (pjsim assumption): as ``"double-buffer"`` with the gather of
  ``"stream-active"``: each loaded pass holds the (start, end) pairs of ``capacity / 4`` non-zero
  activations' columns.
* ``"on-chip"`` (pjsim assumption; the bound of any encoding that keeps every pointer on chip, e.g. 8-bit
  column lengths, 25,088 B < 32 KB, summed by the pointer unit while the previous column's entries stream):
  no DRAM traffic, no delay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.hardware.profile import POINTER_OVERFLOW, CSCConfig

__all__ = ["POINTER_OVERFLOW", "PointerPlan", "passes_cycles", "plan_pointers", "pointer_reload", "queue_cycles",
           "timed_cycles"]


def queue_cycles(work: np.ndarray, depth: int, ready: np.ndarray | None = None) -> float:
    """Cycles for ``work[j, p]`` (PE ``p``'s cycles on the j-th broadcast activation) through the queues.

    The broadcaster sends at most one activation per cycle, only when every PE's queue has room (PE ``p``
    has started activation ``j - depth``) and not before ``ready[j]`` (its column pointers are on chip;
    None = always); PE ``p`` starts activation ``j`` once it is broadcast and it finished ``j - 1``. The
    layer ends when the last PE finishes. A loop over the broadcast activations (a time recurrence),
    vectorised over the PEs.
    """
    n, p = work.shape
    if n == 0:
        return 0.0
    ready_at = np.zeros(n) if ready is None else np.asarray(ready, dtype=float)
    start = np.zeros((depth, p))
    finish = np.zeros(p)
    sent = -1.0
    for j in range(n):
        sent = max(sent + 1.0, float(start[j % depth].max()) if j >= depth else 0.0, float(ready_at[j]))
        s = np.maximum(finish, sent)
        start[j % depth] = s
        finish = s + work[j]
    return float(finish.max())


def pointer_reload(cols: int, cfg: CSCConfig) -> int:
    """Column pointers beyond the pointer SRAM (``cfg.pointer_capacity``; 0 = unbounded) that a PE loads per
    input vector under ``"reload-idle"`` / ``"stream"``: ``cols + 1 - capacity``, else 0."""
    if cfg.pointer_capacity <= 0:
        return 0
    return max(0, cols + 1 - cfg.pointer_capacity)


@dataclass(frozen=True, slots=True)
class PointerPlan:
    """How one input vector's column pointers reach the PEs.

    Attributes:
        dram_pointers: pointers per PE read from DRAM for this vector (0 when they fit).
        ready: earliest broadcast cycle per active column (its pointers on chip), for ``queue_cycles``.
        idle: True when the DRAM load precedes the compute with the PEs idle (``"reload-idle"``), so the
            layer's time is the PEs' time plus the load; False when it overlaps (``ready`` holds its effect).
    """

    dram_pointers: int
    ready: np.ndarray
    idle: bool = False
    #: Double-buffered passes: the pass of each active column (0 = resident) and each pass's load cycles;
    #: None for the other strategies (then ``ready`` is exact; here it ignores the buffer release).
    pass_of: np.ndarray | None = None
    pass_load: np.ndarray | None = None


def _reload_idle(cols: int, active: np.ndarray, cfg: CSCConfig, cycles_per_pointer: float) -> PointerPlan:
    return PointerPlan(pointer_reload(cols, cfg), np.zeros(active.size), idle=True)


def _stream(cols: int, active: np.ndarray, cfg: CSCConfig, cycles_per_pointer: float) -> PointerPlan:
    # p[k] (k >= capacity) arrives at (k - capacity + 1) x cycles_per_pointer; column j needs p[j + 1].
    ready = np.maximum(active + 2 - cfg.pointer_capacity, 0) * cycles_per_pointer
    return PointerPlan(pointer_reload(cols, cfg), ready)


def _stream_active(cols: int, active: np.ndarray, cfg: CSCConfig, cycles_per_pointer: float) -> PointerPlan:
    # The i-th active column with p[j + 1] beyond the SRAM arrives after i + 1 (start, end) pairs.
    spill = active + 1 >= cfg.pointer_capacity
    ready = np.zeros(active.size)
    ready[spill] = (np.arange(int(spill.sum())) + 1) * 2 * cycles_per_pointer
    return PointerPlan(2 * int(spill.sum()), ready)


def _double_buffer(cols: int, active: np.ndarray, cfg: CSCConfig, cycles_per_pointer: float,
                   active_only: bool = False) -> PointerPlan:
    half = cfg.pointer_capacity // 2
    resident = half - 1  # columns 0 .. half - 2 (half pointers)
    if active_only:
        beyond = np.cumsum(active >= resident) - 1  # index among the non-resident active columns
        pass_of = np.where(active >= resident, beyond // max(half // 2, 1) + 1, 0)
        pointers = 2 * np.bincount(pass_of, minlength=int(pass_of.max(initial=0)) + 1)
    else:
        pass_of = (active // resident).astype(np.int64)
        n_pass = -(-cols // resident)
        pointers = np.full(n_pass, resident + 1)
        pointers[-1] = cols - (n_pass - 1) * resident + 1
    pointers[0] = 0  # the resident pass
    load = pointers * cycles_per_pointer
    ready = np.cumsum(load)[pass_of]
    return PointerPlan(int(pointers.sum()), ready, pass_of=pass_of, pass_load=load.astype(float))


def _double_buffer_active(cols: int, active: np.ndarray, cfg: CSCConfig, cycles_per_pointer: float) -> PointerPlan:
    return _double_buffer(cols, active, cfg, cycles_per_pointer, active_only=True)


def passes_cycles(work: np.ndarray, depth: int, pass_of: np.ndarray, pass_load: np.ndarray) -> float:
    """``queue_cycles`` for double-buffered passes: pass ``k``'s load starts when pass ``k - 1``'s load has
    ended and pass ``k - 2`` has finished on every PE (its half is free), and its columns wait for the load.
    The same time recurrence, with each pass's load end worked out when its first column comes up."""
    n, p = work.shape
    if n == 0:
        return 0.0
    start, finish, sent = np.zeros((depth, p)), np.zeros(p), -1.0
    loaded = np.zeros(len(pass_load))  # load end per pass, filled in order
    done = np.zeros(len(pass_load))  # cycle every PE has finished the pass
    known = 0  # passes 0 .. known have load ends
    current = 0
    for j in range(n):
        k = int(pass_of[j])
        if k != current:
            done[current:k] = finish.max()  # passes up to k - 1 are finished (empty ones with them)
            for q in range(known + 1, k + 1):
                loaded[q] = max(loaded[q - 1], done[q - 2] if q >= 2 else 0.0) + pass_load[q]
            known, current = max(known, k), k
        sent = max(sent + 1.0, float(start[j % depth].max()) if j >= depth else 0.0, float(loaded[k]))
        s = np.maximum(finish, sent)
        start[j % depth] = s
        finish = s + work[j]
    return float(finish.max())


def timed_cycles(work: np.ndarray, depth: int, plan: PointerPlan) -> float:
    """The queue time of ``work`` under a pointer plan (``queue_cycles`` or, for passes, ``passes_cycles``)."""
    if plan.pass_of is None:
        return queue_cycles(work, depth, plan.ready)
    return passes_cycles(work, depth, plan.pass_of, plan.pass_load)


def _on_chip(cols: int, active: np.ndarray, cfg: CSCConfig, cycles_per_pointer: float) -> PointerPlan:
    return PointerPlan(0, np.zeros(active.size))


#: ``CSCConfig.pointer_overflow`` -> its plan (see the module docstring for what each assumes).
_STRATEGIES: dict[str, Callable[[int, np.ndarray, CSCConfig, float], PointerPlan]] = {
    "reload-idle": _reload_idle, "stream": _stream, "stream-active": _stream_active,
    "double-buffer": _double_buffer, "double-buffer-active": _double_buffer_active, "on-chip": _on_chip,
}
assert tuple(_STRATEGIES) == POINTER_OVERFLOW


def plan_pointers(cols: int, active: np.ndarray, cfg: CSCConfig, dram_bits_per_cycle: float | None,
                  strategy: str | None = None) -> PointerPlan:
    """The pointer plan of a layer with ``cols`` inputs whose non-zero activations are ``active`` (ascending),
    under ``strategy`` (default: the profile's ``cfg.pointer_overflow``). ``dram_bits_per_cycle``: the DRAM
    read bandwidth the DMA streams at (one pointer of every PE = ``pes x pointer_bits`` bits); None when
    there is no DRAM (then nothing may overflow)."""
    if cfg.pointer_capacity <= 0 or cols + 1 <= cfg.pointer_capacity:
        return PointerPlan(0, np.zeros(active.size))
    name = strategy or cfg.pointer_overflow
    if name not in _STRATEGIES:
        raise ValueError(f"pointer overflow strategy {name!r}: expected one of {list(_STRATEGIES)}")
    per_pointer = cfg.pes * cfg.pointer_bits / dram_bits_per_cycle if dram_bits_per_cycle else 0.0
    return _STRATEGIES[name](cols, active, cfg, per_pointer)
