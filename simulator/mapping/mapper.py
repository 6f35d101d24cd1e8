"""The mapper: (Workload, HardwareProfile) -> Schedule. Residency, fusion, tiling and reuse of every op.

Pipeline, one step per line:

1. fuse: an elementwise op whose input was produced by the op just before it (and read by nobody else)
   is folded into that producer: the producer writes the elementwise op's output directly, the
   intermediate never reaches memory.
2. residency (``residency.py``, the one home of "what must be on chip"): if the model's ``Footprint``
   fits the global buffer (the outermost on-chip level), weights stay resident: the first inference
   loads them from DRAM once (cold start), every later one does not (steady state).
3. activations: otherwise half of the global buffer is reserved for activations; an activation (each
   in-place rewrite of a buffer decided apart) stays on chip from its producer to its last consumer
   when the live activations over that span fit that half (``residency.kept_activations``; so more
   SRAM can only keep more activations on chip), and spills to DRAM otherwise.
4. tiling: each op with MACs is tiled at every on-chip level by a vectorised search (``tiling.py``)
   minimising the energy of the traffic across the boundary above that level; SRAM tiles are double
   buffered (half the capacity), register-file tiles are not.
5. streams: the result per op is its memory-access stream (bits per level, operand and direction) and
   its operation stream (MACs after zero handling, other arithmetic, decode work).

Op kinds are mapped through ``OP_MAPPERS`` (a registry keyed by ``simulator.ops.OpKind``):
``conv`` (direct and transposed) / ``linear`` / ``matmul`` as one tiled GEMM, ``attention`` /
``transformer_layer`` as their chain of GEMMs, the kinds in ``STREAMING_KINDS`` (each with its reason) as
streaming ops. Mappers read the typed dims record of their kind (``simulator.ops``). A kind without a
mapper, or an op a mapper cannot map (e.g. cross-attention with projections), is costed as a streaming
op and listed in ``Schedule.unmapped`` (``strict=True`` raises instead).

A profile's dataflow (``[compute] dataflow``) may replace the mapper of some kinds (``DATAFLOW_MAPPERS``):
``eie-csc`` maps weight-times-vector ``linear`` / ``matmul`` ops as EIE's compressed sparse column execution
(``sparse_csc.py``), from the weights' non-zero patterns (``map_workload(weight_patterns=...)``); what it
declines goes to the dense mapper.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace


from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile, MemoryLevel
from simulator.mapping.convgeom import ConvGeometry, conv_geometry
from simulator.mapping.operands import entry_bits_onchip, offchip_bits, onchip_bits, stored_fraction, weight_density
from simulator.mapping.residency import footprint, global_buffer_bits, kept_activations, used_weights
from simulator.mapping.schedule import MappingError, OpSchedule, OperationCount, Schedule, Tile
from simulator.mapping.sparse_csc import WeightPattern, map_eie_csc
from simulator.mapping.systolic import map_systolic
from simulator.mapping.spatial import array_cycles, conv_loop_nest
from simulator.mapping.tiling import search_tile
from simulator.ops import AttentionDims, ConvDims, GemmDims, OpKind, RecurrentDims, TransformerLayerDims
from simulator.workload import DataType, Op, TensorInfo, Workload

__all__ = [
    "ACTIVATION_SHARE",
    "DATAFLOW_MAPPERS",
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
#: Kinds tiled as one GEMM or a chain of GEMMs.
GEMM_KINDS = (OpKind.CONV, OpKind.LINEAR, OpKind.MATMUL, OpKind.ATTENTION, OpKind.TRANSFORMER_LAYER, OpKind.RECURRENT)
#: Kinds without MACs mapped as streaming ops on purpose (operands once through the hierarchy), with the reason.
STREAMING_KINDS: FrozenMap[OpKind, str] = FrozenMap({
    OpKind.ELEMENTWISE: "a fixed count of operations per element and no reuse: each operand crosses the hierarchy "
    "once (and not at all when fused into its producer)",
    OpKind.NORM: "per-element scale and shift with per-row statistics; the input is read once, no MACs to tile",
    OpKind.POOL: "each input feeds at most the few overlapping windows around it, served from the innermost level; "
    "read once, no MACs to tile",
    OpKind.REDUCE: "each input element is combined once into its output",
    OpKind.SOFTMAX: "per-row max, exponentials and sum over a row read once",
    OpKind.GATHER: "reads only the rows (values) it looks up, once; no arithmetic",
    OpKind.COPY: "moves data once (copies, concatenation, padding, layout changes, nearest upsampling); no arithmetic",
})


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
    """The GEMM shape of a conv / linear / matmul op from its typed dims, or None when its operands do not fit it.

    Direct convolution (implicit GEMM): M = N x output pixels, N = K / G channels, K = C / G x kernel.
    Transposed convolution (the scatter form it is executed as): every input pixel times the weight's
    (K / G x kernel) slice, M = N x input pixels, N = K / G x kernel, K = C / G; col2im then adds the
    products into the output. MACs = numel(x) x K / G x kernel, exactly the trace rule's count.
    NB: where the kernel windows overlap (stride < kernel) the output has fewer elements than the
    G x M x N products; its tiles are sized by its real bits per product, so the overlap's partial-sum
    adds are not priced as traffic.
    """
    dims = op.dims
    reads = list(dict.fromkeys(a.tensor for a in op.reads))
    infos = {name: workload.tensors[name] for name in reads}
    # Elements actually read (a slice such as a class token reads part of its tensor).
    elements = {a.tensor: a.bits // max(workload.tensors[a.tensor].dtype.bits, 1) for a in op.reads}
    if isinstance(dims, ConvDims):
        g = dims.groups
        if dims.transposed:
            m = dims.batch * math.prod(dims.input_size)
            n = (dims.out_channels // g) * dims.kernel_elements
            k = dims.in_channels // g
        else:
            # NB: the input of a convolution is not an M x K matrix; tiles of A are sized by the input's
            # real bits per im2col element (input bits / (G M K)), which ignores the halo of small tiles.
            m = dims.batch * math.prod(dims.output_size)
            n = dims.out_channels // g
            k = (dims.in_channels // g) * dims.kernel_elements
        b = _pick(infos, elements, g * n * k, prefer_weight=True)
        rest = {name: i for name, i in infos.items() if name != b}
        a = max(rest, key=lambda name: (rest[name].kind != "weight", elements[name]), default=None)
    elif isinstance(dims, GemmDims):
        g, m, k, n = dims.batch, dims.m, dims.k, dims.n
        b = _pick(infos, elements, g * k * n, prefer_weight=True)
        rest = {name: i for name, i in infos.items() if name != b}
        a = _pick(rest, elements, g * m * k, prefer_weight=False)
        if a is None and b is not None and elements[b] == g * m * k:
            a = b  # one tensor read as both operands (x @ x.T): it is fetched once per role
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
    #: Non-zero patterns of weights (by tensor name) for sparse dataflows (``sparse_csc``).
    patterns: Mapping[str, WeightPattern] = field(default_factory=dict)

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
        """Index of the level a tensor lives in between uses (``residency.kept_activations`` decides)."""
        if tensor in self.internal:
            return self.internal[tensor][1]
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
#: Op kind -> mapper. A mapper returns None when it cannot map this particular op (its operands do not fit its dims).
OP_MAPPERS: dict[OpKind, OpMapper] = {}


def register_op_mapper(*kinds: OpKind) -> Callable[[OpMapper], OpMapper]:
    """Register a mapper for declared op kinds; refuses duplicates and undeclared kinds."""

    def decorator(fn: OpMapper) -> OpMapper:
        for kind in kinds:
            if not isinstance(kind, OpKind):
                raise TypeError(f"op mappers are keyed by simulator.ops.OpKind, got {kind!r}")
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
        index=op.index, layer=op.module, kind=op.kind.value, aten=op.aten, mapping="gemm",
        tiles=tuple(t for r in results for t in r.tiles), traffic_bits=traffic.frozen(), operations=tuple(operations),
        macs=op.macs, compute_cycles=sum(r.cycles for r in results) + arith / ctx.profile.compute.macs_per_cycle,
        steps=sum(r.steps for r in results),
    )


@register_op_mapper(OpKind.CONV, OpKind.LINEAR, OpKind.MATMUL)
def map_gemm(op: Op, ctx: _Context) -> OpSchedule | None:
    """Tile a GEMM-shaped op at every on-chip level; the compute array reads A and B once per MAC."""
    view = gemm_view(op, ctx.workload)
    if view is None or op.macs <= 0:
        return None
    traffic = _Traffic(ctx, op)
    loops = conv_loop_nest(op.dims) if op.kind is OpKind.CONV else None
    geom = conv_geometry(op.dims) if op.kind is OpKind.CONV else None
    if geom is not None:
        # A strided conv reads only the input pixels some output uses.
        traffic.fraction[view.a] = traffic.fraction.get(view.a, 1.0) * geom.used_input_fraction
    result = _tile_gemm(op, ctx, traffic, view, ctx.writes[op.index], op.macs, loops, geom)
    return _gemm_schedule(op, ctx, traffic, [result], list(view.extras), [view.a, view.b, *view.extras])


@register_op_mapper(OpKind.ATTENTION, OpKind.TRANSFORMER_LAYER)
def map_attention(op: Op, ctx: _Context) -> OpSchedule | None:
    """Attention and transformer encoder layers as their chain of GEMMs, from ``AttentionDims``.

    Bare scaled-dot-product attention (no projections; q, k, v are the op's first three inputs):
    scores per head (B*H groups of L x E x S, k shared by H / Hkv query heads), then the weighted values
    (B*H groups of L x S x Ev). With projections (``nn.MultiheadAttention`` / ``TransformerEncoderLayer``
    fast paths; self-attention only, S = L, one input): q, k, v projection (B*L x E x 3E), scores per
    head (B*H groups of L x E/H x S), weighted values (B*H groups of L x S x E/H), output projection
    (B*L x E x E), and for a layer the feed-forward pair (B*L x E x F, B*L x F x E). The tensors between
    them (q, k, v, scores, context, hidden) live on chip when they fit the activation share of the
    global buffer, in DRAM otherwise. Other attention ops get no mapping here (and are reported).
    NB: grouped-query k/v are tiled as if each query head had its own copy, at their real bits.
    """
    if op.macs <= 0:
        return None
    dims = op.dims
    if isinstance(dims, TransformerLayerDims):
        att, ffn = dims.attention, dims.ffn_width
    elif isinstance(dims, AttentionDims):
        att, ffn = dims, 0
    else:
        return None
    reads = list(dict.fromkeys(a.tensor for a in op.reads))
    inputs = [t for t in reads if ctx.workload.tensors[t].kind != "weight"]
    weights = [t for t in reads if ctx.workload.tensors[t].kind == "weight"]
    outputs = [(t, float(bits)) for t, bits in ctx.writes[op.index]]
    if not outputs:
        return None
    b, length, h = att.batch, att.query_length, att.heads
    heads = b * h
    if not att.projections:
        if not inputs:
            return None
        q, k, v = _qkv(op, ctx, inputs, att)
        gemms = [
            (GemmView(heads, length, att.key_length, att.head_dim, q, k),
             [("scores", heads * length * att.key_length)]),
            (GemmView(heads, length, att.value_head_dim, att.key_length, "scores", v), outputs),
        ]
        dtype = ctx.workload.tensors[q].dtype
        extras = [t for t in reads if t not in (q, k, v)]
        return _map_gemm_chain(op, ctx, gemms, dtype, extras, reads)
    e = att.embed
    if att.key_length != length or len(inputs) != 1:
        return None
    x = inputs[0]

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
    rows = b * length
    gemms = [
        (GemmView(1, rows, 3 * e, e, x, w_in), [("q", rows * e), ("k", rows * e), ("v", rows * e)]),
        (GemmView(heads, length, length, att.head_dim, "q", "k"), [("scores", heads * length * length)]),
        (GemmView(heads, length, att.head_dim, length, "scores", "v"), [("context", rows * e)]),
    ]
    if ffn:
        gemms += [
            (GemmView(1, rows, e, e, "context", w_out), [("attended", rows * e)]),
            (GemmView(1, rows, ffn, e, "attended", w_1), [("hidden", rows * ffn)]),
            (GemmView(1, rows, e, ffn, "hidden", w_2), outputs),
        ]
    else:
        gemms.append((GemmView(1, rows, e, e, "context", w_out), outputs))
    extras = [w for w in weights if w not in taken]
    return _map_gemm_chain(op, ctx, gemms, ctx.workload.tensors[x].dtype, extras, [x, *weights])


@register_op_mapper(OpKind.RECURRENT)
def map_recurrent(op: Op, ctx: _Context) -> OpSchedule | None:
    """A fused recurrent layer as its two GEMMs over all tokens, from ``RecurrentDims``.

    The input GEMM (tokens x I x G*H, weight W_ih) writes the gate pre-activations and the hidden
    states fed back; the recurrent GEMM (tokens x H x G*H, weight W_hh) reads those states and writes
    the layer's outputs. The states live on chip when they fit the activation budget. NB: the states
    are charged as written by the input GEMM (they are produced step by step by the gate arithmetic).
    """
    d = op.dims
    if not isinstance(d, RecurrentDims) or op.macs <= 0:
        return None
    reads = list(dict.fromkeys(a.tensor for a in op.reads))
    infos = ctx.workload.tensors
    gh = d.gates * d.hidden_size
    weights = [t for t in reads if infos[t].kind == "weight"]
    w_ih = next((w for w in weights if infos[w].numel == gh * d.input_size), None)
    w_hh = next((w for w in weights if w != w_ih and infos[w].numel == gh * d.hidden_size), None)
    elements = {a.tensor: a.bits // max(infos[a.tensor].dtype.bits, 1) for a in op.reads}
    x = next((t for t in reads if infos[t].kind != "weight" and elements[t] == d.tokens * d.input_size), None)
    outputs = [(t, float(bits)) for t, bits in ctx.writes[op.index]]
    if w_ih is None or w_hh is None or x is None or not outputs:
        return None
    gemms = [
        (GemmView(1, d.tokens, gh, d.input_size, x, w_ih), [("gates", d.tokens * gh), ("states", d.tokens * d.hidden_size)]),
        (GemmView(1, d.tokens, gh, d.hidden_size, "states", w_hh), outputs),
    ]
    extras = [t for t in reads if t not in (x, w_ih, w_hh)]
    return _map_gemm_chain(op, ctx, gemms, infos[x].dtype, extras, reads)


def _qkv(op: Op, ctx: _Context, inputs: list[str], att: AttentionDims) -> tuple[str, str, str]:
    """q, k, v of a bare attention op among its distinct inputs (in argument order; a repeated tensor,
    as in ``sdpa(x, kv, kv)``, appears once): q first, k next, v the next input of v's size (else k).
    NB: ``sdpa(x, x, v)`` is read as q = x, k = v; the products are the same, only tile shapes differ."""
    q = inputs[0]
    k = inputs[1] if len(inputs) > 1 else q
    v_elements = att.batch * att.kv_heads * att.key_length * att.value_head_dim
    elements = {a.tensor: a.bits // max(ctx.workload.tensors[a.tensor].dtype.bits, 1) for a in op.reads}
    v = inputs[2] if len(inputs) > 2 and elements[inputs[2]] == v_elements else k
    return q, k, v


#: Names of the tensors a chain of GEMMs keeps inside one op (never in the workload).
_INTERNAL = ("q", "k", "v", "scores", "context", "attended", "hidden", "gates", "states")


def _map_gemm_chain(
    op: Op,
    ctx: _Context,
    gemms: list[tuple[GemmView, list[tuple[str, int | float]]]],
    dtype: DataType,
    extras: list[str],
    reads: list[str],
) -> OpSchedule | None:
    """Tile a chain of GEMMs inside one op; outputs named in ``_INTERNAL`` (given in elements) are its
    internal tensors, on chip when they fit the activation budget; the others (in bits) the op's outputs."""
    total = sum(v.g * v.m * v.n * v.k for v, _ in gemms)
    if abs(total - op.macs) > 0.01 * op.macs:
        return None
    prefix = f"{op.index}:"
    ctx.internal.clear()
    for _, outs in gemms:
        for name, numel in outs:
            if name in _INTERNAL:
                info = TensorInfo(prefix + name, "activation", (int(numel),), dtype, producer=op.index,
                                  last_use=op.index)
                on_chip = ctx.gb_idx is not None and (ctx.resident or info.dense_bits <= ctx.act_budget_bits)
                home = ctx.gb_idx if on_chip else ctx.dram_idx
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
        return _gemm_schedule(op, ctx, traffic, results, extras, reads)
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
        index=op.index, layer=op.module, kind=op.kind.value, aten=op.aten,
        mapping="fused" if ctx.free_reads[op.index] else "streaming", tiles=(),
        traffic_bits=traffic.frozen(), operations=tuple(operations), macs=op.macs,
        compute_cycles=work / ctx.profile.compute.macs_per_cycle, steps=steps,
    )


