"""What every op mapper shares: the mapping context (levels, homes of tensors, budgets) and the traffic accumulator.

``MappingContext`` answers where a tensor lives between uses (``home``: the global buffer when resident
or kept on chip by ``residency.kept_activations``, DRAM otherwise), its bits in the form a level holds
it, and the capacity one tile set may use at a level (``budget``: the activation share reserved in the
global buffer when weights stream; SRAM tiles double buffered). ``Traffic`` accumulates one op's
memory-access stream (bits per level, operand and direction). ``edge_traffic`` adds the compulsory DRAM
moves of on-chip tensors (the model input's first load, the model output's store).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile, MemoryLevel
from simulator.mapping.hierarchy import serves, serving_level
from simulator.mapping.operands import offchip_bits, onchip_bits
from simulator.mapping.sparse_csc import WeightPattern
from simulator.workload import Op, TensorInfo, Workload

__all__ = [
    "ACTIVATION_SHARE", "MappingContext", "Traffic", "codebook_bits", "edge_traffic", "huffman_symbol_count", "op_name",
    "role_of",
]

#: Share of the global buffer reserved for activations kept on chip when weights stream.
ACTIVATION_SHARE = 0.5


@dataclass
class MappingContext:
    """What every op mapper needs: the profile's levels, the homes of tensors, the effective writes."""

    workload: Workload
    profile: HardwareProfile
    resident: bool
    kept: frozenset[str]
    act_budget_bits: float
    writes: dict[int, list[tuple[str, int]]]
    free_reads: dict[int, set[str]]
    first_reader: dict[str, int]
    final_outputs: frozenset[str]
    spilling: set[str] = field(default_factory=set)
    #: Tensors inside one op that never appear in the workload (a transformer layer's q, k, v, scores),
    #: with the level they live in.
    internal: dict[str, tuple[TensorInfo, int]] = field(default_factory=dict)
    #: Layer-by-layer mode: no activation share is reserved in the global buffer (nothing is kept there).
    independent: bool = False
    #: Non-zero patterns of weights (by tensor name) for sparse dataflows (``sparse_csc``).
    patterns: Mapping[str, WeightPattern] = field(default_factory=dict)
    #: What the tile search minimises (``objective.OBJECTIVES``).
    objective: str = "energy"

    #: The profile's levels, innermost first; the index of DRAM (the last) and of the global buffer (the one
    #: before it, None when the profile has only DRAM). Fixed for the call: set once, read on every move.
    levels: tuple[MemoryLevel, ...] = field(init=False, repr=False)
    dram_idx: int = field(init=False, repr=False)
    gb_idx: int | None = field(init=False, repr=False)
    _homes: dict[str, int] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.levels = self.profile.levels
        self.dram_idx = len(self.levels) - 1
        self.gb_idx = self.dram_idx - 1 if self.dram_idx > 0 else None

    def info(self, tensor: str) -> TensorInfo:
        if tensor in self.internal:
            return self.internal[tensor][0]
        return self.workload.tensors[tensor]

    def home(self, tensor: str) -> int:
        """Index of the level a tensor lives in between uses (``residency.kept_activations`` decides)."""
        if tensor in self.internal:
            return self.internal[tensor][1]
        home = self._homes.get(tensor)
        if home is None:
            home = self._homes[tensor] = self._home(tensor)
        return home

    def _home(self, tensor: str) -> int:
        if self.gb_idx is None:
            return self.dram_idx
        if self.workload.tensors[self.workload.owner_of(tensor)].kind == "weight":
            return self.gb_idx if self.resident else self.dram_idx
        return self.gb_idx if tensor in self.kept else self.dram_idx

    def bits_at(self, tensor: str, level_idx: int, fraction: float = 1.0) -> float:
        """Bits of ``tensor`` (or of the ``fraction`` of it an op reads) in the form it has at a level."""
        info = self.info(tensor)
        bits = offchip_bits(info) if level_idx == self.dram_idx else onchip_bits(info)
        return bits * fraction if fraction < 1.0 else bits

    def budget(self, level_idx: int) -> tuple[float, int]:
        """(bits one tile set may use, double-buffering factor) at a level."""
        level = self.levels[level_idx]
        capacity = float(level.capacity_bits)
        if level_idx == self.gb_idx and not self.resident and not self.independent:
            capacity *= 1.0 - ACTIVATION_SHARE
        factor = 2 if level.kind == "sram" else 1
        return capacity / factor, factor


