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
    """

    method: str
    traffic_bits: FrozenMap[StatsKey, float]
    cycles: float
    layer_cycles: FrozenMap[str, float] = field(default_factory=FrozenMap)
    busy_cycles: FrozenMap[str, float] = field(default_factory=FrozenMap)
    events: int = 0
    timeline: tuple[TimelineEvent, ...] = ()

    @property
    def compute_cycles(self) -> float:
        return float(self.busy_cycles.get(COMPUTE_RESOURCE, 0.0))

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
