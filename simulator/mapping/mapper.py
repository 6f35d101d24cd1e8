"""The mapper: (Workload, HardwareProfile) -> Schedule. Residency, fusion, tiling and reuse of every op.

Pipeline, one step per line:

1. fuse: an elementwise op whose input was produced by the op just before it (and read by nobody else)
   is folded into that producer: the producer writes the elementwise op's output directly, the
   intermediate never reaches memory.
2. residency: if all weights in their on-chip encoding plus the peak live activations fit the global
   buffer (the outermost on-chip level), weights stay resident: the first inference loads them from
   DRAM once (cold start), every later one does not (steady state).
3. activations: otherwise half of the global buffer is reserved for activations; an activation stays on
   chip from its producer to its last consumer when the live activations over its whole lifetime fit
   that half (so more SRAM can only keep more activations on chip), and spills to DRAM otherwise.
4. tiling: each op with MACs is tiled at every on-chip level by a vectorised search (``tiling.py``)
   minimising the energy of the traffic across the boundary above that level; SRAM tiles are double
   buffered (half the capacity), register-file tiles are not.
5. streams: the result per op is its memory-access stream (bits per level, operand and direction) and
   its operation stream (MACs after zero handling, other arithmetic, decode work).

Op kinds are mapped through ``OP_MAPPERS`` (a registry keyed by ``Op.kind``): ``conv``/``linear``/``matmul``
as one tiled GEMM, ``attention``/``transformer_layer`` as their chain of GEMMs, the kinds in
``STREAMING_KINDS`` as streaming ops. Kinds without a rule (or ops whose dims a rule cannot read) are
costed as streaming ops and listed in ``Schedule.unmapped`` (``strict=True`` raises instead).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile, MemoryLevel
from simulator.mapping.convgeom import ConvGeometry, conv_geometry
from simulator.mapping.operands import entry_bits_onchip, offchip_bits, onchip_bits, stored_fraction, weight_density
from simulator.mapping.schedule import MappingError, OpSchedule, OperationCount, Schedule, Tile
from simulator.mapping.spatial import array_cycles, conv_loop_nest
from simulator.mapping.tiling import search_tile
from simulator.workload import DataType, Op, TensorInfo, Workload

__all__ = [
    "ACTIVATION_SHARE",
    "GEMM_KINDS",
    "OP_MAPPERS",
    "STREAMING_KINDS",
    "GemmView",
    "gemm_view",
    "map_workload",
    "register_op_mapper",
]

#: Share of the global buffer reserved for activations kept on chip when weights stream.
ACTIVATION_SHARE = 0.5
GEMM_KINDS = ("conv", "linear", "matmul", "attention", "transformer_layer")
#: Kinds without MACs that are mapped as streaming ops on purpose (operands once through the hierarchy).
STREAMING_KINDS = (
    "elementwise", "activation", "norm", "pool", "softmax", "reduce", "reduction", "embedding", "copy", "concat",
    "pad", "upsample", "gather", "scatter", "index", "cast", "shape",
)


@dataclass(frozen=True, slots=True)
class GemmView:
    """An op seen as ``g`` GEMMs ``O[m, n] += A[m, k] * B[k, n]``; ``a``/``b`` name the operand tensors."""

    g: int
    m: int
    n: int
    k: int
    a: str
    b: str
    extras: tuple[str, ...] = ()


def gemm_view(op: Op, workload: Workload) -> GemmView | None:
    """The GEMM shape of a conv / linear / matmul op from its dims, or None when the dims do not allow it."""
    d = dict(op.dims)
    reads = list(dict.fromkeys(a.tensor for a in op.reads))
    infos = {name: workload.tensors[name] for name in reads}
    # Elements actually read (a slice such as a class token reads part of its tensor).
    elements = {a.tensor: a.bits // max(workload.tensors[a.tensor].dtype.bits, 1) for a in op.reads}
    if op.kind == "conv":
        # NB: the input of a convolution is not an M x K matrix; tiles of A are sized by the input's
        # real bits per im2col element (input bits / (G M K)), which ignores the halo of small tiles.
        if not {"N", "K", "C", "G"} <= d.keys():
            return None
        g = d["G"]
        m = d["N"] * math.prod(v for key, v in d.items() if key.startswith("P"))
        n = d["K"] // g
        k = (d["C"] // g) * math.prod(v for key, v in d.items() if key.startswith("R"))
        b = _pick(infos, elements, g * n * k, prefer_weight=True)
        rest = {name: i for name, i in infos.items() if name != b}
        a = max(rest, key=lambda name: (rest[name].kind != "weight", elements[name]), default=None)
    elif {"M", "K", "N"} <= d.keys():
        g = d.get("B", 1) * d.get("G", 1)
        m, k, n = d["M"], d["K"], d["N"]
        b = _pick(infos, elements, g * k * n, prefer_weight=True)
        rest = {name: i for name, i in infos.items() if name != b}
        a = _pick(rest, elements, g * m * k, prefer_weight=False)
    else:
        return None
    if a is None or b is None or min(g, m, n, k) <= 0:
        return None
    return GemmView(g, m, n, k, a, b, tuple(x for x in reads if x not in (a, b)))


def _pick(infos: dict[str, TensorInfo], elements: dict[str, int], numel: int, prefer_weight: bool) -> str | None:
    matches = [name for name in infos if elements[name] == numel]
    if not matches:
        return None
    matches.sort(key=lambda name: (infos[name].kind == "weight") != prefer_weight)
    return matches[0]


# --- the mapping context ----------------------------------------------------------------------------


@dataclass
class _Context:
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

    def info(self, tensor: str) -> TensorInfo:
        if tensor in self.internal:
            return self.internal[tensor][0]
        return self.workload.tensors[tensor]

    @property
    def levels(self) -> tuple[MemoryLevel, ...]:
        return self.profile.levels

    @property
    def dram_idx(self) -> int:
        return len(self.profile.levels) - 1

    @property
    def gb_idx(self) -> int | None:
        return self.dram_idx - 1 if self.dram_idx > 0 else None

    def home(self, tensor: str) -> int:
        """Index of the level a tensor lives in between uses."""
        if tensor in self.internal:
            return self.internal[tensor][1]
        info = self.workload.tensors[tensor]
        if self.gb_idx is None:
            return self.dram_idx
        if info.kind == "weight":
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


class _Traffic:
    """Accumulates the memory-access stream of one op."""

    def __init__(self, ctx: _Context, op: Op) -> None:
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
        if bits:
            self.bits[(self.ctx.levels[level_idx].name, operand, direction)] += float(bits)

    def down(self, tensor: str, operand: str, parent: int, child: int, times: float = 1.0, whole: bool = False) -> None:
        """``tensor`` (the part the op reads, or all of it when ``whole``) copied ``times`` times from ``parent`` into ``child``."""
        fraction = 1.0 if whole else self.fraction.get(tensor, 1.0)
        self.add(parent, operand, "read", times * self.ctx.bits_at(tensor, parent, fraction))
        self.add(child, operand, "write", times * self.ctx.bits_at(tensor, child, fraction))
        if parent == self.ctx.dram_idx:
            self.huffman_symbols += times * _huffman_symbols(self.ctx.info(tensor)) * fraction

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


def _codebook_bits(info: TensorInfo, level_idx: int, ctx: _Context) -> float:
    """Codebook bits of a shared weight on chip (0 off chip, where the encoding is costed whole)."""
    if info.kind != "weight" or info.encoding is None or level_idx == ctx.dram_idx:
        return 0.0
    return float(info.encoding.codebook_bits())


def _huffman_symbols(info: TensorInfo) -> float:
    """Symbols decoded when a Huffman-coded weight is loaded once (value and index streams)."""
    enc = info.encoding
    if enc is None or info.kind != "weight":
        return 0.0
    entries = enc.stored_entries(info.numel)
    return float(entries * ((enc.mean_code_bits is not None) + (enc.mean_index_code_bits is not None)))


# --- op mappers ---------------------------------------------------------------------------------

OpMapper = Callable[[Op, _Context], OpSchedule | None]
#: Op kind -> mapper. A mapper returns None when it cannot map this particular op (e.g. missing dims).
OP_MAPPERS: dict[str, OpMapper] = {}


def register_op_mapper(*kinds: str) -> Callable[[OpMapper], OpMapper]:
    """Register a mapper for op kinds; refuses duplicates."""

    def decorator(fn: OpMapper) -> OpMapper:
        for kind in kinds:
            if kind in OP_MAPPERS:
                raise RuntimeError(f"duplicate op mapper for kind {kind!r}")
            OP_MAPPERS[kind] = fn
        return fn

    return decorator


def _op_name(op: Op) -> str:
    return f"op {op.index} '{op.module or '<top level>'}' ({op.aten})"


def _role(op: Op, tensor: str) -> str:
    for a in op.reads:
        if a.tensor == tensor:
            return a.role
    return "inputs"


def _arith_operations(op: Op) -> list[OperationCount]:
    return [OperationCount(a.operation, a.dtype.name, float(a.count)) for a in op.arith]


def _edge_traffic(op: Op, ctx: _Context, traffic: _Traffic, reads: list[str]) -> None:
    """Compulsory DRAM moves of on-chip tensors: the model input's first load, the model output's store."""
    gb = ctx.gb_idx
    if gb is None:
        return
    for tensor in reads:
        info = ctx.workload.tensors[tensor]
        if info.kind == "input" and ctx.home(tensor) == gb and ctx.first_reader.get(tensor) == op.index:
            traffic.down(tensor, _role(op, tensor), ctx.dram_idx, gb, whole=True)
    for tensor, bits in ctx.writes[op.index]:
        if tensor in ctx.final_outputs and ctx.home(tensor) == gb:
            traffic.up(bits, gb, ctx.dram_idx)


def _zero_handling(macs: int, ctx: _Context, weight: TensorInfo | None, activation: TensorInfo | None) -> tuple[float, float, float]:
    """(MACs that cost energy, MACs that take cycles, weight density) under the profile's zero handling."""
    dw = weight_density(weight) if weight is not None else 1.0
    da = activation.measured_density if activation is not None and activation.measured_density is not None else 1.0
    mode = ctx.profile.zero_handling
    if mode == "skip":
        return macs * dw * da, macs * dw * da, dw
    if mode == "gate":
        return macs * dw * da, float(macs), dw
    return float(macs), float(macs), dw


