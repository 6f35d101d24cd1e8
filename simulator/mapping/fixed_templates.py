"""Dataflow presets (output-, weight-, input-, row-stationary) as fixed-mapping templates of the loop-nest model.

``dataflow_template(name, problem, rows, cols, levels)`` turns one MAC loop nest (``fixed.LoopProblem``: dims
``B G K C OY OX FY FX``) and an array of ``rows x cols`` PEs into the ``FixedMapping`` of that dataflow, which
``loopnest.count_accesses`` counts like any user-given mapping. ``simulate(mapping="os")`` / ``--mapping os``
applies it to every op with a MAC loop nest (``fixed_apply.apply_mapping_option``) on any profile with a
``[compute.array]``. Each preset (``TEMPLATES``) is a row of this table:

====  ============================  ==========================  ===========  ===================================
      array rows unroll             array cols unroll           PE keeps     loops inside the PE (temporal)
====  ============================  ==========================  ===========  ===================================
os    output pixels (OY, OX, B)     output channels (K, G)      outputs      reduction window C, FY, FX
ws    reduction window (C, FY, FX)  output channels (K, G)      weights      output pixels B, OY, OX
is    reduction window (C, FY, FX)  output pixels (OY, OX, B)   inputs       output channels K
rs    filter rows FY, then C        output rows OY, then K, G   all three    filter columns FX (a 1-D conv row;
                                                                             OX slides just above the PE)
====  ============================  ==========================  ===========  ===================================

Levels (outermost first): the DRAM; the global buffer (the level just inside the DRAM; keeps what it serves;
on a profile with ``[compute.systolic]`` each operand also within the active half of its own SRAM, SCALE-Sim's
three double-buffered SRAMs) with the array fanout below it; the PE's register level (below the buffer, serving
the most stationary operands, ties the innermost; it keeps the stationary operand(s) it serves, the others
stream from the buffer, multicast along the axis that does not index them). Every loop not unrolled and not in
the PE is a fold loop, in the preset's order (``folds``, outermost first: SCALE-Sim's, column folds outside row
folds). The buffer keeps the innermost fold loops whose tile fits (largest divisor of the first that does not
fit whole), the rest iterate at the DRAM; a fold whose PE loops (the window) do not fit streams them: their
outer part iterates at the DRAM inside every fold (SCALE-Sim refetching a filter fold of T x 32 > 32,750 words).

Folds (SCALE-Sim's ``ceil`` folds, the loop-nest model's uneven splits): an axis unrolls, per dim, factors of
at most the dim's bound whose product fits the axis with the fewest folds ``prod ceil(bound / factor)``; the
last fold of a dim is partial and moves only its real elements. 56 x 56 pixels on 32 rows: OY 4 x OX 8, 98
folds (SCALE-Sim: 3,136 / 32 = 98); 7 x 7 on 32 rows: OY 4 x OX 7, folds 28 + 21 (SCALE-Sim: 32 + 17, both 2);
1000 filters on 32 columns: 32 folds, the last of 8. SCALE-Sim flattens the pixels (or the window) into one
dim; a tile of the loop-nest model is a hyper-rectangle, so where a fold would cross an output row the template
runs more folds (28 x 28 on 32 rows: 28 folds, SCALE-Sim 25).

Compute cycles (``fixed_apply.apply_dataflow_preset``): every fold runs the PE's loops in full (a partial fold
is a full step of the array), plus the profile's ``[compute.array] fill_drain`` once per fold, SCALE-Sim's
count (``T + R + C - 2`` per OS fold; ``mapping/spatial.py`` charges the same): ``fold_steps`` folds x (PE
iterations + fill_drain). ``mapping/systolic.py`` reproduces SCALE-Sim's own counts layer by layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.frozen import FrozenMap
from simulator.mapping.fixed import OPERANDS, FixedMapping, LevelMapping, LoopProblem
from simulator.mapping.schedule import MappingError
from simulator.mapping.template_levels import TemplateLevels, array_geometry, template_levels

__all__ = [
    "ALIASES", "TEMPLATES", "DataflowSpec", "TemplateLevels", "array_geometry", "dataflow_template", "fold_steps",
    "preset_name", "template_levels",
]


@dataclass(frozen=True, slots=True)
class DataflowSpec:
    """One preset: the dims each array axis unrolls (priority order), the operands the PE keeps, the loops
    inside the PE and the fold loops (outermost first)."""

    name: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    stationary: tuple[str, ...]
    pe_loops: tuple[str, ...]
    folds: tuple[str, ...]
    #: True: each axis takes its dims whole in order while they fit (RS's FY x OY PE set first, then
    #: replicas); False: the fewest folds (``_unroll``).
    whole_first: bool = False


TEMPLATES: FrozenMap[str, DataflowSpec] = FrozenMap({
    "os": DataflowSpec("os", ("OY", "OX", "B"), ("K", "G"), ("outputs",), ("FY", "FX", "C"),
                       ("G", "K", "B", "OY", "OX")),
    "ws": DataflowSpec("ws", ("C", "FY", "FX"), ("K", "G"), ("weights",), ("B", "OY", "OX"),
                       ("G", "K", "FY", "FX", "C")),
    "is": DataflowSpec("is", ("C", "FY", "FX"), ("OY", "OX", "B"), ("inputs",), ("K",),
                       ("G", "B", "OY", "OX", "FY", "FX", "C")),
    "rs": DataflowSpec("rs", ("FY", "C"), ("OY", "K", "G"), ("weights", "inputs", "outputs"), ("FX",),
                       ("G", "B", "K", "OY", "C", "FY", "OX"), whole_first=True),
})

#: Long names accepted for the presets.
ALIASES: FrozenMap[str, str] = FrozenMap({
    "output-stationary": "os", "weight-stationary": "ws", "input-stationary": "is", "row-stationary": "rs",
})


def preset_name(name: object) -> str | None:
    """The preset ``name`` denotes (``"os"``, ``"output-stationary"``, ...), or None."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in TEMPLATES else None


