"""The double-buffered pipeline every op runs through, as plain numbers (no simpy).

An op with ``T`` identical steps at the DRAM boundary runs in four phases:

1. **prologue**: the DRAM reads of the first step (one stream per operand, sharing the DRAM port);
2. **bulk**: steps 2..T are loaded while steps 1..T-1 compute and write back, all at once: one DRAM
   read stream per operand, one DRAM write stream per operand, one transfer per on-chip level and the
   compute array, each carrying (T-1)/T of the op's work (identical steps are grouped, so the number
   of simulated events does not grow with T);
3. **last step**: the on-chip transfers and compute of step T;
4. **epilogue**: the DRAM writes of step T.

Each phase ends when all its work has ended; ops run one after the other.
NB: in the bulk phase the write-back of step i is not held back until step i has computed (a step's
worth of ordering inside the group is not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.mapping.schedule import OpSchedule

__all__ = ["Transfer", "Phase", "op_phases"]


@dataclass(frozen=True, slots=True)
class Transfer:
    """``bits`` through one level's port, counted under the (level, operand, direction) keys in ``parts``."""

    level: str
    bits: float
    parts: tuple[tuple[str, str, str, float], ...]
    what: str


@dataclass(frozen=True, slots=True)
class Phase:
    """Transfers and compute cycles that run concurrently; the phase ends when the last one ends."""

    name: str
    transfers: tuple[Transfer, ...]
    compute_cycles: float


def op_phases(op: OpSchedule, dram: str) -> tuple[Phase, ...]:
    """The phases of one op (empty phases left out)."""
    steps = max(1, op.steps)
    first, rest = 1.0 / steps, (steps - 1.0) / steps
    dram_reads = {o: b for (lv, o, d), b in op.traffic_bits.items() if lv == dram and d == "read"}
    dram_writes = {o: b for (lv, o, d), b in op.traffic_bits.items() if lv == dram and d == "write"}
    onchip: dict[str, list[tuple[str, str, float]]] = {}
    for (lv, o, d), b in op.traffic_bits.items():
        if lv != dram:
            onchip.setdefault(lv, []).append((o, d, b))

    def dram_stream(table: dict[str, float], direction: str, share: float, label: str) -> list[Transfer]:
        return [
            Transfer(dram, b * share, ((dram, o, direction, b * share),), f"{label} {o}")
            for o, b in table.items()
            if b * share > 0
        ]

    def onchip_transfers(share: float) -> list[Transfer]:
        out = []
        for lv, items in onchip.items():
            total = sum(b for _, _, b in items) * share
            if total > 0:
                out.append(Transfer(lv, total, tuple((lv, o, d, b * share) for o, d, b in items), "tile traffic"))
        return out

    phases = [
        Phase("prologue", tuple(dram_stream(dram_reads, "read", first, "load")), 0.0),
        Phase(
            "bulk",
            tuple(dram_stream(dram_reads, "read", rest, "load") + dram_stream(dram_writes, "write", rest, "store") + onchip_transfers(rest)),
            op.compute_cycles * rest,
        ),
        Phase("last step", tuple(onchip_transfers(first)), op.compute_cycles * first),
        Phase("epilogue", tuple(dram_stream(dram_writes, "write", first, "store")), 0.0),
    ]
    return tuple(p for p in phases if p.transfers or p.compute_cycles > 0)