def _decode_operations(macs: int, weight: TensorInfo | None, dw: float) -> list[OperationCount]:
    """Codebook lookups per used weight and index adds per used stored entry."""
    if weight is None or weight.encoding is None or weight.kind != "weight":
        return []
    enc = weight.encoding
    uses_per_element = macs / max(weight.numel, 1)
    out = []
    # Sign-arithmetic weights keep one scale per filter, applied once per output (see _mac_operations).
    if enc.codebook_entries > 0 and enc.mac_arithmetic != "sign":
        out.append(OperationCount("codebook", f"{weight.dtype.kind}{enc.codebook_value_bits}", macs * dw, "weights"))
    if enc.index_bits > 0:
        entries = weight.numel * stored_fraction(weight)
        out.append(OperationCount("index_add", f"int{enc.index_bits}", entries * uses_per_element, "weights"))
    return out


def _mac_operations(result: _GemmResult, dtype: str, op: Op) -> list[OperationCount]:
    """The MACs of one GEMM as operations.

    Declared rule: with sign-arithmetic weights (binary/ternary, ``TensorEncoding.mac_arithmetic ==
    "sign"``) a MAC is an add/subtract at the activation's type, and the per-filter scale costs one
    multiply per output element (XNOR-Net's binary-weight networks); otherwise a MAC is multiply + add.
    """
    enc = result.weight.encoding if result.weight is not None else None
    if enc is None or enc.mac_arithmetic != "sign":
        return [OperationCount("mac", dtype, result.e_macs)]
    outputs = sum(a.bits for a in op.writes) / max(DataType.parse(dtype).bits, 1)
    return [OperationCount("add", dtype, result.e_macs), OperationCount("mult", dtype, outputs)]


