"""A conv op as Eyeriss's row-stationary dataflow: ``row_stationary`` counts -> an ``OpSchedule``.

The profile's levels are read innermost first as the four of Eyeriss (Chen, Emer, Sze, ISCA 2016, Sec.
VI-A): PE scratchpads (RF), the inter-PE array network, the global buffer, DRAM. Per op:

* RF / array / GLB words from ``rs_candidates`` (times the groups), at the activation's width for ifmaps,
  the weight's for filters and the accumulator's for psums (filter-row and psum traffic are split by
  operand as the counts are);
* DRAM: the ifmap (when it lives in DRAM) read ``GlbTiling.ifmap_reads`` times and the output written once,
  both run-length coded (``rlc.py``) when that is smaller than raw; filters read ``filter_reads`` times;
  the global buffer's share per operand comes from ``glb_search``;
* MACs: those whose ifmap is non-zero cost energy (``zero_handling`` gate/skip); under ``skip`` the cycles
  shrink by the same density, under ``gate`` they do not.

Declines (returns None, the dense mapper maps it) anything but a direct 2-D conv without dilation.
"""

from __future__ import annotations

from simulator.mapping.rlc import rlc_bits_expected
from simulator.mapping.row_stationary import RSLayer, fold, glb_search, rs_candidates

__all__ = ["map_row_stationary", "rs_layer"]


def rs_layer(dims) -> RSLayer | None:  # noqa: ANN001 (simulator.ops.ConvDims)
    """The ``RSLayer`` of a direct 2-D conv without dilation (used input rows/cols, padding included), else None."""
    if dims.transposed or len(dims.kernel_size) != 2 or any(d != 1 for d in dims.dilation):
        return None
    if dims.stride[0] != dims.stride[1]:
        return None
    (e, f), (r, s), u = dims.output_size, dims.kernel_size, dims.stride[0]
    g = dims.groups
    return RSLayer(dims.batch, dims.out_channels // g, dims.in_channels // g, (e - 1) * u + r, (f - 1) * u + s,
                   e, f, r, s, u, g)


