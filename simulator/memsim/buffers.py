"""Staging buffers as SimPy state: a level's capacity as a ``simpy.Container`` of bits.

A DMA process ``reserve``s a step's slot before loading it (waiting while the buffer is full: back
pressure), the step's write-back ``release``s it. How many steps are in flight — double buffering,
prefetching the next op's first step while this op computes — follows from the occupancy, not from a
constant. The occupancy is logged as ``(cycle, bits)`` each time it changes.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

__all__ = ["StagingBuffer"]


class StagingBuffer:
    """``capacity_bits`` of a buffer level; a request larger than the capacity is clamped to it (the step
    then owns the whole buffer: no overlap with its neighbours). Amounts are whole bits (rounded up) so
    that the container's level is exact: with float amounts a release after many reservations could
    find the level a rounding error short and wait forever."""

    def __init__(self, env: simpy.Environment, name: str, capacity_bits: float) -> None:
        self.env = env
        self.name = name
        self.capacity_bits = math.inf if math.isinf(capacity_bits) else max(int(capacity_bits), 1)
        self.container = simpy.Container(env, capacity=self.capacity_bits, init=0)
        self.wait_cycles = 0.0
        self.occupancy: list[tuple[float, float]] = [(0.0, 0.0)]
        self.peak_bits = 0.0

    def clamp(self, bits: float) -> int:
        """Whole bits of a request, at most the capacity."""
        whole = math.ceil(bits) if bits > 0 else 0
        return whole if math.isinf(self.capacity_bits) else min(whole, self.capacity_bits)

    def reserve(self, bits: float) -> Generator[Any, Any, None]:
        """Take ``bits`` of room (clamped), waiting while the buffer is too full."""
        bits = self.clamp(bits)
        if bits <= 0:
            return
        asked = self.env.now
        yield self.container.put(bits)
        self.wait_cycles += self.env.now - asked
        self._log()

    def release(self, bits: float) -> Generator[Any, Any, None]:
        bits = self.clamp(bits)
        if bits <= 0:
            return
        yield self.container.get(bits)
        self._log()

    def _log(self) -> None:
        level = float(self.container.level)
        self.peak_bits = max(self.peak_bits, level)
        self.occupancy.append((float(self.env.now), level))
