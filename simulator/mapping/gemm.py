"""GEMM-shaped ops: the GEMM view of an op and its tiling at every on-chip level.

Every op with MACs is seen as ``G`` GEMMs ``O[M, N] += A[M, K] * B[K, N]`` (``gemm_view``); ``tile_gemm``
tiles one such GEMM at each on-chip level with the vectorised search of ``tiling.py`` (the cost of the
traffic across the boundary above the level, scored by the run's objective), adds the resulting
memory-access stream to the op's ``Traffic`` and takes its compute cycles from ``spatial.array_cycles``
(the one home of how long the array computes). ``map_gemm`` maps ``linear`` / ``matmul`` ops;
convolutions (``conv.py``) and chains of GEMMs (``transformer.py``) reuse ``tile_gemm``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.frozen import FrozenMap
from simulator.mapping.hierarchy import serves
from simulator.mapping.context import MappingContext, Traffic, codebook_bits, op_name, role_of
from simulator.mapping.convgeom import ConvGeometry
from simulator.mapping.operands import entry_bits_onchip
from simulator.mapping.operations import GemmResult, decode_operations, gemm_cycles, gemm_schedule
from simulator.mapping.registry import register_op_mapper
from simulator.mapping.schedule import MappingError, OpSchedule, Tile
from simulator.mapping.tiling import search_tile
from simulator.ops import ConvDims, GemmDims, OpKind
from simulator.workload import Op, TensorInfo, Workload

__all__ = ["GemmView", "gemm_view", "map_gemm", "tile_gemm"]


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



def tile_gemm(
    op: Op, ctx: MappingContext, traffic: Traffic, view: GemmView, outputs: list[tuple[str, float]], macs: int,
    loops: dict[str, int] | None = None,
    geom: ConvGeometry | None = None,
) -> GemmResult:
    """Tile one GEMM at every on-chip level and add its memory-access stream to ``traffic``.

    ``outputs`` are the tensors the GEMM writes (with bits); ``macs`` its multiply-accumulates;
    ``loops`` its loop nest for the compute array (default: the GEMM's, see ``spatial.array_cycles``);
    ``geom`` a conv's sliding-window geometry (input tiles with their halo, see ``convgeom``).
    """
    info_a, info_b = ctx.info(view.a), ctx.info(view.b)
    role_a, role_b = role_of(op, view.a), role_of(op, view.b)
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
    weight = info_b if info_b.kind == "weight" else (info_a if info_a.kind == "weight" else None)
    activation = info_a if weight is info_b else info_b
    # The array's cycles do not depend on the tiling (``compute.op_compute_cycles`` gives the baseline the
    # same); the latency objective overlaps transfers with them.
    e_macs, c_macs, dw, cycles = gemm_cycles(ctx.profile, view, macs, loops, weight, activation)
    # The compute array reads the stored entries of the weight once per use, the other operand once per MAC.
    array_bits = [
        (operand, macs * dw * entry_bits_onchip(info) if info is weight else e_macs * info.dtype.bits)
        for info, operand in ((info_a, role_a), (info_b, role_b))
    ]

    for child in range(ctx.dram_idx - 1, -1, -1):
        parent = child + 1
        at_dram = parent == ctx.dram_idx
        streamed = (
            (ctx.home(view.a) >= parent, ctx.home(view.b) >= parent, bool(out_tensors) and out_home >= parent)
            if at_dram
            else (True, True, bool(out_tensors))
        )
        streamed = tuple(s and serves(ctx.levels[child], r) for s, r in zip(streamed, (role_a, role_b, "outputs")))
        if not any(streamed):
            # Everything already lives in the child level (resident): no tile, no traffic at this boundary;
            # at the innermost level the accumulator then holds a full reduction.
            continue
        pc, cc = levels[parent], levels[child]
        a_p, a_c = traffic.bits_at(view.a, parent), traffic.bits_at(view.a, child)
        b_p, b_c = traffic.bits_at(view.b, parent), traffic.bits_at(view.b, child)
        # NB: a codebook is moved with its weights but held in the decoder's lookup table (EIE keeps its
        # 16 entries in registers per PE), so it takes no tile space; tiles hold the stored entries.
        book_a, book_b = codebook_bits(info_a, child, ctx), codebook_bits(info_b, child, ctx)
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
        # Cycles each port spends on the same moves (the parent reads A, B, read-backs and takes the output
        # writes; the child the reverse), and on the op's other traffic: what outer boundaries already put on
        # the parent, at least one pass of every operand through the child below (the array's reads innermost).
        bw_p, bw_c = pc.bandwidth_bits_per_cycle, cc.bandwidth_bits_per_cycle
        parent_port = (a_p / bw_p, b_p / bw_p, psum_bits / bw_p, psum_bits / bw_p)
        child_port = (a_c / bw_c, b_c / bw_c, psum_bits / bw_c, psum_bits / bw_c)
        inner_port = (psum_bits / bw_c, psum_bits / bw_c) if child == 0 else (0.0, 0.0)
        below = sum(bits for _, bits in array_bits) + out_bits if child == 0 else a_c + b_c + out_bits
        committed = sum(b for (lv, _, _), b in traffic.bits.items() if lv == pc.name)
        budget, factor = ctx.budget(child)
        choice = search_tile((g, m, n, k), elem, streamed, budget, cost, inner, geom, objective=ctx.objective,
                             parent_cycles=parent_port, child_cycles=child_port, inner_psum_cycles=inner_port,
                             compute_cycles=cycles, port_load_cycles=(committed / bw_p, below / bw_c))
        if choice is None:
            smallest = sum(e for e, s in zip(elem, streamed) if s)
            raise MappingError(
                f"{op_name(op)}: memory level '{cc.name}' cannot hold even the smallest tile "
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

    for operand, bits in array_bits:
        traffic.add(0, operand, "read", bits)
    if out_bits:
        traffic.add(0, "outputs", "write", out_bits + (inner_passes - 1.0) * psum_bits)
        traffic.add(0, "outputs", "read", (inner_passes - 1.0) * psum_bits)
    return GemmResult(tiles, max(1, steps), e_macs, c_macs, decode_operations(macs, weight, dw), weight, cycles)


@register_op_mapper(OpKind.LINEAR, OpKind.MATMUL)
def map_gemm(op: Op, ctx: MappingContext) -> OpSchedule | None:
    """Tile a GEMM-shaped op at every on-chip level; the compute array reads A and B once per MAC."""
    view = gemm_view(op, ctx.workload)
    if view is None or op.macs <= 0:
        return None
    traffic = Traffic(ctx, op)
    result = tile_gemm(op, ctx, traffic, view, ctx.writes[op.index], op.macs)
    return gemm_schedule(op, ctx, traffic, [result], list(view.extras), [view.a, view.b, *view.extras])