@dataclass
class _GemmResult:
    """What one tiled GEMM added to an op: its tiles, DRAM-boundary steps and operation counts."""

    tiles: list[Tile]
    steps: int
    e_macs: float
    c_macs: float
    operations: list[OperationCount]
    weight: TensorInfo | None
    cycles: float


def _tile_gemm(
    op: Op, ctx: _Context, traffic: _Traffic, view: GemmView, outputs: list[tuple[str, float]], macs: int,
    loops: dict[str, int] | None = None,
    geom: ConvGeometry | None = None,
) -> _GemmResult:
    """Tile one GEMM at every on-chip level and add its memory-access stream to ``traffic``.

    ``outputs`` are the tensors the GEMM writes (with bits); ``macs`` its multiply-accumulates;
    ``loops`` its loop nest for the compute array (default: the GEMM's, see ``spatial.array_cycles``);
    ``geom`` a conv's sliding-window geometry (input tiles with their halo, see ``convgeom``).
    """
    info_a, info_b = ctx.info(view.a), ctx.info(view.b)
    role_a, role_b = _role(op, view.a), _role(op, view.b)
    out_bits = float(sum(bits for _, bits in outputs))
    out_tensors = [t for t, _ in outputs]
    g, m, n, k = view.g, view.m, view.n, view.k
    levels = ctx.levels
    tiles: list[Tile] = []
    steps = 1
    inner_passes = 1.0
    out_home = max((ctx.home(t) for t in out_tensors), default=ctx.gb_idx if ctx.gb_idx is not None else ctx.dram_idx)
    # Partial sums move at the accumulator width until their final write (never narrower than the output).
    out_elem_bits = max((ctx.info(t).dtype.bits for t in out_tensors), default=1)
    psum_bits = out_bits * max(out_elem_bits, ctx.profile.compute.accumulator_bits) / out_elem_bits

    for child in range(ctx.dram_idx - 1, -1, -1):
        parent = child + 1
        at_dram = parent == ctx.dram_idx
        streamed = (
            (ctx.home(view.a) >= parent, ctx.home(view.b) >= parent, bool(out_tensors) and out_home >= parent)
            if at_dram
            else (True, True, bool(out_tensors))
        )
        if not any(streamed):
            # Everything already lives in the child level (resident): no tile, no traffic at this boundary;
            # at the innermost level the accumulator then holds a full reduction.
            continue
        pc, cc = levels[parent], levels[child]
        a_p, a_c = traffic.bits_at(view.a, parent), traffic.bits_at(view.a, child)
        b_p, b_c = traffic.bits_at(view.b, parent), traffic.bits_at(view.b, child)
        # NB: a codebook is moved with its weights but held in the decoder's lookup table (EIE keeps its
        # 16 entries in registers per PE), so it takes no tile space; tiles hold the stored entries.
        book_a, book_b = _codebook_bits(info_a, child, ctx), _codebook_bits(info_b, child, ctx)
        a_elems = g * geom.used_input_elems if geom is not None else g * m * k
        elem = ((a_c - book_a) / a_elems, (b_c - book_b) / (g * k * n), psum_bits / (g * m * n) if out_bits else 0.0)
        # Pass costs at the partial-sum width; the final pass's narrower write differs by a constant.
        cost = (
            a_p * pc.read_energy_per_bit_pj + a_c * cc.write_energy_per_bit_pj,
            b_p * pc.read_energy_per_bit_pj + b_c * cc.write_energy_per_bit_pj,
            psum_bits * (cc.read_energy_per_bit_pj + pc.write_energy_per_bit_pj),
            psum_bits * (pc.read_energy_per_bit_pj + cc.write_energy_per_bit_pj),
        )
        inner = (psum_bits * cc.write_energy_per_bit_pj, psum_bits * cc.read_energy_per_bit_pj) if child == 0 else (0.0, 0.0)
        budget, factor = ctx.budget(child)
        choice = search_tile((g, m, n, k), elem, streamed, budget, cost, inner, geom)
        if choice is None:
            smallest = sum(e for e, s in zip(elem, streamed) if s)
            raise MappingError(
                f"{_op_name(op)}: memory level '{cc.name}' cannot hold even the smallest tile "
                f"(1 x 1 x 1 elements = {smallest:.0f} bits, x{factor} double-buffered); it offers "
                f"{budget:.0f} bits per tile set of its {cc.capacity_bits} bits; capacity needed: at least "
                f"{math.ceil(smallest * factor * cc.capacity_bits / max(budget * factor, 1e-9))} bits"
            )
        if streamed[0]:
            traffic.down(view.a, role_a, parent, child, choice.refetch_a)
        if streamed[1]:
            traffic.down(view.b, role_b, parent, child, choice.refetch_b)
        if streamed[2]:
            traffic.up(out_bits, child, parent)
            traffic.up(psum_bits, child, parent, choice.passes - 1.0)
            traffic.add(parent, "outputs", "read", (choice.passes - 1.0) * psum_bits)
            traffic.add(child, "outputs", "write", (choice.passes - 1.0) * psum_bits)
        if at_dram and any(streamed[:2]) or (at_dram and streamed[2] and any(t not in ctx.final_outputs for t in out_tensors)):
            ctx.spilling.add(op.module)
        if at_dram:
            steps = choice.steps
        if child == 0:
            inner_passes = choice.inner_passes
        tiles.append(
            Tile(cc.name, FrozenMap({"M": choice.m, "N": choice.n, "K": choice.k}), choice.order, choice.steps,
                 choice.footprint_bits, budget)
        )

    weight = info_b if info_b.kind == "weight" else (info_a if info_a.kind == "weight" else None)
    activation = info_a if weight is info_b else info_b
    e_macs, c_macs, dw = _zero_handling(macs, ctx, weight, activation)
    # The compute array reads the stored entries of the weight once per use, the other operand once per MAC.
    for info, role in ((info_a, role_a), (info_b, role_b)):
        if info is weight:
            traffic.add(0, role, "read", macs * dw * entry_bits_onchip(info))
        else:
            traffic.add(0, role, "read", e_macs * info.dtype.bits)
    if out_bits:
        traffic.add(0, "outputs", "write", out_bits + (inner_passes - 1.0) * psum_bits)
        traffic.add(0, "outputs", "read", (inner_passes - 1.0) * psum_bits)
    cycles = array_cycles(ctx.profile.compute, loops, (g, m, n, k), macs, c_macs)
    return _GemmResult(tiles, max(1, steps), e_macs, c_macs, _decode_operations(macs, weight, dw), weight, cycles)


