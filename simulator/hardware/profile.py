"""Hardware records: the compute array, the memory levels and the profile that holds them.

All records are frozen and hold base units (bits, pJ, cycles, Hz, mW). ``sources`` maps every
numeric key path of the profile file (``"memory.dram.read_energy"``) to its citation.
No torch import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.errors import ProfileError
from simulator.frozen import FrozenMap
from simulator.workload import DataType

__all__ = ["ComputeUnit", "HardwareProfile", "MemoryLevel", "LEVEL_KINDS", "ZERO_HANDLING"]

#: Memory level kinds, innermost first; levels in a profile must respect this order.
LEVEL_KINDS = ("register_file", "sram", "dram")
#: How the compute array treats zero operands: skip (no cycle, no energy), gate (cycle, no energy), none.
ZERO_HANDLING = ("skip", "gate", "none")


@dataclass(frozen=True, slots=True)
class MemoryLevel:
    """One level of the memory hierarchy.

    Energies are per access of ``word_bits``; ``read_energy_pj / word_bits`` is the per-bit rate
    used for transfers of other sizes.
    """

    name: str
    kind: str
    capacity_bits: int
    word_bits: int
    read_energy_pj: float
    write_energy_pj: float
    bandwidth_bits_per_cycle: float
    latency_cycles: float
    leakage_mw: float

    @property
    def read_energy_per_bit_pj(self) -> float:
        return self.read_energy_pj / self.word_bits

    @property
    def write_energy_per_bit_pj(self) -> float:
        return self.write_energy_pj / self.word_bits


@dataclass(frozen=True, slots=True)
class ComputeUnit:
    """The compute array: throughput, accumulator width, zero handling and per-operation energies.

    ``op_energy_pj`` is keyed ``"<dtype>.<operation>"`` (``"int32.add"``, ``"float32.mult"``) plus
    ``"decode.codebook"`` and ``"decode.huffman_symbol"`` when the profile gives them.
    """

    macs_per_cycle: int
    accumulator_bits: int
    zero_handling: str
    op_energy_pj: FrozenMap[str, float] = field(default_factory=FrozenMap)


@dataclass(frozen=True, slots=True)
class HardwareProfile:
    """A resolved hardware profile (after ``extends``), ready for the mapper and the energy model."""

    name: str
    description: str
    clock_hz: float
    compute: ComputeUnit
    levels: tuple[MemoryLevel, ...]
    sources: FrozenMap[str, str] = field(default_factory=FrozenMap)
    path: str = ""

    @property
    def zero_handling(self) -> str:
        return self.compute.zero_handling

    def level(self, name: str) -> MemoryLevel:
        """The level called ``name``."""
        for lvl in self.levels:
            if lvl.name == name:
                return lvl
        raise KeyError(f"profile {self.name!r} has no memory level {name!r}; levels: {[lv.name for lv in self.levels]}")

    def levels_of_kind(self, kind: str) -> tuple[MemoryLevel, ...]:
        return tuple(lvl for lvl in self.levels if lvl.kind == kind)

    @property
    def dram(self) -> MemoryLevel:
        """The outermost level (off-chip memory)."""
        return self.levels[-1]

    @property
    def on_chip_sram_bits(self) -> int:
        """Total SRAM capacity (all SRAM levels)."""
        return sum(lvl.capacity_bits for lvl in self.levels_of_kind("sram"))

    def op_energy_pj(self, operation: str, dtype: DataType) -> float:
        """Energy of one ``operation`` (``add``, ``mult``, ...) at ``dtype`` in pJ.

        Raises:
            ProfileError: the profile does not list the value.
        """
        key = f"{dtype.name}.{operation}"
        table = self.compute.op_energy_pj
        if key in table:
            return table[key]
        # Declared rule: a compare is a subtraction, priced as an add of the same type.
        if operation == "compare" and f"{dtype.name}.add" in table:
            return table[f"{dtype.name}.add"]
        raise ProfileError(
            self.path or self.name, f"energy.{key}", "an energy for this operation and data type", "no entry"
        )

    def mac_energy_pj(self, dtype: DataType) -> float:
        """One MAC = one multiply + one add at ``dtype``."""
        return self.op_energy_pj("mult", dtype) + self.op_energy_pj("add", dtype)