#: Dataflow (``[compute] dataflow``) -> op kind -> mapper used instead of ``OP_MAPPERS``; when it declines
#: an op (returns None) the dense mapper maps it.
DATAFLOW_MAPPERS: FrozenMap[str, FrozenMap[OpKind, OpMapper]] = FrozenMap({
    "eie-csc": FrozenMap({OpKind.LINEAR: map_eie_csc, OpKind.MATMUL: map_eie_csc}),
    **{f"systolic-{d}": FrozenMap({k: map_systolic for k in (OpKind.CONV, OpKind.LINEAR, OpKind.MATMUL)}) for d in ("os", "ws", "is")},
})


# --- the whole model ---------------------------------------------------------------------------


def _fuse(workload: Workload, enabled: bool) -> tuple[dict[int, list[tuple[str, int]]], dict[int, set[str]], dict[int, int]]:
    """Effective writes per op, operands read for free (fused), and fused op -> op it was folded into.

    An elementwise op folds into the producer of the tensor it reads right after it. So does a softmax
    over the output of a matrix product (eager attention's scores, possibly scaled or masked first):
    it runs on the rows the Q·K^T GEMM just produced, as a fused attention kernel does, so eager and
    fused (SDPA) attention move the scores the same way (``tests/mapping/test_attention_forms.py``).
    """
    writes = {op.index: [(a.tensor, a.bits) for a in op.writes] for op in workload.ops}
    free: dict[int, set[str]] = defaultdict(set)
    fused: dict[int, int] = {}
    writer: dict[str, int] = {}
    for op in workload.ops:
        foldable = op.kind is OpKind.ELEMENTWISE or op.kind is OpKind.SOFTMAX
        if enabled and foldable and op.macs == 0:
            for access in op.reads:
                info = workload.tensors[access.tensor]
                root = writer.get(access.tensor)
                if op.kind is OpKind.SOFTMAX and (root is None or workload.ops[root].kind is not OpKind.MATMUL):
                    continue
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


