"""A layer named like a spreadsheet formula is neutralised in every CSV pjsim writes (issue 18, OWASP rule).

Before: ``=HYPERLINK(...)`` went verbatim into ``*.energy.csv``.
"""

from __future__ import annotations

import csv
import io

import torch
from torch import nn

from simulator.api import simulate
from simulator.cli.cmd_simulate import _csv_text
from simulator.fileio import CSV_FORMULA_PREFIXES
from simulator.report.export import export_files
from simulator.report.tables import as_configurations
from simulator.trace.export import write_op_stream

FORMULA = '=HYPERLINK("http://evil.example/x","click")'


def _formula_model() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module(FORMULA.replace(".", "_"), nn.Linear(8, 4))
    model.add_module("@SUM(A1)", nn.ReLU())
    return model.eval()


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_neutralised(text: str) -> None:
    cells = _cells(text)
    assert any(c.startswith("'=HYPERLINK") for c in cells), cells[:40]
    bad = [c for c in cells if c.startswith(CSV_FORMULA_PREFIXES) and not _is_number(c)]
    assert not bad, bad


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_formula_layer_is_neutralised_in_simulate_csv_report_exports_and_op_stream(tmp_path):
    model = _formula_model()
    report = simulate(model, "horowitz45", example_inputs=torch.rand(1, 8), engine="closed-form", timeline=False)
    assert any(k[0].startswith("=HYPERLINK") for k in report.energy_pj)  # the hostile name reached the report
    _assert_neutralised(_csv_text(report))
    files = export_files(as_configurations(report), tmp_path / "r.html")
    energy_csv = next(text for path, text in files.items() if path.name == "r.energy.csv")
    _assert_neutralised(energy_csv)
    for path, text in files.items():
        if path.suffix == ".csv":
            assert not [c for c in _cells(text) if c.startswith(("=", "@")) and not _is_number(c)], path

    from simulator.api import trace_model

    out = write_op_stream(trace_model(model, example_inputs=torch.rand(1, 8)), tmp_path / "ops.csv")
    _assert_neutralised(out.read_text())
