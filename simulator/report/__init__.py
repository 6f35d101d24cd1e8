"""Reports: formats ``Configuration``s / ``CostReport``s (never computes) -> tables -> Plotly -> one HTML file.

``write_html(items, path)`` writes the report as one HTML file (``export="csv,json"`` adds its tables
beside it, ``plotly_js=DIR`` shares one plotly.js between reports);
``load_report_json(path)`` reads the configurations back from such a JSON file (any version so far).
What a report shows is built by ``simulator.studies`` (``configuration_for``, ``build_configuration``);
this package imports neither the API nor ``models``. Names are imported lazily, so building the
records (``simulator.report.records``) does not load plotly or pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "REPORT_FORMAT",
    "Configuration",
    "energy_table",
    "export_tables",
    "headline_cards",
    "layer_energy_table",
    "load_report_json",
    "render_html",
    "report_document",
    "summary_table",
    "write_html",
]

_LAZY = {
    "REPORT_FORMAT": "simulator.report.export",
    "export_tables": "simulator.report.export",
    "report_document": "simulator.report.export",
    "headline_cards": "simulator.report.html",
    "render_html": "simulator.report.html",
    "write_html": "simulator.report.html",
    "energy_table": "simulator.report.tables",
    "layer_energy_table": "simulator.report.tables",
    "summary_table": "simulator.report.tables",
    "Configuration": "simulator.report.records",
    "load_report_json": "simulator.report.saved",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simulator.report' has no attribute {name!r}")
