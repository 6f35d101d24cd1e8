"""The report's tables as CSV and JSON next to the HTML, for people who post-process.

Written only on request (``write_html(..., export="csv,json")``, ``pjsim report --export csv,json``).
``<stem>.<table>.csv`` holds one table each (``EXPORT_TABLES``: the report's tables plus the per-layer
table, the roofline points and the per-layer comparison, e.g. every spilling layer);
``<stem>.json`` holds every table as a list of rows plus the configurations themselves (encoded
with ``simulator.jsonio``), so ``pjsim report --from <stem>.json`` rebuilds the same report.
All files are written atomically and together (all or none); CSV cells starting with ``= + - @``,
tab or carriage return get a leading ``'`` so a spreadsheet shows them as text (OWASP CSV injection).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.fileio import csv_safe_frame, write_files_atomic
from simulator.jsonio import to_jsonable
from simulator.report import tables as _tables
from simulator.report.layer_tables import layer_comparison_table, layer_table, roofline_table
from simulator.report.records import Configuration

__all__ = ["EXPORT_FORMATS", "EXPORT_TABLES", "REPORT_FORMAT", "export_files", "export_formats", "export_paths", "export_tables",
           "report_document"]


def _per_config(build: Callable[[Configuration], pd.DataFrame]) -> Callable[[Sequence[Configuration]], pd.DataFrame]:
    """A per-configuration table builder stacked over configurations, with a leading ``config`` column."""

    def stacked(configs: Sequence[Configuration]) -> pd.DataFrame:
        frames = [build(c).assign(config=c.label) for c in configs]
        if not frames:
            return pd.DataFrame(columns=["config"])
        frame = pd.concat(frames, ignore_index=True)
        return frame[["config", *[col for col in frame.columns if col != "config"]]]

    return stacked


#: Tables exported beside the HTML, by file suffix: the report's own tables plus the per-layer ones.
EXPORT_TABLES = {**_tables.EXPORT_TABLES, "layers": _per_config(layer_table), "roofline": _per_config(roofline_table),
                 "layer_comparison": layer_comparison_table}  # fmt: skip

#: Sidecar formats ``write_html(..., export=...)`` knows.
EXPORT_FORMATS = ("csv", "json")


def export_formats(export: bool | str | Iterable[str] | None) -> tuple[str, ...]:
    """``export`` as a tuple of formats from ``EXPORT_FORMATS``: None/False -> none, True -> all,
    ``"csv,json"`` or ``["csv"]`` -> those (ValueError naming an unknown one)."""
    if export is None or export is False:
        return ()
    if export is True:
        return EXPORT_FORMATS
    names = [x.strip().lower() for x in (export.split(",") if isinstance(export, str) else export)]
    names = [x for x in names if x]
    unknown = [x for x in names if x not in EXPORT_FORMATS]
    if unknown:
        raise ValueError(f"export: unknown format(s) {', '.join(map(repr, unknown))}; expected a comma-separated subset of "
                         f"{', '.join(EXPORT_FORMATS)}")  # fmt: skip
    return tuple(x for x in EXPORT_FORMATS if x in names)


#: Identifies a pjsim report JSON document (and its version).
REPORT_FORMAT = "pjsim-report/2"  # 2: typed CostReport (footprint, coverage, accuracy, per-layer traffic); 1 still loads


def report_document(configs: Sequence[Configuration], title: str = "", notes: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON document of a report: format tag, title, notes, tables (rows) and configurations."""
    tables = {}
    for name, build in EXPORT_TABLES.items():
        frame = build(list(configs))
        tables[name] = json.loads(frame.to_json(orient="records"))
    return {
        "format": REPORT_FORMAT,
        "title": title,
        "notes": list(notes),
        "tables": tables,
        "configurations": [to_jsonable(c) for c in configs],
    }


def export_files(configs: Sequence[Configuration], html_path: str | Path, title: str = "", notes: Sequence[str] = (),
                 formats: Sequence[str] = ("csv", "json")) -> dict[Path, str]:  # fmt: skip
    """The export files of a report as ``path -> text``: ``<stem>.json`` and/or one ``<stem>.<table>.csv`` per table.

    CSV cells that a spreadsheet would run as a formula are neutralised (``simulator.fileio.csv_safe_frame``).
    """
    json_path, *csv_paths = export_paths(html_path)
    files = {}
    if "json" in formats:
        files[json_path] = json.dumps(report_document(configs, title, notes), indent=1)
    if "csv" in formats:
        for csv_path, build in zip(csv_paths, EXPORT_TABLES.values()):
            files[csv_path] = csv_safe_frame(build(list(configs))).to_csv(index=False)
    return files


def export_paths(html_path: str | Path, formats: Sequence[str] = ("csv", "json")) -> list[Path]:
    """The export files beside ``html_path``: ``<stem>.json`` (always first), then ``<stem>.<table>.csv`` in
    ``EXPORT_TABLES`` order; with ``formats`` not naming json or csv those are left out (json first when present)."""
    stem = Path(html_path).with_suffix("")
    paths = [stem.with_name(stem.name + ".json")] if "json" in formats else []
    if "csv" in formats:
        paths += [stem.with_name(f"{stem.name}.{name}.csv") for name in EXPORT_TABLES]
    return paths


def export_tables(configs: Sequence[Configuration], html_path: str | Path, title: str = "", notes: Sequence[str] = ()) -> list[Path]:
    """Write ``<stem>.json`` and one ``<stem>.<table>.csv`` per table beside ``html_path``, all or none; return the paths."""
    files = export_files(configs, html_path, title, notes)
    return write_files_atomic({p: t.encode("utf-8") for p, t in files.items()})
