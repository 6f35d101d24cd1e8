"""Eyeriss's row-stationary (RS) dataflow for one convolution, counted from the layer's shape (pure numpy).

Chen, Emer, Sze, "Eyeriss: a spatial architecture for energy-efficient dataflow for convolutional neural
networks", ISCA 2016 (Sec. IV); Chen, Krishna, Emer, Sze, JSSC 2017 (Sec. III, V):

* **Logical PE set**: a 2-D conv (per image, filter, channel) is ``R x E`` 1-D row convolutions; PE
  ``(i, j)`` convolves filter row ``i`` with input row ``j U + i`` into output row ``j``. Filter rows stay
  in the PEs' filter scratchpads (reused across the output row and across images), input rows move
  diagonally, partial sums accumulate up each PE column.
* **Folding onto the physical array** (``fold``): with ``R`` above the array's rows the filter rows are cut
  into chunks; ``E`` is cut into pieces of ``w <= cols`` columns, stacked as ``floor(rows / R) x
  floor(cols / w)`` blocks; with more blocks than pieces the set is replicated ``sets`` times (extra sets
  take other filters ``t`` or channels ``r``), with fewer the pieces are strip-mined over passes.
  AlexNet on 12 x 14: CONV1 11 x 14 = 154 PEs, CONV2 2 x (5 x 14) - 5 = 135, CONV3-5 4 x (3 x 13) = 156,
  the PE counts the JSSC paper reports in its per-layer AlexNet table (recalled, not in reference.md).
* **Packing** (``rs_candidates``): each PE runs ``p`` filters x ``q`` channels x ``n`` images per pass,
  limited by its scratchpads: ``p q S <= filter``, ``n q S <= ifmap``, ``p n <= psum`` words. All
  ``(p, q, n, t)`` candidates are costed at once (numpy) and the cheapest in energy is kept.
* **Cycles**: a PE does ``p q n F S`` MACs per pass, one per cycle; before a pass its ``p q S`` filter
  words arrive over the global-buffer port (the filter scratchpad holds one pass: not overlapped). So the
  utilisation (active PEs / all) and the ceilings of the folding, not a 100 % array, set the time.
* **Accesses** (words per group): RF ifmap read per MAC, filter read + psum read + write per MAC not gated
  by a zero ifmap (JSSC Sec. V-C: a zero ifmap gates the filter read and the MAC); spad writes as each PE
  receives its rows; array (inter-PE network) deliveries of ifmap and filter rows and psum hops up a
  column; global buffer reads of ifmap rows per strip (with the halo), filters, psum read-back per
  channel pass.

The global buffer is shared among ifmap, filters and psums by ``glb_search`` (how much each gets is
searched, vectorised over candidate tiles), which sets the DRAM traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.hardware.profile import RSConfig

__all__ = ["Fold", "GlbTiling", "RSLayer", "RSRun", "fold", "glb_search", "rs_candidates", "tile_values"]


@dataclass(frozen=True, slots=True)
class RSLayer:
    """One group of a 2-D conv: batch ``n``, filters ``m``, channels ``c``, used input ``h x w``, output
    ``e x f``, kernel ``r x s``, stride ``u``; ``groups`` such groups run one after another."""

    n: int
    m: int
    c: int
    h: int
    w: int
    e: int
    f: int
    r: int
    s: int
    u: int
    groups: int = 1

    @property
    def macs(self) -> int:
        return self.groups * self.n * self.m * self.c * self.e * self.f * self.r * self.s


@dataclass(frozen=True, slots=True)
class Fold:
    """The logical ``R x E`` PE set on the physical array: pieces of ``width`` output rows, ``sets``
    replicas, ``strips`` passes over E, filter rows cut into ``rchunks`` of ``rc``."""

    width: int
    sets: int
    strips: int
    rchunks: int
    rc: int
    active_pes: float  # mean over the strips
    e: int  # output rows of the layer
    peak_pes: int  # PEs busy in a full strip (the JSSC paper's "active PEs")

    @property
    def strip_rows(self) -> int:
        """Output rows per strip (the largest strip)."""
        return -(-self.e // self.strips)


def fold(r: int, e: int, cfg: RSConfig) -> Fold:
    """The folding that processes the most logical PE columns per pass (ties: the widest piece)."""
    rchunks = -(-r // cfg.rows)
    rc = -(-r // rchunks)
    w = np.arange(1, min(e, cfg.cols) + 1)
    pieces = -(-e // w)
    blocks = (cfg.rows // rc) * (cfg.cols // w)
    ok = blocks > 0
    strips = np.where(ok, -(-pieces // np.maximum(blocks, 1)), 1 << 30)
    sets = np.where(blocks >= pieces, blocks // pieces, 1)
    rate = sets * e / strips
    best = int(np.lexsort((w, rate))[-1])
    s, st = int(sets[best]), int(strips[best])
    peak = s * rc * min(e, int(min(blocks[best], pieces[best]) * w[best]))
    return Fold(int(w[best]), s, st, rchunks, rc, s * rc * e / st, e, peak)


def tile_values(x: int) -> np.ndarray:
    """Candidate tile sizes for a loop of ``x``: every distinct ``ceil(x / k)`` (about 2 sqrt(x) values)."""
    k = np.arange(1, x + 1)
    return np.unique(-(-x // k))


@dataclass(frozen=True, slots=True)
class RSRun:
    """Counts of the chosen packing for one group (words; multiply by ``RSLayer.groups``).

    ``p, q, n, t, r``: filters, channels, images per PE per pass; sets on filters and on channels.
    """

    p: int
    q: int
    n: int
    t: int
    r: int
    passes: int
    cycles: float
    macs: float
    gated_macs: float
    ifmap_spad_writes: float  # = ifmap deliveries over the array network
    filter_spad_writes: float  # = filter deliveries over the array network
    psum_hops: float  # psums passed up a PE column (array network)
    glb_ifmap_reads: float
    glb_filter_reads: float
    glb_psum_writes: float  # per channel pass; all but the first are read back
    outputs: float


def rs_candidates(layer: RSLayer, fd: Fold, cfg: RSConfig, density: float, glb_words_per_cycle: float,
                  energy: tuple[float, float, float]) -> RSRun:
    """Cost every (p, q, n, t) packing of one group at once; keep the one of least energy (then cycles).

    ``density``: non-zero fraction of the input activations (gates filter reads, psum updates, MACs);
    ``energy``: per-word energies (RF, array, GLB) used to rank the candidates (the MACs are the same for all).
    """
    L = layer
    p1 = np.arange(1, min(L.m, cfg.filter_words // L.s, cfg.psum_words) + 1)
    q1 = np.arange(1, min(L.c, cfg.ifmap_words // L.s) + 1)
    n1 = np.arange(1, min(L.n, cfg.psum_words) + 1)
    t1 = np.array([d for d in range(1, fd.sets + 1) if fd.sets % d == 0])
    if p1.size == 0 or q1.size == 0:
        raise ValueError(f"row stationary: a {L.s}-wide filter row does not fit the PE scratchpads "
                         f"(filter {cfg.filter_words}, ifmap {cfg.ifmap_words} words)")
    p, q, n, t = (a.reshape(-1) for a in np.meshgrid(p1, q1, n1, t1, indexing="ij"))
    r = fd.sets // t
    ok = (p * q * L.s <= cfg.filter_words) & (n * q * L.s <= cfg.ifmap_words) & (p * n <= cfg.psum_words)
    p, q, n, t, r = p[ok], q[ok], n[ok], t[ok], r[ok]
    m_passes = -(-L.m // (p * t))
    c_passes = -(-L.c // (q * r))
    n_passes = -(-L.n // n)
    passes = fd.strips * fd.rchunks * m_passes * c_passes * n_passes
    filter_load = fd.rc * t * r * p * q * L.s / glb_words_per_cycle
    cycles = passes * (p * q * n * L.f * L.s + filter_load)
    macs = L.n * L.m * L.c * L.e * L.f * L.r * L.s
    gated = macs * density
    rows_r = fd.rc * fd.rchunks
    # RF: ifmap read per MAC; filter read, psum read and write per MAC not gated; spad writes.
    ifmap_spad = L.n * L.c * rows_r * L.e * L.w * m_passes * t
    filter_spad = L.m * L.c * L.r * L.s * L.e * n_passes
    rf_reads = np.full(p.shape, macs + 2 * gated)
    rf_writes = gated + ifmap_spad + filter_spad
    # Array: ifmap and filter rows delivered to PEs; psum hops up a column (rc - 1 per output row per pass).
    outputs = L.n * L.m * L.e * L.f
    psum_hops = outputs * (fd.rc - 1) * c_passes * fd.rchunks
    array_words = ifmap_spad + filter_spad + psum_hops
    # GLB: ifmap rows per strip (halo included), multicast to the filter sets; filters per image pass
    # and strip; psums written per channel pass and read back but for the first.
    rows_in = (min(fd.strip_rows, L.e) - 1) * L.u + L.r
    glb_ifmap = L.n * L.c * L.w * fd.strips * rows_in * m_passes
    glb_filter = L.m * L.c * L.r * L.s * n_passes * fd.strips
    psum_writes = outputs * c_passes * fd.rchunks
    glb_reads = glb_ifmap + glb_filter + (psum_writes - outputs)
    e_rf, e_arr, e_glb = energy
    cost = (rf_reads + rf_writes) * e_rf + array_words * e_arr + (glb_reads + psum_writes) * e_glb
    b = int(np.lexsort((cycles, cost))[0])
    return RSRun(int(p[b]), int(q[b]), int(n[b]), int(t[b]), int(r[b]), int(passes[b]), float(cycles[b]),
                 float(macs), float(gated), float(ifmap_spad[b]), float(filter_spad[b]), float(psum_hops[b]),
                 float(glb_ifmap[b]), float(glb_filter[b]), float(psum_writes[b]), float(outputs))


@dataclass(frozen=True, slots=True)
class GlbTiling:
    """The global buffer shared among the operands (one group): a tile of ``m_t`` filters, ``n_t``
    images, ``e_t`` output rows, ``c_t`` channels; DRAM words read per operand (before coding)."""

    m_t: int
    n_t: int
    e_t: int
    c_t: int
    ifmap_share: float  # of the buffer's words
    filter_share: float
    psum_share: float
    ifmap_reads: float  # x the ifmap's words
    filter_reads: float  # x the filters' words


def glb_search(layer: RSLayer, capacity_words: float, ifmap_cost: float = 1.0, filter_cost: float = 1.0) -> GlbTiling:
    """Share the global buffer among ifmap, filter and psum tiles: all candidate tiles at once (numpy),
    keeping the one of least DRAM cost (``ifmap_cost`` / ``filter_cost`` per word read, e.g. RLC-coded
    ifmaps cost less). Psums stay in the buffer over the channel loop (never spill); with all channels in
    the tile, the ifmap tile is kept while the filter tiles go by (read once); otherwise it is re-read per
    filter tile. Filters are re-read per image and row tile unless all of them fit.

    Raises:
        ValueError: not even a one-row, one-channel, one-filter tile fits the buffer.
    """
    L = layer
    m, n, e, c = (a.reshape(-1) for a in np.meshgrid(tile_values(L.m), tile_values(L.n), tile_values(L.e),
                                                    tile_values(L.c), indexing="ij"))
    rows = np.minimum((e - 1) * L.u + L.r, L.h)
    ifmap_w = n * c * rows * L.w
    filter_w = m * c * L.r * L.s
    psum_w = n * m * e * L.f
    ok = ifmap_w + filter_w + psum_w <= capacity_words
    if not ok.any():
        raise ValueError(f"row stationary: the global buffer ({capacity_words:.0f} words) cannot hold one row of "
                         f"the layer's ifmap, filter and psums")
    m, n, e, c, rows, ifmap_w, filter_w, psum_w = (a[ok] for a in (m, n, e, c, rows, ifmap_w, filter_w, psum_w))
    e_tiles = -(-L.e // e)
    halo = e_tiles * rows / L.h
    ifmap_reads = halo * np.where(c == L.c, 1, -(-L.m // m))
    all_filters = (m == L.m) & (c == L.c)
    filter_reads = np.where(all_filters, 1, (-(-L.n // n)) * e_tiles)
    cost = ifmap_reads * L.n * L.c * L.h * L.w * ifmap_cost + filter_reads * L.m * L.c * L.r * L.s * filter_cost
    best = int(np.argmin(cost))
    return GlbTiling(int(m[best]), int(n[best]), int(e[best]), int(c[best]), float(ifmap_w[best] / capacity_words),
                     float(filter_w[best] / capacity_words), float(psum_w[best] / capacity_words),
                     float(ifmap_reads[best]), float(filter_reads[best]))

