"""Saved reports: read a report's JSON export back into ``Configuration`` records.

Documents written by earlier versions still load: ``upgrade_saved`` rewrites their records into the
current ones (``pjsim-report/2``) before decoding. Format ``pjsim-report/1``, written before the typed
``CostReport`` (fit facts as copied fields, coverage and accuracy as metadata strings, traffic per level
only, the records in ``simulator.report_data``) becomes: a ``Footprint`` built from the copied fit fields and the
saved per-layer fit chart, a typed ``Coverage`` and ``Accuracy``, traffic under the layer
``LEGACY_LAYER``, and level word widths from the saved access counts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from simulator.cost import CostReport
from simulator.errors import ReportError
from simulator.report.records import Configuration

#: Nesting a report JSON may have: real reports are about 10 deep; the bound keeps the recursive upgrade and
#: decode far from Python's recursion limit whatever the caller's stack depth.
MAX_REPORT_JSON_DEPTH = 32

__all__ = ["LEGACY_LAYER", "MAX_REPORT_JSON_DEPTH", "load_report_json", "parse_accuracy", "upgrade_saved"]

#: The layer name given to traffic saved without a per-layer split (reports written before it existed).
LEGACY_LAYER = "(all layers)"

_MOVED = {"simulator.report_data:": "simulator.report.records:"}
_COVERAGE_KEYS = {
    "unsupported aten ops (not costed)": "unsupported_ops",
    "unmapped op kinds (costed as streaming)": "unmapped_kinds",
    "unpriced operations (no energy in the profile; counted, priced at 0)": "unpriced_operations",
}
_ACCURACY_KEYS = ("accuracy", "test_accuracy", "top1_accuracy", "accuracy_top1")
_ORIGIN_KEYS = ("accuracy_source", "accuracy_origin", "accuracy_measured", "accuracy_note")
_OLD_FIT_FIELDS = ("peak_activation_bits", "fits_on_chip", "sram_capacity_bits", "min_sram_bits", "spilling_layers")


def _rec(name: str, **fields: Any) -> dict[str, Any]:
    return {"__record__": name, **fields}


def _map(data: Any) -> list:
    return data["__map__"] if isinstance(data, dict) and "__map__" in data else []


def _tuple(data: Any) -> list:
    return data["__tuple__"] if isinstance(data, dict) and "__tuple__" in data else []


def _counts(text: str) -> dict[str, Any]:
    """``"a x2, b x3"`` -> the encoded tuple of ``OpCount`` records."""
    items = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, count = part.rpartition(" x")
        try:
            items.append(_rec("simulator.cost:OpCount", name=name or part, count=float(count.replace(",", ""))))
        except ValueError:
            items.append(_rec("simulator.cost:OpCount", name=part, count=1.0))
    return {"__tuple__": items}


def parse_accuracy(text: str) -> float | None:
    """A fraction from a saved accuracy string: ``"98.50 %"`` -> 0.985, ``"0.985"`` -> 0.985; None if not a number."""
    match = re.search(r"[-+]?\d+(?:\.\d+)?", str(text))
    if match is None:
        return None
    value = float(match.group(0))
    fraction = value / 100 if "%" in str(text) or value > 1 else value
    return fraction if 0.0 <= fraction <= 1.0 else None


def _upgrade_cost(cost: dict[str, Any], fit: Any) -> dict[str, Any]:
    if not any(k in cost for k in (*_OLD_FIT_FIELDS, "traffic_bits", "accesses_by_level")):
        return cost
    cost = dict(cost)
    old = {k: cost.pop(k, None) for k in _OLD_FIT_FIELDS}
    if cost.get("footprint") is None and old["min_sram_bits"] is not None:
        peak = int(old["peak_activation_bits"] or 0)
        layers = [lay for lay in _tuple(fit.get("layers")) if isinstance(lay, dict)] if isinstance(fit, dict) else []
        cost["footprint"] = _rec(
            "simulator.mapping.residency:Footprint",
            capacity_bits=int(old["sram_capacity_bits"] or 0),
            weight_onchip_bits=int(old["min_sram_bits"]) - peak,
            peak_activation_bits=peak,
            layer_weight_bits={"__map__": [[lay["layer"], lay["weight_bits"]] for lay in layers]},
            layer_live_activation_bits={"__map__": [[lay["layer"], lay["live_activation_bits"]] for lay in layers]},
            spilling_layers=old["spilling_layers"] or {"__tuple__": []},
        )
    traffic = _map(cost.pop("traffic_bits", None))
    accesses = dict((k, v) for k, v in _map(cost.pop("accesses_by_level", None)))
    if traffic:
        cost["layer_traffic_bits"] = {"__map__": [[{"__tuple__": [LEGACY_LAYER, *_tuple(k)]}, v] for k, v in traffic]}
        level_bits: dict[str, float] = {}
        for k, v in traffic:
            level = _tuple(k)[0]
            level_bits[level] = level_bits.get(level, 0.0) + float(v)
        cost["level_word_bits"] = {"__map__": [[lv, round(level_bits[lv] / n)] for lv, n in accesses.items() if n and lv in level_bits]}
    meta = {k: v for k, v in _map(cost.get("metadata"))}
    coverage = {field: _counts(meta.pop(key)) for key, field in _COVERAGE_KEYS.items() if key in meta}
    if coverage:
        cost["coverage"] = _rec("simulator.cost:Coverage", **coverage)
    for key in _ACCURACY_KEYS:
        fraction = parse_accuracy(meta.get(key, ""))
        if fraction is not None:
            origin = next((str(meta[k]) for k in _ORIGIN_KEYS if str(meta.get(k, "")).strip()), "recorded in a saved report")
            cost["accuracy"] = _rec("simulator.cost:Accuracy", fraction=fraction, source=origin)
            for k in (key, *_ORIGIN_KEYS):
                meta.pop(k, None)
            break
    cost["metadata"] = {"__map__": [[k, v] for k, v in meta.items()]}
    return cost


def upgrade_saved(data: Any) -> Any:
    """Rewrite records saved by earlier versions into the current ones (JSON in, JSON out; see module doc)."""
    if isinstance(data, list):
        return [upgrade_saved(v) for v in data]
    if not isinstance(data, dict):
        return data
    out = dict(data)
    name = out.get("__record__")
    if isinstance(name, str):
        for old, new in _MOVED.items():
            if name.startswith(old):
                name = out["__record__"] = new + name[len(old):]
        if name == "simulator.report.records:Configuration":
            fit = out.pop("fit", None)
            if isinstance(out.get("cost"), dict):
                out["cost"] = _upgrade_cost(out["cost"], fit)
        elif name == "simulator.cost:CostReport":
            out = _upgrade_cost(out, None)
    return {k: upgrade_saved(v) for k, v in out.items()}


def load_report_json(path: str | Path) -> tuple[str, tuple[str, ...], tuple[Configuration, ...]]:
    """Read ``(title, notes, configurations)`` back from a report's JSON export (any version so far).

    Also accepts a file holding one encoded ``Configuration`` or ``CostReport`` (or a list of them).

    Raises:
        ReportError: the file is missing, unreadable, not JSON, or holds no pjsim configurations
            (the message names the file and what was expected).
    """
    from simulator.fileio import InputFileError, load_json_bounded
    from simulator.jsonio import MAX_REPORT_JSON_BYTES, RecordDecodeError, from_jsonable

    path = Path(path)
    try:
        data = load_json_bounded(path, MAX_REPORT_JSON_BYTES, "pjsim report .json", max_depth=MAX_REPORT_JSON_DEPTH)
    except InputFileError as exc:
        raise ReportError(str(exc)) from None
    title, notes = "", ()
    if isinstance(data, dict) and "configurations" in data:
        raw_notes = data.get("notes", [])
        if not isinstance(raw_notes, list):
            raise ReportError(f"{path}: 'notes' must be a list of strings, found {type(raw_notes).__name__}")
        title, notes, data = str(data.get("title", "")), tuple(map(str, raw_notes)), data["configurations"]
    items = upgrade_saved(data if isinstance(data, list) else [data])
    try:
        decoded = [from_jsonable(item, f"{path}[{i}]") for i, item in enumerate(items)]
    except RecordDecodeError as exc:
        raise ReportError(str(exc)) from None
    configs = []
    for i, item in enumerate(decoded):
        if isinstance(item, CostReport):
            item = Configuration.of(item)
        if not isinstance(item, Configuration):
            raise ReportError(f"{path}: entry {i} is {type(item).__name__}, expected a pjsim Configuration or CostReport")
        configs.append(item)
    if not configs:
        raise ReportError(f"{path}: holds no configurations")
    return title, notes, tuple(configs)
