"""SCALE-Sim 3's double-buffered read SRAM (ifmap or filter) as a count of DRAM words fetched.

SCALE-Sim 3.0.0 with ``InterfaceBandwidth: CALC`` (the peers-data config) serves reads through
``scalesim/memory/read_buffer_estimate_bw.py`` (``ReadBufferEstimateBw``): the SRAM of ``S`` words is 100
sets of ``floor(S / 100)`` words, half of them active (``active_buf_frac = 0.5``: 50 sets). Walking the
array's demand stream in order (cycle by cycle, lane by lane, idle slots skipped), an address that is in
the sets filled since the last refill, or in the set being filled, is a hit; any other address is fetched
from DRAM into the current set. When the 50th set of a refill fills, the prefetch buffer becomes the active
one and the old sets are dropped: the next address starts an empty window. So the DRAM words fetched are
the stream cut greedily into blocks of ``B = 50 x floor(S / 100)`` distinct addresses, summed over blocks
(``dram_words``); ``block_words`` is ``B``.

The stream of one operand is given as segments ``(P, copies)``: the address array ``P`` repeated ``copies``
times (an output-stationary array re-reads the whole ifmap once per column fold). Addresses of different
segments must be disjoint. Each copy is one vectorised pass (previous-occurrence positions from one sort
of ``P``, this pass and one pass back); the loop runs over copies and buffer refills, never over addresses,
skips whole periods once a copy starts in a state seen before (window fill and start relative to the copy:
the copies from there repeat), and stops early once a whole copy hits (every later copy then hits too)
(``replay_passes``, shared with the replay by chunks of ``systolic_chunk_replay``). A segment of distinct
addresses needs no replay at all: ``distinct_words`` is its closed form.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NEVER", "block_words", "distinct_words", "dram_words", "replay_passes"]

#: SCALE-Sim 3 ``ReadBufferEstimateBw``: the SRAM is split into this many sets ...
SETS = 100
#: ... of which this many form the active half (``active_buf_frac = 0.5``, the peers-data config).
ACTIVE_SETS = 50
#: Previous-occurrence position of a first occurrence: before any window start.
NEVER = -(1 << 62)


def block_words(sram_words: int) -> int:
    """Distinct words one refill window holds: ``ACTIVE_SETS x floor(sram_words / SETS)``."""
    per_set = sram_words // SETS
    if per_set < 1:
        raise ValueError(f"systolic SRAM of {sram_words} words is smaller than SCALE-Sim's {SETS} sets")
    return ACTIVE_SETS * per_set


def _previous(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position of the previous occurrence of ``p[i]`` in ``p``, ``NEVER`` for a first occurrence; the same
    with ``p`` repeated: a first occurrence's previous one is its last occurrence one pass back, minus ``n``).

    One sort of ``address << b | position`` (unique keys, so an unstable value sort orders them as a stable
    argsort of the addresses would, at a fraction of its cost); an argsort where the key would overflow."""
    n = p.size
    bits = max(int(n - 1).bit_length(), 1)
    if n and int(p.min()) >= 0 and int(p.max()).bit_length() + bits <= 62:
        keys = np.sort((p << bits) | np.arange(n, dtype=np.int64))
        ordered, order = keys >> bits, keys & ((1 << bits) - 1)
    else:
        order = np.argsort(p, kind="stable")
        ordered = p[order]
    same = ordered[1:] == ordered[:-1]
    prev = np.full(n, NEVER, dtype=np.int64)
    prev[order[1:][same]] = order[:-1][same]
    cyclic = prev.copy()
    cyclic[order[np.flatnonzero(np.concatenate(([True], ~same)))]] = order[np.flatnonzero(np.concatenate((~same, [True])))] - n
    return prev, cyclic


