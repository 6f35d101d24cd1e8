"""The report's tables as CSV and JSON next to the HTML, for people who post-process.

``<stem>.<table>.csv`` holds one table each (``simulator.report.tables.EXPORT_TABLES``);
``<stem>.json`` holds every table as a list of rows plus the configurations themselves (encoded
with ``simulator.jsonio``), so ``pjsim report --from <stem>.json`` rebuilds the same report.
All files are written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulator.fileio import write_text_atomic
from simulator.jsonio import to_jsonable
from simulator.report.tables import EXPORT_TABLES
from simulator.report.records import Configuration

__all__ = ["REPORT_FORMAT", "export_tables", "report_document"]

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


def export_tables(configs: Sequence[Configuration], html_path: str | Path, title: str = "", notes: Sequence[str] = ()) -> list[Path]:
    """Write ``<stem>.json`` and one ``<stem>.<table>.csv`` per table beside ``html_path``; return the paths."""
    html_path = Path(html_path)
    stem = html_path.with_suffix("")
    written = [write_text_atomic(stem.with_name(stem.name + ".json"), json.dumps(report_document(configs, title, notes), indent=1))]
    for name, build in EXPORT_TABLES.items():
        frame = build(list(configs))
        written.append(write_text_atomic(stem.with_name(f"{stem.name}.{name}.csv"), frame.to_csv(index=False)))
    return written
