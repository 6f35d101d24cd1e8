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

``os_previous`` returns exactly what ``systolic_buffer._previous`` returns for ``os_ifmap_stream``
(``tests/mapping/test_systolic_fast.py`` checks it); memory: a few int64 per demand of one pass.
"""

from __future__ import annotations

import numpy as np

from simulator.mapping.systolic_buffer import NEVER
from simulator.mapping.systolic_streams import _skew, pixel_base

__all__ = ["os_previous"]


def _before(lanes: int, steps: int) -> np.ndarray:
    """Position of (cycle ``k``, lane 0) in one fold (``lanes`` x ``steps``, skewed), ``k = 0 .. steps + lanes - 1``:
    the demands of earlier cycles, less the lanes idle at cycle ``k`` (lane ``r``'s position adds ``r``)."""
    k = np.arange(steps + lanes - 1)
    low = np.maximum(0, k - steps + 1)
    valid = np.minimum(k, lanes - 1) - low + 1
    return np.concatenate(([0], np.cumsum(valid)))[:-1] - low


def os_previous(layer, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(previous occurrence, previous occurrence one pass back) of every demand of ``os_ifmap_stream``."""
    e_count, c_count, taps = layer.pixels, layer.channels, layer.fy * layer.fx
    steps = taps * c_count
    n = e_count * steps
    full, rest = divmod(e_count, rows)
    # one table of "demands before cycle k" per fold width; a chunk names its table by an offset into both
    before = np.concatenate((_before(rows, steps), _before(rest, steps) if rest else np.zeros(0, np.int64)))
    e = np.repeat(np.arange(e_count, dtype=np.int64), taps)
    tap = np.tile(np.arange(taps, dtype=np.int64), e_count)
    fold, lane = np.divmod(e, rows)
    table = np.where(fold < full, 0, steps + rows - 1)
    k0 = tap * c_count + lane
    lead = fold * (rows * steps) + lane  # fold start + lane: the position of (k, lane) adds before[k] - lo(k)
    pos0 = lead + before[table + k0]
    fy, fx = np.divmod(tap, layer.fx)
    pixel = pixel_base(layer)[e] // c_count + fy * layer.in_w + fx
    order = _chunk_order(pixel, pos0)
    ordered = pixel[order]
    same = ordered[1:] == ordered[:-1]
    later, earlier = order[1:][same], order[:-1][same]
    last = order[np.flatnonzero(np.concatenate((~same, [True])))]
    firsts = order[np.flatnonzero(np.concatenate(([True], ~same)))]
    # per chunk, its previous chunk's (lead, k0, table): none -> NEVER; one pass back -> the pixel's last chunk
    start = table + k0
    prev_lead = np.full(e.size, NEVER, dtype=np.int64)
    prev_start = np.zeros(e.size, dtype=np.int64)
    prev_lead[later], prev_start[later] = lead[earlier], start[earlier]
    first = np.zeros(e.size, dtype=bool)
    first[firsts] = True
    wrap_lead = np.empty(e.size, dtype=np.int64)
    wrap_start = np.empty(e.size, dtype=np.int64)
    owner = np.cumsum(np.concatenate(([False], ~same)))  # the pixel group of each sorted chunk
    wrap_lead[order], wrap_start[order] = lead[last][owner] - n, start[last][owner]
    # demands in stream order: chunk id and word c, fold by fold (the same pattern for every full fold)
    chunk, word = _demand_chunks(e_count, rows, steps, c_count, taps)
    prev = _position(prev_lead, prev_start, chunk, word, before)
    cyclic = prev.copy()
    wrapped = np.flatnonzero(first[chunk])
    cyclic[wrapped] = _position(wrap_lead, wrap_start, chunk[wrapped], word[wrapped], before)
    return prev, cyclic


def _chunk_order(pixel: np.ndarray, pos0: np.ndarray) -> np.ndarray:
    """Chunk ids sorted by (input pixel, position of their first demand): one packed-key sort, lexsort if too wide."""
    ids = np.arange(pixel.size, dtype=np.int64)
    pos_bits = max(int(pos0.max()).bit_length(), 1)
    id_bits = max(int(pixel.size - 1).bit_length(), 1)
    if int(pixel.max()).bit_length() + pos_bits + id_bits <= 62:
        keys = np.sort((((pixel << pos_bits) | pos0) << id_bits) | ids)
        return keys & ((1 << id_bits) - 1)
    return np.lexsort((pos0, pixel))


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
