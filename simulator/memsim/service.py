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
Several requestors: a transfer that arrives while another requestor's still holds the port is interleaved
with it by the controller's scheduler (``interleave_penalty``, rates from ``arbiter.contention``): free
for ``"fcfs"`` (whole transfers in order), row misses for ``"round-robin"`` on a shared bank, little for
``"fr-fcfs"``; ``worst_service_cycles`` is the most that can add (the bracket's upper bound).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.hardware.profile import DRAM_SCHEDULERS, HardwareProfile, MemoryLevel
from simulator.memsim.arbiter import contention
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
    #: The controller's scheduler between requestors (``DRAM_SCHEDULERS``; matters with a device only).
    scheduler: str = "fcfs"

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

    def _interleave(self, write: bool) -> tuple[float, float, float] | None:
        """(bits per burst, extra core cycles per interleaved burst, extra activates per interleaved burst)
        under the scheduler (``arbiter.contention``, refresh at its average rate); None when free."""
        if self.device is None or self.scheduler == "fcfs":
            return None
        c = contention(self.device, self.scheduler, write)
        if c.extra_tck_per_burst <= 0 and c.extra_acts_per_burst <= 0:
            return None
        burst_bits = self.device.geometry.burst_bytes * 8
        per_tck = self.service_cycles(burst_bits, write) / stream_table(self.device, write).steady_tck_per_burst
        return burst_bits, c.extra_tck_per_burst * per_tck, c.extra_acts_per_burst

    def burst_count(self, bits: float) -> float:
        """Bursts of a ``bits`` transfer on the device (0 for a flat level)."""
        return 0.0 if self.device is None else max(0.0, bits) / (self.device.geometry.burst_bytes * 8)

    def interleave_penalty(self, bits: float, other_bursts: float, write: bool = False) -> tuple[float, float, DramCounts | None]:
        """A transfer of ``bits`` arrives while ``other_bursts`` bursts of other requestors' transfers still
        wait for the port, not yet interleaved with anything: the controller interleaves the overlapping
        bursts of both (``min`` of the two) under its scheduler. Returns the extra port cycles (charged to
        the later arrival; the queueing itself is the port's), the bursts paired, and the commands the
        interleaving adds (its row misses; None when the scheduler interleaves for free)."""
        rates = self._interleave(write) if bits > 0 and other_bursts > 0 else None
        if rates is None:
            return 0.0, 0.0, None
        burst_bits, extra_cycles, extra_acts = rates
        pairs = min(bits / burst_bits, other_bursts)
        acts = 2 * pairs * extra_acts
        extra = 2 * pairs * extra_cycles
        return extra, pairs, DramCounts(acts, acts, 0.0, 0.0, 0.0, -acts, acts, extra / self.core_cycles_per_tck)

    def worst_service_cycles(self, bits: float, write: bool = False, requestors: int = 1) -> float:
        """``service_cycles`` plus the most interleaving can add with several requestors (every burst paired
        with another requestor's and charged both bursts' extra): the bracket's upper bound."""
        rates = self._interleave(write) if requestors > 1 and bits > 0 else None
        extra = 0.0 if rates is None else 2 * bits / rates[0] * rates[1]
        return self.service_cycles(bits, write) + extra

    def peak_cycles(self, bits: float) -> float:
        """Core cycles of ``bits`` at the level's best: flat bandwidth, or the device's peak (all row hits)."""
        if self.device is None or bits <= 0:
            return max(0.0, bits) / self.bandwidth_bits_per_cycle
        return bits / 8 / (self.device.peak_bytes_per_ns * self.device.timing.tck_ns) * self.core_cycles_per_tck


def level_timings(profile: HardwareProfile, dram: DramDevice | None = None,
                  scheduler: str | None = None) -> dict[str, LevelTiming]:
    """Timing of every level of ``profile``; ``dram`` puts a device model behind its DRAM level, scheduled
    by ``scheduler`` (None: the profile's ``[memory.<dram>] scheduler``)."""
    if scheduler is not None and scheduler not in DRAM_SCHEDULERS:
        raise ValueError(f"DRAM scheduler must be one of {DRAM_SCHEDULERS}, got {scheduler!r}")

    def timing(lv: MemoryLevel) -> LevelTiming:
        if lv.kind != "dram":
            return LevelTiming(lv.name, lv.bandwidth_bits_per_cycle, lv.latency_cycles)
        chosen = lv.scheduler if scheduler is None else scheduler
        if dram is None:  # flat: the scheduler is recorded, interleaving costs nothing without a device
            return LevelTiming(lv.name, lv.bandwidth_bits_per_cycle, lv.latency_cycles, scheduler=chosen)
        return LevelTiming(lv.name, lv.bandwidth_bits_per_cycle, lv.latency_cycles, dram,
                           dram.timing.tck_ns * 1e-9 * profile.clock_hz, chosen)

    return {lv.name: timing(lv) for lv in profile.levels}
