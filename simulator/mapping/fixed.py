"""Fixed mappings: a loop nest per storage level, given by the user instead of the mapper's search.

A ``LoopProblem`` is one perfectly nested MAC loop nest (Timeloop's "problem shape"): named loop dims with
their bounds, and for each operand (``weights``, ``inputs``, ``outputs``) the data dims it is indexed by, each an
affine sum of loop dims (``inputs`` of a conv1d: ``W = P + R``, so an input tile of ``P`` x ``R`` iterations
covers ``P + R - 1`` pixels, the sliding window).

A ``FixedMapping`` lists the storage levels outermost first. Each ``LevelMapping`` holds the level's temporal
loops (outermost first, factor per dim), its spatial loops (the fanout directly below the level: each child
instance gets one slice) and the operands the level keeps (the others bypass it). The product of every dim's
factors over all levels must cover its bound, exactly or unevenly (``FixedMapping.check``). The access counts of a
mapping are computed by ``simulator.mapping.loopnest``; the TOML form (``load_fixed_mapping``) is documented there.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.fileio import read_bounded_text
from simulator.mapping.convgeom import window_span
from simulator.mapping.schedule import MappingError

__all__ = ["OPERANDS", "FixedMapping", "LevelMapping", "LoopProblem", "MappingError", "data_widths", "load_fixed_mapping"]

#: The operands of a MAC loop nest, in the order every table lists them.
OPERANDS: tuple[str, ...] = ("weights", "inputs", "outputs")

#: A data dim: an affine sum of loop dims, ``((coefficient, loop_dim), ...)``.
Projection = tuple[tuple[int, str], ...]


def _factor_map(pairs: tuple[tuple[str, int], ...], where: str) -> None:
    for dim, factor in pairs:
        if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
            raise MappingError(f"{where}: factor of {dim!r} must be a positive integer, got {factor!r}")


@dataclass(frozen=True, slots=True)
class LoopProblem:
    """One MAC loop nest: ``bounds`` (loop dim -> iterations) and per operand its data dims.

    ``projections[operand]`` is a tuple of data dims, each a tuple of ``(coefficient, loop_dim)`` terms.
    """

    name: str
    bounds: tuple[tuple[str, int], ...]
    projections: tuple[tuple[str, tuple[Projection, ...]], ...]

    def __post_init__(self) -> None:
        _factor_map(self.bounds, f"problem {self.name!r} bounds")
        dims = {d for d, _ in self.bounds}
        ops = [op for op, _ in self.projections]
        if sorted(ops) != sorted(OPERANDS):
            raise MappingError(f"problem {self.name!r}: operands {ops}, expected exactly {list(OPERANDS)}")
        for op, data_dims in self.projections:
            for term in (t for dd in data_dims for t in dd):
                if term[1] not in dims:
                    raise MappingError(f"problem {self.name!r}: {op} is indexed by {term[1]!r}, not a loop dim {sorted(dims)}")

    @property
    def bound(self) -> dict[str, int]:
        return dict(self.bounds)

    def projection(self, operand: str) -> tuple[Projection, ...]:
        return dict(self.projections)[operand]

    def relevant(self, operand: str) -> frozenset[str]:
        """Loop dims that index ``operand`` (a loop over any other dim reuses the operand's tile)."""
        return frozenset(dim for dd in self.projection(operand) for _, dim in dd)

    @property
    def macs(self) -> int:
        return math.prod(b for _, b in self.bounds)

    def footprint(self, operand: str, extents: dict[str, Any]) -> Any:
        """Words of ``operand`` touched by a tile of ``extents`` iterations per loop dim (ints, or numpy arrays
        of tiles): the product of its data dims' widths (``data_widths``)."""
        words = math.prod(used for _, used in data_widths(self.projection(operand), extents))
        return int(words) if np.ndim(words) == 0 else words


def data_widths(projection: tuple[Projection, ...], extents: dict[str, Any]) -> list[tuple[Any, Any]]:
    """``(span, used)`` per data dim of a tile of ``extents`` iterations: ``span`` the index range of its affine
    sum (``P + R - 1`` for a sliding window), ``used`` the indices really touched. A two-term dim
    (``stride * O + dilation * F``) is ``convgeom.window_span``'s count (one home with the mapper's conv tiles: a
    1x1 stride-2 conv uses every other input row, ``n`` of its ``2n - 1``); other dims are contiguous."""
    out = []
    for dd in projection:
        ext = [extents.get(d, 1) for _, d in dd]
        span = sum(c * (e - 1) for (c, _), e in zip(dd, ext)) + 1
        if len(dd) == 2:
            used = window_span(ext[0], ext[1], dd[0][0], dd[1][0])
            used = int(used) if np.ndim(used) == 0 else used.astype(np.int64)
        else:
            used = span
        out.append((span, used))
    return out


@dataclass(frozen=True, slots=True)
class LevelMapping:
    """One storage level of a fixed mapping.

    ``temporal``: ``(dim, factor)`` loops outermost first; ``spatial``: the fanout below this level;
    ``keeps``: the operands stored here (the others bypass the level).
    """

    level: str
    temporal: tuple[tuple[str, int], ...] = ()
    spatial: tuple[tuple[str, int], ...] = ()
    keeps: frozenset[str] = frozenset(OPERANDS)

    def __post_init__(self) -> None:
        _factor_map(self.temporal, f"level {self.level!r} temporal")
        _factor_map(self.spatial, f"level {self.level!r} spatial")
        unknown = set(self.keeps) - set(OPERANDS)
        if unknown:
            raise MappingError(f"level {self.level!r}: keeps {sorted(unknown)}, expected a subset of {list(OPERANDS)}")

    @property
    def fanout(self) -> int:
        return math.prod(f for _, f in self.spatial)


@dataclass(frozen=True, slots=True)
class FixedMapping:
    """A complete mapping of one ``LoopProblem``: storage levels outermost first.

    ``layer`` names the pjsim op it applies to when given to ``simulate(mapping=...)`` (None: tests/peers).
    """

    levels: tuple[LevelMapping, ...]
    layer: str | None = None

    def __post_init__(self) -> None:
        if not self.levels:
            raise MappingError("a fixed mapping needs at least one storage level")
        if set(self.levels[0].keeps) != set(OPERANDS):
            raise MappingError(f"the outermost level {self.levels[0].level!r} must keep every operand, keeps {sorted(self.levels[0].keeps)}")

    def check(self, problem: LoopProblem) -> None:
        """Raise ``MappingError`` unless every dim's factors cover its bound exactly or unevenly (naming the dim).

        A dim's factors ``f_1 .. f_n`` (outermost first, a level's temporal loops before its fanout) either
        multiply to the bound (perfect factorisation) or split it unevenly: the inner factors cover less than
        the bound and the outermost is ``ceil(bound / inner)``, so only each loop's last iteration is partial
        (``loopblocks``). 7 pixels as ``OY 2`` then ``OY 4`` is 4 + 3; ``OY 4`` then ``OY 2`` would leave a
        wholly idle outer iteration and is refused."""
        bounds = problem.bound
        got: dict[str, list[int]] = {}
        for lvl in self.levels:
            for dim, f in (*lvl.temporal, *lvl.spatial):
                if dim not in bounds:
                    raise MappingError(f"level {lvl.level!r}: loop over {dim!r}, problem dims are {sorted(bounds)}")
                if f > 1:
                    got.setdefault(dim, []).append(f)
        for dim, bound in bounds.items():
            factors = got.get(dim, [])
            total, inner = math.prod(factors), math.prod(factors[1:])
            if total < bound:
                raise MappingError(f"mapping of {problem.name!r}: factors of {dim!r} multiply to {total}, bound is {bound}")
            if total > bound and factors[0] != -(-bound // inner):  # an outer iteration would be wholly idle
                raise MappingError(
                    f"mapping of {problem.name!r}: factors of {dim!r} {factors} (outermost first) cover {total} > bound "
                    f"{bound}: an uneven split needs the outermost factor ceil({bound} / {inner}) = {-(-bound // inner)}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(lvl.level for lvl in self.levels)


def _pairs(raw: Any, where: str) -> tuple[tuple[str, int], ...]:
    """``[["K", 16], ["P", 4]]`` or ``{K = 16, P = 4}`` (TOML keeps table order) -> pairs."""
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list) and all(isinstance(p, list) and len(p) == 2 for p in raw):
        items = [tuple(p) for p in raw]
    else:
        raise MappingError(f"{where}: expected a table {{K = 16}} or a list [[\"K\", 16]], got {raw!r}")
    pairs = tuple((str(d), f) for d, f in items)
    _factor_map(pairs, where)
    return pairs


def load_fixed_mapping(path: str | Path) -> tuple[FixedMapping, ...]:
    """Read a fixed-mapping TOML file: one ``[[mapping]]`` per layer, levels outermost first.

    ::

        [[mapping]]
        layer = "conv1"                      # the op name pjsim traced (``pjsim inspect`` lists them)
        [[mapping.level]]
        name = "dram"                        # a memory level of the profile
        temporal = [["K", 4], ["OY", 7]]     # outermost first
        [[mapping.level]]
        name = "sram"
        temporal = [["C", 3]]
        spatial = [["K", 16]]                # fanout below this level
        keeps = ["weights", "inputs"]        # default: all three

    A dim's factors (over all levels, outermost first) multiply to its bound, or split it unevenly: a factor
    need not divide, the outermost is then ``ceil(bound / inner factors)`` and each loop's last iteration is
    partial (7 output rows as ``OY 2`` at the DRAM and ``OY 4`` below: tiles of 4 and 3). Files with exact
    splits read as before.

    Raises:
        MappingError: naming the file and the key that is wrong.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(read_bounded_text(path, 1 << 20, "fixed mapping"))
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from None
    entries = raw.get("mapping")
    if not isinstance(entries, list) or not entries:
        raise MappingError(f"{path}: expected at least one [[mapping]] table")
    out = []
    for i, entry in enumerate(entries):
        where = f"{path}: mapping[{i}]"
        layer = entry.get("layer")
        if not isinstance(layer, str) or not layer:
            raise MappingError(f"{where}.layer: expected the traced op name, got {layer!r}")
        levels_raw = entry.get("level")
        if not isinstance(levels_raw, list) or not levels_raw:
            raise MappingError(f"{where}: expected [[mapping.level]] tables, outermost first")
        levels = []
        for j, lv in enumerate(levels_raw):
            lw = f"{where}.level[{j}]"
            unknown = set(lv) - {"name", "temporal", "spatial", "keeps"}
            if unknown:
                raise MappingError(f"{lw}: unknown keys {sorted(unknown)} (expected name, temporal, spatial, keeps)")
            if not isinstance(lv.get("name"), str):
                raise MappingError(f"{lw}.name: expected a memory level name, got {lv.get('name')!r}")
            keeps = lv.get("keeps", list(OPERANDS))
            if not isinstance(keeps, list) or not set(keeps) <= set(OPERANDS):
                raise MappingError(f"{lw}.keeps: expected a subset of {list(OPERANDS)}, got {keeps!r}")
            levels.append(
                LevelMapping(
                    level=lv["name"],
                    temporal=_pairs(lv.get("temporal", []), f"{lw}.temporal"),
                    spatial=_pairs(lv.get("spatial", []), f"{lw}.spatial"),
                    keeps=frozenset(keeps),
                )
            )
        out.append(FixedMapping(levels=tuple(levels), layer=layer))
    return tuple(out)