def distinct_words(segments: list[tuple[int, int]], block: int, count: int = 0) -> tuple[int, int]:
    """(DRAM words fetched, words in the last window) for segments ``(n, copies)`` of ``n`` distinct addresses
    each (a filter matrix, an ifmap whose windows do not overlap), starting with ``count`` words in the window.

    Closed form, whatever the order inside a copy: a copy's first pass misses all ``n``. With ``n >= block``
    every demand misses (a window filled ``block`` demands ago holds none of the next ``block``: their
    previous occurrences lie ``n`` back). Otherwise at most one refill falls in the first pass, at demand
    ``k = block - count``; the second pass then misses its first ``k`` demands (fetched before that refill)
    and the window, now holding all ``n``, serves every later demand."""
    fetched = 0
    for n, copies in segments:
        if n <= 0 or copies <= 0:
            continue
        if n >= block:
            fetched += n * copies
            count = (count + n * copies) % block
        elif count + n < block:
            fetched += n
            count += n
        else:
            k = block - count
            again = k if copies > 1 else 0
            fetched += n + again
            count = n - k + again
    return fetched, count


def dram_words(segments: list[tuple[np.ndarray, int]], block: int, distinct: bool = False) -> int:
    """DRAM words fetched for the demand stream ``segments`` through a buffer of ``block`` words per refill.

    ``distinct``: each ``P`` holds every address once (a filter matrix): ``distinct_words``' closed form."""
    if distinct:
        return distinct_words([(int(np.size(p)), copies) for p, copies in segments], block)[0]
    fetched = count = span = 0
    for p, copies in segments:
        if np.size(p) and copies > 0:
            prev, cyclic = _previous(np.asarray(p, dtype=np.int64))
            fetched, count, span = _replay(prev, cyclic, copies, block, fetched, count, span)
    return fetched


def _replay(prev: np.ndarray, cyclic: np.ndarray, copies: int, block: int, fetched: int, count: int,
            span: int) -> tuple[int, int, int]:
    """``copies`` passes of one segment from a window holding ``count`` words: (fetched, count, span) after."""
    def run_pass(first, fetched, count, start, span):
        return _pass(prev if first else cyclic, block, fetched, count, start, span)

    return replay_passes(run_pass, prev.size, copies, fetched, count, span)


def replay_passes(run_pass, n: int, copies: int, fetched: int = 0, count: int = 0,
                  span: int = 0) -> tuple[int, int, int]:
    """``copies`` passes of a stream of ``n`` demands, one pass being ``run_pass(first, fetched, count, start,
    span) -> (fetched, count, start, span)`` (``start``: the window start relative to the pass; ``span``: the
    pass's own guess of a window's extent, carried): (fetched, count, span) after. Passes that begin in a
    state seen before repeat: whole periods are skipped; a pass that fetches nothing ends the replay."""
    start = NEVER // 2  # window start relative to the pass: before every position, after every NEVER
    seen_states: dict[tuple[int, int], tuple[int, int]] = {}
    j = 0
    while j < copies:
        if j > 0:
            start = max(start - n, -n)  # relative to this pass; at -n the window holds the whole last pass
            state = (count, start)
            if state in seen_states:  # the passes repeat from here: skip whole periods
                j0, fetched0 = seen_states[state]
                periods = (copies - j) // (j - j0)
                fetched += periods * (fetched - fetched0)
                j += periods * (j - j0)
                seen_states.clear()
                if j == copies:
                    break
            seen_states[(count, start)] = (j, fetched)
        before = fetched
        fetched, count, start, span = run_pass(j == 0, fetched, count, start, span)
        if fetched == before and j > 0:
            break  # a whole pass hit: the window holds all of P, every later pass hits too
        j += 1
    return fetched, count, span


def _pass(prev: np.ndarray, block: int, fetched: int, count: int, start: int, span: int) -> tuple[int, int, int, int]:
    """One pass over a stream with previous-occurrence positions ``prev`` (relative to the pass), from a window
    begun at ``start`` holding ``count`` words: (fetched, count, start, span) after it."""
    n = prev.size
    i0 = 0
    while i0 < n:
        need = block - count
        width = min(n - i0, max(2 * need, span * need // block + need))  # at most one miss per demand
        while True:
            seen = np.cumsum(prev[i0:i0 + width] < start)
            if seen[-1] >= need or i0 + width == n:
                break
            width = min(n - i0, 2 * width)
        if seen[-1] < need:
            return fetched + int(seen[-1]), count + int(seen[-1]), start, span
        close = int(np.searchsorted(seen, need))  # the miss that fills the window
        fetched += need
        if count == 0:
            span = close + 1
        count = 0
        i0 += close + 1
        start = i0
    return fetched, count, start, span
