"""Read Timeloop v0.4 specs (problem, architecture, mapping, Accelergy ERT) into pjsim's fixed-mapping records.

Used to reproduce Timeloop's own reference outputs (``tests/validation/test_timeloop_tutorial.py``) and to
bring a Timeloop mapping into pjsim. Needs PyYAML (the ``peers``/``test`` extras): Timeloop's files use the
``!Container``/``!Component`` tags, read here as plain tables.

Conventions read from the Timeloop documentation and checked against its outputs:

- a ``permutation`` lists loop dims innermost first (``RP`` = ``for P: for R:``); dims a directive leaves out
  have factor 1;
- data-space names map to pjsim operands: ``Weights`` -> weights, ``Inputs`` -> inputs, ``Outputs`` -> outputs;
  a projection term is ``[dim]`` or ``[coefficient, dim]`` (a number or a name in ``instance``);
- a ``type: spatial`` directive on a container is a fanout; it is attached below the storage level named by
  ``fanout_below`` (default: the storage level listed just above the container in the architecture).
- a component's block (words per access) is ``width / datawidth``; a level without ``depth`` is unbounded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.mapping.fixed import FixedMapping, LevelMapping, LoopProblem, MappingError
from simulator.mapping.hierarchy import LevelCost

__all__ = ["TimeloopArch", "TimeloopLevel", "read_arch", "read_ert", "read_map_txt", "read_mapping", "read_problem", "read_stats"]

_OPERAND = {"Weights": "weights", "Inputs": "inputs", "Outputs": "outputs"}
_STATS_FIELDS = {
    "Scalar reads (per-instance)": "reads",
    "Scalar fills (per-instance)": "fills",
    "Scalar updates (per-instance)": "updates",
    "Utilized capacity": "tile_words",
    "Utilized instances (max)": "instances",
}


def _load(path: str | Path) -> Any:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - the extra is installed with the tests
        raise ImportError("reading Timeloop specs needs PyYAML: pip install 'pjsim[peers]'") from exc

    class _Loader(yaml.SafeLoader):
        pass

    def _tagged(loader: Any, _suffix: str, node: Any) -> Any:
        return loader.construct_mapping(node, deep=True)

    _Loader.add_multi_constructor("!", _tagged)
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


@dataclass(frozen=True, slots=True)
class TimeloopLevel:
    """One storage component: ``depth`` words (None: unbounded), ``block`` words per access, word bits."""

    name: str
    cls: str
    depth: int | None
    block: int
    datawidth: int


@dataclass(frozen=True, slots=True)
class TimeloopArch:
    """Storage levels outermost first, the containers with a fanout (name -> instances) in file order."""

    levels: tuple[TimeloopLevel, ...]
    fanouts: tuple[tuple[str, int, str | None], ...]  # (container, instances, storage level listed above it)
    mac_bits: int


def read_problem(path: str | Path) -> LoopProblem:
    """A Timeloop ``problem`` file -> ``LoopProblem``."""
    prob = _load(path)["problem"]
    shape, instance = prob["shape"], prob["instance"]
    bounds = tuple((d, int(instance.get(d, 1))) for d in shape["dimensions"])
    projections = []
    for ds in shape["data_spaces"]:
        if ds["name"] not in _OPERAND:
            raise MappingError(f"{path}: data space {ds['name']!r}, expected one of {sorted(_OPERAND)}")
        dims = []
        for data_dim in ds["projection"]:
            terms = []
            for term in data_dim:
                if len(term) == 1:
                    terms.append((1, term[0]))
                else:
                    coef = term[0] if isinstance(term[0], int) else int(instance.get(term[0], 1))
                    terms.append((coef, term[1]))
            dims.append(tuple(terms))
        projections.append((_OPERAND[ds["name"]], tuple(dims)))
    return LoopProblem(name=str(shape["name"]), bounds=bounds, projections=tuple(projections))


def read_arch(path: str | Path) -> TimeloopArch:
    """A Timeloop v0.4 ``architecture`` (flat ``nodes`` list) -> storage levels and fanouts."""
    nodes = _load(path)["architecture"]["nodes"]
    levels: list[TimeloopLevel] = []
    fanouts: list[tuple[str, int, str | None]] = []
    mac_bits = 0
    for node in nodes:
        attrs = node.get("attributes", {}) or {}
        if "class" not in node:  # a container
            mesh = node.get("spatial") or {}
            n = int(mesh.get("meshX", 1)) * int(mesh.get("meshY", 1))
            if n > 1:
                fanouts.append((node["name"], n, levels[-1].name if levels else None))
        elif "mac" in str(node["class"]).lower():
            mac_bits = int(attrs.get("width", 0))
        else:
            width, datawidth = int(attrs["width"]), int(attrs["datawidth"])
            depth = int(attrs["depth"]) if "depth" in attrs else None
            levels.append(TimeloopLevel(node["name"], str(node["class"]), depth, width // datawidth, datawidth))
    return TimeloopArch(tuple(levels), tuple(fanouts), mac_bits)


def _factors(text: str) -> dict[str, int]:
    out = {}
    for part in str(text).split():
        dim, _, value = part.partition("=")
        out[dim] = int(value)
    return out


def _ordered(directive: dict[str, Any], problem: LoopProblem) -> tuple[tuple[str, int], ...]:
    """Factors ordered outermost first (the permutation lists them innermost first)."""
    factors = _factors(directive.get("factors", ""))
    perm = list(str(directive.get("permutation", "")))
    rest = [d for d, _ in problem.bounds if d not in perm]
    return tuple((d, factors.get(d, 1)) for d in reversed(perm + rest))


def read_mapping(path: str | Path, arch: TimeloopArch, problem: LoopProblem, fanout_below: str | None = None) -> FixedMapping:
    """A Timeloop ``mapping`` list -> ``FixedMapping`` over ``arch``'s storage levels (see the module doc)."""
    names = [lv.name for lv in arch.levels]
    temporal: dict[str, tuple[tuple[str, int], ...]] = {}
    spatial: dict[str, tuple[tuple[str, int], ...]] = {}
    keeps: dict[str, frozenset[str]] = {}
    containers = {name: above for name, _, above in arch.fanouts}
    for d in _load(path)["mapping"]:
        target, kind = d["target"], d["type"]
        if kind == "temporal":
            temporal[target] = _ordered(d, problem)
        elif kind == "spatial":
            host = target if target in names else fanout_below or containers.get(target)
            if host not in names:
                raise MappingError(f"{path}: spatial directive on {target!r}: no storage level above it")
            spatial[host] = _ordered(d, problem)
        elif kind in ("dataspace", "bypass"):
            keeps[target] = frozenset(_OPERAND[n] for n in d.get("keep", []))
        else:
            raise MappingError(f"{path}: directive type {kind!r} (expected temporal, spatial, dataspace)")
    unknown = (set(temporal) | set(keeps)) - set(names)
    if unknown:
        raise MappingError(f"{path}: targets {sorted(unknown)} are not storage levels {names}")
    levels = tuple(
        LevelMapping(
            level=n,
            temporal=temporal.get(n, ()),
            spatial=spatial.get(n, ()),
            keeps=keeps.get(n, frozenset(_OPERAND.values())),
        )
        for n in names
    )
    return FixedMapping(levels=levels)


