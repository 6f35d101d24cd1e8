"""Every model-taking command resolves MODEL the same way (issue 17), through the real console script.

Flows: a user's ``module:factory`` in the current directory (not on PYTHONPATH), ``--input-shape``
with its batch honoured (8 samples cost 8x the MACs of one), a ``.pjc`` file traced, simulated,
reported and inspected, and conflicting batch arguments refused. The ``.pjc`` is the shipped
Deep-Compressed LeNet-300-100 (written by ``pjsim compress``'s own code, ``models/make_checkpoints.py``);
the full ``pjsim compress`` -> ``simulate`` round trip is the slow test at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PJSIM = [str(Path(sys.executable).parent / "pjsim")]
SHIPPED_PJC = ROOT / "models" / "checkpoints" / "lenet_300_100-deep-compression.pjc"

USER_MODULE = '''
import torch
from torch import nn


def build():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 5))
'''
#: Per sample: conv 6*6*8 outputs x 3*3*3 taps = 7,776 MACs; linear 288 x 5 = 1,440 MACs.
USER_MACS_PER_SAMPLE = 6 * 6 * 8 * 27 + 288 * 5


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``pjsim ARGS`` in a fresh process in ``cwd``; the package comes from the repository, the
    user's module only from ``cwd`` (the console script does not put it on the path itself)."""
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    return subprocess.run([*PJSIM, *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    (tmp_path / "mynet.py").write_text(USER_MODULE)
    return tmp_path


@pytest.fixture
def run_here(monkeypatch, capsys):
    """``pjsim ARGS`` in this process (torch already imported: fast), in ``cwd``; sys.path and the
    user's module are restored afterwards. Returns (exit code, stdout, stderr)."""
    from simulator.cli.main import main

    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "mynet", raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str, cwd: Path) -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        sys.modules.pop("mynet", None)
        return code, out, err

    return invoke


def test_user_module_in_the_current_directory_with_batch_8(user_dir):
    """A fresh process: the module is found in the current directory, and the batch of 8 is traced."""
    r = run("trace", "mynet:build", "--input-shape", "8,3,6,6", cwd=user_dir)
    assert r.returncode == 0, r.stderr
    assert "mynet:build: batch 8" in r.stdout
    assert f"{8 * USER_MACS_PER_SAMPLE:,}" in r.stdout


def test_simulate_honours_the_batch_of_the_input_shape(user_dir, run_here):
    for batch in (1, 8):
        code, _, err = run_here("simulate", "mynet:build", "--input-shape", f"{batch},3,6,6", "--engine", "closed-form",
                                "--json", f"b{batch}.json", cwd=user_dir)
        assert code == 0, err
    b8, b1 = (json.loads((user_dir / f).read_text()) for f in ("b8.json", "b1.json"))
    assert b1["total_macs"] == USER_MACS_PER_SAMPLE
    assert b8["total_macs"] == 8 * USER_MACS_PER_SAMPLE
    assert b8["total_energy_pj"] > b1["total_energy_pj"]


def test_report_takes_a_user_module(user_dir, run_here):
    code, _, err = run_here("report", "mynet:build@horowitz45", "--input-shape", "2,3,6,6", "--sram-points", "0",
                            "--no-export", "--out", "mine.html", cwd=user_dir)
    assert code == 0, err
    assert (user_dir / "mine.html").stat().st_size > 10_000


def test_user_module_without_a_shape_is_a_clear_error(user_dir, run_here):
    code, _, err = run_here("simulate", "mynet:build", cwd=user_dir)
    assert code == 2  # a usage error, caught before anything is imported or traced
    assert "mynet:build" in err and "--input-shape" in err


def test_batch_size_disagreeing_with_the_shape_is_a_usage_error(user_dir, run_here):
    code, _, err = run_here("trace", "mynet:build", "--input-shape", "8,3,6,6", "--batch-size", "4", cwd=user_dir)
    assert code == 2
    assert "--batch-size 4 disagrees with --input-shape 8,3,6,6" in err


def test_zoo_model_batch_from_the_input_shape(tmp_path, run_here):
    """The batch of --input-shape is honoured for zoo models too (it was silently replaced by 1)."""
    code, out, err = run_here("trace", "lenet_300_100", "--input-shape", "8,1,28,28", "--device", "meta", cwd=tmp_path)
    assert code == 0, err
    assert "batch 8" in out and f"{8 * 266_200:,}" in out


def test_pjc_is_simulated_and_inspected_in_fresh_processes(tmp_path):
    pjc = tmp_path / "lenet.pjc"
    shutil.copy(SHIPPED_PJC, pjc)
    r = run("simulate", "lenet.pjc", "--engine", "closed-form", "--json", "out.json", "--no-layers", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["model"] == "lenet_300_100 (lenet.pjc)"
    assert out["total_macs"] == 266_200
    # Costed with the stored encodings: ~39x smaller than float32 (Deep Compression's 40x, Han et al. 2016).
    assert 30 < out["compression_ratio"] < 45

    r = run("inspect", "lenet.pjc", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(pjc.read_bytes()[:-32]).hexdigest() in r.stdout
    assert "fc1.weight" in r.stdout and "Huffman" in r.stdout and "(verified)" in r.stdout


def test_pjc_stored_bits_agree_between_the_file_and_the_simulator():
    """One fact, two paths: the bits the file stores (its header's parts) are the bits the simulator
    costs for the weights it traced from the same file."""
    from simulator.api import trace_model
    from simulator.cli.cmd_inspect import inspect_rows
    from simulator.storage import read_header, read_record

    rows = {r["name"]: r["stored_bits"] for r in inspect_rows(read_header(SHIPPED_PJC), read_record(SHIPPED_PJC))}
    workload = trace_model(str(SHIPPED_PJC))
    assert {t.name: t.stored_bits for t in workload.weights} == rows


def test_pjc_traces_and_reports(tmp_path, run_here):
    shutil.copy(SHIPPED_PJC, tmp_path / "lenet.pjc")
    code, out, err = run_here("trace", "lenet.pjc", "--batch-size", "4", cwd=tmp_path)
    assert code == 0, err
    assert "batch 4" in out and f"{4 * 266_200:,}" in out
    code, _, err = run_here("report", "lenet.pjc@horowitz45", "--sram-points", "0", "--no-export", "--out", "r.html",
                            cwd=tmp_path)
    assert code == 0, err
    assert "lenet.pjc" in (tmp_path / "r.html").read_text()


def test_a_corrupt_pjc_is_refused_naming_the_file(tmp_path, run_here):
    data = bytearray(SHIPPED_PJC.read_bytes())
    data[100] ^= 0xFF
    (tmp_path / "bad.pjc").write_bytes(bytes(data))
    for command in ("simulate", "inspect"):
        code, _, err = run_here(command, "bad.pjc", cwd=tmp_path)
        assert code == 1
        assert "bad.pjc" in err and "checksum" in err


@pytest.mark.slow
def test_compress_then_simulate_round_trip(tmp_path):
    r = run("compress", "lenet_300_100", "--out", "mine.pjc", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run("simulate", "mine.pjc", "--engine", "closed-form", "--json", "out.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["compression_ratio"] > 30  # one-shot Deep Compression of LeNet-300-100 stores ~39x less
