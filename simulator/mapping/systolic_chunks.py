"""Previous-occurrence positions of SCALE-Sim 3's output-stationary ifmap stream, from a sort of its chunks.

``systolic_buffer.dram_words`` needs, for every demand of the stream, where the same address was demanded
before (in this pass and one pass back); found by sorting the whole stream, that sort is most of the replay.
The output-stationary stream has structure that makes it ``C`` times smaller: lane ``r`` of fold ``f``
(output pixel ``e = f R + r``) reads window position ``t = tap C + c`` at cycle ``k = t + r``, so the ``C``
words of one input pixel that one (pixel, tap) pair reads -- a *chunk* -- come at cycles ``k0 + c`` in one
lane (``k0 = tap C + r``). Two chunks of the same input pixel read its word ``c`` at ``k0 + c`` and
``k0' + c``: their order (cycle, then lane; folds and passes in sequence) is the same for every ``c``. So the
previous occurrence of word ``c`` of a chunk is word ``c`` of the chunk before it of the same input pixel:
one sort of the ``E x taps`` chunks (not of the ``E x taps x C`` demands) gives every demand's, and a
demand's position is index arithmetic (``position``: fold start, demands of earlier cycles, earlier lanes).

Weight and input stationary have chunks too when ``C`` is a multiple of the array's rows (each fold then holds
``rows`` channels of one tap): a chunk is one channel block of one (pixel, tap) pair, ``rows`` words
(``ws_chunks``, ``is_chunks``). ``systolic_chunk_replay`` replays the read buffer over chunks. ``os_previous``
expands the output-stationary chunks per demand: exactly what ``systolic_buffer._previous`` returns for
``os_ifmap_stream`` (``tests/mapping/test_systolic_fast.py`` checks it; nothing else expands them). Memory:
a few int64 per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.mapping.systolic_buffer import NEVER
from simulator.mapping.systolic_streams import _skew, pixel_base

__all__ = ["Chunks", "is_chunks", "os_chunks", "os_previous", "ws_chunks"]


def _before(lanes: int, steps: int) -> np.ndarray:
    """Position of (cycle ``k``, lane 0) in one fold (``lanes`` x ``steps``, skewed), ``k = 0 .. steps + lanes - 1``:
    the demands of earlier cycles, less the lanes idle at cycle ``k`` (lane ``r``'s position adds ``r``)."""
    k = np.arange(steps + lanes - 1)
    low = np.maximum(0, k - steps + 1)
    valid = np.minimum(k, lanes - 1) - low + 1
    return np.concatenate(([0], np.cumsum(valid)))[:-1] - low


@dataclass(frozen=True, slots=True)
class Chunks:
    """The (pixel, tap) chunks of one pass, in the order of their first demand: word ``c`` of chunk ``j``
    is at position ``lead[j] + before[start[j] + c]``, its previous occurrence at the same expression over
    ``prev_lead`` / ``prev_start`` (``NEVER``-based when none) and, one pass back, over ``wrap_*``."""

    n: int  # demands per pass
    words: int  # C: words per chunk
    before: np.ndarray  # position of (cycle, lane 0) less idle lanes; both fold widths, one non-decreasing table
    lead: np.ndarray
    start: np.ndarray
    prev_lead: np.ndarray
    prev_start: np.ndarray
    wrap_lead: np.ndarray
    wrap_start: np.ndarray


def os_chunks(layer, rows: int) -> Chunks:
    """The chunks of ``os_ifmap_stream`` in the order of their first demand, and their previous chunks (one
    sort of ``E x taps`` keys)."""
    e_count, c_count, taps = layer.pixels, layer.channels, layer.fy * layer.fx
    steps = taps * c_count
    n = e_count * steps
    full, rest = divmod(e_count, rows)
    before = _before(rows, steps)
    shift = int(before[-1]) + 1  # the narrow last fold's table follows, raised so that the whole is sorted
    if rest:
        before = np.concatenate((before, _before(rest, steps) + shift))
    base = pixel_base(layer) // c_count  # input pixel of each output pixel's window corner
    pixel, start, lead = [], [], []
    kinds = ((0, full, rows, 0, 0), (full, 1 if rest else 0, rest, steps + rows - 1, shift))
    for first_fold, folds, lanes, table, raise_ in kinds:  # the full folds, the narrow last one
        if not folds:
            continue
        lane, tap = _fold_chunks(lanes, c_count, taps)
        fy, fx = np.divmod(tap, layer.fx)
        fold = np.arange(first_fold, first_fold + folds, dtype=np.int64)[:, None]
        corner = base[first_fold * rows:first_fold * rows + folds * lanes].reshape(folds, lanes)
        pixel.append((corner[:, lane] + (fy * layer.in_w + fx)).ravel())
        start.append(np.tile(table + tap * c_count + lane, folds))
        lead.append((fold * (rows * steps) + (lane - raise_)).ravel())  # fold start + lane (less the raise)
    pixel, start, lead = (x[0] if len(x) == 1 else np.concatenate(x) for x in (pixel, start, lead))
    return _link(pixel, lead, start, before, c_count, n)


def _link(key: np.ndarray, lead: np.ndarray, start: np.ndarray, before: np.ndarray, words: int, n: int) -> Chunks:
    """``Chunks`` from chunks in the order of their first demand: chunks with equal ``key`` read the same
    words, word ``c`` of each in chunk order; each chunk's previous one is the one before it with its key."""
    order = _chunk_order(key)
    ordered = key[order]
    same = ordered[1:] == ordered[:-1]
    later, earlier = order[1:][same], order[:-1][same]
    last = order[np.flatnonzero(np.concatenate((~same, [True])))]
    prev_lead = np.full(key.size, NEVER, dtype=np.int64)
    prev_start = np.zeros(key.size, dtype=np.int64)
    prev_lead[later], prev_start[later] = lead[earlier], start[earlier]
    firsts = order[np.concatenate(([True], ~same))]  # per key, its first chunk; ``last``: its last
    wrap_lead, wrap_start = prev_lead.copy(), prev_start.copy()
    wrap_lead[firsts], wrap_start[firsts] = lead[last] - n, start[last]
    return Chunks(n, words, before, lead, start, prev_lead, prev_start, wrap_lead, wrap_start)


def ws_chunks(layer, rows: int) -> Chunks:
    """Weight stationary, ``C`` a multiple of ``rows`` (each fold: ``rows`` channels of one tap): chunk
    ``(fold f, pixel e)`` is lane ``r``'s word at cycle ``e + r``, position ``f rows E + before[e + r] + r``;
    chunks of the same input pixel and the same channel block (``f mod C / rows``) read the same words."""
    e_count, c_count, taps = layer.pixels, layer.channels, layer.fy * layer.fx
    pieces = c_count // rows
    folds = taps * pieces
    table = _before(rows, e_count)
    table = table + np.arange(table.size)  # position of (cycle k, lane k - e) is lead + table[k]
    fold = np.arange(folds, dtype=np.int64)[:, None]
    e = np.arange(e_count, dtype=np.int64)[None, :]
    tap, piece = np.divmod(fold, pieces)
    fy, fx = np.divmod(tap, layer.fx)
    pixel = (pixel_base(layer) // c_count)[None, :] + fy * layer.in_w + fx
    key = (pixel * pieces + piece).ravel()
    lead = (fold * (rows * e_count) - e).ravel()
    start = np.broadcast_to(e, (folds, e_count)).ravel()
    return _link(key, lead, start, table, rows, e_count * taps * c_count)


def is_chunks(layer, rows: int, cols: int) -> Chunks:
    """Input stationary, ``C`` a multiple of ``rows``: chunk ``(pixel fold i, window fold j, pixel e)`` holds
    the fold's ``rows`` window positions last to first, so word ``w`` (channel ``rows - 1 - w`` of the block)
    is at ``i cols T + j rows width + w width + e - i cols`` (``width``: the pixel fold's)."""
    e_count, c_count, taps = layer.pixels, layer.channels, layer.fy * layer.fx
    pieces = c_count // rows
    folds = taps * pieces
    steps = taps * c_count
    full, rest = divmod(e_count, cols)
    table = np.arange(rows, dtype=np.int64) * cols
    shift = int(table[-1]) + 1
    if rest:
        table = np.concatenate((table, np.arange(rows, dtype=np.int64) * rest + shift))
    base = pixel_base(layer) // c_count
    key, lead, start = [], [], []
    for first_fold, count, width, region, raise_ in ((0, full, cols, 0, 0), (full, 1 if rest else 0, rest, rows, shift)):
        if not count:
            continue
        i = np.arange(first_fold, first_fold + count, dtype=np.int64)[:, None, None]
        j = np.arange(folds, dtype=np.int64)[None, :, None]
        local = np.arange(width, dtype=np.int64)[None, None, :]
        tap, piece = np.divmod(j, pieces)
        fy, fx = np.divmod(tap, layer.fx)
        pixel = base[first_fold * cols:first_fold * cols + count * width].reshape(count, 1, width)
        key.append(((pixel + fy * layer.in_w + fx) * pieces + piece).ravel())
        lead.append(np.broadcast_to(i * (cols * steps) + j * (rows * width) + local - raise_,
                                    (count, folds, width)).ravel())
        start.append(np.full(count * folds * width, region, dtype=np.int64))
    key, lead, start = (x[0] if len(x) == 1 else np.concatenate(x) for x in (key, lead, start))
    return _link(key, lead, start, table, rows, e_count * steps)


def _fold_chunks(lanes: int, c_count: int, taps: int) -> tuple[np.ndarray, np.ndarray]:
    """(lane, tap) of one fold's chunks in the order of their first demand: cycle ``tap C + lane``, then lane."""
    lane = np.repeat(np.arange(lanes, dtype=np.int64), taps)
    tap = np.tile(np.arange(taps, dtype=np.int64), lanes)
    order = np.lexsort((lane, tap * c_count + lane))
    return lane[order], tap[order]


def os_previous(layer, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(previous occurrence, previous occurrence one pass back) of every demand of ``os_ifmap_stream``."""
    ch = os_chunks(layer, rows)
    taps = layer.fy * layer.fx
    full, rest = divmod(layer.pixels, rows)
    natural = []  # each chunk's id e x taps + tap, in the order of os_chunks
    for first_fold, folds, lanes in ((0, full, rows), (full, 1 if rest else 0, rest)):
        if folds:
            lane, tap = _fold_chunks(lanes, layer.channels, taps)
            fold = np.arange(first_fold, first_fold + folds, dtype=np.int64)[:, None]
            natural.append((fold * (rows * taps) + (lane * taps + tap)).ravel())
    natural = np.concatenate(natural)
    rank = np.empty(natural.size, dtype=np.int64)
    rank[natural] = np.arange(natural.size)
    chunk, word = _demand_chunks(layer.pixels, rows, layer.window, layer.channels, taps)
    chunk = rank[chunk]
    prev = _position(ch.prev_lead, ch.prev_start, chunk, word, ch.before)
    cyclic = prev.copy()
    wrapped = np.flatnonzero(ch.prev_lead[chunk] == NEVER)
    cyclic[wrapped] = _position(ch.wrap_lead, ch.wrap_start, chunk[wrapped], word[wrapped], ch.before)
    return prev, cyclic


def _chunk_order(pixel: np.ndarray) -> np.ndarray:
    """Chunk indices sorted by input pixel, stably (chunks are indexed in stream order): one packed-key sort."""
    ids = np.arange(pixel.size, dtype=np.int64)
    id_bits = max(int(pixel.size - 1).bit_length(), 1)
    if int(pixel.max()).bit_length() + id_bits <= 62:
        return np.sort((pixel << id_bits) | ids) & ((1 << id_bits) - 1)
    return np.argsort(pixel, kind="stable")


def _demand_chunks(e_count: int, rows: int, steps: int, c_count: int, taps: int) -> tuple[np.ndarray, np.ndarray]:
    """(chunk id, word within the chunk) of every demand, in stream order."""
    full, rest = divmod(e_count, rows)
    chunks, words = [], []
    for count, lanes, first_e in ((full, rows, 0), (1 if rest else 0, rest, full * rows)):
        if count:
            lane, step = _skew(lanes, steps)
            tap, c = np.divmod(step, c_count)
            local = lane * taps + tap
            folds = np.arange(count, dtype=np.int64)[:, None] * (rows * taps) + first_e * taps
            chunks.append((folds + local[None, :]).ravel())
            words.append(np.tile(c, count))
    return np.concatenate(chunks), np.concatenate(words)


def _position(lead: np.ndarray, start: np.ndarray, chunk: np.ndarray, word: np.ndarray,
              before: np.ndarray) -> np.ndarray:
    """Stream position of word ``word`` of the chunk described by ``(lead, start)[chunk]`` (``start``: its
    first cycle's index into ``before``)."""
    return lead[chunk] + before[start[chunk] + word]
