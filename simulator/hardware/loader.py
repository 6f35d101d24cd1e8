"""Read hardware profiles from TOML, check them against the schema, and resolve ``extends``.

File format (every numeric entry is a table with ``value``, ``unit`` where the quantity has one,
and a non-empty ``source``)::

    [profile]
    name = "horowitz45"
    description = "what it models and its limits"
    extends = "other-profile"            # optional: a shipped name or a path relative to this file

    [clock]
    frequency = { value = 1, unit = "GHz", source = "..." }

    [compute]
    macs_per_cycle = { value = 1, source = "..." }
    accumulator_bits = { value = 32, unit = "bit", source = "..." }
    zero_handling = "none"               # "skip" | "gate" | "none"

    [energy.int32]                       # data type name -> operation -> energy per operation
    add = { value = 0.1, unit = "pJ", source = "..." }

    [memory.dram]                        # levels innermost first, in file order
    kind = "dram"                        # "register_file" | "sram" | "dram"
    capacity = { value = 4, unit = "GB", source = "..." }
    word = { value = 32, unit = "bit", source = "..." }
    read_energy = { value = 640, unit = "pJ", source = "..." }    # per access of `word` bits
    write_energy = { value = 640, unit = "pJ", source = "..." }
    bandwidth = { value = 25.6, unit = "GB/s", source = "..." }  # or "bit/cycle"
    latency = { value = 100, unit = "ns", source = "..." }       # or "cycle"
    leakage = { value = 0, unit = "mW", source = "..." }

A profile that ``extends`` another is merged key by key over it (tables merge, values replace),
so a what-if is a few lines. Errors name the file, the key path, the expected and the found value.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from simulator.errors import ProfileError
from simulator.frozen import FrozenMap
from simulator.hardware.profile import LEVEL_KINDS, ZERO_HANDLING, ComputeUnit, HardwareProfile, MemoryLevel
from simulator.units import CAPACITY_UNITS_BITS, ENERGY_UNITS_PJ, FREQUENCY_UNITS_HZ, POWER_UNITS_MW
from simulator.workload import DataType

__all__ = ["list_profiles", "load_profile", "profile_path"]

_TOP_KEYS = {"profile", "clock", "compute", "energy", "memory"}
_PROFILE_KEYS = {"name", "description", "extends"}
_CLOCK_KEYS = {"frequency"}
_COMPUTE_KEYS = {"macs_per_cycle", "accumulator_bits", "zero_handling"}
_MEMORY_KEYS = {"kind", "capacity", "word", "read_energy", "write_energy", "bandwidth", "latency", "leakage"}
_ENERGY_OPERATIONS = {"add", "mult", "compare", "exp", "div"}
_DECODE_OPERATIONS = {"codebook", "huffman_symbol"}
_BIT_UNITS = {"bit": 1}


def _package_dir() -> Path:
    return Path(str(resources.files("hw_profiles")))


def list_profiles() -> list[str]:
    """Names of the profiles shipped in the ``hw_profiles`` package."""
    return sorted(p.stem for p in _package_dir().glob("*.toml"))


def profile_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """Resolve a shipped profile name or a file path to a path."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        return path
    path = _package_dir() / f"{text}.toml"
    if not path.is_file():
        raise ProfileError(
            text, "profile", f"a shipped profile name ({', '.join(list_profiles())}) or a .toml path", text
        )
    return path


