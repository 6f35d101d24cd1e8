"""ZigZag 3.9.1's data-transfer links of a mapping: per operand, memory and direction, a period, a count of periods
and the bits one instance moves per period; read by ``zigzag_latency`` (per-port timing) and ``zigzag_replay``
(ZigZag's output traffic). Each step cites the ZigZag 3.9.1 function it follows (``zigzag/mapping/*.py``,
``zigzag/cost_model/cost_model.py``):

1. Loops per memory of each operand, with the irrelevant loops at the bottom of a memory merged into the one below
   (``TemporalMapping.innermost_stationary_loop_merge_down``; those at the bottom of the innermost memory are the
   array's stationary cycles, the read latch of ``zigzag_replay``); cycles per memory (``calc_cycle_cabl_level``);
   top relevant / irrelevant loop products (``calc_top_r_and_ir_loop``); partial-sum flags (``get_psum_flags``,
   temporal reduction loops only: a spatial reduction is summed in the same cycle).
2. Per link (directions ``tl``/``fl`` to/from the level below, ``th``/``fh`` to/from the level above,
   ``PORT_DIRECTIONS``): period, period count, bits per period (``Mapping.calc_req_mem_bw_and_data_transfer_rate``;
   per instance of the memory, as ports are per instance). Where the profile declares the link's port:
   ``real = ceil(bits / port bandwidth)`` (``calculate_real_data_transfer_cycles``) and ``allowed`` = the period where
   the memory is double-buffered, else the period over the top irrelevant loops (``calculate_allowed_transfer_cycles``,
   ``calc_double_buffer_flag``).

ZigZag's memory energy counts the same links: ``ceil(bits / min bandwidth) x period count x instances`` accesses
(``CostModelEvaluation._calc_memory_access``); ``Transfers.bits`` gives the bits (pjsim rounds to its own
``min_access`` where it applies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.fixed import FixedMapping, LoopProblem

__all__ = ["Link", "Transfers", "transfer_links"]

#: ZigZag's operand order for the double-buffer pass (``layer_operands``: output first).
_ORDER = ("outputs", "inputs", "weights")
_INPUTS = ("inputs", "weights")
#: Directions that read the memory (the others write it).
READS = ("tl", "th")


@dataclass(frozen=True, slots=True)
class Link:
    """One data-transfer link of one instance of ``level`` (ZigZag's ``DataMovePattern`` in one direction; with its
    port, ``PortActivity``): ``depth`` is the memory's place among the operand's (0 innermost); ``real_cycles`` and
    ``allowed_cycles`` are 0 on a link without a declared port."""

    level: str
    port: str | None
    operand: str
    direction: str
    depth: int
    instances: int
    period_cycles: int
    period_count: int
    bits_per_period: int
    real_cycles: int
    allowed_cycles: int

    @property
    def stall_or_slack_cycles(self) -> int:
        return (self.real_cycles - self.allowed_cycles) * (self.period_count - 1)

    @property
    def window_cycles(self) -> int:
        return self.allowed_cycles * (self.period_count - 1)


@dataclass(frozen=True, slots=True)
class Transfers:
    """The links of one mapping; ``innermost_tile_bits``: each operand's tile in its innermost memory, per instance."""

    temporal_cycles: int
    links: tuple[Link, ...]
    innermost_tile_bits: FrozenMap

    def bits(self, operand: str) -> dict[tuple[str, str, str], float]:
        """Bits ``operand`` moves per (level, operand, "read" / "write") over every instance and period."""
        out: dict[tuple[str, str, str], float] = {}
        for x in self.links:
            if x.operand == operand:
                key = (x.level, operand, "read" if x.direction in READS else "write")
                out[key] = out.get(key, 0.0) + float(x.bits_per_period) * x.period_count * x.instances
        return out


@dataclass(frozen=True, slots=True)
class _Chain:
    """One operand's memories innermost first: fm indices, merged loops (innermost first), original loops."""

    keepers: tuple[int, ...]
    loops: tuple[tuple[tuple[str, int], ...], ...]
    original: tuple[tuple[tuple[str, int], ...], ...]


def _chain(problem: LoopProblem, fm: FixedMapping, operand: str) -> _Chain:
    keepers = tuple(i for i in reversed(range(len(fm.levels))) if operand in fm.levels[i].keeps)
    owned: list[list[tuple[str, int]]] = [[] for _ in keepers]
    for i in reversed(range(len(fm.levels))):  # a bypassing level's loops belong to the keeper above it
        j = next(j for j, k in enumerate(keepers) if k <= i)
        owned[j] += [loop for loop in reversed(fm.levels[i].temporal) if loop[1] > 1]
    original = tuple(tuple(x) for x in owned)
    relevant = problem.relevant(operand)
    changed = True
    while changed:  # innermost_stationary_loop_merge_down
        changed = False
        for j in range(1, len(owned)):
            while owned[j] and owned[j][0][0] not in relevant:
                owned[j - 1].append(owned[j].pop(0))
                changed = True
    return _Chain(keepers, tuple(tuple(x) for x in owned), original)


