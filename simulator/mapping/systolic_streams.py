"""SCALE-Sim 3's ifmap demand streams, built by index arithmetic for all folds at once.

The ifmap address of output pixel ``e`` at window position ``t`` splits into a pixel part and a window part
(``SystolicLayer.ifmap_matrix``): ``A[e, t] = base[e] + offset[t]`` with ``base[e] = ((b H + oy s) W + ox s) C``
and ``offset[t] = (fy W + fx) C + c``. So a stream is two small gathers and one add, never the im2col matrix
and never a Python loop over folds: the skew of one fold (lane ``r`` lags ``r`` cycles, idle slots dropped) is
the same pattern for every full fold, and the last, narrower fold has its own.

Streams (the order ``systolic.run_layer`` documents; ``tests/mapping/test_systolic_fast.py`` checks them
against the per-fold construction they replace):

- output stationary: folds of ``rows`` pixels, each skewed over the ``T`` window positions;
- weight stationary: folds of ``rows`` window positions, each skewed over the ``E`` pixels;
- input stationary: for each fold of ``cols`` pixels, for each fold of ``rows`` window positions, the window
  positions last to first, each with the fold's pixels in order (no skew).

A layer whose windows do not overlap (``fy <= stride`` and ``fx <= stride``: a 1 x 1 conv, a GEMM) reads every
address once per pass (``overlapping`` is False) and needs no stream: ``systolic_buffer.distinct_words``.
Memory: one int64 per demand of one pass (``E x T``), the size of the stream being replayed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_ifmap_stream", "os_ifmap_stream", "overlapping", "pixel_base", "window_offset", "ws_ifmap_stream"]


def overlapping(layer) -> bool:
    """Whether two window positions of two pixels can read the same ifmap address (windows overlap)."""
    return layer.fy > layer.stride or layer.fx > layer.stride


def pixel_base(layer) -> np.ndarray:
    """``base[e]``: the padded-input address of output pixel ``e``'s window corner."""
    e = np.arange(layer.pixels, dtype=np.int64)
    b, rest = np.divmod(e, layer.out_h * layer.out_w)
    oy, ox = np.divmod(rest, layer.out_w)
    return ((b * layer.in_h + oy * layer.stride) * layer.in_w + ox * layer.stride) * layer.channels


def window_offset(layer) -> np.ndarray:
    """``offset[t]``: window position ``t = (fy, fx, c)``'s address relative to the window corner."""
    t = np.arange(layer.window, dtype=np.int64)
    fy, rest = np.divmod(t, layer.fx * layer.channels)
    fx, c = np.divmod(rest, layer.channels)
    return (fy * layer.in_w + fx) * layer.channels + c


def _skew(lanes: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(lane, step) of every demand of one fold of ``lanes`` x ``steps``, in skewed order (cycle, then lane)."""
    cycle = np.arange(steps + lanes - 1)[:, None]
    lane = np.arange(lanes)[None, :]
    step = cycle - lane
    ok = (step >= 0) & (step < steps)
    return np.broadcast_to(lane, ok.shape)[ok], step[ok]


def _skewed_stream(lane_value: np.ndarray, step_value: np.ndarray, fold_lanes: int) -> np.ndarray:
    """``lane_value[lane] + step_value[step]`` over folds of ``fold_lanes`` lanes, each fold skewed."""
    full, rest = divmod(lane_value.size, fold_lanes)
    parts = []
    if full:
        lane, step = _skew(fold_lanes, step_value.size)
        parts.append((lane_value[:full * fold_lanes].reshape(full, fold_lanes)[:, lane]
                      + step_value[step][None, :]).ravel())
    if rest:
        lane, step = _skew(rest, step_value.size)
        parts.append(lane_value[full * fold_lanes:][lane] + step_value[step])
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def os_ifmap_stream(layer, rows: int) -> np.ndarray:
    """Output stationary: pixels on the rows, the window streamed in time."""
    return _skewed_stream(pixel_base(layer), window_offset(layer), rows)


def ws_ifmap_stream(layer, rows: int) -> np.ndarray:
    """Weight stationary: window positions on the rows, the pixels streamed in time."""
    return _skewed_stream(window_offset(layer), pixel_base(layer), rows)


def is_ifmap_stream(layer, rows: int, cols: int) -> np.ndarray:
    """Input stationary: per pixel fold, per window fold, window positions last to first, pixels in order."""
    t = np.arange(layer.window)
    first = t - t % rows
    width = np.minimum(rows, layer.window - first)
    offset = window_offset(layer)[first + width - 1 - t % rows]  # each window fold reversed
    base = pixel_base(layer)
    full, rest = divmod(base.size, cols)
    parts = []
    if full:
        parts.append((offset[None, :, None] + base[:full * cols].reshape(full, 1, cols)).ravel())
    if rest:
        parts.append((offset[:, None] + base[full * cols:][None, :]).ravel())
    return np.concatenate(parts) if len(parts) > 1 else parts[0]
