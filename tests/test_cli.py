"""The CLI through its real entry point: exit codes 0 / 1 / 2 and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PJSIM = [str(Path(sys.executable).parent / "pjsim")]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PJSIM, *args], capture_output=True, text=True, cwd=cwd, env={**os.environ, "COLUMNS": "120"})


def test_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("demo", "simulate", "profiles", "models"):
        assert cmd in r.stdout


def test_demo_writes_report(tmp_path):
    r = run("demo", "--out", str(tmp_path / "d.html"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "d.html").stat().st_size > 100_000
    assert "report written to" in r.stdout


def test_unknown_option_is_usage_error():
    r = run("simulate", "--no-such-option")
    assert r.returncode == 2


def test_unknown_model_is_one_line_failure():
    r = run("simulate", "no_such_model")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown model 'no_such_model'" in lines[0]


def test_unknown_profile_is_one_line_failure():
    r = run("simulate", "lenet_300_100", "--profile", "no_such_profile")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no_such_profile" in lines[0]