def map_row_stationary(op, ctx):  # noqa: ANN001, ANN201 (mapper internals: simulator.mapping.context.MappingContext)
    """A conv op on the ``eyeriss-rs`` dataflow (``mapping="eyeriss-rs ..."``), or None to decline."""
    from simulator.mapping.context import Traffic as _Traffic, edge_traffic as _edge_traffic, role_of as _role
    from simulator.mapping.gemm import gemm_view
    from simulator.mapping.operations import arith_operations as _arith_operations
    from simulator.mapping.spatial import arith_cycles
    from simulator.mapping.schedule import MappingError, OperationCount, OpSchedule
    from simulator.ops import ConvDims

    cfg = ctx.profile.compute.rs
    if cfg is None or not isinstance(op.dims, ConvDims) or op.macs <= 0:
        return None
    if len(ctx.levels) != 4:
        names = [lv.name for lv in ctx.levels]
        raise MappingError(f"profile '{ctx.profile.name}': the eyeriss-rs dataflow needs four memory levels "
                           f"(PE scratchpads, array network, global buffer, DRAM), found {names}")
    layer = rs_layer(op.dims)
    view = gemm_view(op, ctx.workload)
    if layer is None or view is None or layer.macs != op.macs:
        return None
    act, weight = ctx.info(view.a), ctx.info(view.b)
    levels = ctx.levels
    da = act.measured_density if act.measured_density is not None else 1.0
    mode = ctx.profile.zero_handling
    gate = da if mode in ("gate", "skip") else 1.0
    a_bits, w_bits = act.dtype.bits, weight.dtype.bits
    acc_bits = max(ctx.profile.compute.accumulator_bits, a_bits)
    word = [lv.read_energy_per_bit_pj * a_bits for lv in levels[:3]]
    fd = fold(layer.r, layer.e, cfg)
    glb_words_per_cycle = levels[2].bandwidth_bits_per_cycle / a_bits
    run = rs_candidates(layer, fd, cfg, gate, glb_words_per_cycle, tuple(word))
    G = layer.groups

    traffic = _Traffic(ctx, op)
    rf, arr, gb, dram = 0, 1, 2, 3
    x_role = _role(op, view.a)
    # RF: per MAC an ifmap read (every MAC) and a filter read + psum read/write (the non-gated ones).
    traffic.add(rf, x_role, "read", G * run.macs * a_bits)
    traffic.add(rf, "weights", "read", G * run.gated_macs * w_bits)
    traffic.add(rf, "outputs", "read", G * run.gated_macs * acc_bits)
    traffic.add(rf, "outputs", "write", G * run.gated_macs * acc_bits)
    traffic.add(rf, x_role, "write", G * run.ifmap_spad_writes * a_bits)
    traffic.add(rf, "weights", "write", G * run.filter_spad_writes * w_bits)
    traffic.add(arr, x_role, "read", G * run.ifmap_spad_writes * a_bits)
    traffic.add(arr, "weights", "read", G * run.filter_spad_writes * w_bits)
    traffic.add(arr, "outputs", "read", G * run.psum_hops * acc_bits)
    # GLB: ifmap rows, filters, psum write per channel pass and read-back.
    traffic.add(gb, x_role, "read", G * run.glb_ifmap_reads * a_bits)
    traffic.add(gb, "weights", "read", G * run.glb_filter_reads * w_bits)
    traffic.add(gb, "outputs", "write", G * run.glb_psum_writes * acc_bits)
    traffic.add(gb, "outputs", "read", G * (run.glb_psum_writes - run.outputs) * acc_bits)
    # DRAM <-> GLB: the buffer shared by the searched tiling; feature maps run-length coded.
    x_numel = act.numel * traffic.fraction.get(view.a, 1.0)
    x_dram = ctx.bits_at(view.a, dram, traffic.fraction.get(view.a, 1.0))
    x_cost = min(1.0, rlc_bits_expected(x_numel, da) / max(x_dram, 1.0))
    tiling = glb_search(layer, levels[2].capacity_bits / a_bits, ifmap_cost=x_cost)
    if ctx.home(view.a) == dram:
        coded = min(x_dram, rlc_bits_expected(x_numel, da))
        traffic.add(dram, x_role, "read", tiling.ifmap_reads * coded)
        traffic.add(gb, x_role, "write", tiling.ifmap_reads * ctx.bits_at(view.a, gb, traffic.fraction.get(view.a, 1.0)))
        if act.kind != "input":
            ctx.spilling.add(op.module)
    if ctx.home(view.b) == dram:
        traffic.down(view.b, "weights", dram, gb, times=tiling.filter_reads)
    for tensor, bits in ctx.writes[op.index]:
        home = ctx.home(tensor)
        if home == dram:
            info = ctx.info(tensor)
            d_out = info.measured_density if info.measured_density is not None else 1.0
            coded = min(bits, rlc_bits_expected(bits / max(info.dtype.bits, 1), d_out))
            traffic.add(gb, "outputs", "read", bits)
            traffic.add(dram, "outputs", "write", coded)
            if tensor not in ctx.final_outputs:
                ctx.spilling.add(op.module)
    for extra in view.extras:
        if extra not in ctx.free_reads[op.index]:
            traffic.through(extra, _role(op, extra), ctx.home(extra))
    _edge_traffic(op, ctx, traffic, [view.a, view.b, *view.extras])
    dtype = op.mac_dtype.name if op.mac_dtype else "float32"
    operations = [OperationCount("mac", dtype, G * run.gated_macs), *_arith_operations(op)]
    arith = sum(a.count for a in op.arith)
    cycles = G * run.cycles * (da if mode == "skip" else 1.0)
    mapping = (f"eyeriss-rs: {fd.peak_pes}/{cfg.pes} PEs (set {fd.rc}x{fd.width} x{fd.sets}, "
               f"{fd.strips} strips), p={run.p} q={run.q} n={run.n} t={run.t} r={run.r}; GLB ifmap "
               f"{tiling.ifmap_share:.0%} filter {tiling.filter_share:.0%} psum {tiling.psum_share:.0%}")
    return OpSchedule(
        index=op.index, layer=op.module, kind=op.kind.value, aten=op.aten, mapping=mapping, tiles=(),
        traffic_bits=traffic.frozen(), operations=tuple(operations), macs=op.macs,
        compute_cycles=cycles + arith_cycles(ctx.profile.compute, arith),
    )

