"""The per-fold, per-address SCALE-Sim replay that ``simulator.mapping.systolic`` used until the speed work
(issue 13), kept verbatim as a test oracle (main at da5ea9a): the im2col matrices materialised, each fold
skewed in a Python loop, previous occurrences from a stable argsort, every pass of every segment scanned.
It equals SCALE-Sim 3.0.0 on the cached runs (``tests/validation/test_scalesim_systolic.py`` held with it);
``test_systolic_fast.py`` checks the fast path against it field by field.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.mapping.systolic import SystolicLayer, SystolicRun, fold_cycles
from simulator.mapping.systolic_buffer import block_words


def skewed(fold: np.ndarray) -> np.ndarray:
    steps, lanes = fold.shape
    cycle = np.arange(steps + lanes - 1)[:, None]
    lane = np.arange(lanes)[None, :]
    t = cycle - lane
    ok = (t >= 0) & (t < steps)
    out = fold[np.where(ok, t, 0), np.broadcast_to(lane, ok.shape)]
    out = out[ok]
    return out[out >= 0]


def slices(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def previous(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(p, kind="stable")
    ordered = p[order]
    same = ordered[1:] == ordered[:-1]
    prev = np.full(p.size, -1, dtype=np.int64)
    prev[order[1:][same]] = order[:-1][same]
    group = np.concatenate(([0], np.cumsum(~same)))
    ends = np.flatnonzero(np.concatenate((~same, [True])))
    last = np.empty(p.size, dtype=np.int64)
    last[order] = order[ends][group]
    return prev, last


def dram_words(segments: list[tuple[np.ndarray, int]], block: int, distinct: bool = False) -> int:
    fetched = 0
    count = 0
    start = 0
    base = 0
    for p, copies in segments:
        n = int(p.size)
        if n == 0 or copies <= 0:
            continue
        if distinct:
            prev, last = np.full(n, -1, dtype=np.int64), np.arange(n, dtype=np.int64)
        else:
            prev, last = previous(np.asarray(p, dtype=np.int64))
        first = prev < 0
        for j in range(copies):
            offset = base + j * n
            if j == 0:
                prev_abs = np.where(first, -1, prev + offset)
            else:
                prev_abs = np.where(first, last + offset - n, prev + offset)
            before = fetched
            i0 = 0
            while i0 < n:
                need = block - count
                width = min(n - i0, 2 * need)
                while True:
                    seen = np.cumsum(prev_abs[i0:i0 + width] < start)
                    if seen[-1] >= need or i0 + width == n:
                        break
                    width = min(n - i0, 2 * width)
                if seen[-1] >= need:
                    close = int(np.searchsorted(seen, need))
                    fetched += need
                    count = 0
                    i0 += close + 1
                    start = offset + i0
                else:
                    fetched += int(seen[-1])
                    count += int(seen[-1])
                    break
            if fetched == before and j > 0:
                break
        base += copies * n
    return fetched


def ifmap_stream(layer: SystolicLayer, dataflow: str, rows: int, cols: int) -> np.ndarray:
    """One pass of the ifmap demand stream, fold by fold."""
    a = layer.ifmap_matrix()
    e, t = layer.pixels, layer.window
    if dataflow == "os":
        return np.concatenate([skewed(a[s].T) for s in slices(e, rows)])
    if dataflow == "ws":
        return np.concatenate([skewed(a[:, s]) for s in slices(t, rows)])
    at = a.T
    return np.concatenate([at[r, c][::-1].ravel() for c in slices(e, cols) for r in slices(t, rows)])


def run_layer(layer: SystolicLayer, dataflow: str, rows: int, cols: int,
              ifmap_sram_words: int, filter_sram_words: int) -> SystolicRun:
    e, t, m = layer.pixels, layer.window, layer.filters
    f = layer.filter_matrix()
    ib, fb = block_words(ifmap_sram_words), block_words(filter_sram_words)
    stream = ifmap_stream(layer, dataflow, rows, cols)
    if dataflow == "os":
        rf, cf, temporal = math.ceil(e / rows), math.ceil(m / cols), t
        ifmap = [(stream, cf)]
        filt = [(skewed(f[:, s]), rf) for s in slices(m, cols)]
        reads = {"ifmap": e * t * cf, "filter": t * m * rf}
        ofmap = e * m
        dram_filter = dram_words(filt, fb, distinct=True)
    elif dataflow == "ws":
        rf, cf, temporal = math.ceil(t / rows), math.ceil(m / cols), e
        ifmap = [(stream, cf)]
        reads = {"ifmap": e * t * cf, "filter": t * m}
        ofmap = e * m * rf
        dram_filter = t * m
    else:
        rf, cf, temporal = math.ceil(t / rows), math.ceil(e / cols), m
        ifmap = [(stream, 1)]
        filt = [(np.concatenate([skewed(f[s].T) for s in slices(t, rows)]), cf)]
        reads = {"ifmap": e * t, "filter": t * m * cf}
        ofmap = e * m * rf
        dram_filter = dram_words(filt, fb, distinct=True)
    folds = rf * cf
    return SystolicRun(
        dataflow=dataflow, folds=folds, cycles=folds * fold_cycles(dataflow, temporal, rows, cols) - 1,
        sram_reads=reads, sram_writes_ofmap=ofmap,
        dram_reads={"ifmap": dram_words(ifmap, ib), "filter": dram_filter}, dram_writes_ofmap=ofmap,
    )
