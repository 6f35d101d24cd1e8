"""Read hardware profiles from TOML, check them against the schema, resolve ``extends`` and apply overrides.

File format. Every numeric entry is a table with ``value``, ``unit`` where the quantity has one, and a
non-empty ``source`` (paper/datasheet + table or row, or ``"pjsim assumption: ..."`` with the reasoning)::

    [profile]
    name = "horowitz45"
    description = "what it models and its limits"
    extends = "other-profile"            # optional: a shipped name or a path relative to this file

    [clock]
    frequency = { value = 1, unit = "GHz", source = "..." }           # Hz, kHz, MHz, GHz

    [compute]
    macs_per_cycle = { value = 1, source = "..." }                    # whole array, per cycle
    static_power = { value = 0.8, unit = "mW", source = "..." }       # optional: idle/static power x latency
    accumulator_bits = { value = 32, unit = "bit", source = "..." }
    zero_handling = "none"               # "skip" (no cycle, no energy) | "gate" (cycle, no energy) | "none"
    precision = { weights = "int8", activations = "int8", source = "..." }   # v2, optional: float tensors
                                         # are costed at these types (simulate(precision=...) overrides)

    dataflow = "dense"                   # optional: "dense" (default) | "eie-csc" (then [compute.csc] is required)
                                         # | "eyeriss-rs" (then [compute.rs] is required)
    structured_sparsity = ["2:4"]        # optional: sparsity patterns the array skips (sparse tensor cores)
    attention = "flash"                  # optional: "materialize" (default) | "flash" (scores tiled on chip)
                                         # | "systolic-os" | "systolic-ws" | "systolic-is" (then [compute.systolic])

    [compute.csc]                        # eie-csc only; one PE per MAC lane (macs_per_cycle)
    relative_index_bits = { value = 4, unit = "bit", source = "..." }
    pointer_bits = { value = 16, unit = "bit", source = "..." }
    queue_depth = { value = 8, source = "..." }                       # activation queue entries per PE
    pointer_capacity = { value = 16384, source = "..." }              # optional: pointers per PE's pointer SRAM
    pointer_overflow = "stream"          # optional: "reload-idle" (default) | "stream" | "stream-active"
                                         # | "double-buffer" | "double-buffer-active" | "on-chip"

    [compute.rs]                         # eyeriss-rs only; rows x cols = macs_per_cycle
    rows = { value = 12, source = "..." }                             # physical PE array
    cols = { value = 14, source = "..." }
    filter_words = { value = 224, source = "..." }                    # per-PE scratchpads, data words
    ifmap_words = { value = 12, source = "..." }
    psum_words = { value = 24, source = "..." }
    [compute.systolic]                   # systolic-os|ws|is only (SCALE-Sim's dataflows, mapping/systolic.py)
    ifmap_sram = { value = 64, unit = "KiB", source = "..." }         # each double-buffered, half active
    filter_sram = { value = 64, unit = "KiB", source = "..." }
    ofmap_sram = { value = 64, unit = "KiB", source = "..." }

    [compute.array]                      # v2, optional: array geometry (then macs_per_cycle may be omitted)
    fill_drain = { value = 94, unit = "cycle", source = "..." }       # optional, per spatial fold (systolic)
    [compute.array.axes.D1]              # axes in file order; PEs = product of sizes
    size = { value = 32, source = "..." }
    unrolls = ["K"]                      # loop dims it may unroll: B G K C OY OX FY FX, or P (= B OY OX), R (= C FY FX)
    [compute.array.axes.D2]
    size = { value = 32, source = "..." }
    unrolls = ["C"]

    [energy.int8]                        # data type (int<bits> | float<bits>) -> operation -> energy
    add = { value = 0.03, unit = "pJ", source = "..." }               # fJ, pJ, nJ, uJ
    mult = { value = 0.2, unit = "pJ", source = "..." }               # also: compare, exp, div

    [energy.decode]                      # optional: per codebook lookup / per decoded Huffman symbol
    codebook = { value = 1, unit = "pJ", source = "..." }
    huffman_symbol = { value = 1.1, unit = "pJ", source = "..." }

    [memory.sram]                        # levels innermost first, in file order (register_file < sram < dram)
    kind = "sram"                        # "register_file" | "sram" | "dram"; exactly one dram, outermost
    capacity = { value = 32, unit = "KiB", source = "..." }           # total over all PEs; bit, B, KB, KiB, MB, ...
    word = { value = 32, unit = "bit", source = "..." }               # access width
    banks = { value = 1, source = "..." }                             # optional (default 1): sqrt_capacity prices one bank
    read_energy = { value = 5, unit = "pJ", source = "..." }          # per access of `word` bits
    write_energy = { rule = "sqrt_capacity" }                         # or derived by a rule, see below
    bandwidth = { value = 25.6, unit = "GB/s", source = "..." }       # GB/s, MB/s, bit/cycle, B/cycle
    latency = { value = 100, unit = "ns", source = "..." }            # ns, us, cycle
    leakage = { value = 0, unit = "mW", source = "..." }              # uW, mW, W
    # v2, optional (``_read_memory_v2``):
    operands = ["weights", "inputs"]     # operands this level keeps (default all); the others bypass it
    update_energy = { value = 4, unit = "pJ", source = "..." }        # partial-sum update access (default write_energy)
    read_bandwidth = { value = 64, unit = "bit/cycle", source = "..." }   # separate ports (default: bandwidth)
    write_bandwidth = { value = 64, unit = "bit/cycle", source = "..." }
    instances = { value = 16, source = "..." }                        # identical copies (one RF per PE)
    shared_axes = ["D3", "D4"]           # array axes one instance feeds (ZigZag's served_dimensions): an operand a
                                         # shared axis's dim does not index is read once and broadcast over it;
                                         # default: none (one access per MAC, the v1 rule)
    min_access = { value = 64, unit = "bit", source = "..." }         # narrowest access the array's reads cost
                                         # (ZigZag's bandwidth_min): a cycle reading fewer bits pays this many
    [memory.l1.operand_word]             # access width of an operand with its own port (default: word); its
    outputs = { value = 2048, unit = "bit", source = "..." }          # energies are per access of this width
    [memory.l1.ports.rw_port_3]          # a physical port of one instance (ZigZag's ports + allocation); only the
    serves = ["outputs:tl", "outputs:fl"]                             # latency of a replayed ZigZag mapping reads
    bandwidth = { value = 2048, unit = "bit/cycle", source = "..." }  # them (mapping.zigzag_latency). Links
                                         # "operand:dir", dir tl / fl (to / from the level below), th / fh (to / from
                                         # the level above); an operand the level keeps; each link on one port
    shared = true                        # optional, on-chip level: one copy every core shares (default: one per core)
    # the dram level only: device = "lpddr4-3200" (default "flat"); scheduler = "fcfs" (default) |
    # "round-robin" | "fr-fcfs": how the controller orders several cores' requests ([compute] cores)

Several ``register_file`` levels may be listed, each with its own costs. ``word`` is the access granularity:
a fixed mapping (``simulator.mapping.hierarchy``) prices every action in whole words (Timeloop's block).

Rules (``simulator.hardware.rules`` documents each one and why):

- Integer energies a table does not list are derived on lookup (int add ∝ bits, int mult ∝ bits², compare
  priced as add) from the nearest listed row at or below the width, capped at the next listed row above.
  Float, exp, div and decode rows are never derived: a lookup of an unlisted one is a ``ProfileError``.
- A memory ``read_energy``/``write_energy`` may be derived at load time instead of listed:

  ``{ rule = "sqrt_capacity" }`` (SRAM levels only): energy ∝ √(capacity / banks) from the reference
  points under ``[rules.sqrt_capacity.<name>]``, each with ``capacity``, ``word`` and ``energy``
  quantities (Horowitz ISSCC 2014: 8 KiB 10 pJ, 32 KiB 20 pJ, 1 MiB 100 pJ per 64-bit access),
  rescaled per bit to the level's word.

  ``{ rule = "mac_multiple", of = "int16", factor = { value = 6, source = "..." } }``: ``factor`` ×
  (mult + add energy at ``of``), the normalised ladder of Eyeriss (ISCA 2016, Table IV).

  The derived value's source in ``HardwareProfile.sources`` names the rule, the reference row and the
  arithmetic; the references and factors keep their own citations.

``extends``: the file is merged key by key over the profile it extends (tables merge, entries replace),
so a what-if is a few lines. Cycles in the chain are an error.

Overrides (for sweeps): ``load_profile(name, overrides={"memory.sram.capacity": 256})`` sets dotted key
paths of the resolved table. A number replaces the entry's ``value`` (keeping its ``unit``) and its
source becomes ``"sweep override"``; a string replaces a string (``"compute.zero_handling": "skip"``); a
table replaces the whole entry. A path that does not exist is a ``ProfileError`` naming it.
``resolve_profile_table`` returns the resolved (and overridden) table, e.g. to hash a design point.

Loading is cached by file modification time; overrides take a cache-free path over the cached resolved
table (copying only the tables on each overridden path), so a sweep can build thousands of variants/s.

Every error is a ``ProfileError`` naming the file, the key path, the expected and the found value:
missing keys, unknown keys (typos never pass silently), wrong types, negative or non-finite numbers,
zero capacity/word/bandwidth/clock, unknown units, unknown rules, levels out of order, ``extends`` cycles.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from simulator.errors import ProfileError
from simulator.fileio import MAX_NESTING_DEPTH, InputFileError, check_nesting, read_bounded_text
from simulator.frozen import FrozenMap
from simulator.hardware.profile import (
    DATAFLOWS,
    POINTER_OVERFLOW,
    DRAM_SCHEDULERS,
    LEVEL_KINDS,
    ZERO_HANDLING,
    ATTENTION_MODES,
    ArrayAxis,
    CSCConfig,
    RSConfig,
    SystolicConfig,
    ComputeArray,
    ComputeUnit,
    HardwareProfile,
    MemoryLevel,
    MemoryPort,
    PORT_DIRECTIONS,
    Precision,
    UNROLLABLE_DIMS,
)
from simulator.hardware.rules import (
    DECODE_OPERATIONS,
    ENERGY_OPERATIONS,
    derive_op_energy,
    sqrt_capacity_energy,
)
from simulator.units import CAPACITY_UNITS_BITS, ENERGY_UNITS_PJ, FREQUENCY_UNITS_HZ, POWER_UNITS_MW
from simulator.workload import STRUCTURED_SPARSITY, DataType

__all__ = [
    "MAX_PROFILE_BYTES",
    "SWEEP_OVERRIDE_SOURCE",
    "list_profiles",
    "load_profile",
    "profile_digest",
    "profile_path",
    "resolve_profile_table",
]

#: The source an overridden entry gets.
SWEEP_OVERRIDE_SOURCE = "sweep override"
#: Largest profile file read (shipped profiles are a few KB); larger files are refused unread.
MAX_PROFILE_BYTES = 1 << 20

_TOP_KEYS = {"profile", "clock", "compute", "energy", "memory", "rules"}
_PROFILE_KEYS = {"name", "description", "extends"}
_CLOCK_KEYS = {"frequency"}
_COMPUTE_KEYS = {"macs_per_cycle", "accumulator_bits", "zero_handling", "array", "precision", "dataflow", "csc", "rs", "cores",
                 "structured_sparsity", "attention",
                 "static_power", "systolic"}
_CSC_KEYS = {"relative_index_bits", "pointer_bits", "queue_depth"}
_CSC_OPTIONAL_KEYS = {"pointer_capacity"}  # pointers per PE's pointer SRAM (absent: unbounded)
_CSC_STRING_KEYS = {"pointer_overflow"}  # optional: POINTER_OVERFLOW (absent: "reload-idle")
_RS_KEYS = {"rows", "cols", "filter_words", "ifmap_words", "psum_words"}
_SYSTOLIC_KEYS = {"ifmap_sram", "filter_sram", "ofmap_sram"}
_ARRAY_KEYS = {"axes", "fill_drain"}
_AXIS_KEYS = {"size", "unrolls"}
_PRECISION_KEYS = {"weights", "activations", "source"}
_MEMORY_KEYS = {
    "kind", "capacity", "word", "banks", "read_energy", "write_energy", "bandwidth", "latency", "leakage", "device",
    "operands", "update_energy", "read_bandwidth", "write_bandwidth", "instances", "shared_axes",
    "min_access", "operand_word", "ports",
    "scheduler", "shared",
}
_RULE_TABLES = {"sqrt_capacity"}
_SQRT_REF_KEYS = {"capacity", "word", "energy"}
_ENERGY_RULES = {"sqrt_capacity", "mac_multiple"}
_BIT_UNITS = {"bit": 1}
#: Widest access word or accumulator accepted, in bits.
MAX_WIDTH_BITS = 1 << 16
_QUANTITY_KEYS = frozenset({"value", "unit", "source"})
_UNITLESS_KEYS = frozenset({"value", "source"})

# Cache: resolved file path -> ((file, mtime_ns) for each file in the extends chain, value).
_RESOLVED_CACHE: dict[str, tuple[tuple[tuple[str, int], ...], dict[str, Any]]] = {}
_PROFILE_CACHE: dict[str, tuple[tuple[tuple[str, int], ...], HardwareProfile]] = {}


@functools.cache
def _package_dir() -> Path:
    return Path(str(resources.files("hw_profiles")))


def list_profiles() -> list[str]:
    """Names of the profiles shipped in the ``hw_profiles`` package."""
    return sorted(p.stem for p in _package_dir().glob("*.toml"))


def _is_shipped_name(text: str) -> bool:
    """A bare name (``"horowitz45"``) rather than a path (``"x.toml"``, ``"dir/x"``)."""
    return not (text.endswith(".toml") or "/" in text or "\\" in text)


def profile_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """Resolve a shipped profile name or a file path to a path."""
    text = str(name_or_path)
    if not _is_shipped_name(text):
        path = Path(text)
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        return path
    path = _package_dir() / f"{text}.toml"
    try:
        shipped = path.is_file()
    except OSError:  # e.g. a name longer than the file system allows (ENAMETOOLONG)
        shipped = False
    if not shipped:
        raise ProfileError(
            text, "profile", f"a shipped profile name ({', '.join(list_profiles())}) or a .toml path", text
        )
    return path


def load_profile(name_or_path: str | Path, overrides: Mapping[str, Any] | None = None) -> HardwareProfile:
    """Load, merge (``extends``), override and validate a profile by shipped name or path.

    Args:
        name_or_path: a shipped profile name (``"horowitz45"``) or a ``.toml`` path.
        overrides: dotted key paths of the resolved table -> new values (see the module docstring);
            ``None`` or empty loads the file as written (cached by modification time).

    Returns:
        The validated profile; without overrides the same object is returned while the files are unchanged.

    Raises:
        ProfileError: naming the file, key path, expected and found value.
    """
    text = str(name_or_path)
    cache_key = text if _is_shipped_name(text) else os.path.abspath(text)
    if not overrides:
        hit = _PROFILE_CACHE.get(cache_key)
        if hit is not None and _stamp_fresh(hit[0]):
            return hit[1]
    path = profile_path(name_or_path)
    key = str(path)
    if not overrides:
        stamp, raw = _resolved(path)
        profile = _build(raw, key)
        _PROFILE_CACHE[cache_key] = (stamp, profile)
        return profile
    _, raw = _resolved(path)
    return _build(_apply_overrides(raw, overrides, key), key)


def resolve_profile_table(name_or_path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The resolved raw table (``extends`` merged, overrides applied) as a fresh ``dict`` the caller may keep.

    Not validated; ``load_profile`` with the same arguments validates it. Use it to hash or store a
    design point (``profile_digest`` does the hashing).
    """
    path = profile_path(name_or_path)
    _, raw = _resolved(path)
    if overrides:
        raw = _apply_overrides(raw, overrides, str(path))
    return copy.deepcopy(raw)