def map_workload(
    workload: Workload,
    profile: HardwareProfile,
    *,
    fuse_elementwise: bool = True,
    strict: bool = False,
    independent_layers: bool = False,
    weight_patterns: Mapping[str, WeightPattern] | None = None,
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
        weight_patterns: non-zero patterns of weights by tensor name, read by sparse dataflows
            (``[compute] dataflow = "eie-csc"``: each PE's work from the real weights); a weight without
            one is costed as balanced, and its op's mapping says so.

    Raises:
        MappingError: a level cannot hold the smallest tile of an op (names the op, the level and the
            capacity needed), or (``strict``) an op kind has no mapping rule.
    """
    levels = profile.levels
    gb_idx = len(levels) - 2 if len(levels) > 1 else None
    fit = footprint(workload, global_buffer_bits(profile))
    weight_infos = [workload.tensors[name] for name in sorted(used_weights(workload))]
    weight_offchip = sum(offchip_bits(w) for w in weight_infos)
    resident = fit.fits and not independent_layers  # capacity 0 (no on-chip level) never fits
    act_budget = float("inf") if resident else fit.capacity_bits * ACTIVATION_SHARE
    kept = kept_activations(workload, act_budget) if gb_idx is not None and not independent_layers else frozenset()

    writes, free, fused = _fuse(workload, fuse_elementwise)
    read_by: dict[str, int] = {}
    for op in workload.ops:
        for a in op.reads:
            if a.tensor not in free[op.index]:
                read_by.setdefault(a.tensor, op.index)
    written = {t for ws in writes.values() for t, _ in ws}
    final_outputs = frozenset(t for t in written if workload.tensors[t].last_use is None)
    ctx = _Context(workload, profile, resident, kept, act_budget, writes, free, read_by, final_outputs,
                   independent=independent_layers, patterns=dict(weight_patterns or {}))
    dataflow_mappers = DATAFLOW_MAPPERS.get(profile.compute.dataflow, FrozenMap())

    scheduled: list[OpSchedule] = []
    unmapped: Counter[str] = Counter()
    for op in workload.ops:
        special = dataflow_mappers.get(op.kind)
        result = special(op, ctx) if special is not None else None
        mapper = OP_MAPPERS.get(op.kind)
        if result is None:
            result = mapper(op, ctx) if mapper is not None else None
        if result is None:
            label = op.kind.value
            if mapper is not None:
                label += f" (its mapper declined these {type(op.dims).__name__})"
            if strict:
                known = sorted(k.value for k in OP_MAPPERS)
                raise MappingError(f"{_op_name(op)}: no mapping rule for op kind {label!r}; known kinds: {known}")
            unmapped[label] += 1
            result = map_streaming(op, ctx)
        if op.index in fused:
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
        footprint=replace(
            fit, spilling_layers=tuple(dict.fromkeys(op.module for op in workload.ops if op.module in ctx.spilling))
        ),
        global_buffer=levels[gb_idx].name if gb_idx is not None else None,
        weight_offchip_bits=weight_offchip,
        activation_budget_bits=act_budget,
        dram=levels[-1].name,
        kept_activations=kept,
        cold_start_traffic_bits=FrozenMap(cold_traffic),
        cold_start_operations=tuple(cold_ops),
        compulsory_dram_bits=float(compulsory),
        unmapped=FrozenMap(unmapped),
        independent_layers=independent_layers,
    )
