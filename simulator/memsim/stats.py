"""MemoryStats: what playing a Schedule produced (counts, cycles, timeline). No simpy import here,
so the energy model can read it without pulling in the simulator kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.cost import TimelineEvent
from simulator.frozen import FrozenMap

__all__ = ["COMPUTE_RESOURCE", "MemoryStats", "StatsKey"]

#: (layer, level, operand, direction) -> bits.
StatsKey = tuple[str, str, str, str]
#: Name of the compute array in ``busy_cycles`` and the timeline.
COMPUTE_RESOURCE = "compute"


@dataclass(frozen=True, slots=True)
class MemoryStats:
    """Counts and time of one steady-state inference.

    Attributes:
        method: ``"simpy"`` (played by the discrete-event model) or ``"closed-form"``.
        traffic_bits: bits moved per (layer, level, operand, direction).
        cycles: latency of one inference.
        layer_cycles: cycles spent in each layer (sums to ``cycles``; ops run one after the other).
        busy_cycles: cycles each resource (memory level port or ``compute``) was busy.
        compute_cycles: cycles the compute array computed (= ``busy_cycles["compute"]``).
        events: SimPy events scheduled (0 for the closed form).
        timeline: busy intervals per resource.
        lower_bound_cycles: the closed form's perfect-overlap bound (max of compute and the busiest port).
        upper_bound_cycles: the closed form's no-overlap bound (everything one after the other).
        stall_cycles_by_cause: ``dram`` (compute waited for a load), ``sram`` (for the on-chip levels),
            ``buffer_slot`` (the DMA waited for room), ``other_core`` (DRAM transfers queued behind
            another requestor), or ``memory`` for the phase models.
        requestors: cores that shared the DRAM (each played one inference: traffic and busy time are theirs together).
        fidelity: ``window``, ``full``, ``phases`` (ops one after the other) or ``closed-form``.
        dram_model: ``flat`` (the level's bandwidth, latency and per-bit energy) or the device preset's name.
        dram_scheduler: how the DRAM controller interleaved several requestors (``DRAM_SCHEDULERS``).
        dram_row_hit_rate: row-buffer hit rate of the DRAM device (None for a flat DRAM).
        dram_energy_by_command_pj: DRAM device energy per command class (activate, precharge, read,
            write, refresh, background); empty for a flat DRAM.
        buffer_peak_bits: the staging buffer's highest occupancy.
        buffer_occupancy: (cycle, bits) each time the (first core's) staging buffer occupancy changed.
        utilisation_bin_cycles: width of the bins of ``utilisation_over_time`` (0 when there is none).
        utilisation_over_time: per port (and compute array), its busy fraction in each of at most
            ``usage.MAX_BINS`` equal bins of the run: bandwidth utilisation over time (``memsim.usage``).
    """

    method: str
    traffic_bits: FrozenMap[StatsKey, float]
    cycles: float
    layer_cycles: FrozenMap[str, float] = field(default_factory=FrozenMap)
    busy_cycles: FrozenMap[str, float] = field(default_factory=FrozenMap)
    events: int = 0
    timeline: tuple[TimelineEvent, ...] = ()
    lower_bound_cycles: float = 0.0
    upper_bound_cycles: float = 0.0
    stall_cycles_by_cause: FrozenMap[str, float] = field(default_factory=FrozenMap)
    requestors: int = 1
    fidelity: str = "closed-form"
    dram_model: str = "flat"
    dram_scheduler: str = "fcfs"
    dram_row_hit_rate: float | None = None
    dram_energy_by_command_pj: FrozenMap[str, float] = field(default_factory=FrozenMap)
    buffer_peak_bits: float = 0.0
    buffer_occupancy: tuple[tuple[float, float], ...] = ()
    utilisation_bin_cycles: float = 0.0
    utilisation_over_time: FrozenMap[str, tuple[float, ...]] = field(default_factory=FrozenMap)

    @property
    def dram_energy_pj(self) -> float | None:
        """DRAM device energy (sum of the command breakdown); None for a flat DRAM (priced per bit)."""
        return float(sum(self.dram_energy_by_command_pj.values())) if self.dram_energy_by_command_pj else None

    @property
    def bracket(self) -> tuple[float, float]:
        """(lower, upper) cycles of the closed form's bracket."""
        return self.lower_bound_cycles, self.upper_bound_cycles

    @property
    def compute_cycles(self) -> float:
        """Cycles the compute array computed; with several cores (``core<i>.compute``) the busiest core's."""
        if COMPUTE_RESOURCE in self.busy_cycles:
            return float(self.busy_cycles[COMPUTE_RESOURCE])
        per_core = [v for k, v in self.busy_cycles.items() if k.endswith(f".{COMPUTE_RESOURCE}")]
        return float(max(per_core, default=0.0))

    @property
    def stall_cycles(self) -> float:
        """Cycles the compute array waited for memory (latency minus compute busy time)."""
        return max(0.0, self.cycles - self.compute_cycles)

    def level_bits(self, level: str, direction: str | None = None) -> float:
        return float(
            sum(v for (_, lv, _, d), v in self.traffic_bits.items() if lv == level and (direction is None or d == direction))
        )

    @property
    def utilisation(self) -> dict[str, float]:
        """Busy fraction of each resource over the inference."""
        return {name: (busy / self.cycles if self.cycles else 0.0) for name, busy in self.busy_cycles.items()}
