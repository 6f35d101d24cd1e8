"""SCALE-Sim 3's systolic dataflows (output-, weight-, input-stationary) for one conv / GEMM layer.

A layer is SCALE-Sim's three operand matrices (``scalesim/compute/operand_matrix.py``): the ifmap's im2col
``A[E, T]`` (E = batch x output pixels, T = C x FY x FX, address ``((oy s + fy) W + ox s + fx) C + c`` in
the padded input), the filter ``F[T, M]`` (address ``m T + t``) and the ofmap ``O[E, M]``. An R x C array
(``[compute.array]``: first axis rows, second columns) folds them (``scalesim/compute/systolic_compute_*.py``):

====  =========================  ======================  =========  ============================
      array rows x cols          folds                   per fold   cycles per fold
====  =========================  ======================  =========  ============================
os    E pixels x M filters       ceil(E/R) x ceil(M/C)   T window   T + R + C - 2
ws    T window x M filters       ceil(T/R) x ceil(M/C)   E pixels   E + 2R + C - 2
is    T window x E pixels        ceil(T/R) x ceil(E/C)   M filters  M + 2R + C - 2
====  =========================  ======================  =========  ============================

A layer's cycles are the sum over its folds minus one (SCALE-Sim's "Total Cycles" counts from cycle 0 to the
last ofmap write). SRAM reads per operand are SCALE-Sim's demand counts (every real element of every fold:
e.g. OS reads the ifmap once per column fold, the filter once per row fold); ofmap writes are E x M, or E x M
per window fold when partial sums leave the array (WS, IS), and each goes on to DRAM (SCALE-Sim's write
buffer drains every write). DRAM reads of the ifmap and the filter come from the demand stream, in
SCALE-Sim's order (column folds outer, row folds inner, each fold skewed), through the double-buffered SRAM of
``simulator.mapping.systolic_buffer``. ``run_layer`` returns the counts in words; ``map_systolic`` turns
them into pjsim's schedule of one op (bits at the DRAM and the on-chip levels) for the profiles
``scalesim-32x32-os|ws|is`` (``[compute] dataflow = "systolic-*"``, ``[compute.systolic]`` SRAM sizes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from simulator.mapping.systolic_buffer import block_words, distinct_words, dram_words
from simulator.mapping.systolic_chunk_replay import chunk_words, os_chunk_words
from simulator.mapping.systolic_chunks import is_chunks, ws_chunks
from simulator.mapping.systolic_streams import is_ifmap_stream, overlapping, ws_ifmap_stream

__all__ = ["SystolicLayer", "SystolicRun", "fold_cycles", "map_systolic", "run_layer", "systolic_layer"]


@dataclass(frozen=True, slots=True)
class SystolicLayer:
    """A conv (or a GEMM: ``in_h = in_w = fy = fx = stride = 1``, ``channels = k``) as SCALE-Sim sees it.

    ``in_h`` / ``in_w`` are the padded input's rows and columns actually read: ``(out - 1) stride + f``.
    """

    batch: int
    in_h: int
    in_w: int
    channels: int
    filters: int
    fy: int
    fx: int
    stride: int
    out_h: int
    out_w: int

    @property
    def pixels(self) -> int:  # E
        return self.batch * self.out_h * self.out_w

    @property
    def window(self) -> int:  # T
        return self.fy * self.fx * self.channels

    def ifmap_matrix(self) -> np.ndarray:
        """``A[E, T]``: the input address each output pixel reads at each window position."""
        e = np.arange(self.pixels)
        b, rest = np.divmod(e, self.out_h * self.out_w)
        oy, ox = np.divmod(rest, self.out_w)
        t = np.arange(self.window)
        fy, rest = np.divmod(t, self.fx * self.channels)
        fx, c = np.divmod(rest, self.channels)
        row = (oy * self.stride)[:, None] + fy[None, :]
        col = (ox * self.stride)[:, None] + fx[None, :]
        return ((b[:, None] * self.in_h + row) * self.in_w + col) * self.channels + c[None, :]

    def filter_matrix(self) -> np.ndarray:
        """``F[T, M]``: filter ``m``'s window position ``t`` at address ``m T + t``."""
        return np.arange(self.filters)[None, :] * self.window + np.arange(self.window)[:, None]


@dataclass(frozen=True, slots=True)
class SystolicRun:
    """One layer on the array, in words (SCALE-Sim's units) and cycles."""

    dataflow: str
    folds: int
    cycles: int
    sram_reads: dict[str, int]  # "ifmap" / "filter"
    sram_writes_ofmap: int
    dram_reads: dict[str, int]  # "ifmap" / "filter"
    dram_writes_ofmap: int


def fold_cycles(dataflow: str, temporal: int, rows: int, cols: int) -> int:
    """Cycles of one fold (table in the module docstring): OS ``T + R + C - 2``, WS/IS ``t + 2R + C - 2``."""
    if dataflow == "os":
        return temporal + rows + cols - 2
    return temporal + 2 * rows + cols - 2