def _gemm_schedule(op: Op, ctx: _Context, traffic: _Traffic, results: list[_GemmResult], extras: list[str], reads: list[str]) -> OpSchedule:
    """Extras streamed once, compulsory edge traffic, and the op's operation stream, for tiled GEMMs."""
    for extra in extras:
        if extra not in ctx.free_reads[op.index]:
            traffic.through(extra, _role(op, extra), ctx.home(extra))
    _edge_traffic(op, ctx, traffic, reads)
    dtype = op.mac_dtype.name if op.mac_dtype else "float32"
    merged: dict[tuple[str, str, str], float] = {}
    for o in (o for r in results for o in _mac_operations(r, dtype, op)):
        merged[(o.operation, o.dtype, o.operand)] = merged.get((o.operation, o.dtype, o.operand), 0.0) + o.count
    operations = [OperationCount(kind, dt, count, operand) for (kind, dt, operand), count in merged.items()]
    operations += _arith_operations(op)
    for r in results:
        operations += r.operations
    weights = [r.weight for r in results if r.weight is not None and r.weight.encoding is not None]
    if traffic.huffman_symbols and weights:
        operations.append(OperationCount("huffman_symbol", f"int{weights[0].encoding.value_bits}", traffic.huffman_symbols, "weights"))
    arith = sum(a.count for a in op.arith)
    return OpSchedule(
        index=op.index, layer=op.module, kind=op.kind, aten=op.aten, mapping="gemm",
        tiles=tuple(t for r in results for t in r.tiles), traffic_bits=traffic.frozen(), operations=tuple(operations),
        macs=op.macs, compute_cycles=sum(r.cycles for r in results) + arith / ctx.profile.compute.macs_per_cycle,
        steps=sum(r.steps for r in results),
    )