def _divisors(n: int) -> np.ndarray:
    d = np.arange(1, n + 1)
    return d[n % d == 0]


def _unroll(bounds: dict[str, int], dims: tuple[str, ...], lanes: int, whole_first: bool = False) -> dict[str, int]:
    """Factors of ``dims`` (each at most its bound) whose product fits ``lanes`` with the fewest folds
    ``prod ceil(bound / factor)`` (a partial last fold, as SCALE-Sim folds); ties: the most lanes, then the first
    in ``dims`` order gets the smaller factor (all combinations at once). ``whole_first`` (RS): in ``dims``
    order, each dim's largest divisor that fits the lanes left (a dim that fits is taken whole)."""
    if whole_first:
        out: dict[str, int] = {}
        for d in dims:
            divs = _divisors(bounds[d])
            f = int(divs[divs <= lanes][-1])
            lanes //= f
            if f > 1:
                out[d] = f
        return out
    grids = np.meshgrid(*(np.arange(1, min(bounds[d], lanes) + 1) for d in dims), indexing="ij")
    factors = np.stack([g.ravel() for g in grids])
    bound = np.array([bounds[d] for d in dims])[:, None]
    folds = np.prod(-(-bound // factors), axis=0)
    used = np.prod(factors, axis=0)
    score = np.where(used <= lanes, folds * (lanes + 1) - used, np.iinfo(np.int64).max)  # fewest folds, most lanes
    best = int(np.argmin(score))
    return {d: int(factors[i, best]) for i, d in enumerate(dims) if int(factors[i, best]) > 1}


def _fits(problem: LoopProblem, levels: TemplateLevels, keeps: frozenset[str], ext: dict[str, int | np.ndarray]) -> np.ndarray:
    """Whether the buffer holds a tile of ``ext`` iterations of the ``keeps`` operands (arrays: one per tile):
    in total and, where the buffer is per-operand SRAMs, each operand in its own."""
    clipped = {d: np.minimum(e, problem.bound[d]) for d, e in ext.items()}  # a partial fold's tile is smaller
    words = {op: problem.footprint(op, clipped) for op in OPERANDS if op in keeps}
    ok = np.asarray(sum(words.values()) <= levels.buffer_words)
    for op, w in words.items():
        ok = ok & (np.asarray(w) <= levels.operand_words.get(op, np.inf))
    return ok


def _largest_fitting(problem, levels, keeps, ext, d: str, n: int) -> int:
    """The largest divisor ``f`` of ``n`` with the tile ``ext`` (``d`` scaled by ``f``) in the buffer."""
    divs = _divisors(n)
    ok = _fits(problem, levels, keeps, {**ext, d: ext[d] * divs})
    return int(divs[np.nonzero(ok)[0][-1]]) if ok.any() else 1


def dataflow_template(name: str, problem: LoopProblem, rows: int, cols: int, levels: TemplateLevels,
                      layer: str | None = None) -> FixedMapping:
    """The ``FixedMapping`` of preset ``name`` for ``problem`` on a ``rows x cols`` array (see the module doc).

    Raises:
        MappingError: unknown preset, or the buffer cannot hold even one fold's tile (naming the layer, the
            level, the tile and the words).
    """
    key = preset_name(name)
    if key is None:
        raise MappingError(f"unknown dataflow preset {name!r}; presets: {sorted(TEMPLATES)} (or {sorted(ALIASES)})")
    spec = TEMPLATES[key]
    bounds = problem.bound
    spatial = {**_unroll(bounds, spec.rows, rows, spec.whole_first), **_unroll(bounds, spec.cols, cols, spec.whole_first)}
    rest = {d: -(-bounds[d] // spatial.get(d, 1)) for d in bounds}  # folds: ceil, the last one partial
    pe_keeps = frozenset(spec.stationary) & levels.pe_serves
    buf_keeps = levels.buffer_serves & frozenset(OPERANDS)
    # The buffer's tile: the fanout, the PE's loops (the window) and the fold loops it keeps, innermost first.
    ext: dict[str, int] = {d: spatial.get(d, 1) * (rest[d] if d in spec.pe_loops else 1) for d in bounds}
    window = {d: rest[d] for d in spec.pe_loops}
    if not _fits(problem, levels, buf_keeps, ext):  # a fold's window does not fit: stream it through the buffer
        ext.update(dict.fromkeys(spec.pe_loops, 1))
        if not _fits(problem, levels, buf_keeps, ext):
            words = {op: problem.footprint(op, ext) for op in OPERANDS if op in buf_keeps}
            raise MappingError(
                f"dataflow preset {key!r} on layer {layer or problem.name!r}: one fold's tile at level {levels.buffer!r} "
                f"needs {words} words > capacity {int(levels.buffer_words)} words per instance "
                f"(per operand {dict(levels.operand_words)}; extents {ext})")
        for d in reversed(spec.pe_loops):  # the innermost window loops that fit; the rest iterate at the DRAM
            window[d] = ext[d] = _largest_fitting(problem, levels, buf_keeps, ext, d, rest[d])
            if window[d] < rest[d]:
                break
    at_buffer: dict[str, int] = {}
    streamed = tuple((d, rest[d] // window[d]) for d in spec.pe_loops if rest[d] // window[d] > 1)
    for d in () if streamed else reversed(spec.folds):
        if rest[d] == 1:
            continue
        f = _largest_fitting(problem, levels, buf_keeps, ext, d, rest[d])
        if f > 1:
            at_buffer[d] = f
            ext[d] *= f
        if f < rest[d]:
            break
    dram_loops = tuple((d, rest[d] // at_buffer.get(d, 1)) for d in spec.folds if rest[d] // at_buffer.get(d, 1) > 1)
    dram_loops += streamed  # inside every fold: the PE keeps its stationary operand across them
    buf_loops = tuple((d, at_buffer[d]) for d in spec.folds if d in at_buffer)
    pe_loops = tuple((d, window[d]) for d in spec.pe_loops if window[d] > 1)
    fanout = tuple((d, spatial[d]) for d in (*spec.rows, *spec.cols) if d in spatial)
    out = [LevelMapping(levels.dram, dram_loops)]
    if levels.pe is not None and pe_keeps:
        out.append(LevelMapping(levels.buffer, buf_loops, fanout, buf_keeps))
        out.append(LevelMapping(levels.pe, pe_loops, (), pe_keeps))
    else:  # no register level for the stationary operand: the MACs read the buffer
        out.append(LevelMapping(levels.buffer, buf_loops + pe_loops, fanout, buf_keeps))
    mapping = FixedMapping(tuple(out), layer=layer)
    mapping.check(problem)
    return mapping


def fold_steps(name: str, mapping: FixedMapping) -> int:
    """Folds of a preset's mapping: the iterations of its fold loops (``DataflowSpec.folds``, at any level)."""
    folds = frozenset(TEMPLATES[preset_name(name)].folds)
    return math.prod(f for lvl in mapping.levels for d, f in lvl.temporal if d in folds)
