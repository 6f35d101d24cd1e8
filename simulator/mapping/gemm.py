"""GEMM-shaped ops: the GEMM view of an op and its tiling at every on-chip level.

Every op with MACs is seen as ``G`` GEMMs ``O[M, N] += A[M, K] * B[K, N]`` (``gemm_view``); ``tile_gemm``
tiles one such GEMM at each tier of on-chip levels (``hierarchy.tiers``: one level, or sibling levels keeping
disjoint operands, tiled with one tile and loop order) with the vectorised search of ``tiling.py`` (the cost of
each operand's traffic from its level up to the next level keeping it, scored by the run's objective); the array's
own accesses come from ``array_access`` (broadcast, per-PE copies, the accumulator register); it adds the resulting
memory-access stream to the op's ``Traffic`` and takes its compute cycles from ``spatial.array_cycles``
(the one home of how long the array computes). ``map_gemm`` maps ``linear`` / ``matmul`` ops;
convolutions (``conv.py``) and chains of GEMMs (``transformer.py``) reuse ``tile_gemm``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.frozen import FrozenMap
from simulator.mapping.array_access import accumulates_per_mac, array_access, min_access
from simulator.mapping.hierarchy import serving_level, tiers
from simulator.mapping.context import MappingContext, Traffic, codebook_bits, op_name, role_of
from simulator.mapping.convgeom import ConvGeometry
from simulator.mapping.operands import entry_bits_onchip
from simulator.mapping.operations import GemmResult, decode_operations, gemm_cycles, gemm_schedule
from simulator.mapping.registry import register_op_mapper
from simulator.mapping.schedule import MappingError, OpSchedule, Tile
from simulator.mapping.spatial import gemm_loop_nest
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
    # The compute array reads the stored entries of the weight once per use, the other operand once per MAC,
    # each divided by its broadcast over the shared axes of its innermost level (``array_access``).
    nest = loops if loops is not None else gemm_loop_nest(g, m, n, k)
    shares = array_access(ctx.profile, nest, (role_a, role_b))
    array_bits = [
        (operand, min_access(ctx.profile, operand, cycles,
                             share * (macs * dw * entry_bits_onchip(info) if info is weight else e_macs * info.dtype.bits)))
        for info, operand, share in ((info_a, role_a, shares.a), (info_b, role_b, shares.b))
    ]
    # The innermost level keeping outputs (per-operand hierarchies: not always level 0), where the array's
    # reduction chunks land, unless it is the accumulator itself (updated per MAC whatever the tiling).
    per_mac = accumulates_per_mac(ctx.profile)
    out_inner = -1 if per_mac else serving_level(ctx.profile, "outputs", 0)

    roles = (role_a, role_b, "outputs")
    homes = (ctx.home(view.a), ctx.home(view.b), out_home)
    for tier in reversed(tiers(ctx.profile)):
        # Each operand crosses from the tier level keeping it (``ch``) to the next level out keeping it (``par``);
        # sibling levels share one tile and loop order (``hierarchy.tiers``). v1: one level, all three operands.
        ch = tuple(tier.child.get(r) for r in roles)
        par = tuple(tier.parent.get(r) for r in roles)
        streamed = tuple(
            c is not None and (homes[i] >= par[i] if par[i] == ctx.dram_idx else True) and (i < 2 or bool(out_tensors))
            for i, c in enumerate(ch)
        )
        if not any(streamed):
            # Everything already lives in the child level (resident): no tile, no traffic at this boundary;
            # at the innermost level the accumulator then holds a full reduction.
            continue
        first = next(i for i in range(3) if streamed[i])
        ch = tuple(c if c is not None else ch[first] for c in ch)
        par = tuple(p if p is not None else par[first] for p in par)
        (pa, pb, po), (ca, cb, co) = (levels[i] for i in par), (levels[i] for i in ch)
        a_p, a_c = traffic.bits_at(view.a, par[0]), traffic.bits_at(view.a, ch[0])
        b_p, b_c = traffic.bits_at(view.b, par[1]), traffic.bits_at(view.b, ch[1])
        # NB: a codebook is moved with its weights but held in the decoder's lookup table (EIE keeps its
        # 16 entries in registers per PE), so it takes no tile space; tiles hold the stored entries.
        book_a, book_b = codebook_bits(info_a, ch[0], ctx), codebook_bits(info_b, ch[1], ctx)
        a_elems = g * geom.used_input_elems if geom is not None else g * m * k
        elem = ((a_c - book_a) / a_elems, (b_c - book_b) / (g * k * n), psum_bits / (g * m * n) if out_bits else 0.0)
        # An operand's innermost level may keep several copies of each element (``array_access``: per-PE levels).
        elem = tuple(e * (shares.copies[i] if ch[i] == serving_level(ctx.profile, roles[i], 0) else 1.0)
                     for i, e in enumerate(elem))
        # Pass costs at the partial-sum width; the final pass's narrower write differs by a constant.
        rd, wr = "read", "write"
        cost = (
            a_p * pa.energy_per_bit_pj(role_a, rd) + a_c * ca.energy_per_bit_pj(role_a, wr),
            b_p * pb.energy_per_bit_pj(role_b, rd) + b_c * cb.energy_per_bit_pj(role_b, wr),
            psum_bits * (co.energy_per_bit_pj("outputs", rd) + po.energy_per_bit_pj("outputs", wr)),
            psum_bits * (po.energy_per_bit_pj("outputs", rd) + co.energy_per_bit_pj("outputs", wr)),
        )
        at_inner = tier.child.get("outputs") == out_inner
        inner = ((psum_bits * co.energy_per_bit_pj("outputs", wr), psum_bits * co.energy_per_bit_pj("outputs", rd))
                 if at_inner else (0.0, 0.0))
        # Cycles each port spends on the same moves (the parent reads A, B, read-backs and takes the output
        # writes; the child the reverse), and on the op's other traffic: what outer boundaries already put on
        # the parent, at least one pass of every operand through the child below (the array's reads innermost).
        bwp = tuple(lv.bandwidth_bits_per_cycle for lv in (pa, pb, po))
        bwc = tuple(lv.bandwidth_bits_per_cycle for lv in (ca, cb, co))
        parent_port = (a_p / bwp[0], b_p / bwp[1], psum_bits / bwp[2], psum_bits / bwp[2])
        child_port = (a_c / bwc[0], b_c / bwc[1], psum_bits / bwc[2], psum_bits / bwc[2])
        inner_port = (psum_bits / bwc[2], psum_bits / bwc[2]) if at_inner else (0.0, 0.0)
        below = sum(bits for _, bits in array_bits) + out_bits if tier.levels[0] == 0 else a_c + b_c + out_bits
        committed = max(
            sum(b for (lv, _, _), b in traffic.bits.items() if lv == levels[p].name) / levels[p].bandwidth_bits_per_cycle
            for p in set(par[i] for i in range(3) if streamed[i])
        )
        budgets = {lv: ctx.budget(lv) for lv in tier.levels}
        # A level spread over several instances holds what one spatial step of the array touches, at least.
        distributed = any(levels[lv].instances > 1 for lv in tier.levels)
        groups = tuple(
            (tuple(i for i in range(3) if ch[i] == lv and streamed[i]), budgets[lv][0]) for lv in tier.levels
        )
        budget_arg = groups[0][1] if len(tier.levels) == 1 else groups
        choice = search_tile((g, m, n, k), elem, streamed, budget_arg, cost, inner, geom, objective=ctx.objective,
                             parent_cycles=parent_port, child_cycles=child_port, inner_psum_cycles=inner_port,
                             compute_cycles=cycles, port_load_cycles=(committed, below / min(bwc)),
                             min_tile=shares.lanes_mnk if distributed else (1, 1, 1))
        if choice is None:
            lv = next(lv for lv in tier.levels if any(ch[i] == lv and streamed[i] for i in range(3)))
            cc, (budget, factor) = levels[lv], budgets[lv]
            smallest = sum(e for i, (e, s) in enumerate(zip(elem, streamed)) if s and ch[i] == lv)
            raise MappingError(
                f"{op_name(op)}: memory level '{cc.name}' cannot hold even the smallest tile "
                f"(1 x 1 x 1 elements = {smallest:.0f} bits, x{factor} double-buffered); it offers "
                f"{budget:.0f} bits per tile set of its {cc.capacity_bits} bits; capacity needed: at least "
                f"{math.ceil(smallest * factor * cc.capacity_bits / max(budget * factor, 1e-9))} bits"
            )
        if streamed[0]:
            traffic.down(view.a, role_a, par[0], ch[0], choice.refetch_a)
        if streamed[1]:
            traffic.down(view.b, role_b, par[1], ch[1], choice.refetch_b)
        if streamed[2]:
            traffic.up(out_bits, ch[2], par[2])
            traffic.up(psum_bits, ch[2], par[2], choice.passes - 1.0)
            traffic.add(par[2], "outputs", "read", (choice.passes - 1.0) * psum_bits)
            traffic.add(ch[2], "outputs", "write", (choice.passes - 1.0) * psum_bits)
            if per_mac and ch[2] == serving_level(ctx.profile, "outputs", 0):
                # Each pass leaves the accumulator as one partial sum per copy (per PE), all read before the
                # adder tree reduces them: reads at the partial-sum width, copies x passes in all.
                traffic.add(ch[2], "outputs", "read",
                            choice.passes * psum_bits * shares.copies[2] - out_bits - (choice.passes - 1.0) * psum_bits)
        to_dram = tuple(streamed[i] and par[i] == ctx.dram_idx for i in range(3))
        if any(to_dram[:2]) or (to_dram[2] and any(t not in ctx.final_outputs for t in out_tensors)):
            ctx.spilling.add(op.module)
        if any(to_dram):
            steps = choice.steps
        if at_inner:
            inner_passes = choice.inner_passes
        for lv, (positions, budget) in zip(tier.levels, groups):
            if positions:
                tiles.append(Tile(levels[lv].name, FrozenMap({"M": choice.m, "N": choice.n, "K": choice.k}), choice.order,
                                  choice.steps, _tile_bits(choice, elem, positions, geom), budget))

    for operand, bits in array_bits:
        traffic.add(0, operand, "read", bits)
    if out_bits and per_mac:
        # The output register is the accumulator: one read and one write per spatially reduced MAC.
        updates_bits = e_macs * shares.o * psum_bits / (g * m * n)
        traffic.add(0, "outputs", "write", updates_bits)
        traffic.add(0, "outputs", "read", updates_bits)
    elif out_bits:
        traffic.add(0, "outputs", "write", out_bits + (inner_passes - 1.0) * psum_bits)
        traffic.add(0, "outputs", "read", (inner_passes - 1.0) * psum_bits)
    return GemmResult(tiles, max(1, steps), e_macs, c_macs, decode_operations(macs, weight, dw), weight, cycles)


def _tile_bits(choice, elem: tuple[float, float, float], positions: tuple[int, ...], geom: ConvGeometry | None) -> float:
    """Bits the chosen tile keeps of the operands at ``positions`` (0 A with its halo, 1 B, 2 O)."""
    a = float(geom.input_tile_elems(choice.m, choice.k)) if geom is not None else choice.m * choice.k
    parts = (a * elem[0], choice.k * choice.n * elem[1], choice.m * choice.n * elem[2])
    return float(sum(parts[i] for i in positions))


@register_op_mapper(OpKind.LINEAR, OpKind.MATMUL)
def map_gemm(op: Op, ctx: MappingContext) -> OpSchedule | None:
    """Tile a GEMM-shaped op at every on-chip level; the compute array reads A and B once per MAC."""
    view = gemm_view(op, ctx.workload)
    if view is None or op.macs <= 0:
        return None
    traffic = Traffic(ctx, op)
    result = tile_gemm(op, ctx, traffic, view, ctx.writes[op.index], op.macs)
    return gemm_schedule(op, ctx, traffic, [result], list(view.extras), [view.a, view.b, *view.extras])
