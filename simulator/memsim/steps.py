"""The steps of one op as the stateful SimPy model plays them (no simpy): op_step_groups(op, ...).

An op with ``T`` identical steps at the DRAM boundary loads, per step, its share of every DRAM read
stream into a staging slot of the global buffer, computes it (with the on-chip levels' traffic), and
writes its share of the DRAM writes back from the slot. ``fidelity="full"`` plays every step;
``fidelity="window"`` plays the first ``head`` steps and the last one one by one and the steady-state
steps between them in at most ``window - head - 1`` equal groups (identical steps: the group is one
longer step through the same slot), so the number of events is bounded whatever ``T`` is.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.engines import FIDELITIES  # every step, or a bounded window of steady-state steps
from simulator.mapping.schedule import OpSchedule, Schedule

__all__ = ["FIDELITIES", "StepGroup", "op_step_groups", "staging_capacity_bits", "step_footprint_bits"]



@dataclass(frozen=True, slots=True)
class StepGroup:
    """``steps`` consecutive identical steps played as one: bits per stream, compute cycles, slot size."""

    steps: int
    dram_reads: tuple[tuple[str, float], ...]
    dram_writes: tuple[tuple[str, float], ...]
    onchip: tuple[tuple[str, tuple[tuple[str, str, float], ...]], ...]
    compute_cycles: float
    slot_bits: float
    first: bool
    last: bool


def staging_capacity_bits(schedule: Schedule) -> float:
    """Global-buffer bits free for staging steps: all of it, less the resident weights when the model fits
    (the only place the memory model reads the schedule's residency)."""
    if not schedule.global_buffer:
        return float("inf")
    return schedule.global_buffer_bits - (schedule.weight_onchip_bits if schedule.fits_on_chip else 0)


def step_footprint_bits(op: OpSchedule, dram: str, global_buffer: str | None) -> float:
    """Bits one step holds in the global buffer: the mapper's tile there, else the step's DRAM traffic."""
    for tile in op.tiles:
        if tile.level == global_buffer:
            return float(tile.footprint_bits)
    steps = max(1, op.steps)
    return sum(b for (lv, _, _), b in op.traffic_bits.items() if lv == dram) / steps


def op_step_groups(op: OpSchedule, dram: str, global_buffer: str | None, fidelity: str = "window",
                   window: int = 8, head: int = 2) -> tuple[StepGroup, ...]:
    """The step groups of ``op`` in order (see the module docstring)."""
    if fidelity not in FIDELITIES:
        raise ValueError(f"fidelity must be one of {FIDELITIES}, got {fidelity!r}")
    if window < head + 2:
        raise ValueError(f"window must be at least head + 2 = {head + 2}, got {window}")
    total = max(1, op.steps)
    if fidelity == "full" or total <= window:
        sizes = [1] * total
    else:
        middle = total - head - 1
        n_groups = window - head - 1
        base, extra = divmod(middle, n_groups)
        sizes = [1] * head + [base + (i < extra) for i in range(n_groups)] + [1]
    reads = [(o, b) for (lv, o, d), b in op.traffic_bits.items() if lv == dram and d == "read" and b > 0]
    writes = [(o, b) for (lv, o, d), b in op.traffic_bits.items() if lv == dram and d == "write" and b > 0]
    onchip: dict[str, list[tuple[str, str, float]]] = {}
    for (lv, o, d), b in op.traffic_bits.items():
        if lv != dram and b > 0:
            onchip.setdefault(lv, []).append((o, d, b))
    slot = step_footprint_bits(op, dram, global_buffer)
    groups = []
    made: dict[tuple[int, bool, bool], StepGroup] = {}  # identical groups shared (full fidelity: bounded memory)
    for i, n in enumerate(sizes):
        key = (n, i == 0, i == len(sizes) - 1)
        if key in made:
            groups.append(made[key])
            continue
        share = n / total
        made[key] = StepGroup(
            steps=n,
            dram_reads=tuple((o, b * share) for o, b in reads),
            dram_writes=tuple((o, b * share) for o, b in writes),
            onchip=tuple((lv, tuple((o, d, b * share) for o, d, b in items)) for lv, items in onchip.items()),
            compute_cycles=op.compute_cycles * share,
            slot_bits=slot,
            first=i == 0,
            last=i == len(sizes) - 1,
        )
        groups.append(made[key])
    return tuple(groups)
