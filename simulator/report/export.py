"""The report's tables as CSV and JSON next to the HTML, for people who post-process.

``<stem>.<table>.csv`` holds one table each (``simulator.report.tables.EXPORT_TABLES``);
``<stem>.json`` holds every table as a list of rows plus the configurations themselves (encoded
with ``simulator.jsonio``), so ``pjsim report --from <stem>.json`` rebuilds the same report.
All files are written atomically and together (all or none); CSV cells starting with ``= + - @``,
tab or carriage return get a leading ``'`` so a spreadsheet shows them as text (OWASP CSV injection).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulator.fileio import csv_safe_frame, write_files_atomic
from simulator.jsonio import to_jsonable
from simulator.report.tables import EXPORT_TABLES
from simulator.report.records import Configuration

__all__ = ["REPORT_FORMAT", "export_files", "export_paths", "export_tables", "report_document"]

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


def export_files(configs: Sequence[Configuration], html_path: str | Path, title: str = "", notes: Sequence[str] = ()) -> dict[Path, str]:
    """The export files of a report as ``path -> text``: ``<stem>.json`` and one ``<stem>.<table>.csv`` per table.

    CSV cells that a spreadsheet would run as a formula are neutralised (``simulator.fileio.csv_safe_frame``).
    """
    json_path, *csv_paths = export_paths(html_path)
    files = {json_path: json.dumps(report_document(configs, title, notes), indent=1)}
    for csv_path, build in zip(csv_paths, EXPORT_TABLES.values()):
        files[csv_path] = csv_safe_frame(build(list(configs))).to_csv(index=False)
    return files


def export_paths(html_path: str | Path) -> list[Path]:
    """The export files beside ``html_path``: ``<stem>.json``, then ``<stem>.<table>.csv`` in ``EXPORT_TABLES`` order."""
    stem = Path(html_path).with_suffix("")
    return [stem.with_name(stem.name + ".json")] + [stem.with_name(f"{stem.name}.{name}.csv") for name in EXPORT_TABLES]


def export_tables(configs: Sequence[Configuration], html_path: str | Path, title: str = "", notes: Sequence[str] = ()) -> list[Path]:
    """Write ``<stem>.json`` and one ``<stem>.<table>.csv`` per table beside ``html_path``, all or none; return the paths."""
    files = export_files(configs, html_path, title, notes)
    return write_files_atomic({p: t.encode("utf-8") for p, t in files.items()})
