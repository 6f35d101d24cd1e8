"""Staging buffers as SimPy state: a level's capacity as a ``simpy.Container`` of bits.

A DMA process ``reserve``s a step's slot before loading it (waiting while the buffer is full: back
pressure), the step's write-back ``release``s it. How many steps are in flight — double buffering,
prefetching the next op's first step while this op computes — follows from the occupancy, not from a
constant. The occupancy is logged as ``(cycle, bits)`` each time it changes.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

__all__ = ["StagingBuffer"]


class StagingBuffer:
    """``capacity_bits`` of a buffer level; a request larger than the capacity is clamped to it (the step
    then owns the whole buffer: no overlap with its neighbours)."""

    def __init__(self, env: simpy.Environment, name: str, capacity_bits: float) -> None:
        self.env = env
        self.name = name
        self.capacity_bits = max(float(capacity_bits), 1.0)
        self.container = simpy.Container(env, capacity=self.capacity_bits, init=0)
        self.wait_cycles = 0.0
        self.occupancy: list[tuple[float, float]] = [(0.0, 0.0)]
        self.peak_bits = 0.0

    def clamp(self, bits: float) -> float:
        return min(float(bits), self.capacity_bits)

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
