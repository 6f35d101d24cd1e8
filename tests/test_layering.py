"""The dependency rules of the design: the cost model imports neither torch nor plotly nor simpy; the report
layer imports neither the API nor the model zoo."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE_MODULES = ["simulator.units", "simulator.workload", "simulator.cost", "simulator.hardware", "simulator.energy"]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_modules_do_not_import_heavy_libraries(module):
    code = (
        f"import sys, {module}; "
        "bad = [m for m in ('torch', 'plotly', 'simpy', 'pandas') if m in sys.modules]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} imports {result.stdout.strip()} {result.stderr[-500:]}"


def _imported_modules(path) -> set[str]:
    """Every module a source file imports (module level or inside functions), by its absolute name."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


#: What ``simulator/report/`` may not import: it formats records, it does not trace, load or simulate.
REPORT_FORBIDDEN = ("simulator.api", "simulator.studies", "simulator.demo", "models")


def test_report_imports_neither_the_api_nor_models():
    """design.md: report/ only formats; orchestration lives in simulator/studies.py (above the API)."""
    from pathlib import Path

    import simulator

    report_dir = Path(simulator.__file__).parent / "report"
    bad = {
        f"{path.name}: {name}"
        for path in sorted(report_dir.glob("*.py"))
        for name in _imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in REPORT_FORBIDDEN)
    }
    assert not bad, f"simulator/report imports orchestration: {sorted(bad)}"


def test_rendering_a_report_loads_neither_the_api_nor_models():
    code = (
        "import sys, simulator.report.html, simulator.report.export, simulator.report.saved, simulator.report.figures; "
        f"bad = [m for m in {REPORT_FORBIDDEN!r} if m in sys.modules]; print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"simulator.report loads {result.stdout.strip()} {result.stderr[-500:]}"


def test_report_records_load_no_rendering_stack():
    """Studies build ``simulator.report.records`` without pulling in plotly or pandas."""
    code = (
        "import sys, simulator.report.records; "
        "bad = [m for m in ('plotly', 'pandas', 'torch', 'simulator.api') if m in sys.modules]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"simulator.report.records loads {result.stdout.strip()} {result.stderr[-500:]}"
