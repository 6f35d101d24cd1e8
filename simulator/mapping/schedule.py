"""The mapper's output records: per op, its tiles, its memory-access stream and its operation stream.

A ``Schedule`` is what the SimPy model plays and what the energy model prices. Everything in it is a
count (bits moved per level, operation counts), never an energy: prices come from the profile later.
No simpy, no torch.

Conventions:
    * A transfer between two levels is recorded twice: a ``read`` at the level the bits leave and a
      ``write`` at the level they enter (each level is charged per bit at its own access width).
    * The compute array reads its operands from the innermost level and writes partial sums back to it.
    * ``operand`` is ``weights``, ``inputs`` or ``outputs`` (partial sums count as ``outputs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.errors import PjsimError
from simulator.frozen import FrozenMap
from simulator.mapping.residency import Footprint

__all__ = ["MappingError", "OpSchedule", "OperationCount", "Schedule", "Tile", "TrafficKey"]

#: (level name, operand, direction) -> bits.
TrafficKey = tuple[str, str, str]


class MappingError(PjsimError):
    """An op cannot be mapped onto the profile: names the op, the level and the capacity it needs."""


@dataclass(frozen=True, slots=True)
class Tile:
    """The tile an op keeps in one memory level and the loop order around it.

    Attributes:
        level: the level holding the tile.
        sizes: tile extent per GEMM loop (``M`` output rows, ``N`` output columns, ``K`` reduction).
        order: loop order over the tiles, outermost first (e.g. ``"NKM"``).
        steps: number of tiles visited (groups x trips of every loop).
        footprint_bits: bits of one tile set (one buffer; double buffering doubles it).
        budget_bits: the capacity the tile set had to fit in (after double buffering).
    """

    level: str
    sizes: FrozenMap[str, int]
    order: str
    steps: int
    footprint_bits: float
    budget_bits: float


@dataclass(frozen=True, slots=True)
class OperationCount:
    """``count`` operations of one kind at one data type, charged to ``operand``.

    ``operation`` is ``mac``, an arithmetic operation (``add``, ``mult``, ``compare``, ``exp``, ``div``)
    or a decode step (``codebook`` lookup, ``index_add``, ``huffman_symbol``).
    """

    operation: str
    dtype: str
    count: float
    operand: str = "none"


@dataclass(frozen=True, slots=True)
class OpSchedule:
    """How one op runs.

    Attributes:
        index: the op's index in the workload.
        layer: its module name.
        kind: the op family.
        mapping: ``gemm`` (tiled), ``streaming`` (operands once through the hierarchy) or ``fused``
            (an elementwise op folded into its producer: no memory traffic of its own for the fused operand).
        tiles: tiles from the outermost on-chip level inwards (empty for streaming ops); an op made of
            several GEMMs (a transformer layer) lists each GEMM's tiles in turn.
        traffic_bits: the memory-access stream of one inference: bits per (level, operand, direction).
        operations: the operation stream.
        macs: dense MACs of the op.
        compute_cycles: cycles the compute array is busy (after zero skipping).
        steps: pipeline steps at the DRAM boundary (the SimPy model double-buffers these).
        fused_into: for a fused op, the index of the op it was folded into.
    """

    index: int
    layer: str
    kind: str
    aten: str
    mapping: str
    tiles: tuple[Tile, ...]
    traffic_bits: FrozenMap[TrafficKey, float]
    operations: tuple[OperationCount, ...]
    macs: int
    compute_cycles: float
    steps: int = 1
    fused_into: int | None = None

    def bits(self, level: str, operand: str | None = None, direction: str | None = None) -> float:
        """Bits moved at ``level``, optionally for one operand and/or direction."""
        return float(
            sum(
                v
                for (lv, op, d), v in self.traffic_bits.items()
                if lv == level and (operand is None or op == operand) and (direction is None or d == direction)
            )
        )


@dataclass(frozen=True, slots=True)
class Schedule:
    """The whole model mapped onto one profile.

    Attributes:
        model_name / profile_name: what was mapped onto what.
        ops: per-op schedules in execution order (fused ops included, with their own operations).
        footprint: what must be on chip (``residency.footprint``) with the layers this mapping spills;
            ``resident``, ``global_buffer_bits``, ``weight_onchip_bits``, ``peak_activation_bits``,
            ``min_sram_bits``, ``fit_margin_bits`` and ``spilling_layers`` read it.
        global_buffer: name of the outermost on-chip level (None when the profile has only DRAM).
        weight_offchip_bits: weights as stored in DRAM (Huffman-coded where coded).
        activation_budget_bits: global-buffer bits reserved for activations kept on chip (streaming mode).
        kept_activations: activations that stay on chip between producer and consumers.
        cold_start_traffic_bits: the one-time weight load of a resident model.
        cold_start_operations: decode work of that load (Huffman symbols).
        compulsory_dram_bits: each weight and model input read once, each model output written once.
        unmapped: op kinds with no mapping rule (kind -> count); costed as streaming and reported.
        independent_layers: every layer was costed on its own from DRAM (nothing resident or kept).
        dram: name of the DRAM level.
    """

    model_name: str
    profile_name: str
    ops: tuple[OpSchedule, ...]
    footprint: Footprint
    global_buffer: str | None
    weight_offchip_bits: int
    activation_budget_bits: float
    dram: str
    kept_activations: frozenset[str] = frozenset()
    cold_start_traffic_bits: FrozenMap[TrafficKey, float] = field(default_factory=FrozenMap)
    cold_start_operations: tuple[OperationCount, ...] = ()
    compulsory_dram_bits: float = 0.0
    unmapped: FrozenMap[str, int] = field(default_factory=FrozenMap)
    independent_layers: bool = False

    @property
    def resident(self) -> bool:
        """Whether weights stay on chip between inferences: the footprint fits the global buffer and the
        layers are not costed one by one from DRAM (``independent_layers``, the peers' convention)."""
        return self.footprint.fits and not self.independent_layers

    @property
    def fits_on_chip(self) -> bool:
        return self.footprint.fits

    @property
    def global_buffer_bits(self) -> int:
        return self.footprint.capacity_bits

    @property
    def weight_onchip_bits(self) -> int:
        return self.footprint.weight_onchip_bits

    @property
    def peak_activation_bits(self) -> int:
        return self.footprint.peak_activation_bits

    @property
    def min_sram_bits(self) -> int:
        """Smallest global buffer that keeps the model resident: weights + peak live activations.

        No extra staging buffers are needed then: the model input and outputs are live activations.
        """
        return self.footprint.needed_bits

    @property
    def fit_margin_bits(self) -> int:
        """Capacity left over (negative: missing) when the whole model is held on chip."""
        return self.footprint.margin_bits

    @property
    def spilling_layers(self) -> tuple[str, ...]:
        """Layers with DRAM traffic beyond the compulsory model input/output."""
        return self.footprint.spilling_layers

    def total_bits(self, level: str, direction: str | None = None) -> float:
        """Steady-state bits moved at ``level`` over all ops."""
        return float(sum(op.bits(level, None, direction) for op in self.ops))

    @property
    def steady_dram_bits(self) -> float:
        return self.total_bits(self.dram)

    @property
    def cold_dram_bits(self) -> float:
        """DRAM bits of the first inference: steady state plus the one-time weight load."""
        load = sum(v for (lv, _, _), v in self.cold_start_traffic_bits.items() if lv == self.dram)
        return self.steady_dram_bits + float(load)
