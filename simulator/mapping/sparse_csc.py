"""EIE-style compressed sparse column (CSC) execution of a fully connected layer, from the real weights.

EIE (Han et al., "EIE: Efficient Inference Engine on Compressed Deep Neural Network", ISCA 2016,
Sec. III-IV) computes ``b = W a`` for a pruned, weight-shared ``W`` (rows = outputs, columns = inputs):

* rows are interleaved over the PEs: row ``i`` belongs to PE ``i mod P``; each PE stores its rows of
  every column in CSC form (per entry a codebook index and a *relative* row index of ``r`` bits counted
  in the PE's own rows, so local row ``i // P``);
* a run of ``z`` zeros before a non-zero needs ``z >> r`` filler entries (a stored zero), the rule of
  ``simulator.compress.sparse.count_fillers``; a column starts a fresh run (its pointer says where it
  begins) and trailing zeros need none (its end pointer says where it ends);
* the leading non-zero detector broadcasts the *non-zero* input activations, one per cycle at most,
  into every PE's activation queue (``queue_depth`` entries); for each activation a PE reads the start
  and end pointer of that column and then processes its entries of the column, one per cycle (fillers
  included: a filler costs a cycle and an index add, no MAC);
* so the weight entries read are only those of non-zero activations, and each PE's work is the entries
  it owns: load imbalance follows from where the weight's non-zeros fall.

The module is pure numpy and split by concern: ``csc_pattern`` holds the weight side (``WeightPattern``,
the per-PE, per-column work ``pe_column_entries``, ``active_columns``), ``csc_pointers`` the timing (the
activation queues ``queue_cycles``; how pointers that overflow the pointer SRAM reach the PEs, a profile
choice ``[compute.csc] pointer_overflow``). ``run_csc`` combines them into a ``CSCRun``; ``map_eie_csc`` turns
that into an ``OpSchedule``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.hardware.profile import CSCConfig
from simulator.mapping.csc_pattern import WeightPattern, active_columns, pe_column_entries
from simulator.mapping.csc_pointers import plan_pointers, pointer_reload, queue_cycles, timed_cycles

__all__ = [
    "CSCConfig", "CSCRun", "WeightPattern", "active_columns", "balanced_pattern_run", "map_eie_csc",
    "pe_column_entries", "pointer_reload", "queue_cycles", "run_csc",
]


@dataclass(frozen=True, slots=True)
class CSCRun:
    """One input vector of a layer through the EIE dataflow.

    Attributes:
        cycles: cycles until the last PE finished (queue model).
        ideal_cycles: the load-balanced ideal: all stored entries (fillers included) x activation
            density / PEs (Han et al. 2016's "theoretical" time).
        active_columns: non-zero input activations broadcast.
        entries_read: stored entries read (non-zeros and fillers) over the active columns.
        nonzeros_read: non-zero weights read (the MACs).
        pointer_reads: column pointers read (two per active column per PE).
        pe_entries: entries read per PE (its work).
        total_entries: stored entries of the whole weight (fillers included) in this layout.
        pointers_reloaded: column pointers per PE read from DRAM into the pointer SRAM for this vector
            (overflow; ``csc_pointers.plan_pointers``).
        reload_idle: True when that load precedes the compute with the PEs idle (``"reload-idle"``: the layer
            takes ``cycles`` + the load); False when it overlaps the compute (its stalls are in ``cycles``).
    """

    cycles: float
    ideal_cycles: float
    active_columns: int
    entries_read: int
    nonzeros_read: int
    pointer_reads: int
    pe_entries: np.ndarray
    total_entries: int
    pointers_reloaded: int = 0
    reload_idle: bool = False

    def reload_bits(self, cfg: CSCConfig) -> int:
        """Pointer bits loaded from DRAM into all PEs' pointer SRAMs for this vector (0 when they fit)."""
        return self.pointers_reloaded * cfg.pes * cfg.pointer_bits

    @property
    def load_efficiency(self) -> float:
        """Mean PE work over the time taken (1.0 = perfectly balanced)."""
        return float(self.pe_entries.mean() / self.cycles) if self.cycles else 1.0


def run_csc(pattern: WeightPattern, activation_density: float, cfg: CSCConfig,
            dram_bits_per_cycle: float | None = None, pointer_overflow: str | None = None) -> CSCRun:
    """The EIE dataflow on one input vector whose non-zero fraction is ``activation_density``.

    ``dram_bits_per_cycle``: the DRAM read bandwidth overflowing pointers stream at; ``pointer_overflow``
    overrides the profile's strategy (``csc_pointers``; for what-ifs and the benchmark's comparison)."""
    entries, nonzeros = pe_column_entries(pattern, cfg)
    cols = active_columns(pattern.cols, activation_density)
    work = entries[cols]
    plan = plan_pointers(pattern.cols, cols, cfg, dram_bits_per_cycle, pointer_overflow)
    # A PE pops each broadcast activation and reads its two pointers in one cycle at least.
    cycles = timed_cycles(np.maximum(work, 1), cfg.queue_depth, plan)
    total = int(entries.sum())
    return CSCRun(
        cycles=cycles,
        ideal_cycles=total * activation_density / cfg.pes,
        active_columns=int(cols.size),
        entries_read=int(work.sum()),
        nonzeros_read=int(nonzeros[cols].sum()),
        pointer_reads=2 * int(cols.size) * cfg.pes,
        pe_entries=work.sum(axis=0),
        total_entries=total,
        pointers_reloaded=plan.dram_pointers,
        reload_idle=plan.idle and plan.dram_pointers > 0,
    )


def balanced_pattern_run(rows: int, cols: int, density: float, activation_density: float, cfg: CSCConfig,
                         dram_bits_per_cycle: float | None = None) -> CSCRun:
    """The dataflow without the weight's pattern: every PE owns ``density`` of its rows in every column
    (no fillers, no imbalance). Used only when no ``WeightPattern`` was given; the mapping says so. Streamed
    pointers (``csc_pointers``) bound it by the last column's arrival plus that column's work."""
    active = active_columns(cols, activation_density)
    cols_active = active.size
    plan = plan_pointers(cols, active, cfg, dram_bits_per_cycle)
    per_column = rows * density
    entries = per_column * cols_active
    last = float(plan.ready[-1]) + max(per_column / cfg.pes, 1.0) if cols_active else 0.0
    return CSCRun(
        cycles=max(entries / cfg.pes, float(cols_active), last),
        ideal_cycles=rows * density * cols * activation_density / cfg.pes,
        active_columns=int(cols_active),
        entries_read=int(round(entries)),
        nonzeros_read=int(round(entries)),
        pointer_reads=2 * int(cols_active) * cfg.pes,
        pe_entries=np.full(cfg.pes, entries / cfg.pes),
        total_entries=int(round(per_column * cols)),
        pointers_reloaded=plan.dram_pointers,
        reload_idle=plan.idle and plan.dram_pointers > 0,
    )


def map_eie_csc(op, ctx):  # noqa: ANN001, ANN201 (mapper internals: simulator.mapping.context.MappingContext)
    """A fully connected op as EIE's CSC execution: an ``OpSchedule`` (``mapping="eie-csc"``), or None
    when the op is not a weight-times-vector product (then the dense mapper maps it).

    Per input vector (``m`` of them, one after another): the global buffer (EIE's SRAMs) is read for the
    stored entries of the active columns (``entry_bits`` each) and two pointers per active column and
    PE, and for the source activations (all ``k``, scanned by the non-zero detector); each broadcast
    activation is written to and read from every PE's queue (register file); each non-zero's MAC reads
    and writes its accumulator (register file, accumulator width); the outputs are written once to
    the global buffer. Pointers that overflow the pointer SRAM (``csc_pointers.plan_pointers``) are read from
    DRAM and written to the global buffer per vector; under ``"reload-idle"`` the memory simulation times
    that load before the op's compute (one step); a streaming strategy's stalls are in ``compute_cycles``
    and the op gets one DRAM pipeline step per streamed pointer, so the memory simulation overlaps the load
    with the compute as the stream does (it then pipelines the op's other DRAM reads, the input vector,
    with the compute too). Operations: a MAC per
    non-zero weight read, a codebook lookup per non-zero of a shared weight, an index add per stored entry
    read (fillers included).
    """
    from simulator.mapping.context import Traffic as _Traffic, edge_traffic as _edge_traffic, role_of as _role
    from simulator.mapping.gemm import gemm_view
    from simulator.mapping.operations import arith_operations as _arith_operations
    from simulator.mapping.spatial import arith_cycles
    from simulator.mapping.operands import entry_bits_onchip, weight_density
    from simulator.mapping.schedule import MappingError, OperationCount, OpSchedule
    from simulator.ops import GemmDims

    cfg = ctx.profile.compute.csc
    view = gemm_view(op, ctx.workload)
    if cfg is None or view is None or not isinstance(op.dims, GemmDims) or view.g != 1 or ctx.gb_idx is None:
        return None
    act, weight = ctx.info(view.a), ctx.info(view.b)
    if weight.kind != "weight" or act.kind == "weight":
        return None
    m, k, n = view.m, view.k, view.n
    da = act.measured_density if act.measured_density is not None else 1.0
    pattern = ctx.patterns.get(view.b)
    dram = ctx.profile.dram
    dram_bw = dram.read_bandwidth_bits_per_cycle or dram.bandwidth_bits_per_cycle
    if pattern is None:
        run = balanced_pattern_run(n, k, weight_density(weight), da, cfg, dram_bw)
        mapping = "eie-csc (no weight pattern: balanced)"
    else:
        if (pattern.rows, pattern.cols) != (n, k):
            raise MappingError(
                f"op {op.index} '{op.module}': weight pattern of '{view.b}' is {pattern.rows} x {pattern.cols}, "
                f"expected the layer's {n} outputs x {k} inputs"
            )
        run = run_csc(pattern, da, cfg, dram_bw)
        mapping = "eie-csc"
    traffic = _Traffic(ctx, op)
    gb, rf = ctx.gb_idx, 0
    for tensor, role in ((view.b, "weights"), (view.a, _role(op, view.a))):
        if ctx.home(tensor) == ctx.dram_idx:
            traffic.down(tensor, role, ctx.dram_idx, gb)
            if ctx.workload.tensors[tensor].kind != "input":
                ctx.spilling.add(op.module)
    if run.pointers_reloaded:
        traffic.add(ctx.dram_idx, "weights", "read", m * run.reload_bits(cfg))
        traffic.add(gb, "weights", "write", m * run.reload_bits(cfg))
        how = "with the PEs idle" if run.reload_idle else f"streamed during compute ({cfg.pointer_overflow})"
        mapping += (f"; pointer SRAM overflow: {run.pointers_reloaded} pointers per PE reloaded per vector "
                    f"{how}")
    act_bits = act.dtype.bits
    acc_bits = ctx.profile.compute.accumulator_bits
    weight_bits = run.entries_read * entry_bits_onchip(weight) + run.pointer_reads * cfg.pointer_bits
    traffic.add(gb, "weights", "read", m * weight_bits)
    traffic.add(gb, _role(op, view.a), "read", m * k * act_bits)
    queued = m * run.active_columns * cfg.pes * act_bits
    traffic.add(rf, _role(op, view.a), "write", queued)
    traffic.add(rf, _role(op, view.a), "read", queued)
    traffic.add(rf, "outputs", "read", m * run.nonzeros_read * acc_bits)
    traffic.add(rf, "outputs", "write", m * run.nonzeros_read * acc_bits)
    for tensor, bits in ctx.writes[op.index]:
        home = ctx.home(tensor)
        for child in range(0, home):
            traffic.up(bits, child, child + 1)
        if home == ctx.dram_idx and tensor not in ctx.final_outputs:
            ctx.spilling.add(op.module)
    for extra in view.extras:
        if extra not in ctx.free_reads[op.index]:
            traffic.through(extra, _role(op, extra), ctx.home(extra))
    _edge_traffic(op, ctx, traffic, [view.a, view.b, *view.extras])
    dtype = op.mac_dtype.name if op.mac_dtype else "float32"
    operations = [OperationCount("mac", dtype, float(m * run.nonzeros_read))]
    enc = weight.encoding
    if enc is not None and enc.codebook_entries > 0:
        operations.append(OperationCount("codebook", f"{weight.dtype.kind}{enc.codebook_value_bits}",
                                         float(m * run.nonzeros_read), "weights"))
    index_dtype = f"int{cfg.relative_index_bits}"
    operations.append(OperationCount("index_add", index_dtype, float(m * run.entries_read), "weights"))
    operations += _arith_operations(op)
    arith = sum(a.count for a in op.arith)
    return OpSchedule(
        index=op.index, layer=op.module, kind=op.kind.value, aten=op.aten, mapping=mapping, tiles=(),
        traffic_bits=traffic.frozen(), operations=tuple(operations), macs=op.macs,
        compute_cycles=m * run.cycles + arith_cycles(ctx.profile.compute, arith),
        steps=m * run.pointers_reloaded if run.pointers_reloaded and not run.reload_idle else 1,
    )
