"""The CLI through its real entry point (subprocess): help, exit codes 0 / 1 / 2 and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli.main import COMMAND_MODULES, cli

PJSIM = [str(Path(sys.executable).parent / "pjsim")]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PJSIM, *args], capture_output=True, text=True, cwd=cwd, env={**os.environ, "COLUMNS": "120"})


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{text}"
    return lines[0]


def test_help_lists_every_registered_command_with_an_example():
    """Every module in COMMAND_MODULES shows up in --help, and each has at least one example line."""
    r = run("--help")
    assert r.returncode == 0
    assert len(cli.commands) == len(COMMAND_MODULES)
    for name in cli.commands:
        assert f"  {name}" in r.stdout, name
        assert f"pjsim {name}" in r.stdout.split("Examples:")[1], f"no example for {name}"
    for expected in ("demo", "simulate", "profiles", "models", "report"):
        assert expected in cli.commands


def test_subcommand_help_exits_zero():
    for args in (["report", "--help"], ["profiles", "show", "--help"], ["models", "list", "--help"], ["demo", "--help"]):
        r = run(*args)
        assert r.returncode == 0 and "Usage:" in r.stdout, args


def test_models_list_and_profiles_list():
    r = run("models", "list")
    assert r.returncode == 0 and "lenet_300_100" in r.stdout
    r = run("profiles", "list")
    assert r.returncode == 0 and "horowitz45" in r.stdout


def test_unknown_option_is_a_one_line_usage_error():
    r = run("simulate", "--no-such-option")
    assert r.returncode == 2
    assert "no-such-option" in one_line(r.stderr)


def test_unknown_command_is_a_one_line_usage_error():
    r = run("no-such-command")
    assert r.returncode == 2
    assert "no-such-command" in one_line(r.stderr)


def test_report_without_configurations_is_a_usage_error():
    r = run("report")
    assert r.returncode == 2
    assert "give at least one SPEC" in one_line(r.stderr)


def test_unknown_model_is_one_line_failure():
    r = run("simulate", "no_such_model")
    assert r.returncode == 1
    assert "unknown model 'no_such_model'" in one_line(r.stderr)


def test_unknown_model_in_report_is_one_line_failure(tmp_path):
    r = run("report", "no_such_model@horowitz45", "--out", str(tmp_path / "r.html"))
    assert r.returncode == 1
    assert "unknown model 'no_such_model'" in one_line(r.stderr)
    assert not (tmp_path / "r.html").exists()


def test_unknown_profile_is_one_line_failure():
    r = run("simulate", "lenet_300_100", "--profile", "no_such_profile")
    assert r.returncode == 1
    assert "no_such_profile" in one_line(r.stderr)


def test_unknown_profile_in_report_is_one_line_failure(tmp_path):
    r = run("report", "lenet_300_100@no_such_profile", "--out", str(tmp_path / "r.html"))
    assert r.returncode == 1
    assert "no_such_profile" in one_line(r.stderr)


@pytest.mark.parametrize("kind", ["missing", "directory", "not-json"])
def test_unreadable_path_is_one_line_failure(tmp_path, kind):
    path = {"missing": tmp_path / "nope.json", "directory": tmp_path, "not-json": tmp_path / "x.json"}[kind]
    if kind == "not-json":
        path.write_text("<html>")
    r = run("report", "--from", str(path), "--out", str(tmp_path / "r.html"))
    assert r.returncode in (1, 2)
    line = one_line(r.stderr)
    assert str(path) in line or path.name in line


def test_debug_prints_the_traceback():
    r = run("--debug", "simulate", "no_such_model")
    assert r.returncode == 1
    assert "Traceback" in r.stderr and "unknown model" in r.stderr



def test_simulate_objective_option():
    ok = run("simulate", "lenet_300_100", "--engine", "closed-form", "--objective", "latency", "--no-layers")
    assert ok.returncode == 0, ok.stderr
    bad = run("simulate", "lenet_300_100", "--objective", "power")
    assert bad.returncode == 2 and "power" in bad.stderr