#: Weight / input stationary replay by chunks of ``rows`` words (one channel block of one (pixel, tap) pair)
#: when the channels fill whole folds and a chunk holds at least this many words; per demand otherwise
#: (ResNet-50's layer1 3 x 3, weight stationary: 40 ms by chunks of 32, 146 ms per demand; 250 vs 210 ms by 4).
CHUNK_MIN_WORDS = 16


def _column_folds(n: int, size: int, per_column: int, copies: int) -> list[tuple[int, int]]:
    """Segments ``(words, copies)`` of ``n`` columns folded ``size`` at a time, ``per_column`` words each."""
    full, rest = divmod(n, size)
    return [(size * per_column, copies)] * full + ([(rest * per_column, copies)] if rest else [])


def _ifmap_dram(layer: SystolicLayer, dataflow: str, rows: int, cols: int, copies: int, block: int) -> int:
    """DRAM words of the ifmap stream, ``copies`` passes (closed form when no two windows overlap)."""
    if not overlapping(layer):
        return distinct_words([(layer.pixels * layer.window, copies)], block)[0]
    if dataflow == "os":  # by chunks of C words (systolic_chunks): no per-demand array
        return os_chunk_words(layer, rows, copies, block)
    if layer.channels % rows == 0 and rows >= CHUNK_MIN_WORDS:  # ws / is by chunks of ``rows`` words
        return chunk_words(ws_chunks(layer, rows) if dataflow == "ws" else is_chunks(layer, rows, cols), copies, block)
    if dataflow == "ws":
        stream = ws_ifmap_stream(layer, rows)
    else:
        stream = is_ifmap_stream(layer, rows, cols)
    return dram_words([(stream, copies)], block)


def run_layer(layer: SystolicLayer, dataflow: str, rows: int, cols: int,
              ifmap_sram_words: int, filter_sram_words: int) -> SystolicRun:
    """SCALE-Sim's cycles, SRAM reads and DRAM traffic of ``layer`` on a ``rows x cols`` array.

    Equal, field for field, to the per-fold, per-address replay it replaced (``tests/mapping/systolic_oracle.py``),
    without replaying what needs no replay: each filter fold holds distinct addresses, and so does the ifmap when
    no two windows overlap (``distinct_words``' closed form); an overlapping ifmap is replayed by chunks
    (``systolic_chunks``: of ``C`` words for output stationary, of ``rows`` channels for weight / input
    stationary when ``C`` is a multiple of ``rows``), per demand otherwise (``systolic_streams`` builds the
    stream, ``dram_words`` replays it). ``_cached_run`` maps each distinct layer once per process."""
    e, t, m = layer.pixels, layer.window, layer.filters
    ib, fb = block_words(ifmap_sram_words), block_words(filter_sram_words)
    if dataflow == "os":
        rf, cf, temporal = math.ceil(e / rows), math.ceil(m / cols), t
        ifmap_copies = cf
        reads = {"ifmap": e * t * cf, "filter": t * m * rf}
        ofmap = e * m
        dram_filter = distinct_words(_column_folds(m, cols, t, rf), fb)[0]
    elif dataflow == "ws":
        rf, cf, temporal = math.ceil(t / rows), math.ceil(m / cols), e
        ifmap_copies = cf
        reads = {"ifmap": e * t * cf, "filter": t * m}
        ofmap = e * m * rf
        dram_filter = t * m  # every weight is demanded once
    elif dataflow == "is":
        rf, cf, temporal = math.ceil(t / rows), math.ceil(e / cols), m
        ifmap_copies = 1
        reads = {"ifmap": e * t, "filter": t * m * cf}
        ofmap = e * m * rf
        dram_filter = distinct_words([(t * m, cf)], fb)[0]
    else:
        raise ValueError(f"systolic dataflow {dataflow!r}: expected 'os', 'ws' or 'is'")
    folds = rf * cf
    return SystolicRun(
        dataflow=dataflow, folds=folds, cycles=folds * fold_cycles(dataflow, temporal, rows, cols) - 1,
        sram_reads=reads, sram_writes_ofmap=ofmap,
        dram_reads={"ifmap": _ifmap_dram(layer, dataflow, rows, cols, ifmap_copies, ib), "filter": dram_filter},
        dram_writes_ofmap=ofmap,
    )


# --- pjsim's schedule of one op ------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _cached_run(layer: SystolicLayer, dataflow: str, rows: int, cols: int, ib: int, fb: int) -> SystolicRun:
    return run_layer(layer, dataflow, rows, cols, ib, fb)