def load_profile(name_or_path: str | Path) -> HardwareProfile:
    """Load, merge (``extends``) and validate a profile by shipped name or path.

    Raises:
        ProfileError: naming the file, key path, expected and found value.
    """
    path = profile_path(name_or_path)
    raw = _read_resolved(path, chain=())
    return _build(raw, str(path))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ProfileError(str(path), "(file)", "an existing, readable TOML file", "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), "(file)", "valid TOML", str(exc)) from None


def _read_resolved(path: Path, chain: tuple[str, ...]) -> dict[str, Any]:
    """The file's table merged over the table of the profile it extends (recursively)."""
    key = str(path.resolve())
    if key in chain:
        cycle = " -> ".join([*chain, key])
        raise ProfileError(str(path), "profile.extends", "a chain of extends without a cycle", cycle)
    raw = _read_toml(path)
    _check_keys(raw, _TOP_KEYS, str(path), "")
    meta = raw.get("profile", {})
    parent = meta.get("extends") if isinstance(meta, dict) else None
    if parent is None:
        return raw
    if not isinstance(parent, str) or not parent:
        raise ProfileError(str(path), "profile.extends", "a profile name or path (string)", parent)
    parent_path = profile_path(parent, relative_to=path.parent)
    base = _read_resolved(parent_path, (*chain, key))
    merged = _merge(base, raw)
    merged["profile"].pop("extends", None)
    return merged


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not _is_quantity(v):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _is_quantity(v: Mapping[str, Any]) -> bool:
    return "value" in v


def _check_keys(table: Any, allowed: set[str], path: str, where: str) -> None:
    if not isinstance(table, dict):
        raise ProfileError(path, where or "(top)", "a table", table)
    for k in table:
        if k not in allowed:
            raise ProfileError(path, f"{where}.{k}" if where else k, f"one of {sorted(allowed)}", "unknown key")


def _require(table: Mapping[str, Any], key: str, path: str, where: str) -> Any:
    if key not in table:
        raise ProfileError(path, f"{where}.{key}", "this key to be present", "missing")
    return table[key]


class _Reader:
    """Reads quantities from one profile table, collecting their sources."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sources: dict[str, str] = {}

    def quantity(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        units: Mapping[str, float] | None,
        *,
        positive: bool = False,
        integer: bool = False,
    ) -> float:
        """The value of ``table[key]`` in base units; checks type, sign, unit and source."""
        keypath = f"{where}.{key}"
        entry = _require(table, key, self.path, where)
        if not isinstance(entry, dict):
            raise ProfileError(self.path, keypath, "a table {value, unit, source}", entry)
        allowed = {"value", "source"} | ({"unit"} if units is not None else set())
        _check_keys(entry, allowed, self.path, keypath)
        value = _require(entry, "value", self.path, keypath)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProfileError(self.path, f"{keypath}.value", "a number", value)
        if not math.isfinite(value):
            raise ProfileError(self.path, f"{keypath}.value", "a finite number", value)
        if positive and value <= 0:
            raise ProfileError(self.path, f"{keypath}.value", "a number > 0", value)
        if value < 0:
            raise ProfileError(self.path, f"{keypath}.value", "a number >= 0", value)
        if integer and float(value) != int(value):
            raise ProfileError(self.path, f"{keypath}.value", "a whole number", value)
        source = _require(entry, "source", self.path, keypath)
        if not isinstance(source, str) or not source.strip():
            raise ProfileError(self.path, f"{keypath}.source", "a non-empty citation string", source)
        scale = 1.0
        if units is not None:
            unit = _require(entry, "unit", self.path, keypath)
            if unit not in units:
                raise ProfileError(self.path, f"{keypath}.unit", f"one of {sorted(units)}", unit)
            scale = units[unit]
        self.sources[keypath] = source.strip()
        return value * scale

    def string(self, table: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...] | None = None) -> str:
        value = _require(table, key, self.path, where)
        if not isinstance(value, str):
            raise ProfileError(self.path, f"{where}.{key}", "a string", value)
        if choices is not None and value not in choices:
            raise ProfileError(self.path, f"{where}.{key}", f"one of {list(choices)}", value)
        return value


def _build(raw: Mapping[str, Any], path: str) -> HardwareProfile:
    r = _Reader(path)
    meta = _require(raw, "profile", path, "")
    _check_keys(meta, _PROFILE_KEYS, path, "profile")
    name = r.string(meta, "name", "profile")
    description = r.string(meta, "description", "profile") if "description" in meta else ""

    clock = _require(raw, "clock", path, "")
    _check_keys(clock, _CLOCK_KEYS, path, "clock")
    clock_hz = r.quantity(clock, "frequency", "clock", FREQUENCY_UNITS_HZ, positive=True)

    compute_raw = _require(raw, "compute", path, "")
    _check_keys(compute_raw, _COMPUTE_KEYS, path, "compute")
    macs_per_cycle = r.quantity(compute_raw, "macs_per_cycle", "compute", None, positive=True, integer=True)
    acc_bits = r.quantity(compute_raw, "accumulator_bits", "compute", _BIT_UNITS, positive=True, integer=True)
    zero_handling = r.string(compute_raw, "zero_handling", "compute", ZERO_HANDLING)

    op_energy: dict[str, float] = {}
    energy_raw = _require(raw, "energy", path, "")
    _check_keys(energy_raw, set(energy_raw), path, "energy")
    for group, ops in energy_raw.items():
        where = f"energy.{group}"
        if group == "decode":
            _check_keys(ops, _DECODE_OPERATIONS, path, where)
        else:
            try:
                DataType.parse(group)
            except ValueError:
                raise ProfileError(path, where, "a data type name such as int8, int32, float16 or 'decode'", group) from None
            _check_keys(ops, _ENERGY_OPERATIONS, path, where)
        for op in ops:
            op_energy[f"{group}.{op}"] = r.quantity(ops, op, where, ENERGY_UNITS_PJ)

    memory_raw = _require(raw, "memory", path, "")
    if not isinstance(memory_raw, dict) or not memory_raw:
        raise ProfileError(path, "memory", "at least one [memory.<name>] table", memory_raw)
    levels = []
    for level_name, table in memory_raw.items():
        where = f"memory.{level_name}"
        _check_keys(table, _MEMORY_KEYS, path, where)
        kind = r.string(table, "kind", where, LEVEL_KINDS)
        word_bits = r.quantity(table, "word", where, _BIT_UNITS, positive=True, integer=True)
        bandwidth_units = {"bit/cycle": 1.0, "B/cycle": 8.0, "GB/s": 8e9 / clock_hz, "MB/s": 8e6 / clock_hz}
        latency_units = {"cycle": 1.0, "ns": clock_hz * 1e-9, "us": clock_hz * 1e-6}
        levels.append(
            MemoryLevel(
                name=level_name,
                kind=kind,
                capacity_bits=int(r.quantity(table, "capacity", where, CAPACITY_UNITS_BITS, positive=True)),
                word_bits=int(word_bits),
                read_energy_pj=r.quantity(table, "read_energy", where, ENERGY_UNITS_PJ),
                write_energy_pj=r.quantity(table, "write_energy", where, ENERGY_UNITS_PJ),
                bandwidth_bits_per_cycle=r.quantity(table, "bandwidth", where, bandwidth_units, positive=True),
                latency_cycles=r.quantity(table, "latency", where, latency_units),
                leakage_mw=r.quantity(table, "leakage", where, POWER_UNITS_MW),
            )
        )
    _check_order(levels, path)

    return HardwareProfile(
        name=name,
        description=description,
        clock_hz=clock_hz,
        compute=ComputeUnit(
            macs_per_cycle=int(macs_per_cycle),
            accumulator_bits=int(acc_bits),
            zero_handling=zero_handling,
            op_energy_pj=FrozenMap(op_energy),
        ),
        levels=tuple(levels),
        sources=FrozenMap(r.sources),
        path=path,
    )


def _check_order(levels: list[MemoryLevel], path: str) -> None:
    """Levels must go innermost -> outermost: kinds non-decreasing in LEVEL_KINDS, one DRAM, last."""
    ranks = [LEVEL_KINDS.index(lvl.kind) for lvl in levels]
    for i in range(1, len(levels)):
        if ranks[i] < ranks[i - 1]:
            raise ProfileError(
                path,
                f"memory.{levels[i].name}",
                f"levels ordered innermost to outermost ({' < '.join(LEVEL_KINDS)})",
                f"{levels[i].kind} after {levels[i - 1].kind} '{levels[i - 1].name}'",
            )
    if levels[-1].kind != "dram":
        raise ProfileError(path, "memory", "the outermost level to be of kind 'dram'", levels[-1].kind)
    if sum(lvl.kind == "dram" for lvl in levels) != 1:
        raise ProfileError(path, "memory", "exactly one level of kind 'dram'", [lvl.kind for lvl in levels])
