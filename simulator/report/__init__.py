"""Reports: CostReports -> pandas tables -> Plotly figures -> self-contained HTML."""

from simulator.report.html import render_html, write_html
from simulator.report.tables import energy_table, layer_energy_table, summary_table

__all__ = ["energy_table", "layer_energy_table", "render_html", "summary_table", "write_html"]
