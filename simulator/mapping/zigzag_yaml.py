"""ZigZag mapping files (``mapping/*.yaml`` of KULeuven-MICAS/zigzag) read into ``ZigzagEntry`` records.

A file is a list of entries: ``name`` (a layer name or ``default``), ``spatial_mapping`` (per array axis a list of
``"DIM, factor"``), an optional ``temporal_ordering`` (loops innermost first, ``[DIM, factor]`` or ``[DIM, "*"]``)
and ``memory_operand_links`` (O, W, I each linked to a memory operand of the hardware file; pjsim's profiles
already name their levels' operands, so the links are only checked). ``simulator.mapping.zigzag_mapping`` turns
an entry into a pjsim ``FixedMapping``. Malformed input raises ``MappingError`` naming the file, entry and key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulator.fileio import read_bounded_text
from simulator.mapping.schedule import MappingError

__all__ = ["ZigzagEntry", "entry_for", "load_zigzag_mapping"]

#: ZigZag layer operands -> pjsim operands.
_OPERAND = {"W": "weights", "I": "inputs", "O": "outputs"}


@dataclass(frozen=True, slots=True)
class ZigzagEntry:
    """One entry of a ZigZag mapping file: ``spatial`` per array axis ``(axis, ((dim, factor), ...))``,
    ``ordering`` innermost first ``(dim, factor)`` (None: ``"*"``), ``where`` names file and entry for errors."""

    name: str
    spatial: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    ordering: tuple[tuple[str, int | None], ...]
    where: str


def _spatial(raw: object, where: str) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    if not isinstance(raw, dict) or not raw:
        raise MappingError(f"{where}.spatial_mapping: expected a table of array axes, got {raw!r}")
    out = []
    for axis, loops in raw.items():
        if not isinstance(loops, list):
            raise MappingError(f"{where}.spatial_mapping.{axis}: expected a list of \"DIM, factor\", got {loops!r}")
        pairs = []
        for item in loops:
            dim, _, factor = str(item).partition(",")
            if not factor.strip().isdigit() or int(factor) < 1:
                raise MappingError(f"{where}.spatial_mapping.{axis}: expected \"DIM, factor\", got {item!r}")
            pairs.append((dim.strip(), int(factor)))
        out.append((str(axis), tuple(pairs)))
    return tuple(out)


def _ordering(raw: object, where: str) -> tuple[tuple[str, int | None], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MappingError(f"{where}.temporal_ordering: expected a list of [dim, factor | \"*\"], got {raw!r}")
    out = []
    for item in raw:
        ok = isinstance(item, list) and len(item) == 2 and (item[1] == "*" or (type(item[1]) is int and item[1] >= 1))
        if not ok:
            raise MappingError(f"{where}.temporal_ordering: expected [dim, factor] or [dim, \"*\"], got {item!r}")
        out.append((str(item[0]), None if item[1] == "*" else item[1]))
    return tuple(out)


def load_zigzag_mapping(path: str | Path) -> tuple[ZigzagEntry, ...]:
    """Read a ZigZag mapping yaml. Raises ``MappingError`` naming the file, entry and key that is wrong."""
    import yaml

    try:
        raw = yaml.safe_load(read_bounded_text(path, 1 << 20, "ZigZag mapping"))
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, list) or not raw:
        raise MappingError(f"{path}: expected a list of mapping entries (- name: default ...)")
    out = []
    for i, entry in enumerate(raw):
        where = f"{path}: entry[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise MappingError(f"{where}.name: expected a layer name or 'default', got {entry!r}")
        where = f"{path}: entry[{i}] ({entry['name']})"
        links = entry.get("memory_operand_links")
        if not isinstance(links, dict) or sorted(links) != sorted(_OPERAND) or len(set(links.values())) != 3:
            raise MappingError(f"{where}.memory_operand_links: expected O, W and I each linked to its own memory "
                               f"operand, got {links!r}")
        out.append(ZigzagEntry(entry["name"], _spatial(entry.get("spatial_mapping"), where),
                               _ordering(entry.get("temporal_ordering"), where), where))
    return tuple(out)


def entry_for(entries: tuple[ZigzagEntry, ...], layer: str) -> ZigzagEntry:
    """The entry named ``layer``, else ``default`` (ZigZag's fallback)."""
    by_name = {e.name: e for e in entries}
    found = by_name.get(layer, by_name.get("default"))
    if found is None:
        raise MappingError(f"{entries[0].where.split(': entry')[0]}: no entry named {layer!r} and no 'default' entry")
    return found