def profile_digest(name_or_path: str | Path, overrides: Mapping[str, Any] | None = None) -> str:
    """SHA-256 of the resolved table as canonical JSON: equal digests mean equal profiles."""
    path = profile_path(name_or_path)
    _, raw = _resolved(path)
    if overrides:
        raw = _apply_overrides(raw, overrides, str(path))
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# Reading, extends, caching


def _stamp_fresh(stamp: tuple[tuple[str, int], ...]) -> bool:
    try:
        return all(os.stat(f).st_mtime_ns == mtime for f, mtime in stamp)
    except OSError:
        return False


def _resolved(path: Path) -> tuple[tuple[tuple[str, int], ...], dict[str, Any]]:
    """The resolved table of ``path`` (cached) and the stamp of the files it was read from."""
    key = os.path.abspath(path)
    hit = _RESOLVED_CACHE.get(key)
    if hit is not None and _stamp_fresh(hit[0]):
        return hit
    files: list[tuple[str, int]] = []
    raw = _read_resolved(path, chain=(), files=files)
    entry = (tuple(files), raw)
    _RESOLVED_CACHE[key] = entry
    return entry


def _read_toml(path: Path, files: list[tuple[str, int]]) -> dict[str, Any]:
    """Parse one profile file: a regular file under ``MAX_PROFILE_BYTES``, UTF-8, nested at most ``MAX_NESTING_DEPTH``."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        mtime = 0
    try:
        text = read_bounded_text(path, MAX_PROFILE_BYTES, "hardware profile")
        data = check_nesting(_parse_toml(text, path), path, "hardware profile")
    except InputFileError as exc:
        raise ProfileError(str(path), "(file)", exc.expected, exc.found) from None
    files.append((os.path.abspath(path), mtime))
    return data


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), "(file)", "valid TOML", str(exc)) from None
    except RecursionError:
        raise ProfileError(str(path), "(file)", f"TOML nested at most {MAX_NESTING_DEPTH} deep", "deeper nesting") from None


def _read_resolved(path: Path, chain: tuple[str, ...], files: list[tuple[str, int]]) -> dict[str, Any]:
    """The file's table merged over the table of the profile it extends (recursively)."""
    key = str(path.resolve())
    if key in chain:
        cycle = " -> ".join([*chain, key])
        raise ProfileError(str(path), "profile.extends", "a chain of extends without a cycle", cycle)
    raw = _read_toml(path, files)
    _check_keys(raw, _TOP_KEYS, str(path), "")
    meta = raw.get("profile", {})
    parent = meta.get("extends") if isinstance(meta, dict) else None
    if parent is None:
        return raw
    if not isinstance(parent, str) or not parent:
        raise ProfileError(str(path), "profile.extends", "a profile name or path (string)", parent)
    parent_path = profile_path(parent, relative_to=path.parent)
    try:
        base = _read_resolved(parent_path, (*chain, key), files)
    except ProfileError as exc:
        if exc.path != str(parent_path) or exc.key != "(file)":
            raise
        raise ProfileError(str(path), "profile.extends", f"a readable profile ({exc.expected})", f"{parent_path}: {exc.found}") from None
    merged = _merge(base, raw)
    merged["profile"].pop("extends", None)
    return merged


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and not _is_entry(v):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _is_entry(v: Mapping[str, Any]) -> bool:
    """A leaf entry (a quantity ``{value, ...}`` or a rule ``{rule, ...}``), replaced as a whole by ``extends``."""
    return "value" in v or "rule" in v


