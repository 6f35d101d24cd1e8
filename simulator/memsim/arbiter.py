"""What two requestors' interleaved streams cost on one DRAM device under a scheduler (no simpy).

The engine's DRAM port serves whole transfers (``levels.Port``); when another requestor's transfer is
still in service as one arrives, a real controller would interleave the two streams' bursts, and how
much bandwidth that costs depends on the scheduler and the addresses. This module plays that case once
per device and scheduler through the request-level ``DramController`` and returns its steady rate:

* the two requestors run the same schedule (batch split) with their data at the same offsets of
  equal, power-of-two regions, so their streams sit in the same bank, in different rows (the
  ``region_bytes`` below is a multiple of channels x ranks x banks x row bytes): the aligned-buffer case;
* ``"round-robin"`` takes one burst of each in turn: on a shared bank every burst closes the other's
  row (a row miss each, tRC-bound), the bandwidth the formula's "sum of bits / bandwidth" does not see;
* ``"fr-fcfs"`` serves the open row's hits first: one requestor's row, then the other's, about the rate
  of one stream alone;
* ``"fcfs"`` serves whole transfers in arrival order (the bursts of the first, then the second's): no
  interleaving, no cost beyond the queueing the port already plays.

``contention(device, scheduler, write)`` -> ``Contention``: steady tCK and activates per burst of the
interleaved pair and of one stream alone (``dram.stream_table``), refresh left out of both (the port adds
it at its average rate to either).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from simulator.memsim.dram import DramController, DramDevice, DramRequest, round_robin, sequential_addresses

__all__ = ["Contention", "contention"]

#: Bursts of each requestor played to find the steady rate (the second half is measured).
WINDOW_BURSTS = 512


@dataclass(frozen=True, slots=True)
class Contention:
    """Steady cost per burst of two interleaved streams against one stream alone (tCK, activates)."""

    scheduler: str
    shared_tck_per_burst: float
    alone_tck_per_burst: float
    shared_acts_per_burst: float
    alone_acts_per_burst: float

    @property
    def extra_tck_per_burst(self) -> float:
        """tCK each interleaved burst costs beyond its share of the stream alone (0 when interleaving is free)."""
        return max(0.0, self.shared_tck_per_burst - self.alone_tck_per_burst)

    @property
    def extra_acts_per_burst(self) -> float:
        """Activates (and precharges) each interleaved burst adds: the row misses interleaving causes."""
        return max(0.0, self.shared_acts_per_burst - self.alone_acts_per_burst)


def _steady(done: np.ndarray, acts: np.ndarray) -> tuple[float, float]:
    """(tCK, activates) per burst over the second half of a played stream (sorted by completion)."""
    order = np.argsort(done, kind="stable")
    d, a = np.asarray(done)[order], np.asarray(acts)[order]
    n = len(d)
    half = n // 2
    return float(d[-1] - d[half - 1]) / (n - half), float(a.max()) / n


@lru_cache(maxsize=64)
def contention(device: DramDevice, scheduler: str, write: bool = False) -> Contention:
    """Play two aligned sequential streams of ``WINDOW_BURSTS`` bursts each under ``scheduler`` (both
    queued at once) and one stream alone; their steady rates (see the module docstring)."""
    g = device.geometry
    region_bytes = g.channels * g.ranks * g.banks * g.row_bytes * 1024
    streams = [[DramRequest(int(a), write, 0.0, r) for a in
                sequential_addresses(WINDOW_BURSTS * g.burst_bytes, g.burst_bytes, r * region_bytes)] for r in (0, 1)]
    alone = DramController(device, refresh=False).play(streams[0])
    alone_tck, alone_acts = _steady(np.asarray(alone.done), np.asarray(alone.activates_upto))
    if scheduler == "fcfs":
        return Contention(scheduler, alone_tck, alone_tck, alone_acts, alone_acts)
    # Arrival order: one burst of each in turn (both DMAs issue as fast as they can); the scheduler reorders.
    pair = DramController(device, refresh=False, scheduler=scheduler).play(round_robin(streams))
    shared_tck, _ = _steady(np.asarray(pair.done), np.asarray(pair.activates_upto))
    return Contention(scheduler, shared_tck, alone_tck, pair.counts.activates / (2 * WINDOW_BURSTS), alone_acts)
