"""The dependency rules of the design: the cost model imports neither torch nor plotly nor simpy."""

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