def _apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``raw`` with each dotted key path set; copies only the tables along the paths (``raw`` is shared)."""
    out = dict(raw)
    for dotted, new in overrides.items():
        if not isinstance(dotted, str) or not dotted:
            raise ProfileError(path, str(dotted), "a dotted key path such as 'memory.sram.capacity'", dotted)
        parts = dotted.split(".")
        node: dict[str, Any] = out
        for i, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                raise ProfileError(
                    path, dotted, "an override path that exists in the resolved profile", f"no key '{'.'.join(parts[: i + 1])}'"
                )
            if i == len(parts) - 1:
                break
            child = node[part]
            if isinstance(child, dict):
                child = dict(child)
                node[part] = child
            node = child
        last = parts[-1]
        old = node[last]
        is_number = isinstance(new, (int, float)) and not isinstance(new, bool)
        if isinstance(old, dict) and "value" in old and is_number:
            node[last] = {**old, "value": new, "source": SWEEP_OVERRIDE_SOURCE}
        elif isinstance(old, dict) and not isinstance(new, dict):
            expected = (
                "a full {value, unit, source} table (the entry is derived by a rule)"
                if "rule" in old
                else "a table (this key holds a table)"
            )
            raise ProfileError(path, dotted, expected, new)
        elif last == "value" and "source" in node and is_number:
            node["value"] = new
            node["source"] = SWEEP_OVERRIDE_SOURCE
        else:
            node[last] = new
    return out


# ---------------------------------------------------------------------------------------------------------
# Validation


def _check_keys(table: Any, allowed: set[str], path: str, where: str) -> None:
    if not isinstance(table, dict):
        raise ProfileError(path, where or "(top)", "a table", table)
    for k in table:
        if k not in allowed:
            raise ProfileError(path, f"{where}.{k}" if where else k, f"one of {sorted(allowed)}", "unknown key")


def _require(table: Mapping[str, Any], key: str, path: str, where: str) -> Any:
    if key not in table:
        raise ProfileError(path, f"{where}.{key}" if where else key, "this key to be present", "missing")
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
        """The value of ``table[key]`` in base units; checks type, sign, finiteness, unit and source."""
        keypath = f"{where}.{key}"
        entry = _require(table, key, self.path, where)
        if not isinstance(entry, dict):
            raise ProfileError(self.path, keypath, "a table {value, unit, source}", entry)
        allowed = _QUANTITY_KEYS if units is not None else _UNITLESS_KEYS
        if not entry.keys() <= allowed:
            _check_keys(entry, set(allowed), self.path, keypath)
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
        return _check_converted(self.path, keypath, value, scale, units)

    def string(self, table: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...] | None = None) -> str:
        value = _require(table, key, self.path, where)
        if not isinstance(value, str):
            raise ProfileError(self.path, f"{where}.{key}", "a string", value)
        if choices is not None and value not in choices:
            raise ProfileError(self.path, f"{where}.{key}", f"one of {list(choices)}", value)
        return value


def _build(raw: Mapping[str, Any], path: str) -> HardwareProfile:
    """Validate a resolved table and build the profile (derived memory energies are computed here)."""
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
    array = _read_array(r, compute_raw["array"]) if "array" in compute_raw else None
    precision = _read_precision(r, compute_raw["precision"]) if "precision" in compute_raw else None
    if array is not None and "macs_per_cycle" not in compute_raw:
        macs_per_cycle = float(array.pes)
        sizes = " x ".join(f"{a.name} {a.size}" for a in array.axes)
        r.sources["compute.macs_per_cycle"] = f"derived: product of the compute.array axis sizes ({sizes})"
    else:
        macs_per_cycle = r.quantity(compute_raw, "macs_per_cycle", "compute", None, positive=True, integer=True)
    if array is not None and int(macs_per_cycle) != array.pes:
        expected = f"the array's {array.pes} PEs (product of the axis sizes)"
        raise ProfileError(path, "compute.macs_per_cycle", expected, int(macs_per_cycle))
    acc_bits = r.quantity(compute_raw, "accumulator_bits", "compute", _BIT_UNITS, positive=True, integer=True)
    zero_handling = r.string(compute_raw, "zero_handling", "compute", ZERO_HANDLING)
    dataflow = r.string(compute_raw, "dataflow", "compute", DATAFLOWS) if "dataflow" in compute_raw else "dense"
    csc = _read_csc(r, compute_raw, int(macs_per_cycle), dataflow)
    rs = _read_rs(r, compute_raw, int(macs_per_cycle), dataflow)
    systolic = _read_systolic(r, compute_raw, dataflow)

    op_energy = _read_energy_table(r, _require(raw, "energy", path, ""))
    sqrt_refs = _read_rules(r, raw.get("rules", {}))

    memory_raw = _require(raw, "memory", path, "")
    if not isinstance(memory_raw, dict) or not memory_raw:
        raise ProfileError(path, "memory", "at least one [memory.<name>] table", memory_raw)
    bandwidth_units = {"bit/cycle": 1.0, "B/cycle": 8.0, "GB/s": 8e9 / clock_hz, "MB/s": 8e6 / clock_hz}
    latency_units = {"cycle": 1.0, "ns": clock_hz * 1e-9, "us": clock_hz * 1e-6}
    levels = []
    for level_name, table in memory_raw.items():
        where = f"memory.{level_name}"
        _check_keys(table, _MEMORY_KEYS, path, where)
        kind = r.string(table, "kind", where, LEVEL_KINDS)
        word_bits = int(r.quantity(table, "word", where, _BIT_UNITS, positive=True, integer=True))
        capacity_bits = int(r.quantity(table, "capacity", where, CAPACITY_UNITS_BITS, positive=True))
        banks = int(r.quantity(table, "banks", where, None, positive=True, integer=True)) if "banks" in table else 1
        ctx = _LevelContext(kind, capacity_bits, word_bits, banks, op_energy, sqrt_refs)
        levels.append(
            MemoryLevel(
                name=level_name,
                kind=kind,
                capacity_bits=capacity_bits,
                word_bits=word_bits,
                read_energy_pj=_memory_energy(r, table, "read_energy", where, ctx),
                write_energy_pj=_memory_energy(r, table, "write_energy", where, ctx),
                bandwidth_bits_per_cycle=r.quantity(table, "bandwidth", where, bandwidth_units, positive=True),
                latency_cycles=r.quantity(table, "latency", where, latency_units),
                leakage_mw=r.quantity(table, "leakage", where, POWER_UNITS_MW),
                banks=banks,
                device=_read_dram_device(r, table, where, kind),
                **_read_sharing(r, table, where, kind),
                **_read_memory_v2(r, table, where, ctx, bandwidth_units),
            )
        )
    _check_order(levels, path)
    _check_shared_axes(levels, array, path)
    for level in levels:
        _check_level_widths(level, path)

    return HardwareProfile(
        name=name,
        description=description,
        clock_hz=clock_hz,
        compute=ComputeUnit(
            macs_per_cycle=int(macs_per_cycle),
            accumulator_bits=int(acc_bits),
            zero_handling=zero_handling,
            op_energy_pj=FrozenMap(op_energy),
            array=array,
            precision=precision,
            dataflow=dataflow,
            csc=csc,
            rs=rs,
            systolic=systolic,
            cores=_read_cores(r, compute_raw),
            structured_sparsity=_read_structured_sparsity(r, compute_raw),
            attention=r.string(compute_raw, "attention", "compute", ATTENTION_MODES) if "attention" in compute_raw else "materialize",
            static_power_mw=(r.quantity(compute_raw, "static_power", "compute", POWER_UNITS_MW)
                             if "static_power" in compute_raw else 0.0),
        ),
        levels=tuple(levels),
        sources=FrozenMap(r.sources),
        path=path,
    )


_OPERAND_NAMES = ("weights", "inputs", "outputs")


def _read_memory_v2(
    r: _Reader, table: Mapping[str, Any], where: str, ctx: _LevelContext, bandwidth_units: Mapping[str, float]
) -> dict[str, Any]:
    """The optional v2 keys of a ``[memory.<name>]`` level (absent: the v1 behaviour).

    ``operands`` (the operands the level keeps; the others bypass it; the DRAM level keeps all three),
    ``update_energy`` (a partial-sum read-modify-write access, default ``write_energy``), ``read_bandwidth`` /
    ``write_bandwidth`` (separate ports, default the shared ``bandwidth``), ``instances`` (identical copies, e.g.
    one register file per PE; ``capacity`` is their total and must divide evenly).
    """
    out: dict[str, Any] = {}
    if "operands" in table:
        ops = table["operands"]
        expected = f"a non-empty list of distinct operands from {list(_OPERAND_NAMES)}"
        if not isinstance(ops, list) or not ops or len(set(ops)) != len(ops) or not set(ops) <= set(_OPERAND_NAMES):
            raise ProfileError(r.path, f"{where}.operands", expected, ops)
        if ctx.kind == "dram" and set(ops) != set(_OPERAND_NAMES):
            raise ProfileError(r.path, f"{where}.operands", "all three operands on the dram level (nothing bypasses it)", ops)
        out["operands"] = tuple(o for o in _OPERAND_NAMES if o in ops)
    if "update_energy" in table:
        out["update_energy_pj"] = _memory_energy(r, table, "update_energy", where, ctx)
    for key in ("read_bandwidth", "write_bandwidth"):
        if key in table:
            out[f"{key}_bits_per_cycle"] = r.quantity(table, key, where, bandwidth_units, positive=True)
    if "instances" in table:
        n = int(r.quantity(table, "instances", where, None, positive=True, integer=True))
        if ctx.capacity_bits % n:
            raise ProfileError(r.path, f"{where}.instances", f"a count dividing the capacity ({ctx.capacity_bits} bits)", n)
        out["instances"] = n
    if "min_access" in table:
        out["min_access_bits"] = int(r.quantity(table, "min_access", where, _BIT_UNITS, positive=True, integer=True))
    if "operand_word" in table:
        words = table["operand_word"]
        if not isinstance(words, Mapping) or not set(words) <= set(_OPERAND_NAMES):
            raise ProfileError(r.path, f"{where}.operand_word", f"a table keyed by operands from {list(_OPERAND_NAMES)}",
                               words)
        out["operand_words"] = tuple(
            (op, int(r.quantity(words, op, f"{where}.operand_word", _BIT_UNITS, positive=True, integer=True)))
            for op in _OPERAND_NAMES if op in words
        )
    if "ports" in table:
        out["ports"] = _read_ports(r, table["ports"], where, out.get("operands", _OPERAND_NAMES), bandwidth_units)
    if "shared_axes" in table:
        axes = table["shared_axes"]
        if not isinstance(axes, list) or len(set(map(str, axes))) != len(axes) or not all(isinstance(a, str) for a in axes):
            raise ProfileError(r.path, f"{where}.shared_axes", "a list of distinct array axis names", axes)
        out["shared_axes"] = tuple(axes)
    return out


def _read_ports(r: _Reader, ports: Any, where: str, operands: tuple[str, ...],
                bandwidth_units: Mapping[str, float]) -> tuple[MemoryPort, ...]:
    """``[memory.<name>.ports.<port>]``: ``serves`` (a list of ``"operand:direction"`` links, ``PORT_DIRECTIONS``, of
    operands the level keeps; each link on one port only) and ``bandwidth`` (bits per cycle of one instance)."""
    if not isinstance(ports, dict) or not ports:
        raise ProfileError(r.path, f"{where}.ports", "a table of ports, each with serves and bandwidth", ports)
    out, seen = [], {}
    for name, port in ports.items():
        at = f"{where}.ports.{name}"
        _check_keys(port, {"serves", "bandwidth"}, r.path, at)
        serves = port.get("serves")
        expected = (f"a non-empty list of 'operand:direction' links, operand from {list(operands)}, direction from "
                    f"{list(PORT_DIRECTIONS)}")
        ok = isinstance(serves, list) and all(isinstance(s, str) for s in serves)
        links = [s.split(":") for s in serves] if ok else []
        if not links or any(len(x) != 2 or x[0] not in operands or x[1] not in PORT_DIRECTIONS for x in links):
            raise ProfileError(r.path, f"{at}.serves", expected, serves)
        for op, direction in links:
            if (op, direction) in seen:
                raise ProfileError(r.path, f"{at}.serves", f"each link on one port ({op}:{direction} is on "
                                   f"{seen[(op, direction)]!r} already)", serves)
            seen[(op, direction)] = name
        bandwidth = r.quantity(port, "bandwidth", at, bandwidth_units, positive=True)
        out.append(MemoryPort(str(name), bandwidth, tuple((op, d) for op, d in links)))
    return tuple(out)


def _check_shared_axes(levels: list[MemoryLevel], array: ComputeArray | None, path: Path) -> None:
    """Every ``shared_axes`` name is an axis of ``[compute.array]`` (a profile without an array has none)."""
    names = {a.name for a in array.axes} if array is not None else set()
    for level in levels:
        if level.shared_axes is not None and not set(level.shared_axes) <= names:
            raise ProfileError(path, f"memory.{level.name}.shared_axes", f"names of the array's axes {sorted(names)}",
                               list(level.shared_axes))


def _read_dram_device(r: _Reader, table: Mapping[str, Any], where: str, kind: str) -> str:
    """``[memory.<dram>] device``: ``"flat"`` (default) or a DRAM preset name, only on the ``dram`` level.

    The name is checked against ``simulator.memsim.dram_presets`` when simulating (hardware must not
    import memsim); its numbers are cited there.
    """
    if "device" not in table:
        return "flat"
    device = table["device"]
    if not isinstance(device, str) or not device:
        raise ProfileError(r.path, f"{where}.device", "a DRAM preset name such as 'lpddr4-3200', or 'flat'", device)
    if kind != "dram" and device != "flat":
        raise ProfileError(r.path, f"{where}.device", "a device only on the level of kind 'dram'", kind)
    return device


def _read_sharing(r: _Reader, table: Mapping[str, Any], where: str, kind: str) -> dict[str, Any]:
    """``[memory.<dram>] scheduler`` (one of ``DRAM_SCHEDULERS``, the DRAM level only) and ``shared``
    (true/false, an on-chip level every core of a ``[compute] cores`` profile shares; the DRAM always is)."""
    out: dict[str, Any] = {}
    if "scheduler" in table:
        value = table["scheduler"]
        if kind != "dram":
            raise ProfileError(r.path, f"{where}.scheduler", "a scheduler only on the level of kind 'dram'", kind)
        if value not in DRAM_SCHEDULERS:
            raise ProfileError(r.path, f"{where}.scheduler", f"one of {list(DRAM_SCHEDULERS)}", value)
        out["scheduler"] = value
    if "shared" in table:
        value = table["shared"]
        if not isinstance(value, bool):
            raise ProfileError(r.path, f"{where}.shared", "true or false", value)
        if kind == "dram" and not value:
            raise ProfileError(r.path, f"{where}.shared", "true or absent: every core shares the dram level", value)
        out["shared"] = value and kind != "dram"
    return out


def _read_structured_sparsity(r: _Reader, compute_raw: Mapping[str, Any]) -> tuple[str, ...]:
    """``[compute] structured_sparsity``: a list of patterns from ``STRUCTURED_SPARSITY`` (default none)."""
    raw = compute_raw.get("structured_sparsity", [])
    allowed = [p for p in STRUCTURED_SPARSITY if p]
    if not isinstance(raw, list) or any(p not in allowed for p in raw):
        raise ProfileError(r.path, "compute.structured_sparsity", f"a list of patterns from {allowed}", raw)
    return tuple(raw)


def _read_cores(r: _Reader, compute_raw: Mapping[str, Any]) -> int:
    """``[compute] cores``: requestors sharing the DRAM (default 1), a positive integer with a source."""
    if "cores" not in compute_raw:
        return 1
    return int(r.quantity(compute_raw, "cores", "compute", None, positive=True, integer=True))


def _read_array(r: _Reader, raw: Any) -> ComputeArray:
    """``[compute.array]`` (format v2): named axes in file order, each ``size`` lanes and the dims it may unroll."""
    _check_keys(raw, _ARRAY_KEYS, r.path, "compute.array")
    axes_raw = _require(raw, "axes", r.path, "compute.array")
    if not isinstance(axes_raw, dict) or not axes_raw:
        raise ProfileError(r.path, "compute.array.axes", "at least one [compute.array.axes.<name>] table", axes_raw)
    axes = []
    for name, table in axes_raw.items():
        where = f"compute.array.axes.{name}"
        _check_keys(table, _AXIS_KEYS, r.path, where)
        size = int(r.quantity(table, "size", where, None, positive=True, integer=True))
        unrolls = _require(table, "unrolls", r.path, where)
        if not isinstance(unrolls, list) or not unrolls or any(d not in UNROLLABLE_DIMS for d in unrolls):
            expected = f"a non-empty list of loop dims from {list(UNROLLABLE_DIMS)}"
            raise ProfileError(r.path, f"{where}.unrolls", expected, unrolls)
        axes.append(ArrayAxis(name, size, tuple(unrolls)))
    fill = r.quantity(raw, "fill_drain", "compute.array", {"cycle": 1.0}) if "fill_drain" in raw else 0.0
    return ComputeArray(tuple(axes), fill)


def _read_csc(r: _Reader, compute_raw: Mapping[str, Any], pes: int, dataflow: str) -> CSCConfig | None:
    """``[compute.csc]``: the ``eie-csc`` dataflow's relative-index bits, pointer bits and activation-queue
    depth (one PE per MAC lane: ``macs_per_cycle``); required with that dataflow, refused without it."""
    if dataflow != "eie-csc":
        if "csc" in compute_raw:
            raise ProfileError(r.path, "compute.csc", 'only with compute.dataflow = "eie-csc"', "a [compute.csc] table")
        return None
    raw = _require(compute_raw, "csc", r.path, "compute")
    _check_keys(raw, _CSC_KEYS | _CSC_OPTIONAL_KEYS | _CSC_STRING_KEYS, r.path, "compute.csc")
    values: dict[str, Any] = {
        key: int(r.quantity(raw, key, "compute.csc", _BIT_UNITS if key.endswith("_bits") else None,
                            positive=True, integer=True))
        for key in sorted(_CSC_KEYS | (_CSC_OPTIONAL_KEYS & raw.keys()))
    }
    if "pointer_overflow" in raw:
        values["pointer_overflow"] = r.string(raw, "pointer_overflow", "compute.csc", POINTER_OVERFLOW)
    return CSCConfig(pes=pes, **values)


def _read_rs(r: _Reader, compute_raw: Mapping[str, Any], pes: int, dataflow: str) -> RSConfig | None:
    """``[compute.rs]``: the ``eyeriss-rs`` dataflow's PE array (rows x cols = ``macs_per_cycle``) and
    per-PE scratchpad words; required with that dataflow, refused without it."""
    if dataflow != "eyeriss-rs":
        if "rs" in compute_raw:
            raise ProfileError(r.path, "compute.rs", 'only with compute.dataflow = "eyeriss-rs"', "a [compute.rs] table")
        return None
    raw = _require(compute_raw, "rs", r.path, "compute")
    _check_keys(raw, _RS_KEYS, r.path, "compute.rs")
    values = {key: int(r.quantity(raw, key, "compute.rs", None, positive=True, integer=True)) for key in sorted(_RS_KEYS)}
    if values["rows"] * values["cols"] != pes:
        raise ProfileError(r.path, "compute.rs", f"rows x cols = macs_per_cycle ({pes})",
                           f"{values['rows']} x {values['cols']}")
    return RSConfig(**values)
def _read_systolic(r: _Reader, compute_raw: Mapping[str, Any], dataflow: str) -> SystolicConfig | None:
    """``[compute.systolic]``: the ``systolic-*`` dataflows' ifmap, filter and ofmap SRAM sizes (SCALE-Sim's
    three SRAMs); required with those dataflows, refused without them."""
    if not dataflow.startswith("systolic-"):
        if "systolic" in compute_raw:
            raise ProfileError(r.path, "compute.systolic", 'only with compute.dataflow = "systolic-os|ws|is"',
                               "a [compute.systolic] table")
        return None
    raw = _require(compute_raw, "systolic", r.path, "compute")
    _check_keys(raw, _SYSTOLIC_KEYS, r.path, "compute.systolic")
    values = {f"{key}_bits": int(r.quantity(raw, key, "compute.systolic", CAPACITY_UNITS_BITS, positive=True))
              for key in sorted(_SYSTOLIC_KEYS)}
    return SystolicConfig(**values)


def _read_precision(r: _Reader, raw: Any) -> Precision:
    """``[compute.precision]`` (format v2): ``weights``/``activations`` data type names and a ``source``."""
    _check_keys(raw, _PRECISION_KEYS, r.path, "compute.precision")
    source = _require(raw, "source", r.path, "compute.precision")
    if not isinstance(source, str) or not source.strip():
        raise ProfileError(r.path, "compute.precision.source", "a non-empty citation string", source)
    types: dict[str, DataType] = {}
    for key in ("weights", "activations"):
        if key in raw:
            try:
                types[key] = DataType.parse(raw[key]) if isinstance(raw[key], str) else DataType.parse("?")
            except ValueError:
                expected = "a data type name such as 'int8'"
                raise ProfileError(r.path, f"compute.precision.{key}", expected, raw[key]) from None
    r.sources["compute.precision"] = source.strip()
    return Precision(types.get("weights"), types.get("activations"))


def _read_energy_table(r: _Reader, energy_raw: Any) -> dict[str, float]:
    """``[energy.<dtype>]`` and ``[energy.decode]`` -> ``{"int8.mult": pJ, "decode.codebook": pJ}``."""
    _check_keys(energy_raw, set(energy_raw) if isinstance(energy_raw, dict) else set(), r.path, "energy")
    op_energy: dict[str, float] = {}
    for group, ops in energy_raw.items():
        where = f"energy.{group}"
        if group == "decode":
            _check_keys(ops, set(DECODE_OPERATIONS), r.path, where)
        else:
            _check_data_type_name(r.path, where, group)
            _check_keys(ops, set(ENERGY_OPERATIONS), r.path, where)
        for op in ops:
            op_energy[f"{group}.{op}"] = r.quantity(ops, op, where, ENERGY_UNITS_PJ)
    return op_energy


def _read_rules(r: _Reader, rules_raw: Any) -> list[tuple[float, int, float, str]]:
    """``[rules.sqrt_capacity.<name>]`` reference points -> ``(capacity_bits, word_bits, energy_pj, label)``."""
    _check_keys(rules_raw, _RULE_TABLES, r.path, "rules")
    refs = []
    sqrt_raw = rules_raw.get("sqrt_capacity", {})
    _check_keys(sqrt_raw, set(sqrt_raw) if isinstance(sqrt_raw, dict) else set(), r.path, "rules.sqrt_capacity")
    for ref_name, ref in sqrt_raw.items():
        where = f"rules.sqrt_capacity.{ref_name}"
        _check_keys(ref, _SQRT_REF_KEYS, r.path, where)
        capacity = r.quantity(ref, "capacity", where, CAPACITY_UNITS_BITS, positive=True)
        word = int(r.quantity(ref, "word", where, _BIT_UNITS, positive=True, integer=True))
        energy = r.quantity(ref, "energy", where, ENERGY_UNITS_PJ)
        refs.append((capacity, word, energy, where))
    return refs


class _LevelContext:
    """What a memory-energy rule needs to know about its level and the profile."""

    __slots__ = ("kind", "capacity_bits", "word_bits", "banks", "op_energy", "sqrt_refs")

    def __init__(
        self,
        kind: str,
        capacity_bits: int,
        word_bits: int,
        banks: int,
        op_energy: Mapping[str, float],
        sqrt_refs: list[tuple[float, int, float, str]],
    ) -> None:
        self.kind, self.capacity_bits, self.word_bits, self.banks = kind, capacity_bits, word_bits, banks
        self.op_energy, self.sqrt_refs = op_energy, sqrt_refs


def _memory_energy(r: _Reader, table: Mapping[str, Any], key: str, where: str, ctx: _LevelContext) -> float:
    """A listed memory energy, or one derived by a declared rule (its source names rule, row, arithmetic)."""
    entry = _require(table, key, r.path, where)
    if not (isinstance(entry, dict) and "rule" in entry):
        return r.quantity(table, key, where, ENERGY_UNITS_PJ)
    keypath = f"{where}.{key}"
    rule = entry["rule"]
    if rule not in _ENERGY_RULES:
        raise ProfileError(r.path, f"{keypath}.rule", f"one of {sorted(_ENERGY_RULES)}", rule)
    if rule == "sqrt_capacity":
        _check_keys(entry, {"rule"}, r.path, keypath)
        if ctx.kind != "sram":
            raise ProfileError(r.path, f"{keypath}.rule", "'sqrt_capacity' only on a level of kind 'sram'", ctx.kind)
        if not ctx.sqrt_refs:
            raise ProfileError(
                r.path, "rules.sqrt_capacity", f"at least one reference point for {keypath} = sqrt_capacity", "none"
            )
        value, arithmetic = sqrt_capacity_energy(ctx.capacity_bits / ctx.banks, ctx.word_bits, ctx.sqrt_refs)
        bank_note = f" ({ctx.banks} banks)" if ctx.banks > 1 else ""
        r.sources[keypath] = f"derived: SRAM energy ∝ √capacity{bank_note}, {arithmetic}"
        return value
    # mac_multiple
    _check_keys(entry, {"rule", "of", "factor"}, r.path, keypath)
    of = _require(entry, "of", r.path, keypath)
    try:
        dtype = DataType.parse(of) if isinstance(of, str) else None
    except ValueError:
        dtype = None
    if dtype is None:
        raise ProfileError(r.path, f"{keypath}.of", "a data type name such as int16", of)
    factor = r.quantity(entry, "factor", keypath, None)
    try:
        parts = [derive_op_energy(ctx.op_energy, r.sources, op, dtype.kind, dtype.bits, r.path) for op in ("mult", "add")]
    except ProfileError as exc:
        raise ProfileError(r.path, f"{keypath}.of", f"a data type whose mult and add energies the profile prices ({exc.expected})", f"{of}: no {exc.key}") from None
    mac = parts[0].energy_pj + parts[1].energy_pj
    value = factor * mac
    how = " + ".join(
        f"{op} {p.energy_pj:.6g} pJ ({p.source if p.rule else f'listed energy.{of}.{op}'})"
        for op, p in zip(("mult", "add"), parts)
    )
    r.sources[keypath] = (
        f"derived: memory access = factor × MAC (mac_multiple), {factor:g} × one {of} MAC [{how}]"
        f" = {factor:g} × {mac:.6g} = {value:.6g} pJ"
    )
    return value


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


# ---------------------------------------------------------------------------------------------------------
# Meaning checks: values that parse but make no physical sense (kept apart from the schema reading above)

#: Plausibility ceilings per unit table, in base units (generous: they catch typos and hostile files, not designs).
_PLAUSIBLE_MAX: tuple[tuple[Mapping[str, float], float, str], ...] = (
    (ENERGY_UNITS_PJ, 1e12, "1e12 pJ (1 J) per event"),
    (FREQUENCY_UNITS_HZ, 1e13, "1e13 Hz (10 THz)"),
    (CAPACITY_UNITS_BITS, float(1 << 80), "2**80 bits"),
    (POWER_UNITS_MW, 1e9, "1e9 mW (1 MW)"),
    (_BIT_UNITS, float(MAX_WIDTH_BITS), f"{MAX_WIDTH_BITS} bits"),
)
#: Widths a data type of each kind may have (``[energy.<kind><bits>]``).
DATA_TYPE_BITS = {"int": range(1, 65), "float": (4, 8, 16, 32, 64)}


def _check_converted(path: str, keypath: str, value: float, scale: float, units: Mapping[str, float] | None) -> float:
    """``value * scale`` (the quantity in base units), refused when the conversion overflows or is implausible."""
    converted = value * scale
    if not math.isfinite(converted):
        raise ProfileError(path, f"{keypath}.value", "a value that stays finite after unit conversion", f"{value!r} -> {converted}")
    limit = next(((m, label) for table, m, label in _PLAUSIBLE_MAX if units is table), None)
    if limit is not None and converted > limit[0]:
        raise ProfileError(path, f"{keypath}.value", f"at most {limit[1]}", f"{value!r} ({converted:.6g} in base units)")
    if units is None and converted > 1e15:
        raise ProfileError(path, f"{keypath}.value", "at most 1e15", value)
    return converted


def _check_data_type_name(path: str, where: str, group: str) -> None:
    """``group`` must name a data type pjsim prices: int1..int64 or float4/8/16/32/64."""
    expected = "a data type name int1..int64, float4, float8, float16, float32, float64, or 'decode'"
    try:
        dtype = DataType.parse(group)
    except ValueError:
        raise ProfileError(path, where, expected, group) from None
    if dtype.bits not in DATA_TYPE_BITS[dtype.kind]:
        raise ProfileError(path, where, expected, f"{group} ({dtype.bits}-bit {dtype.kind})")


def _check_level_widths(level: MemoryLevel, path: str) -> None:
    """A level's access word cannot be wider than the level itself (its energy per bit would vanish)."""
    if level.word_bits > level.capacity_bits:
        raise ProfileError(
            path,
            f"memory.{level.name}.word",
            f"a word no wider than the level's capacity ({level.capacity_bits} bits)",
            f"{level.word_bits} bits",
        )
