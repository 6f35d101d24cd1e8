"""The profile levels and array a dataflow preset maps to (``fixed_templates``): DRAM, the global buffer (with
SCALE-Sim's per-operand SRAMs where the profile has them), the PE's register level, and the array's rows x cols."""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.schedule import MappingError
from simulator.mapping.systolic_buffer import block_words

__all__ = ["TemplateLevels", "array_geometry", "template_levels"]


@dataclass(frozen=True, slots=True)
class TemplateLevels:
    """The profile levels a template maps to: DRAM, the global buffer (capacity per instance in words) and the
    PE's register level (None: the MACs read the buffer), with the operands each serves."""

    dram: str
    buffer: str
    buffer_serves: frozenset[str]
    buffer_words: float
    pe: str | None = None
    pe_serves: frozenset[str] = frozenset()
    #: Per-operand capacities (words) within the buffer: SCALE-Sim's separate ifmap / filter / ofmap SRAMs, each
    #: the active half of a double buffer (``systolic_buffer.block_words``); empty: one shared buffer.
    operand_words: FrozenMap[str, float] = FrozenMap({})


def template_levels(profile: HardwareProfile, word_bits: int, stationary: tuple[str, ...] = ()) -> TemplateLevels:
    """The template levels of ``profile``: the level just inside the DRAM is the buffer; the PE's level is the
    on-chip level below it that serves the most of the ``stationary`` operands (ties: the innermost; per-operand
    register files such as ZigZag's weight and output registers sit side by side), else the innermost one."""
    levels = profile.levels  # innermost first
    if len(levels) < 2:
        raise MappingError(f"profile {profile.name!r}: a dataflow preset needs an on-chip buffer and a DRAM level, "
                           f"levels are {[lv.name for lv in levels]}")
    buf = levels[-2]
    below = levels[:-2]
    pe = max(below, key=lambda lv: (len(set(stationary) & set(lv.operands)), -below.index(lv))) if below else None
    cfg = profile.compute.systolic
    sram = {} if cfg is None else {"inputs": cfg.ifmap_sram_bits, "weights": cfg.filter_sram_bits, "outputs": cfg.ofmap_sram_bits}
    return TemplateLevels(
        dram=levels[-1].name, buffer=buf.name, buffer_serves=frozenset(buf.operands),
        buffer_words=buf.capacity_bits / buf.instances / word_bits,
        pe=pe.name if pe is not None else None, pe_serves=frozenset(pe.operands) if pe is not None else frozenset(),
        operand_words=FrozenMap({op: float(block_words(bits // word_bits)) for op, bits in sram.items()}),
    )


def array_geometry(profile: HardwareProfile, preset: str) -> tuple[int, int]:
    """``(rows, cols)`` of the profile's array: its first axis and its second (a one-axis array is n x 1; an
    array of more axes is seen as two groups, the first half of the axes as rows: K8 x C8 x OX4 x OY4 is 64 x 16)."""
    array = profile.compute.array
    if array is None:
        raise MappingError(f"dataflow preset {preset!r} needs a compute array ([compute.array] axes); "
                           f"profile {profile.name!r} has only macs_per_cycle")
    sizes = [axis.size for axis in array.axes]
    half = (len(sizes) + 1) // 2
    return math.prod(sizes[:half]), math.prod(sizes[half:])
