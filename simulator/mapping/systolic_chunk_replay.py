"""SCALE-Sim 3's read buffer (``systolic_buffer._pass``) replayed over chunks (``systolic_chunks.Chunks``).

A pass walks the stream window by window. In a chunk, the words that miss a window begun at position
``window`` are those whose previous occurrence lies before it: a prefix of the chunk's words (positions rise
with the word, the previous ones too), counted by one ``searchsorted`` in the position table. Cumulating those
counts over chunks in the order of their first word bounds the word that fills the window to within one
chunk's extent (``span_max``); a many-point search over the few chunks that can straddle it finds it. So a
window costs a few numpy calls over the chunks it covers, never an array per demand; passes, repeats and the
early stop are ``systolic_buffer.replay_passes``'. Equal to the per-demand replay (``tests/mapping/test_systolic_fast.py``).
"""

from __future__ import annotations

import numpy as np

from simulator.mapping.systolic_buffer import replay_passes
from simulator.mapping.systolic_chunks import Chunks, os_chunks

__all__ = ["SEARCH_POINTS", "chunk_words", "os_chunk_words"]


def chunk_words(ch: Chunks, copies: int, block: int) -> int:
    """DRAM words of ``copies`` passes of the stream ``ch`` describes, through windows of ``block`` words, with
    no per-demand array: ``systolic_buffer._pass`` at chunk granularity (``_chunk_pass``)."""
    first = ch.lead + ch.before[ch.start]
    span_max = int((ch.before[ch.start + ch.words - 1] - ch.before[ch.start]).max())
    passes = ((ch.prev_lead, ch.prev_start), (ch.wrap_lead, ch.wrap_start))
    chunks = (first, ch.lead, ch.start, ch.before, ch.words, ch.n, span_max, block)

    def run_pass(first_pass, fetched, count, window, span):
        return _chunk_pass(chunks, *passes[0 if first_pass else 1], fetched, count, window, span)

    return replay_passes(run_pass, ch.n, copies)[0]


def os_chunk_words(layer, rows: int, copies: int, block: int) -> int:
    """``chunk_words`` of the output-stationary ifmap stream."""
    return chunk_words(os_chunks(layer, rows), copies, block)


#: Positions tried per round of the search for the word that fills a window.
SEARCH_POINTS = 32


def _below(before: np.ndarray, x, lead: np.ndarray, start: np.ndarray, words: int) -> np.ndarray:
    """Per chunk, how many of its words lie at positions below ``x`` (positions rise with the word)."""
    return np.minimum(np.maximum(np.searchsorted(before, x - lead) - start, 0), words)


def _chunk_pass(chunks, prev_lead: np.ndarray, prev_start: np.ndarray, fetched: int, count: int, window: int,
                span: int) -> tuple[int, int, int, int]:
    """One pass from a window begun at ``window`` holding ``count`` words (``systolic_buffer._pass``'s
    contract; ``span``: chunks the last window took). Chunks sorted by first position; a word misses when its
    previous occurrence lies before ``window`` (a prefix of each chunk's words). The word that fills a window
    is found by a many-point search of its position over the few chunks that can straddle it."""
    first, lead, start, before, words, n, span_max, block = chunks
    total = first.size
    i0 = 0
    while i0 < n:
        need = block - count
        a = int(np.searchsorted(first, i0 - span_max))  # chunks before ``a`` end below i0
        inside = int(np.searchsorted(first, i0))  # chunks from here start at or after i0
        width = max(64, span * need // block + need // words + 1) if span else max(64, 2 * need // words)
        while True:
            b = min(total, a + width)
            misses = _below(before, window, prev_lead[a:b], prev_start[a:b], words)
            cut = min(inside, b) - a  # chunks straddling i0: their words below it are not in this window
            misses[:cut] = np.maximum(misses[:cut] - _below(before, i0, lead[a:a + cut], start[a:a + cut], words), 0)
            seen = np.cumsum(misses)
            if b == total or seen[-1] >= need:
                break
            width *= 2
        if not seen.size or seen[-1] < need:
            got = int(seen[-1]) if seen.size else 0
            return fetched + got, count + got, window, span
        j = int(np.searchsorted(seen, need))  # chunk a + j holds the filling miss or starts after it
        low = int(first[a + j])  # fewer than ``need`` misses below
        high = low + span_max + 1  # chunks a .. a + j end below: at least ``need``
        a2 = max(a, int(np.searchsorted(first, low - span_max)))
        b2 = int(np.searchsorted(first, high))
        below = int(seen[a2 - a - 1]) if a2 > a else 0  # chunks a .. a2 - 1 end below ``low``
        # misses of chunk j below x: clip(searchsorted(before, x - lead), lo, hi) - lo, in table indices
        lead2 = lead[a2:b2]
        lo = start[a2:b2] + _below(before, i0, lead2, start[a2:b2], words)
        hi = np.maximum(start[a2:b2] + _below(before, window, prev_lead[a2:b2], prev_start[a2:b2], words), lo)
        need_here = need - below + int(lo.sum())
        while high - low > 1:  # SEARCH_POINTS-ary search: the count at many positions per numpy call
            step = -(-(high - low) // (SEARCH_POINTS + 1))
            xs = np.arange(low + step, high, step)  # at most SEARCH_POINTS, strictly between
            got = np.minimum(np.maximum(np.searchsorted(before, xs[:, None] - lead2[None, :]), lo), hi).sum(axis=1)
            k = int(np.searchsorted(got, need_here))  # first point with enough misses below it
            if k < xs.size:
                high = int(xs[k])
            if k > 0:
                low = int(xs[k - 1])
        fetched += need
        if count == 0:
            span = j + 1
        count = 0
        i0 = window = high
    return fetched, count, window, span