class Traffic:
    """Accumulates the memory-access stream of one op."""

    __slots__ = ("bits", "ctx", "fraction", "huffman_symbols")

    def __init__(self, ctx: MappingContext, op: Op) -> None:
        self.ctx = ctx
        self.bits: dict[tuple[str, str, str], float] = defaultdict(float)
        self.huffman_symbols = 0.0
        # Share of each tensor the op reads (an embedding reads a few rows, a slice part of its tensor).
        self.fraction = {
            a.tensor: min(1.0, a.bits / max(ctx.workload.tensors[a.tensor].dense_bits, 1)) for a in op.reads
        }

    def bits_at(self, tensor: str, level_idx: int) -> float:
        return self.ctx.bits_at(tensor, level_idx, self.fraction.get(tensor, 1.0))

    def add(self, level_idx: int, operand: str, direction: str, bits: float) -> None:
        level_idx = serving_level(self.ctx.profile, operand, level_idx)  # per-operand hierarchies (bypass)
        if bits:
            self.bits[(self.ctx.levels[level_idx].name, operand, direction)] += float(bits)

    def down(self, tensor: str, operand: str, parent: int, child: int, times: float = 1.0, whole: bool = False) -> None:
        """``tensor`` (the part the op reads, or all of it when ``whole``) copied ``times`` times from ``parent`` into ``child``."""
        if not serves(self.ctx.levels[child], operand):
            return  # the child level is bypassed by this operand: the move happens at the next boundary in
        fraction = 1.0 if whole else self.fraction.get(tensor, 1.0)
        self.add(parent, operand, "read", times * self.ctx.bits_at(tensor, parent, fraction))
        self.add(child, operand, "write", times * self.ctx.bits_at(tensor, child, fraction))
        if parent == self.ctx.dram_idx:
            self.huffman_symbols += times * huffman_symbol_count(self.ctx.info(tensor)) * fraction

    def up(self, bits: float, child: int, parent: int, times: float = 1.0) -> None:
        """Output bits moved ``times`` times from ``child`` up to ``parent``."""
        self.add(child, "outputs", "read", times * bits)
        self.add(parent, "outputs", "write", times * bits)

    def through(self, tensor: str, operand: str, from_idx: int) -> None:
        """``tensor`` streamed once from its level ``from_idx`` down to the innermost level and read by compute."""
        for parent in range(from_idx, 0, -1):
            self.down(tensor, operand, parent, parent - 1)
        self.add(0, operand, "read", self.bits_at(tensor, 0))

    def frozen(self) -> FrozenMap:
        return FrozenMap({k: v for k, v in self.bits.items() if v})


def codebook_bits(info: TensorInfo, level_idx: int, ctx: MappingContext) -> float:
    """Codebook bits of a shared weight on chip (0 off chip, where the encoding is costed whole)."""
    if info.kind != "weight" or info.encoding is None or level_idx == ctx.dram_idx:
        return 0.0
    return float(info.encoding.codebook_bits())


def huffman_symbol_count(info: TensorInfo) -> float:
    """Symbols decoded when a Huffman-coded weight is loaded once (value and index streams)."""
    enc = info.encoding
    if enc is None or info.kind != "weight":
        return 0.0
    entries = enc.stored_entries(info.numel)
    return float(entries * ((enc.mean_code_bits is not None) + (enc.mean_index_code_bits is not None)))


def op_name(op: Op) -> str:
    return f"op {op.index} '{op.module or '<top level>'}' ({op.aten})"


def role_of(op: Op, tensor: str) -> str:
    for a in op.reads:
        if a.tensor == tensor:
            return a.role
    return "inputs"


def edge_traffic(op: Op, ctx: MappingContext, traffic: Traffic, reads: list[str]) -> None:
    """Compulsory DRAM moves of on-chip tensors: the model input's first load, the model output's store."""
    gb = ctx.gb_idx
    if gb is None:
        return
    for tensor in reads:
        info = ctx.workload.tensors[tensor]
        if info.kind == "input" and ctx.home(tensor) == gb and ctx.first_reader.get(tensor) == op.index:
            traffic.down(tensor, role_of(op, tensor), ctx.dram_idx, gb, whole=True)
    for tensor, bits in ctx.writes[op.index]:
        if tensor in ctx.final_outputs and ctx.home(tensor) == gb:
            traffic.up(bits, gb, ctx.dram_idx)
