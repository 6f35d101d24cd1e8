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

This module is pure numpy: ``WeightPattern`` is the weight's non-zero pattern (built from a boolean
mask by the API, which holds the real tensors), ``pe_column_entries`` the per-PE, per-column work
(one ``bincount``) and ``queue_cycles`` the cycle count of the activation queue. ``run_csc`` combines
them into a ``CSCRun``; ``simulator.mapping.mapper`` turns that into an ``OpSchedule``.

Pointer SRAM overflow (``CSCConfig.pointer_capacity``): a PE needs ``cols + 1`` column pointers (column
``j`` spans pointers ``j`` and ``j + 1``); EIE's 32 KB pointer SRAM of 16-bit pointers holds 16,384, so VGG-16
fc6 (25,088 inputs, 25,089 pointers) does not fit. The layer then runs as column batches whose pointers are
loaded by the central unit's DMA in I/O mode, when "all of the PEs are idle" (Han et al. 2016, Sec. IV,
Central Control Unit; quoted from memory, not in reference.md). ``pointer_reload`` counts the least that must be reloaded per input vector: alternating
the batch order between vectors keeps ``capacity`` pointers resident, so ``cols + 1 - capacity`` per PE. The
mapper charges them as DRAM reads and global-buffer writes; the memory simulation times them (an op's DRAM reads
precede its compute, as in I/O mode), so they lengthen the layer, not the PEs' busy time.

Which activations are zero: the tracer records the *fraction* of non-zero activations
(``TensorInfo.measured_density``), not their positions, and ``simulate(activation_density=...)`` gives a
fraction too. ``active_columns`` therefore takes an evenly strided set of columns of that size
(deterministic, no random draw); with unstructured weights any set of that size gives the same
expected work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.hardware.profile import CSCConfig

__all__ = [
    "CSCConfig", "CSCRun", "WeightPattern", "active_columns", "balanced_pattern_run", "map_eie_csc",
    "pe_column_entries", "pointer_reload", "queue_cycles", "run_csc",
]


@dataclass(frozen=True, slots=True, eq=False)
class WeightPattern:
    """The non-zero pattern of a 2-D weight ``[rows (outputs), cols (inputs)]`` in CSC form.

    ``col_ptr`` (``cols + 1`` int64) and ``row_idx`` (ascending within each column, int32): the rows of
    column ``j``'s non-zeros are ``row_idx[col_ptr[j]:col_ptr[j + 1]]``. Values are not kept: the
    dataflow's work depends only on where the non-zeros are.
    """

    rows: int
    cols: int
    col_ptr: np.ndarray
    row_idx: np.ndarray

    def __post_init__(self) -> None:
        if self.col_ptr.shape != (self.cols + 1,) or int(self.col_ptr[-1]) != self.row_idx.size:
            raise ValueError(
                f"WeightPattern: col_ptr must have cols + 1 = {self.cols + 1} entries ending at the "
                f"{self.row_idx.size} non-zeros, got shape {self.col_ptr.shape}"
            )

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> WeightPattern:
        """The pattern of a boolean ``[rows, cols]`` mask (True = non-zero weight)."""
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim != 2:
            raise ValueError(f"WeightPattern.from_mask: expected a 2-D [rows, cols] mask, got shape {mask.shape}")
        rows, cols = mask.shape
        col, row = np.nonzero(mask.T)  # column-major order: sorted by column, then row
        col_ptr = np.zeros(cols + 1, dtype=np.int64)
        np.cumsum(np.bincount(col, minlength=cols), out=col_ptr[1:])
        return cls(rows, cols, col_ptr, row.astype(np.int32))

    @property
    def nonzeros(self) -> int:
        return int(self.row_idx.size)

    @property
    def density(self) -> float:
        return self.nonzeros / max(self.rows * self.cols, 1)