def systolic_layer(op) -> SystolicLayer | None:
    """SCALE-Sim's view of a conv (direct, ungrouped, undilated, one stride) or of a batch-1 GEMM; else None."""
    from simulator.ops import ConvDims, GemmDims

    d = op.dims
    if isinstance(d, ConvDims):
        if d.transposed or d.groups != 1 or len(d.kernel_size) > 2 or any(x != 1 for x in d.dilation):
            return None
        out = ([1] * (2 - len(d.output_size)) + list(d.output_size))[-2:]
        ker = ([1] * (2 - len(d.kernel_size)) + list(d.kernel_size))[-2:]
        strides = set(d.stride) if len(d.stride) else {1}
        if len(strides) != 1:
            return None
        s = strides.pop()
        return SystolicLayer(d.batch, (out[0] - 1) * s + ker[0], (out[1] - 1) * s + ker[1], d.in_channels,
                             d.out_channels, ker[0], ker[1], s, out[0], out[1])
    if isinstance(d, GemmDims) and d.batch == 1:
        return SystolicLayer(d.m, 1, 1, d.k, d.n, 1, 1, 1, 1, 1)
    return None


def map_systolic(op, ctx):
    """``OpSchedule`` of a conv / weight GEMM under the profile's ``systolic-*`` dataflow; None to decline.

    DRAM: the ifmap and filter words SCALE-Sim fetches (when the tensor lives in DRAM; a tensor kept on chip
    by the whole-network model is not fetched) and every ofmap write. SRAM: fetched words written, demand
    reads, ofmap writes and their drain. Register file (level 0, when the profile has one below the SRAM):
    each MAC reads its two operands and reads and writes its accumulator.
    """
    from simulator.mapping.context import Traffic as _Traffic, edge_traffic as _edge_traffic, role_of as _role
    from simulator.mapping.gemm import gemm_view
    from simulator.mapping.operations import arith_operations as _arith_operations
    from simulator.mapping.schedule import OperationCount, OpSchedule

    compute = ctx.profile.compute
    layer = systolic_layer(op)
    view = gemm_view(op, ctx.workload)
    if layer is None or view is None or compute.systolic is None or compute.array is None or ctx.gb_idx is None:
        return None
    if ctx.info(view.b).kind != "weight" or view.g != 1 or len(compute.array.axes) != 2:
        return None
    rows, cols = (axis.size for axis in compute.array.axes)
    dataflow = compute.dataflow.removeprefix("systolic-")
    a_bits, w_bits = ctx.info(view.a).dtype.bits, ctx.info(view.b).dtype.bits
    cfg = compute.systolic
    run = _cached_run(layer, dataflow, rows, cols, cfg.ifmap_sram_bits // a_bits, cfg.filter_sram_bits // w_bits)
    traffic = _Traffic(ctx, op)
    gb, dram = ctx.gb_idx, ctx.dram_idx
    role_a = _role(op, view.a)
    for tensor, role, key, bits in ((view.a, role_a, "ifmap", a_bits), (view.b, "weights", "filter", w_bits)):
        if ctx.home(tensor) == dram:
            traffic.add(dram, role, "read", run.dram_reads[key] * bits)
            traffic.add(gb, role, "write", run.dram_reads[key] * bits)
            if ctx.workload.tensors[tensor].kind == "activation":
                ctx.spilling.add(op.module)
        traffic.add(gb, role, "read", run.sram_reads[key] * bits)
    writes = ctx.writes[op.index]
    out_bits = sum(bits for _, bits in writes) / max(layer.pixels * layer.filters, 1)
    traffic.add(gb, "outputs", "write", run.sram_writes_ofmap * out_bits)
    if any(ctx.home(t) == dram for t, _ in writes):
        traffic.up(run.dram_writes_ofmap * out_bits, gb, dram)
        if any(t not in ctx.final_outputs for t, _ in writes):
            ctx.spilling.add(op.module)
    if gb > 0:
        macs = float(op.macs)
        traffic.add(0, role_a, "read", macs * a_bits)
        traffic.add(0, "weights", "read", macs * w_bits)
        traffic.add(0, "outputs", "read", macs * compute.accumulator_bits)
        traffic.add(0, "outputs", "write", macs * compute.accumulator_bits)
    for extra in view.extras:
        if extra not in ctx.free_reads[op.index]:
            traffic.through(extra, _role(op, extra), ctx.home(extra))
    _edge_traffic(op, ctx, traffic, [view.a, view.b, *view.extras])
    dtype = op.mac_dtype.name if op.mac_dtype else "float32"
    operations = [OperationCount("mac", dtype, float(op.macs)), *_arith_operations(op)]
    arith = sum(x.count for x in op.arith)
    return OpSchedule(
        index=op.index, layer=op.module, kind=op.kind.value, aten=op.aten, mapping=f"systolic-{dataflow}",
        tiles=(), traffic_bits=traffic.frozen(), operations=tuple(operations), macs=op.macs,
        compute_cycles=run.cycles + arith / compute.macs_per_cycle, steps=run.folds,
    )