def _top(loops: tuple[tuple[str, int], ...], dims: frozenset[str], inside: bool) -> int:
    """Product of the outermost consecutive loops whose dim is (``inside``) / is not in ``dims``."""
    out = 1
    for d, f in reversed(loops):
        if (d in dims) != inside:
            break
        out *= f
    return out


def _extents(loops, fm: FixedMapping, from_index: int) -> dict[str, int]:
    """Dim extents of ``loops`` and every spatial fanout at fm levels ``from_index`` and below."""
    out: dict[str, int] = {}
    for d, f in [*loops, *(x for lv in fm.levels[from_index:] for x in lv.spatial)]:
        out[d] = out.get(d, 1) * f
    return out


def transfer_links(problem: LoopProblem, fm: FixedMapping, profile: HardwareProfile, bits: int, psum_bits: int,
                   read_latch: bool = True) -> Transfers:
    """Every data-transfer link of ``fm`` as ZigZag 3.9.1 derives it (module doc)."""
    total = math.prod(f for lv in fm.levels for _, f in lv.temporal)
    chains = {op: _chain(problem, fm, op) for op in _ORDER}
    c_out = chains["outputs"]
    reduction = frozenset(problem.bound) - problem.relevant("outputs")
    n_out = len(c_out.keepers)
    psum = [any(d in reduction for j in range(k, n_out) for d, _ in c_out.original[j]) for k in range(n_out)] + [False]

    def prec(op: str, arch: int) -> int:  # width of op's data at arch level (0: the array, j + 1: memory j)
        return psum_bits if op == "outputs" and psum[arch] else bits

    tile, down, cyc, top_ir, db = {}, {}, {}, {}, {}
    shared: dict[str, float] = {}
    indiv: dict[tuple[str, int], float] = {}
    for op, ch in chains.items():
        rel = problem.relevant(op)
        n = len(ch.keepers)
        tile[op] = [problem.footprint(op, _extents(sum(ch.loops[: j + 1], ()), fm, ch.keepers[j])) for j in range(n)]
        down[op] = [problem.footprint(op, _extents(sum(ch.loops[:j], ()), fm, ch.keepers[j])) for j in range(n)]
        stationary = _top(ch.loops[0][::-1], rel, inside=False) if op in _INPUTS and read_latch and n else 1
        cyc[op] = [stationary] + [math.prod(f for j in range(k + 1) for _, f in ch.loops[j]) for k in range(n)]
        top_ir[op] = [1] + [_top(ch.loops[j], rel, inside=False) for j in range(n)]
        for j, k in enumerate(ch.keepers):
            lv = profile.level(fm.levels[k].level)
            eff = tile[op][j] * prec(op, j + 1) // _top(ch.loops[j], rel, inside=True)
            indiv[(op, j)] = eff / (lv.capacity_bits / lv.instances)
            shared[lv.name] = shared.get(lv.name, 0.0) + indiv[(op, j)]
    for op, ch in chains.items():  # calc_double_buffer_flag, operands in ZigZag's order
        db[op] = [False]
        for j, k in enumerate(ch.keepers):
            name = fm.levels[k].level
            if shared[name] <= 0.5:
                db[op].append(True)
            elif indiv[(op, j)] <= 1 - shared[name]:
                db[op].append(True)
                shared[name] += indiv[(op, j)]
            else:
                db[op].append(False)

    links: list[Link] = []
    for op, ch in chains.items():
        n = len(ch.keepers)
        for j, k in enumerate(ch.keepers):
            lv = profile.level(fm.levels[k].level)
            wanted = [("tl", down[op][j], prec(op, j), cyc[op][j], j)] if op in _INPUTS else (
                [("fl", down[op][j], prec(op, j), cyc[op][j], j)]
                + ([("tl", down[op][j], prec(op, j), cyc[op][j], j)] if psum[j] else []))
            if j < n - 1 and (op in _INPUTS or psum[j + 1]):
                wanted.append(("fh", tile[op][j], prec(op, j + 1), cyc[op][j + 1], j + 1))
            if j < n - 1 and op == "outputs":
                wanted.append(("th", tile[op][j], prec(op, j + 1), cyc[op][j + 1], j + 1))
            for direction, elems, width, period, arch in wanted:
                port = lv.port_for(op, direction)
                count = total // period
                if count == 0:
                    continue
                allowed = period if db[op][arch] else int(period / top_ir[op][arch])
                real = math.ceil(elems * width / port.bandwidth_bits_per_cycle) if port else 0
                links.append(Link(lv.name, port.name if port else None, op, direction, j, lv.instances, period, count,
                                  elems * width, real, allowed if port else 0))
    return Transfers(total, tuple(links), FrozenMap({op: tile[op][0] * prec(op, 1) for op in chains}))