def pe_column_entries(pattern: WeightPattern, cfg: CSCConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per column and PE: (stored entries incl. fillers, non-zeros), each ``[cols, pes]`` int64.

    PE of row ``i``: ``i % pes``; its local row ``i // pes``. Entries of one (column, PE) are in
    ascending local row; the first one's run counts from local row 0.
    """
    p = cfg.pes
    col = np.repeat(np.arange(pattern.cols, dtype=np.int64), np.diff(pattern.col_ptr))
    row = pattern.row_idx.astype(np.int64)
    pe, local = row % p, row // p
    group = col * p + pe
    # Sort by (column, PE, local row): rows within a column ascend, so a stable sort on the group keeps it.
    order = np.argsort(group, kind="stable")
    group, local = group[order], local[order]
    first = np.ones(group.size, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    prev = np.where(first, -1, np.concatenate(([-1], local[:-1])))
    fillers = (local - prev - 1) >> cfg.relative_index_bits
    size = pattern.cols * p
    nonzeros = np.bincount(group, minlength=size).reshape(pattern.cols, p)
    entries = nonzeros + np.bincount(group, weights=fillers, minlength=size).astype(np.int64).reshape(pattern.cols, p)
    return entries, nonzeros


def active_columns(cols: int, density: float) -> np.ndarray:
    """``round(density x cols)`` evenly strided column indices: the non-zero activations of a given density."""
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"activation density must be in [0, 1], got {density}")
    n = int(round(density * cols))
    return np.floor(np.arange(n) * (cols / max(n, 1))).astype(np.int64)


def queue_cycles(work: np.ndarray, depth: int) -> float:
    """Cycles for ``work[j, p]`` (PE ``p``'s cycles on the j-th broadcast activation) through the queues.

    The broadcaster sends at most one activation per cycle, and only when every PE's queue has room
    (PE ``p`` has started activation ``j - depth``); PE ``p`` starts activation ``j`` once it is
    broadcast and it finished ``j - 1``. The layer ends when the last PE finishes. A loop over the
    broadcast activations (a time recurrence), vectorised over the PEs.
    """
    n, p = work.shape
    if n == 0:
        return 0.0
    start = np.zeros((depth, p))
    finish = np.zeros(p)
    sent = -1.0
    for j in range(n):
        sent = max(sent + 1.0, float(start[j % depth].max()) if j >= depth else 0.0)
        s = np.maximum(finish, sent)
        start[j % depth] = s
        finish = s + work[j]
    return float(finish.max())


def pointer_reload(cols: int, cfg: CSCConfig) -> int:
    """Column pointers each PE reloads per input vector when a layer's ``cols + 1`` pointers overflow its
    pointer SRAM (``cfg.pointer_capacity``; 0 = unbounded): ``cols + 1 - capacity`` (the resident part kept
    by alternating the batch order), else 0."""
    if cfg.pointer_capacity <= 0:
        return 0
    return max(0, cols + 1 - cfg.pointer_capacity)


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
        pointers_reloaded: column pointers per PE loaded into the pointer SRAM for this vector (overflow).
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

    def reload_bits(self, cfg: CSCConfig) -> int:
        """Pointer bits loaded from DRAM into all PEs' pointer SRAMs for this vector (0 when they fit)."""
        return self.pointers_reloaded * cfg.pes * cfg.pointer_bits

    @property
    def load_efficiency(self) -> float:
        """Mean PE work over the time taken (1.0 = perfectly balanced)."""
        return float(self.pe_entries.mean() / self.cycles) if self.cycles else 1.0


def run_csc(pattern: WeightPattern, activation_density: float, cfg: CSCConfig) -> CSCRun:
    """The EIE dataflow on one input vector whose non-zero fraction is ``activation_density``."""
    entries, nonzeros = pe_column_entries(pattern, cfg)
    cols = active_columns(pattern.cols, activation_density)
    work = entries[cols]
    # A PE pops each broadcast activation and reads its two pointers in one cycle at least.
    cycles = queue_cycles(np.maximum(work, 1), cfg.queue_depth)
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
        pointers_reloaded=pointer_reload(pattern.cols, cfg),
    )


def balanced_pattern_run(rows: int, cols: int, density: float, activation_density: float, cfg: CSCConfig) -> CSCRun:
    """The dataflow without the weight's pattern: every PE owns ``density`` of its rows in every column
    (no fillers, no imbalance). Used only when no ``WeightPattern`` was given; the mapping says so."""
    cols_active = active_columns(cols, activation_density).size
    per_column = rows * density
    entries = per_column * cols_active
    return CSCRun(
        cycles=max(entries / cfg.pes, float(cols_active)),
        ideal_cycles=rows * density * cols * activation_density / cfg.pes,
        active_columns=int(cols_active),
        entries_read=int(round(entries)),
        nonzeros_read=int(round(entries)),
        pointer_reads=2 * int(cols_active) * cfg.pes,
        pe_entries=np.full(cfg.pes, entries / cfg.pes),
        total_entries=int(round(per_column * cols)),
        pointers_reloaded=pointer_reload(cols, cfg),
    )


def map_eie_csc(op, ctx):  # noqa: ANN001, ANN201 (mapper internals: simulator.mapping.context.MappingContext)
    """A fully connected op as EIE's CSC execution: an ``OpSchedule`` (``mapping="eie-csc"``), or None
    when the op is not a weight-times-vector product (then the dense mapper maps it).

    Per input vector (``m`` of them, one after another): the global buffer (EIE's SRAMs) is read for the
    stored entries of the active columns (``entry_bits`` each) and two pointers per active column and
    PE, and for the source activations (all ``k``, scanned by the non-zero detector); each broadcast
    activation is written to and read from every PE's queue (register file); each non-zero's MAC reads
    and writes its accumulator (register file, accumulator width); the outputs are written once to
    the global buffer. Pointers that overflow the pointer SRAM (``pointer_reload``) are read from DRAM and
    written to the global buffer per vector (the memory simulation times the load). Operations: a MAC per
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
    if pattern is None:
        run = balanced_pattern_run(n, k, weight_density(weight), da, cfg)
        mapping = "eie-csc (no weight pattern: balanced)"
    else:
        if (pattern.rows, pattern.cols) != (n, k):
            raise MappingError(
                f"op {op.index} '{op.module}': weight pattern of '{view.b}' is {pattern.rows} x {pattern.cols}, "
                f"expected the layer's {n} outputs x {k} inputs"
            )
        run = run_csc(pattern, da, cfg)
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
        mapping += f"; pointer SRAM overflow: {run.pointers_reloaded} pointers per PE reloaded per vector"
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
    )
