"""The demo report, built once per test session through the real CLI and shared by the report tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PJSIM = str(Path(sys.executable).parent / "pjsim")


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory) -> Path:
    """``pjsim demo --out <tmp>/demo.html``; returns the HTML path (tables lie beside it)."""
    out = tmp_path_factory.mktemp("demo") / "demo.html"
    result = subprocess.run([PJSIM, "demo", "--out", str(out)], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "120"}, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "report written to" in result.stdout
    return out
