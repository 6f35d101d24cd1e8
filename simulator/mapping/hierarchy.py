"""Per-operand memory hierarchies: which levels an operand passes through, and the price of a mapped loop nest.

Profile format v2 lets a memory level serve a subset of the operands (``operands = ["weights"]``); the others
bypass it. ``operand_levels`` is the one place that answers "through which levels does operand X move"
(innermost first); the general mapper and the fixed-mapping path both ask it. The general mapper (``mapper.py``)
asks two questions per access: ``serves`` (a boundary whose inner level does not keep the operand moves nothing
of it: no tile there) and ``serving_level`` (an access booked at a bypassed level happens at the next level out
that keeps the operand: weights that bypass the SRAM are read from DRAM straight into the register file).

``tiers`` groups the on-chip levels into tiers of siblings: consecutive levels that keep disjoint operands
(ZigZag's per-PE weight register and output register; its weight SRAM and its input/output SRAM) sit side by
side in the loop nest, so the general mapper tiles a tier with *one* tile and loop order for all its operands,
each operand's footprint within its own level (a weight-stationary weight register next to an output-stationary
accumulator is not a mapping). A v1 hierarchy (every level keeps all three) has one level per tier.

``LevelCost`` is what pricing a fixed mapping needs from a level: the access granularity (``block_words``
operand words per access, Timeloop's ``width / datawidth``), the energy of one read, write (fill) and update
access, and the capacity per instance. ``nest_energy`` prices ``loopnest.NestCounts``: per level and operand,
``ceil(count / block)`` accesses of each action times its energy, times the level's instances, plus one MAC
energy per MAC and each level's leakage per cycle over the compute cycles; ``check_capacity`` refuses a mapping whose tiles overflow a level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile, MemoryLevel
from simulator.mapping.fixed import OPERANDS, MappingError
from simulator.mapping.loopnest import NestCounts

__all__ = [
    "LevelCost", "NestEnergy", "Tier", "check_capacity", "level_costs", "nest_energy", "operand_levels", "serves",
    "serving_level", "tiers",
]


def serves(level: MemoryLevel, operand: str) -> bool:
    """Whether ``level`` stores ``operand`` (v1 levels serve all three)."""
    return operand in level.operands


def serving_level(profile: HardwareProfile, operand: str, level_idx: int) -> int:
    """The innermost level at or outside ``level_idx`` that serves ``operand`` (the outermost always does):
    where an access the general mapper books at a bypassed level really happens."""
    levels = profile.levels
    while level_idx < len(levels) - 1 and operand not in levels[level_idx].operands:
        level_idx += 1
    return level_idx


def operand_levels(profile: HardwareProfile, operand: str) -> tuple[MemoryLevel, ...]:
    """The levels ``operand`` passes through, innermost first (levels whose ``operands`` omit it are bypassed).

    The outermost level (DRAM) serves every operand: a v2 profile may not bypass it.
    """
    if operand not in OPERANDS:
        raise ValueError(f"operand must be one of {OPERANDS}, got {operand!r}")
    return tuple(lvl for lvl in profile.levels if operand in lvl.operands or lvl is profile.levels[-1])


@dataclass(frozen=True, slots=True)
class Tier:
    """Sibling on-chip levels (indices, innermost first) tiled together; ``child[operand]`` is the level of the
    tier keeping ``operand`` (absent: the operand bypasses the tier), ``parent[operand]`` the next level out
    keeping it (where its tiles come from)."""

    levels: tuple[int, ...]
    child: FrozenMap[str, int]
    parent: FrozenMap[str, int]


def tiers(profile: HardwareProfile) -> tuple[Tier, ...]:
    """The on-chip levels grouped into tiers of siblings (module docstring), innermost tier first."""
    groups: list[list[int]] = []
    seen: set[str] = set()
    for idx, lvl in enumerate(profile.levels[:-1]):
        if not groups or seen & set(lvl.operands):
            groups.append([])
            seen = set()
        groups[-1].append(idx)
        seen |= set(lvl.operands)
    out = []
    for group in groups:
        child = {op: i for i in group for op in profile.levels[i].operands}
        parent = {op: serving_level(profile, op, i + 1) for op, i in child.items()}
        out.append(Tier(tuple(group), FrozenMap(child), FrozenMap(parent)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class LevelCost:
    """One level's access granularity (operand words per access), per-access energies (pJ) and capacity per instance."""

    block_words: int
    read_pj: float
    write_pj: float
    update_pj: float
    capacity_words: float = math.inf
    #: Static energy per cycle per instance (pJ), charged over the nest's compute cycles.
    leak_pj_per_cycle: float = 0.0


