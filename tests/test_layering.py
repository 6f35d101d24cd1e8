"""The dependency rules of the design: the cost model imports neither torch nor plotly nor simpy;
``simulator/{compress,storage,trace}`` never import ``models``; torch, simpy and plotly are imported
only by the packages design.md names; the report layer imports neither the API nor the model zoo."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


# --- Static rules of design.md ("Dependency direction"), read from the source: every import statement,
# function-local ones included (a cycle hidden inside a function is still a cycle).

SIMULATOR = Path(__file__).resolve().parents[1] / "simulator"

#: Packages of ``simulator`` that sit below ``models`` and must never import it.
BELOW_MODELS = ("compress", "storage", "trace")

#: Heavy library -> the only parts of ``simulator`` allowed to import it directly (design.md).
#: ``models/`` may import torch too; it is outside ``simulator``.
ONLY_IMPORTED_BY = {
    "torch": ("compress", "storage", "trace"),
    "simpy": ("memsim",),
    "plotly": ("report",),
}

#: Direct torch imports that break the rule today, to be moved into trace/compress (or ``studies``
#: once it exists). The test fails on any new one; remove an entry when its import goes.
KNOWN_TORCH_IMPORTERS = {"demo.py"}


def _imported_modules(path: Path) -> set[str]:
    """Every module named by an ``import`` or ``from ... import`` anywhere in the file (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _top(module: str) -> str:
    return module.split(".")[0]


def _sources(package: str | None = None) -> list[Path]:
    root = SIMULATOR / package if package else SIMULATOR
    return sorted(root.rglob("*.py"))


@pytest.mark.parametrize("package", BELOW_MODELS)
def test_libraries_below_models_never_import_models(package):
    """``simulator.{compress,storage,trace}`` are the library ``models/`` uses; importing back is a cycle."""
    offenders = {str(p.relative_to(SIMULATOR)): sorted(m for m in _imported_modules(p) if _top(m) == "models")
                 for p in _sources(package)}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"simulator/{package} imports models: {offenders}"


@pytest.mark.parametrize("package", BELOW_MODELS)
def test_importing_the_library_does_not_load_models(package):
    code = f"import sys, simulator.{package}; sys.exit(1 if 'models' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"importing simulator.{package} loads models {result.stderr[-500:]}"


@pytest.mark.parametrize("library", sorted(ONLY_IMPORTED_BY))
def test_heavy_libraries_are_imported_only_where_the_design_allows(library):
    allowed = ONLY_IMPORTED_BY[library]
    known = KNOWN_TORCH_IMPORTERS if library == "torch" else set()
    importers = set()
    for path in _sources():
        rel = path.relative_to(SIMULATOR)
        if rel.parts[0] in allowed:
            continue
        if any(_top(m) == library for m in _imported_modules(path)):
            importers.add(rel.as_posix())
    where = ",".join(allowed)
    assert importers <= known, f"{library} imported outside simulator/{{{where}}}: {sorted(importers - known)}"


# --- report/ only formats (issue 12)


def _imported_names(path) -> set[str]:
    """Every module a source file imports, plus ``module.name`` for each ``from module import name``
    (so ``from simulator import api`` counts as importing ``simulator.api``)."""
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
        for name in _imported_names(path)
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
