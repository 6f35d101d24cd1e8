"""Reports: Configurations / CostReports -> pandas tables -> Plotly figures -> one self-contained HTML file.

``write_html(items, path)`` writes the report and its tables (CSV + JSON) next to it;
``load_report_json(path)`` reads the configurations back from such a JSON file;
``configuration_for("lenet_300_100", "horowitz45")`` builds what ``pjsim report lenet_300_100@horowitz45`` shows.
"""

from simulator.report.export import REPORT_FORMAT, export_tables, report_document
from simulator.report.html import headline_cards, render_html, write_html
from simulator.report.tables import energy_table, layer_energy_table, summary_table
from simulator.report_data import Configuration, build_configuration, configuration_for, load_report_json

__all__ = [
    "REPORT_FORMAT",
    "Configuration",
    "build_configuration",
    "configuration_for",
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