@register_op_mapper("conv", "linear", "matmul")
def map_gemm(op: Op, ctx: _Context) -> OpSchedule | None:
    """Tile a GEMM-shaped op at every on-chip level; the compute array reads A and B once per MAC."""
    view = gemm_view(op, ctx.workload)
    if view is None or op.macs <= 0:
        return None
    traffic = _Traffic(ctx, op)
    loops = conv_loop_nest(dict(op.dims)) if op.kind == "conv" else None
    geom = conv_geometry(dict(op.dims), ctx.info(view.a).shape) if op.kind == "conv" else None
    if geom is not None:
        # A strided conv reads only the input pixels some output uses.
        traffic.fraction[view.a] = traffic.fraction.get(view.a, 1.0) * geom.used_input_fraction
    result = _tile_gemm(op, ctx, traffic, view, ctx.writes[op.index], op.macs, loops, geom)
    return _gemm_schedule(op, ctx, traffic, [result], list(view.extras), [view.a, view.b, *view.extras])


@register_op_mapper("attention", "transformer_layer")
def map_attention(op: Op, ctx: _Context) -> OpSchedule | None:
    """Self-attention and transformer encoder layers as their chain of GEMMs.

    dims ``B, L, S, E, H`` (+ ``F`` for a layer): q, k, v projection (B*L x E x 3E), scores per head
    (B*H groups of L x E/H x S), weighted values (B*H groups of L x S x E/H), output projection
    (B*L x E x E), and for a layer the feed-forward pair (B*L x E x F, B*L x F x E). The tensors between
    them (q, k, v, scores, context, hidden) live on chip when they fit the activation share of the
    global buffer, in DRAM otherwise. Only self-attention (one input, S = L) is decomposed; other
    attention ops get no mapping here (and are reported).
    """
    if op.macs <= 0:
        return None
    view = gemm_view(op, ctx.workload)
    if view is not None:
        traffic = _Traffic(ctx, op)
        result = _tile_gemm(op, ctx, traffic, view, ctx.writes[op.index], op.macs)
        return _gemm_schedule(op, ctx, traffic, [result], list(view.extras), [view.a, view.b, *view.extras])
    d = dict(op.dims)
    if not {"B", "L", "E", "H"} <= d.keys() or d.get("S", d["L"]) != d["L"]:
        return None
    b, length, e, h = d["B"], d["L"], d["E"], d["H"]
    ffn = d.get("F", 0)
    reads = list(dict.fromkeys(a.tensor for a in op.reads))
    inputs = [t for t in reads if ctx.workload.tensors[t].kind != "weight"]
    weights = [t for t in reads if ctx.workload.tensors[t].kind == "weight"]
    outputs = ctx.writes[op.index]
    if len(inputs) != 1 or not outputs or e % h:
        return None
    x = inputs[0]
    dtype = ctx.workload.tensors[x].dtype

    def weight_of(numel: int, taken: set[str]) -> str | None:
        for w in weights:
            if w not in taken and ctx.workload.tensors[w].numel == numel:
                taken.add(w)
                return w
        return None

    taken: set[str] = set()
    w_in, w_out = weight_of(3 * e * e, taken), weight_of(e * e, taken)
    w_1 = weight_of(ffn * e, taken) if ffn else None
    w_2 = weight_of(ffn * e, taken) if ffn else None
    if w_in is None or w_out is None or (ffn and (w_1 is None or w_2 is None)):
        return None
    rows, heads = b * length, b * h
    gemms = [
        (GemmView(1, rows, 3 * e, e, x, w_in), [("q", rows * e), ("k", rows * e), ("v", rows * e)]),
        (GemmView(heads, length, length, e // h, "q", "k"), [("scores", heads * length * length)]),
        (GemmView(heads, length, e // h, length, "scores", "v"), [("context", rows * e)]),
    ]
    if ffn:
        gemms += [
            (GemmView(1, rows, e, e, "context", w_out), [("attended", rows * e)]),
            (GemmView(1, rows, ffn, e, "attended", w_1), [("hidden", rows * ffn)]),
            (GemmView(1, rows, e, ffn, "hidden", w_2), [(t, bits) for t, bits in outputs]),
        ]
    else:
        gemms.append((GemmView(1, rows, e, e, "context", w_out), [(t, bits) for t, bits in outputs]))
    total = sum(v.g * v.m * v.n * v.k for v, _ in gemms)
    if abs(total - op.macs) > 0.01 * op.macs:
        return None
    prefix = f"{op.index}:"
    ctx.internal.clear()
    for v, outs in gemms:
        for name, numel in outs:
            if isinstance(numel, int) and name in ("q", "k", "v", "scores", "context", "attended", "hidden"):
                info = TensorInfo(prefix + name, "activation", (numel,), dtype, producer=op.index, last_use=op.index)
                home = ctx.gb_idx if ctx.gb_idx is not None and (ctx.resident or info.dense_bits <= ctx.act_budget_bits) else ctx.dram_idx
                ctx.internal[prefix + name] = (info, home)
                if home == ctx.dram_idx:
                    ctx.spilling.add(op.module)

    def named(t: str) -> str:
        return prefix + t if prefix + t in ctx.internal else t

    traffic = _Traffic(ctx, op)
    results = []
    try:
        for v, outs in gemms:
            sub = GemmView(v.g, v.m, v.n, v.k, named(v.a), named(v.b))
            sub_out = [(named(t), float(ctx.info(named(t)).dense_bits) if named(t) in ctx.internal else bits) for t, bits in outs]
            results.append(_tile_gemm(op, ctx, traffic, sub, sub_out, sub.g * sub.m * sub.n * sub.k))
        extras = [w for w in weights if w not in taken]
        return _gemm_schedule(op, ctx, traffic, results, extras, [x, *weights])
    finally:
        ctx.internal.clear()


@register_op_mapper(*STREAMING_KINDS)
def map_streaming(op: Op, ctx: _Context) -> OpSchedule:
    """Read every operand once from its home down to the compute array, write every output once up to its home."""
    traffic = _Traffic(ctx, op)
    reads = [t for t in dict.fromkeys(a.tensor for a in op.reads) if t not in ctx.free_reads[op.index]]
    streamed_bits = 0.0
    for tensor in reads:
        home = ctx.home(tensor)
        traffic.through(tensor, _role(op, tensor), home)
        if home == ctx.dram_idx:
            streamed_bits += traffic.bits_at(tensor, ctx.dram_idx)
            if ctx.workload.tensors[tensor].kind != "input":
                ctx.spilling.add(op.module)
    for tensor, bits in ctx.writes[op.index]:
        home = ctx.home(tensor)
        traffic.add(0, "outputs", "write", bits)
        for child in range(0, home):
            traffic.up(bits, child, child + 1)
        if home == ctx.dram_idx:
            streamed_bits += bits
            if tensor not in ctx.final_outputs:
                ctx.spilling.add(op.module)
    _edge_traffic(op, ctx, traffic, reads)
    steps = 1
    if ctx.gb_idx is not None and streamed_bits:
        budget, factor = ctx.budget(ctx.gb_idx)
        element = max(ctx.workload.tensors[t].dtype.bits for t in [*reads, *(t for t, _ in ctx.writes[op.index])])
        if budget < element:
            level = ctx.levels[ctx.gb_idx]
            raise MappingError(
                f"{_op_name(op)}: memory level '{level.name}' cannot buffer one {element}-bit element "
                f"(x{factor} double-buffered) in the {budget:.0f} bits it offers per tile set; capacity "
                f"needed: at least {math.ceil(element * level.capacity_bits / max(budget, 1e-9))} bits"
            )
        steps = max(1, math.ceil(streamed_bits / budget))
    e_macs = float(op.macs)
    operations = _arith_operations(op)
    if op.macs:
        operations.insert(0, OperationCount("mac", op.mac_dtype.name if op.mac_dtype else "float32", e_macs))
    work = e_macs + sum(a.count for a in op.arith)
    return OpSchedule(
        index=op.index, layer=op.module, kind=op.kind, aten=op.aten,
        mapping="fused" if ctx.free_reads[op.index] else "streaming", tiles=(),
        traffic_bits=traffic.frozen(), operations=tuple(operations), macs=op.macs,
        compute_cycles=work / ctx.profile.compute.macs_per_cycle, steps=steps,
    )


# --- the whole model ---------------------------------------------------------------------------


def _fuse(workload: Workload, enabled: bool) -> tuple[dict[int, list[tuple[str, int]]], dict[int, set[str]], dict[int, int]]:
    """Effective writes per op, operands read for free (fused), and fused op -> op it was folded into."""
    writes = {op.index: [(a.tensor, a.bits) for a in op.writes] for op in workload.ops}
    free: dict[int, set[str]] = defaultdict(set)
    fused: dict[int, int] = {}
    writer: dict[str, int] = {}
    for op in workload.ops:
        if enabled and op.kind == "elementwise" and op.macs == 0:
            for access in op.reads:
                info = workload.tensors[access.tensor]
                root = writer.get(access.tensor)
                if (
                    root is not None
                    and info.kind == "activation"
                    and info.producer == op.index - 1
                    and info.last_use == op.index
                ):
                    writes[root] = [w for w in writes[root] if w[0] != access.tensor] + writes[op.index]
                    writes[op.index] = []
                    free[op.index].add(access.tensor)
                    fused[op.index] = root
                    break
        owner = fused.get(op.index, op.index)
        for access in op.writes:
            writer[access.tensor] = owner
    return writes, free, fused


def _kept_activations(workload: Workload, budget_bits: float) -> frozenset[str]:
    """Activations whose lifetime never sees more live activation bits than ``budget_bits``.

    Monotone by construction: a larger budget keeps a superset, and the kept tensors live at any op
    never exceed the budget (they are a subset of all live tensors there).
    """
    n_ops = len(workload.ops)
    if n_ops == 0:
        return frozenset()
    spans = []
    for t in workload.tensors.values():
        if t.kind == "weight":
            continue
        start = t.producer if t.producer is not None else 0
        end = max(t.last_use if t.last_use is not None else start, start)
        spans.append((t.name, min(start, n_ops - 1), min(end, n_ops - 1), t.dense_bits))
    delta = np.zeros(n_ops + 1, dtype=np.float64)
    for _, s, e, bits in spans:
        delta[s] += bits
        delta[e + 1] -= bits
    live = np.cumsum(delta)[:n_ops]
    return frozenset(name for name, s, e, _ in spans if live[s : e + 1].max() <= budget_bits)


def map_workload(
    workload: Workload,
    profile: HardwareProfile,
    *,
    fuse_elementwise: bool = True,
    strict: bool = False,
    independent_layers: bool = False,
) -> Schedule:
    """Map every op of ``workload`` onto ``profile``.

    Args:
        workload: the traced model.
        profile: the hardware; its levels innermost first, DRAM last.
        fuse_elementwise: fold elementwise ops into their producer (default on).
        strict: raise ``MappingError`` for op kinds without a mapping rule instead of costing them as
            streaming ops and listing them in ``Schedule.unmapped``.
        independent_layers: cost every op on its own as ZigZag and SCALE-Sim do: weights stream, every
            activation is read from and written to DRAM (nothing resident or kept on chip).

    Raises:
        MappingError: a level cannot hold the smallest tile of an op (names the op, the level and the
            capacity needed), or (``strict``) an op kind has no mapping rule.
    """
    levels = profile.levels
    gb_idx = len(levels) - 2 if len(levels) > 1 else None
    gb_bits = levels[gb_idx].capacity_bits if gb_idx is not None else 0
    used_weights = {a.tensor for op in workload.ops for a in op.reads if workload.tensors[a.tensor].kind == "weight"}
    weight_infos = [workload.tensors[name] for name in sorted(used_weights)]
    weight_onchip = sum(onchip_bits(w) for w in weight_infos)
    weight_offchip = sum(offchip_bits(w) for w in weight_infos)
    peak = workload.peak_activation_bits
    resident = gb_idx is not None and weight_onchip + peak <= gb_bits and not independent_layers
    act_budget = float("inf") if resident else gb_bits * ACTIVATION_SHARE
    kept = _kept_activations(workload, act_budget) if gb_idx is not None and not independent_layers else frozenset()

    writes, free, fused = _fuse(workload, fuse_elementwise)
    read_by: dict[str, int] = {}
    for op in workload.ops:
        for a in op.reads:
            if a.tensor not in free[op.index]:
                read_by.setdefault(a.tensor, op.index)
    written = {t for ws in writes.values() for t, _ in ws}
    final_outputs = frozenset(t for t in written if workload.tensors[t].last_use is None)
    ctx = _Context(workload, profile, resident, kept, act_budget, writes, free, read_by, final_outputs,
                   independent=independent_layers)

    scheduled: list[OpSchedule] = []
    unmapped: Counter[str] = Counter()
    for op in workload.ops:
        mapper = OP_MAPPERS.get(op.kind)
        result = mapper(op, ctx) if mapper is not None else None
        if result is None:
            label = op.kind if mapper is None else f"{op.kind} (no usable dims: {dict(op.dims)})"
            if strict:
                raise MappingError(f"{_op_name(op)}: no mapping rule for op kind {label!r}; known kinds: {sorted(OP_MAPPERS)}")
            unmapped[label] += 1
            result = map_streaming(op, ctx)
        if op.index in fused:
            from dataclasses import replace

            result = replace(result, mapping="fused", fused_into=fused[op.index])
        scheduled.append(result)

    # Compulsory: every weight and model input read once (only the part any op reads, for partial reads
    # such as an embedding lookup), every model output written once.
    read_share: dict[str, float] = defaultdict(float)
    for op in workload.ops:
        for a in op.reads:
            if a.tensor not in free[op.index]:
                info = workload.tensors[a.tensor]
                read_share[a.tensor] = max(read_share[a.tensor], min(1.0, a.bits / max(info.dense_bits, 1)))
    inputs = {t for t in read_by if workload.tensors[t].kind == "input"}
    compulsory = (
        sum(offchip_bits(w) * (1.0 if resident else read_share[w.name]) for w in weight_infos)
        + sum(workload.tensors[t].dense_bits for t in inputs)
        + sum(bits for ws in writes.values() for t, bits in ws if t in final_outputs)
    )
    cold_traffic: dict[tuple[str, str, str], float] = defaultdict(float)
    cold_ops: list[OperationCount] = []
    if resident:
        dram, gb = levels[-1], levels[gb_idx]
        for w in weight_infos:
            cold_traffic[(dram.name, "weights", "read")] += offchip_bits(w)
            cold_traffic[(gb.name, "weights", "write")] += onchip_bits(w)
            symbols = _huffman_symbols(w)
            if symbols:
                cold_ops.append(OperationCount("huffman_symbol", f"int{w.encoding.value_bits}", symbols, "weights"))
    return Schedule(
        model_name=workload.model_name,
        profile_name=profile.name,
        ops=tuple(scheduled),
        resident=resident,
        global_buffer=levels[gb_idx].name if gb_idx is not None else None,
        global_buffer_bits=gb_bits,
        weight_onchip_bits=weight_onchip,
        weight_offchip_bits=weight_offchip,
        peak_activation_bits=peak,
        activation_budget_bits=act_budget,
        dram=levels[-1].name,
        kept_activations=kept,
        cold_start_traffic_bits=FrozenMap(cold_traffic),
        cold_start_operations=tuple(cold_ops),
        compulsory_dram_bits=float(compulsory),
        unmapped=FrozenMap(unmapped),
        spilling_layers=tuple(dict.fromkeys(op.module for op in workload.ops if op.module in ctx.spilling)),
    )
