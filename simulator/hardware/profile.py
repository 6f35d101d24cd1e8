"""Hardware records: the compute array, the memory levels and the profile that holds them.

All records are frozen and hold base units (bits, pJ, cycles, Hz, mW). ``sources`` maps every
numeric key path of the profile file (``"memory.dram.read_energy"``) to its citation; a value a rule
derived at load time (``{ rule = "sqrt_capacity" }``) maps to a ``"derived: ..."`` source instead.
Energies the tables do not list are derived on lookup by the rules in ``simulator.hardware.rules``
or refused with a ``ProfileError``. No torch import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from typing import Any

from simulator.frozen import FrozenMap
from simulator.hardware.rules import DECODE_OPERATIONS, EnergyValue, derive_op_energy
from simulator.workload import DataType

__all__ = [
    "COMPOSITE_DIMS", "DATAFLOWS", "POINTER_OVERFLOW", "DRAM_SCHEDULERS", "LOOP_DIMS", "UNROLLABLE_DIMS", "LEVEL_KINDS",
    "ZERO_HANDLING", "ArrayAxis", "CSCConfig", "SystolicConfig", "ComputeArray", "ComputeUnit", "HardwareProfile",
    "MemoryLevel", "MemoryPort", "PORT_DIRECTIONS", "Precision",
]

#: Memory level kinds, innermost first; levels in a profile must respect this order.
LEVEL_KINDS = ("register_file", "sram", "dram")
#: How the compute array treats zero operands: skip (no cycle, no energy), gate (cycle, no energy), none.
ZERO_HANDLING = ("skip", "gate", "none")
#: ``[memory.<dram>] scheduler``: how the DRAM controller orders several requestors' requests
#: (``simulator.memsim.dram``): whole transfers in arrival order, one request of each requestor in turn, or
#: open-row hits first (FR-FCFS, Rixner et al. ISCA 2000).
DRAM_SCHEDULERS: tuple[str, ...] = ("fcfs", "round-robin", "fr-fcfs")

#: ``[compute] attention``: how attention scores are held (``ComputeUnit.attention``).
ATTENTION_MODES = ("materialize", "flash")
#: Dataflows a profile may select (``[compute] dataflow``); ``dense`` is the default.
DATAFLOWS = ("dense", "eie-csc", "eyeriss-rs", "systolic-os", "systolic-ws", "systolic-is")
#: How ``eie-csc`` runs a layer whose column pointers overflow the pointer SRAM (``mapping.csc_pointers``).
POINTER_OVERFLOW = ("reload-idle", "stream", "stream-active", "double-buffer", "double-buffer-active", "on-chip")


#: v2 ``[memory.<name>.ports]``: the data-movement directions a port link serves, as ZigZag names them
#: (``zigzag.hardware.architecture.memory_port.DataDirection``): ``tl`` read out to the level below
#: (``rd_out_to_low``), ``fl`` written in by the level below (``wr_in_by_low``: partial sums and outputs coming up),
#: ``th`` read out to the level above (``rd_out_to_high``: outputs drained up), ``fh`` written in by the level above
#: (``wr_in_by_high``: fills).
PORT_DIRECTIONS = ("tl", "fl", "th", "fh")


@dataclass(frozen=True, slots=True)
class MemoryPort:
    """One physical port of one instance of a memory (ZigZag's ``ports`` entry): its bandwidth and the
    (operand, direction) links allocated to it. Read by ``mapping.zigzag_latency`` (ZigZag's per-port stall model
    of a replayed ZigZag mapping); nothing else uses it, so a profile's other results do not depend on it."""

    name: str
    bandwidth_bits_per_cycle: float
    serves: tuple[tuple[str, str], ...]


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
    banks: int = 1
    #: The device model behind a ``dram`` level: ``"flat"`` (the per-bit energies, bandwidth and latency
    #: above, e.g. horowitz45's 640 pJ per 32-bit word) or a preset name of ``simulator.memsim.dram_presets``
    #: (resolved when simulating: the hardware layer does not import memsim).
    device: str = "flat"
    #: The DRAM controller's scheduler between requestors (``DRAM_SCHEDULERS``; a ``dram`` level only).
    scheduler: str = "fcfs"
    #: An on-chip level every core shares (one port for all of them, like the DRAM's); by default each core
    #: of a ``[compute] cores > 1`` profile has its own copy.
    shared: bool = False
    #: v2: the operands this level serves (``weights``, ``inputs``, ``outputs``); the others bypass it.
    operands: tuple[str, ...] = ("weights", "inputs", "outputs")
    #: v2: energy of a read-modify-write update of partial sums per access (None: ``write_energy_pj``).
    update_energy_pj: float | None = None
    #: v2: separate read/write port bandwidths (None: the shared ``bandwidth_bits_per_cycle``).
    read_bandwidth_bits_per_cycle: float | None = None
    write_bandwidth_bits_per_cycle: float | None = None
    #: v2: identical instances (one per PE for a register file); ``capacity_bits`` is their total.
    instances: int = 1
    #: v2: the array axes one instance feeds (ZigZag's ``served_dimensions``; None: none declared), read by
    #: ``mapping.array_access`` (broadcast of operands and spatial reduction of outputs over those axes).
    shared_axes: tuple[str, ...] | None = None
    #: v2: the narrowest access (bits) the array's reads of this level cost per cycle (ZigZag's ``bandwidth_min``);
    #: 0: none, every bit priced at the per-bit rate.
    min_access_bits: int = 0
    #: v2: access widths of operands whose port is wider or narrower than ``word_bits`` (ZigZag's per-operand
    #: port ``bandwidth_max``, e.g. a 2048-bit output port next to 512-bit input ports), as (operand, bits).
    operand_words: tuple[tuple[str, int], ...] = ()
    #: v2: the physical ports of one instance and the (operand, direction) links each serves (ZigZag's ``ports`` with
    #: their ``allocation``); empty: none declared. Only the latency of a replayed ZigZag mapping reads them.
    ports: tuple[MemoryPort, ...] = ()

    @property
    def read_energy_per_bit_pj(self) -> float:
        """Read energy per bit at the access width (declared rule: memory energy scales per bit moved)."""
        return self.read_energy_pj / self.word_bits

    @property
    def write_energy_per_bit_pj(self) -> float:
        """Write energy per bit at the access width."""
        return self.write_energy_pj / self.word_bits

    def port_for(self, operand: str, direction: str) -> MemoryPort | None:
        """The port serving ``operand``'s ``direction`` link (``PORT_DIRECTIONS``); None: no port declared for it."""
        return next((p for p in self.ports if (operand, direction) in p.serves), None)

    def word_bits_for(self, operand: str) -> int:
        """The access width of ``operand`` (its own port's, else ``word_bits``)."""
        return dict(self.operand_words).get(operand, self.word_bits)

    def energy_per_bit_pj(self, operand: str, direction: str) -> float:
        """Read (``"read"``) or write energy per bit of ``operand``, at its access width."""
        energy = self.read_energy_pj if direction == "read" else self.write_energy_pj
        return energy / self.word_bits_for(operand)

    def access_energy_pj(self, bits: float, direction: str = "read") -> float:
        """Energy of moving ``bits`` through this level, priced per bit at the access width.

        Args:
            bits: bits read or written.
            direction: ``"read"`` or ``"write"``.
        """
        if direction == "read":
            return bits * self.read_energy_per_bit_pj
        if direction == "write":
            return bits * self.write_energy_per_bit_pj
        raise ValueError(f"direction must be 'read' or 'write', got {direction!r}")


#: The loop dims of one MAC loop nest (ZigZag's names: batch, groups, output/input channels, output
#: rows/cols, filter rows/cols) and the composites an array axis may unroll as one flattened dim:
#: ``P`` = B x OY x OX (output pixels), ``R`` = C x FY x FX (reduction window). See ``simulator.mapping.spatial``.
LOOP_DIMS: tuple[str, ...] = ("B", "G", "K", "C", "OY", "OX", "FY", "FX")
COMPOSITE_DIMS: dict[str, tuple[str, ...]] = {"P": ("B", "OY", "OX"), "R": ("C", "FY", "FX")}
UNROLLABLE_DIMS: tuple[str, ...] = (*LOOP_DIMS, *COMPOSITE_DIMS)


@dataclass(frozen=True, slots=True)
class ArrayAxis:
    """One spatial axis of the compute array: ``size`` lanes that may unroll any one of ``unrolls``.

    ``unrolls`` are loop dims of ``simulator.mapping.spatial`` (``K``, ``C``, ``OX``, ... or the
    composites ``P`` = output pixels, ``R`` = reduction window).
    """

    name: str
    size: int
    unrolls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ComputeArray:
    """The geometry of the compute array (profile format v2, ``[compute.array]``).

    ``fill_drain_cycles`` is added once per spatial fold (a systolic array's pipeline fill and drain).
    """

    axes: tuple[ArrayAxis, ...]
    fill_drain_cycles: float = 0.0

    @property
    def pes(self) -> int:
        """Processing elements (MAC units): the product of the axis sizes."""
        n = 1
        for axis in self.axes:
            n *= axis.size
        return n


@dataclass(frozen=True, slots=True)
class Precision:
    """Operand precisions a model is costed at (``[compute.precision]`` or ``simulate(precision=...)``).

    ``weights``/``activations``: the data types float tensors are costed at (None: as traced);
    ``accumulator_bits``: partial-sum width (None: the profile's ``compute.accumulator_bits``).
    Integer tensors (indices, already quantized weights) keep their traced type.
    """

    weights: DataType | None = None
    activations: DataType | None = None
    accumulator_bits: int | None = None

    @classmethod
    def parse(cls, text: str) -> Precision:
        """``"int8"`` (weights and activations) or ``"w=int8,a=int8,acc=32"``; raises ValueError naming the part."""
        text = text.strip()
        if "=" not in text:
            dt = DataType.parse(text)
            return cls(dt, dt)
        fields: dict[str, object] = {}
        for part in text.split(","):
            key, _, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if key in ("w", "weights"):
                fields["weights"] = DataType.parse(value)
            elif key in ("a", "activations"):
                fields["activations"] = DataType.parse(value)
            elif key in ("acc", "accumulator", "accumulator_bits"):
                if not value.isdigit() or int(value) <= 0:
                    raise ValueError(f"precision {text!r}: accumulator bits must be a positive integer, got {value!r}")
                fields["accumulator_bits"] = int(value)
            else:
                raise ValueError(f"precision {text!r}: unknown part {key!r} (expected w=, a=, acc=)")
        return cls(**fields)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class CSCConfig:
    """The EIE dataflow's parameters (profile ``[compute.csc]``, read by ``simulator.mapping.sparse_csc``).

    Attributes:
        pes: processing elements; row ``i`` of a weight goes to PE ``i mod pes``.
        relative_index_bits: bits of a stored entry's relative row index (fillers when a gap overflows).
        pointer_bits: bits of one column pointer; a PE reads two (start, end) per non-zero activation.
        queue_depth: entries of each PE's activation queue.
        pointer_capacity: column pointers one PE's pointer SRAM holds (optional key; 0 = unbounded). A layer
            needing more (``inputs + 1``) overflows it.
        pointer_overflow: how an overflowing layer gets its pointers (one of ``POINTER_OVERFLOW``, optional
            key, default ``"reload-idle"``: loaded from DRAM with the PEs idle; ``mapping.csc_pointers``).
    """

    pes: int
    relative_index_bits: int
    pointer_bits: int
    queue_depth: int
    pointer_capacity: int = 0
    pointer_overflow: str = "reload-idle"

    def __post_init__(self) -> None:
        for name in ("pes", "relative_index_bits", "pointer_bits", "queue_depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"CSCConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.pointer_capacity < 0:
            raise ValueError(f"CSCConfig.pointer_capacity must be >= 0 (0 = unbounded), got {self.pointer_capacity}")
        if self.pointer_overflow not in POINTER_OVERFLOW:
            raise ValueError(f"CSCConfig.pointer_overflow must be one of {list(POINTER_OVERFLOW)}, "
                             f"got {self.pointer_overflow!r}")


@dataclass(frozen=True, slots=True)
class RSConfig:
    """The Eyeriss row-stationary dataflow's PE array (profile ``[compute.rs]``, read by
    ``simulator.mapping.row_stationary``).

    Attributes:
        rows, cols: the physical PE array (Eyeriss: 12 x 14).
        filter_words, ifmap_words, psum_words: each PE's scratchpads in data words (Eyeriss: 224, 12, 24).
    """

    rows: int
    cols: int
    filter_words: int
    ifmap_words: int
    psum_words: int

    def __post_init__(self) -> None:
        for name in ("rows", "cols", "filter_words", "ifmap_words", "psum_words"):
            if getattr(self, name) < 1:
                raise ValueError(f"RSConfig.{name} must be >= 1, got {getattr(self, name)}")

    @property
    def pes(self) -> int:
        return self.rows * self.cols


@dataclass(frozen=True, slots=True)
class SystolicConfig:
    """SCALE-Sim's three operand SRAMs (profile ``[compute.systolic]``, read by ``simulator.mapping.systolic``).

    Each is double-buffered with half of it active (SCALE-Sim 3's ``double_buffered_scratchpad``); sizes in bits.
    """

    ifmap_sram_bits: int
    filter_sram_bits: int
    ofmap_sram_bits: int

    def __post_init__(self) -> None:
        for name in ("ifmap_sram_bits", "filter_sram_bits", "ofmap_sram_bits"):
            if getattr(self, name) < 1:
                raise ValueError(f"SystolicConfig.{name} must be >= 1, got {getattr(self, name)}")


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
    #: v2: array geometry (None: a 1-D array of ``macs_per_cycle`` lanes, compute cycles = MACs / lanes).
    array: ComputeArray | None = None
    #: v2: the precision float models are costed at (None: as traced).
    precision: Precision | None = None
    #: The dataflow of GEMM-shaped ops: ``"dense"`` (tiled by the mapper's search) or ``"eie-csc"`` (fully
    #: connected layers as EIE's compressed sparse column execution, ``simulator.mapping.sparse_csc``).
    dataflow: str = "dense"
    #: The ``eie-csc`` dataflow's parameters (required with it, None otherwise).
    csc: CSCConfig | None = None
    #: The ``eyeriss-rs`` dataflow's PE array and scratchpads (required with it, None otherwise).
    rs: RSConfig | None = None
    #: The ``systolic-*`` dataflows' three operand SRAMs (required with them, None otherwise).
    systolic: SystolicConfig | None = None
    #: Requestors sharing the DRAM: ``cores`` copies of this array with their own on-chip levels (batch split).
    cores: int = 1
    #: Semi-structured sparsity patterns the array skips (``"2:4"``: sparse tensor cores); a weight whose
    #: ``TensorEncoding.structure`` is listed costs only its kept MACs, whatever ``zero_handling`` says.
    structured_sparsity: tuple[str, ...] = ()
    #: How attention's scores are held: ``"materialize"`` (Q K^T then P V, scores spill when they do not
    #: fit) or ``"flash"`` (tiles of the scores streamed through on-chip softmax, never written off chip;
    #: ``simulator.mapping.flash``).
    attention: str = "materialize"
    #: Static/idle power of the whole chip or board beyond the per-event energies (``[compute] static_power``,
    #: mW): drawn for the whole latency whatever the array does; priced by ``energy.static_energy_pj``.
    static_power_mw: float = 0.0


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
    # Memo of derived lookups (operation, kind, bits) -> EnergyValue; not part of equality or hash.
    _memo: dict[Any, EnergyValue] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

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
    def shared_levels(self) -> tuple[str, ...]:
        """On-chip levels every core shares (``shared = true``); the DRAM is always shared."""
        return tuple(lv.name for lv in self.levels if lv.shared)

    @property
    def global_buffer(self) -> MemoryLevel | None:
        """The outermost on-chip level, just inside DRAM: the one whose capacity decides whether a model
        fits (mapping/residency) and that what-if edits resize; None when the profile has only DRAM."""
        return self.levels[-2] if len(self.levels) > 1 else None

    @property
    def on_chip_sram_bits(self) -> int:
        """Total SRAM capacity (all SRAM levels)."""
        return sum(lvl.capacity_bits for lvl in self.levels_of_kind("sram"))

    def op_energy(self, operation: str, dtype: DataType | None = None) -> EnergyValue:
        """Energy of one ``operation`` at ``dtype`` with its source: listed, or derived by a declared rule.

        Args:
            operation: ``add``, ``mult``, ``compare``, ``exp``, ``div``, or a decode operation
                (``codebook``: one codebook lookup; ``huffman_symbol``: one decoded Huffman symbol),
                for which ``dtype`` is ignored.
            dtype: operand data type.

        Raises:
            ProfileError: the profile neither lists the value nor can derive it (naming the key path).
        """
        if operation in DECODE_OPERATIONS:
            key: tuple[str, str | None, int] = (operation, None, 0)
        elif dtype is None:
            raise ValueError(f"operation {operation!r} needs a dtype (only {DECODE_OPERATIONS} take none)")
        else:
            key = (operation, dtype.kind, dtype.bits)
        hit = self._memo.get(key)
        if hit is None:
            hit = derive_op_energy(
                self.compute.op_energy_pj, self.sources, operation, key[1] or "", key[2], self.path or self.name
            )
            self._memo[key] = hit
        return hit

    def op_energy_pj(self, operation: str, dtype: DataType) -> float:
        """Energy of one ``operation`` (``add``, ``mult``, ...) at ``dtype`` in pJ (see ``op_energy``).

        Raises:
            ProfileError: the profile neither lists the value nor can derive it by a declared rule.
        """
        return self.op_energy(operation, dtype).energy_pj

    def decode_energy_pj(self, operation: str) -> float:
        """Energy of one decode step in pJ: ``"codebook"`` (one lookup) or ``"huffman_symbol"`` (one symbol).

        Raises:
            ProfileError: the profile lists no such decode energy (decode energies are never derived).
        """
        if operation not in DECODE_OPERATIONS:
            raise ValueError(f"decode operation must be one of {DECODE_OPERATIONS}, got {operation!r}")
        return self.op_energy(operation).energy_pj

    def mac_energy_pj(self, dtype: DataType) -> float:
        """One MAC = one multiply + one add at ``dtype``."""
        return self.op_energy_pj("mult", dtype) + self.op_energy_pj("add", dtype)