def level_costs(profile: HardwareProfile, word_bits: int) -> dict[str, LevelCost]:
    """``LevelCost`` of every profile level for operands of ``word_bits`` (an access moves ``word`` bits)."""
    out = {}
    for lvl in profile.levels:
        if lvl.word_bits % word_bits:
            raise MappingError(f"level {lvl.name!r}: access word of {lvl.word_bits} bits is not a multiple of {word_bits}-bit operands")
        update = lvl.update_energy_pj if lvl.update_energy_pj is not None else lvl.write_energy_pj
        out[lvl.name] = LevelCost(
            block_words=lvl.word_bits // word_bits,
            read_pj=lvl.read_energy_pj,
            write_pj=lvl.write_energy_pj,
            update_pj=update,
            capacity_words=lvl.capacity_bits / lvl.instances / word_bits,
            leak_pj_per_cycle=lvl.leakage_mw * 1e9 / profile.clock_hz / lvl.instances,
        )
    return out


@dataclass(frozen=True, slots=True)
class NestEnergy:
    """Energy of a mapped loop nest: ``breakdown_pj`` per ``"level.operand"`` plus ``"compute"``."""

    breakdown_pj: FrozenMap[str, float]
    macs: int

    @property
    def total_pj(self) -> float:
        return sum(self.breakdown_pj.values())

    @property
    def per_mac_pj(self) -> float:
        return self.total_pj / self.macs

    def level_pj(self, level: str) -> float:
        return sum(v for k, v in self.breakdown_pj.items() if k.split(".")[0] == level)


def nest_energy(counts: NestCounts, costs: Mapping[str, LevelCost], mac_pj: float) -> NestEnergy:
    """Price ``counts``: each action in whole accesses of ``block_words`` (see the module doc)."""
    breakdown: dict[str, float] = {"compute": counts.macs * mac_pj}
    for c in counts.counts:
        if c.level not in costs:
            raise MappingError(f"no access energies for level {c.level!r}; levels priced: {sorted(costs)}")
        lc = costs[c.level]
        b = lc.block_words
        per_instance = (
            math.ceil(c.reads / b) * lc.read_pj + math.ceil(c.fills / b) * lc.write_pj + math.ceil(c.updates / b) * lc.update_pj
        )
        breakdown[f"{c.level}.{c.operand}"] = per_instance * c.instances
    for name, inst in counts.level_instances:
        lc = costs.get(name)
        if lc is not None and lc.leak_pj_per_cycle:
            breakdown[f"{name}.leak"] = lc.leak_pj_per_cycle * inst * counts.compute_cycles
    return NestEnergy(FrozenMap(breakdown), counts.macs)


def check_capacity(counts: NestCounts, costs: Mapping[str, LevelCost], word_bits: int) -> None:
    """Raise ``MappingError`` naming the level, its tiles and bits when the kept tiles exceed its capacity."""
    per_level: dict[str, list[tuple[str, int]]] = {}
    for c in counts.counts:
        per_level.setdefault(c.level, []).append((c.operand, c.tile_words))
    for level, tiles in per_level.items():
        cap = costs[level].capacity_words
        words = sum(w for _, w in tiles)
        if words > cap:
            tile = ", ".join(f"{op} {w} words" for op, w in tiles)
            raise MappingError(
                f"fixed mapping of {counts.problem!r} does not fit level {level!r}: tile {tile} = "
                f"{words * word_bits} bits > capacity {int(cap * word_bits)} bits per instance"
            )