def read_ert(path: str | Path, arch: TimeloopArch) -> tuple[dict[str, LevelCost], float]:
    """Accelergy's ``ERT_summary`` -> per storage level its ``LevelCost`` and the MAC's compute energy (pJ)."""
    table = _load(path)["ERT_summary"]["table_summary"]
    by_name: dict[str, dict[str, float]] = {}
    for entry in table:
        short = entry["name"].split("[")[0].split(".")[-1]
        by_name[short] = {a["name"]: float(a["energy"]) for a in entry["actions"]}
    costs = {}
    for lv in arch.levels:
        acts = by_name[lv.name]
        costs[lv.name] = LevelCost(
            block_words=lv.block, read_pj=acts["read"], write_pj=acts["write"], update_pj=acts.get("update", acts["write"]),
            capacity_words=lv.depth * lv.block if lv.depth is not None else math.inf,
            leak_pj_per_cycle=acts.get("leak", 0.0),
        )
    compute = next(v["compute"] for v in by_name.values() if "compute" in v)
    return costs, compute


def read_map_txt(path: str | Path, arch: TimeloopArch, problem: LoopProblem) -> FixedMapping:
    """Timeloop's printed mapping (``timeloop-*.map.txt``) -> ``FixedMapping``: the loop nest as Timeloop evaluated it.

    ``Name [ Weights:96 (96) ... ]`` opens a level (the operands listed are kept); ``| for K in [0:16)`` lines are
    its temporal loops, outermost first; ``(Spatial-X)``/``(Spatial-Y)`` loops are a fanout. A header that names no
    storage level of ``arch`` (``inter_PE_spatial``) holds only a fanout: it belongs to the level above it.
    """
    names = {lv.name for lv in arch.levels}
    order: list[str] = []
    temporal: dict[str, list[tuple[str, int]]] = {}
    spatial: dict[str, list[tuple[str, int]]] = {}
    keeps: dict[str, frozenset[str]] = {}
    current = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if "[" in text and not text.startswith("|") and text.endswith("]"):
            name, _, rest = text.partition("[")
            name = name.strip()
            if name in names:
                current = name
                order.append(name)
                kept = [tok.split(":")[0] for tok in rest.rstrip("]").split() if ":" in tok]
                keeps[name] = frozenset(_OPERAND[k] for k in kept)
        elif text.startswith("| for") or text.startswith("|") and " for " in text:
            body = text.lstrip("| ").split()
            dim, bound = body[1], int(body[3].strip("[)").split(":")[1])
            if current is None:
                raise MappingError(f"{path}: loop {text!r} before any storage level")
            (spatial if "Spatial" in text else temporal).setdefault(current, []).append((dim, bound))
    return FixedMapping(
        levels=tuple(
            LevelMapping(n, tuple(temporal.get(n, ())), tuple(spatial.get(n, ())), keeps[n]) for n in order
        )
    )


def read_stats(path: str | Path) -> tuple[dict[tuple[str, str], dict[str, int]], float]:
    """Timeloop's ``stats.txt`` -> {(level, operand): {reads, fills, updates, tile_words, instances}} (per instance)
    and the ``Total`` fJ/Compute: the reference side of the tutorial comparisons."""
    text = Path(path).read_text(encoding="utf-8")
    levels_part = text.split("\nNetworks\n")[0]
    out: dict[tuple[str, str], dict[str, int]] = {}
    level = operand = None
    for line in levels_part.splitlines():
        m = re.match(r"^=== (\S+) ===$", line)
        if m:
            level, operand = m.group(1), None
            continue
        m = re.match(r"^    (Weights|Inputs|Outputs):$", line)
        if m:
            operand = _OPERAND[m.group(1)]
            out[(level, operand)] = {}
            continue
        if operand is not None:
            key, _, value = line.strip().partition(" : ")
            if key.strip() in _STATS_FIELDS:
                out[(level, operand)][_STATS_FIELDS[key.strip()]] = int(value.split()[0])
    total = float(re.findall(r"^\s+Total\s+=\s+([\d.]+)$", text, re.M)[-1])
    return out, total
