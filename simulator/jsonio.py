"""Frozen records <-> JSON, so results can be saved and re-read (``pjsim report --from saved.json``).

The encoding is generic over pjsim's frozen dataclasses, so fields added to a record later need no
change here: a dataclass becomes ``{"__record__": "module:Class", field: value, ...}``, a ``FrozenMap``
becomes ``{"__map__": [[key, value], ...]}`` (keys may be tuples), a tuple ``{"__tuple__": [...]}``.
Decoding only instantiates dataclasses from pjsim's own packages. Non-finite floats are written as
``{"__float__": "NaN" | "Infinity" | "-Infinity"}`` to keep the file strict JSON.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from typing import Any

from simulator.errors import PjsimError
from simulator.frozen import FrozenMap

__all__ = ["MAX_REPORT_JSON_BYTES", "RecordDecodeError", "from_jsonable", "to_jsonable"]

#: Largest saved-report JSON read back (a report of dozens of configurations is a few MB).
MAX_REPORT_JSON_BYTES = 256 << 20

_ALLOWED_PACKAGES = ("simulator.", "models.")
_FLOAT_NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class RecordDecodeError(PjsimError):
    """A JSON document does not describe pjsim records (names the offending part)."""


def to_jsonable(obj: Any) -> Any:
    """A JSON-serialisable structure for ``obj`` (records, FrozenMaps, tuples, numbers, strings)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        out: dict[str, Any] = {"__record__": f"{cls.__module__}:{cls.__qualname__}"}
        for f in dataclasses.fields(obj):
            out[f.name] = to_jsonable(getattr(obj, f.name))
        return out
    if isinstance(obj, FrozenMap):
        return {"__map__": [[to_jsonable(k), to_jsonable(v)] for k, v in obj.items()]}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: to_jsonable(v) for k, v in obj.items()}
        return {"__dict__": [[to_jsonable(k), to_jsonable(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [to_jsonable(v) for v in obj]}
    if isinstance(obj, list):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return {"__float__": "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")}
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return to_jsonable(obj.item())
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON: {obj!r:.80}")


def from_jsonable(data: Any, where: str = "$") -> Any:
    """Rebuild the records ``to_jsonable`` encoded.

    Raises:
        RecordDecodeError: an unknown or disallowed record type, or a malformed entry (names where).
    """
    if isinstance(data, list):
        return [from_jsonable(v, f"{where}[{i}]") for i, v in enumerate(data)]
    if not isinstance(data, dict):
        return data
    if "__record__" in data:
        cls = _record_class(data["__record__"], where)
        kwargs = {}
        names = {f.name for f in dataclasses.fields(cls)}
        for key, value in data.items():
            if key == "__record__":
                continue
            if key not in names:
                raise RecordDecodeError(f"{where}: {data['__record__']} has no field '{key}'")
            kwargs[key] = from_jsonable(value, f"{where}.{key}")
        try:
            return cls(**kwargs)
        except Exception as exc:  # noqa: BLE001 - a record's own checks may raise anything on hostile values
            raise RecordDecodeError(f"{where}: cannot build {data['__record__']}: {type(exc).__name__}: {exc}") from None
    if "__float__" in data:
        if not isinstance(data["__float__"], str) or data["__float__"] not in _FLOAT_NAMES:
            raise RecordDecodeError(f"{where}: '__float__' must be one of {sorted(_FLOAT_NAMES)}, found {data['__float__']!r:.80}")
        return _FLOAT_NAMES[data["__float__"]]
    if "__map__" in data:
        return FrozenMap(_pairs(data["__map__"], f"{where}.__map__"))
    if "__dict__" in data:
        return _pairs(data["__dict__"], f"{where}.__dict__")
    if "__tuple__" in data:
        if not isinstance(data["__tuple__"], list):
            raise RecordDecodeError(f"{where}: '__tuple__' must hold a list, found {type(data['__tuple__']).__name__}")
        return tuple(from_jsonable(v, f"{where}[{i}]") for i, v in enumerate(data["__tuple__"]))
    return {k: from_jsonable(v, f"{where}.{k}") for k, v in data.items()}


def _pairs(items: Any, where: str) -> dict[Any, Any]:
    """A ``[[key, value], ...]`` list decoded into a dict (keys made hashable); anything else is named."""
    if not isinstance(items, list) or not all(isinstance(p, list) and len(p) == 2 for p in items):
        raise RecordDecodeError(f"{where}: expected a list of [key, value] pairs, found {items!r:.80}")
    out = {}
    for i, (k, v) in enumerate(items):
        key = _hashable(from_jsonable(k, f"{where}[{i}][0]"))
        try:
            hash(key)
        except TypeError:
            raise RecordDecodeError(f"{where}[{i}][0]: a key must be a number, string or list, found {key!r:.80}") from None
        out[key] = from_jsonable(v, f"{where}[{i}][1]")
    return out


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def _record_class(name: Any, where: str) -> type:
    if not isinstance(name, str) or ":" not in name:
        raise RecordDecodeError(f"{where}: '__record__' must be 'module:Class', found {name!r}")
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith(_ALLOWED_PACKAGES):
        raise RecordDecodeError(f"{where}: record type {name!r} is not a pjsim record")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError):
        raise RecordDecodeError(f"{where}: unknown record type {name!r:.120}") from None
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
        raise RecordDecodeError(f"{where}: {name!r} is not a record type")
    return obj
