"""How long a memory level's port is busy for a transfer (no simpy): the one home of transfer timing.

A flat level (every on-chip level, and a DRAM level without a device model) serves ``bits / bandwidth``
cycles and the data arrives ``latency`` cycles after the port is released. A DRAM level with a device
model (``simulator.memsim.dram``) is pipelined as a controller with many outstanding requests is: a
transfer holds the port for its share of a sequential stream at the device's steady rate (bursts, the
activates at row ends, refresh at its average rate: ``StreamTable.pipelined``), and its data arrives the
device's first-access latency (``StreamTable.lead_tck``: tRCD + CL + a burst from a precharged bank)
after the port is released, overlapped with the next transfers. So a long stream cut into small steps
reaches the device's steady bandwidth, whatever the fidelity. Device clocks are converted to core cycles.
The SimPy ports, the phase closed form and the bracket all time transfers here, so they cannot disagree.
``peak_cycles`` is the device at its best (every burst a row hit, no refresh): the bracket's lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.hardware.profile import HardwareProfile, MemoryLevel
from simulator.memsim.dram import DramCounts, DramDevice, stream_table

__all__ = ["LevelTiming", "level_timings"]


@dataclass(frozen=True, slots=True)
class LevelTiming:
    """Transfer timing of one level; ``device`` set for a DRAM level played on a device model."""

    name: str
    bandwidth_bits_per_cycle: float
    flat_latency_cycles: float
    device: DramDevice | None = None
    core_cycles_per_tck: float = 1.0

    @property
    def latency_cycles(self) -> float:
        """Cycles between the port's release and a read's data arrival."""
        return self.latency(False)

    def latency(self, write: bool = False) -> float:
        """Cycles between the port's release and the data's arrival (a device: its first-access latency)."""
        if self.device is None:
            return self.flat_latency_cycles
        return stream_table(self.device, write).lead_tck * self.core_cycles_per_tck

    def dram_counts(self, bits: float, write: bool = False) -> DramCounts | None:
        """Device commands of a ``bits`` transfer (None for a flat level)."""
        if self.device is None or bits <= 0:
            return None
        return stream_table(self.device, write).pipelined(bits / 8)

    def service_cycles(self, bits: float, write: bool = False) -> float:
        """Core cycles the port is held for a ``bits`` transfer."""
        if bits <= 0:
            return 0.0
        counts = self.dram_counts(bits, write)
        if counts is None:
            return bits / self.bandwidth_bits_per_cycle
        return counts.cycles * self.core_cycles_per_tck

    def peak_cycles(self, bits: float) -> float:
        """Core cycles of ``bits`` at the level's best: flat bandwidth, or the device's peak (all row hits)."""
        if self.device is None or bits <= 0:
            return max(0.0, bits) / self.bandwidth_bits_per_cycle
        return bits / 8 / (self.device.peak_bytes_per_ns * self.device.timing.tck_ns) * self.core_cycles_per_tck


def level_timings(profile: HardwareProfile, dram: DramDevice | None = None) -> dict[str, LevelTiming]:
    """Timing of every level of ``profile``; ``dram`` puts a device model behind its DRAM level."""

    def timing(lv: MemoryLevel) -> LevelTiming:
        if dram is not None and lv.kind == "dram":
            return LevelTiming(lv.name, lv.bandwidth_bits_per_cycle, lv.latency_cycles, dram,
                               dram.timing.tck_ns * 1e-9 * profile.clock_hz)
        return LevelTiming(lv.name, lv.bandwidth_bits_per_cycle, lv.latency_cycles)

    return {lv.name: timing(lv) for lv in profile.levels}
