"""A sweep killed with SIGKILL (whole process group: coordinator and workers) loses no finished point and resumes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.sweep import parse_spec, run
from simulator.sweep.plan import CODE_VERSION_ENV

ROOT = Path(__file__).resolve().parents[2]


def _spec_dict(toy_path: Path) -> dict:
    # 40 densities x 8 weight widths x 6 SRAM sizes = 1920 points: long enough to kill mid-way.
    return {
        "sweep": {
            "name": "killme",
            "model": "tests.sweep.tiny_models:one_linear",
            "input_shape": [1, 8],
            "profile": str(toy_path),
        },
        "compression": {"index_bits": 2},  # <= the narrowest weight (2 bits): every point possible
        "axis": [
            {"key": "compression.density", "min": 0.05, "max": 1.0, "num": 40},
            {"key": "compression.weight_bits", "min": 2, "max": 9, "num": 8},
            {"key": "profile.memory.sram.capacity", "values": [0.04, 0.1, 0.2, 0.5, 1, 2]},
        ],
    }


def _toml(d: dict) -> str:
    lines = ["[sweep]"] + [f"{k} = {json.dumps(v)}" for k, v in d["sweep"].items()]
    lines += ["[compression]"] + [f"{k} = {json.dumps(v)}" for k, v in d["compression"].items()]
    for axis in d["axis"]:
        lines += ["[[axis]]"] + [f"{k} = {json.dumps(v)}" for k, v in axis.items()]
    return "\n".join(lines) + "\n"


def _rows(db: Path) -> dict[str, tuple[int, float]]:
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        return {k: (r, t) for k, r, t in con.execute("SELECT point_key, run_id, computed_at FROM results")}
    finally:
        con.close()


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def test_sigkill_mid_sweep_then_resume_computes_each_point_exactly_once(toy_path, tmp_path, monkeypatch):
    """Kill `pjsim sweep` (process group) after some points; the re-run keeps them and computes only the rest."""
    spec = _spec_dict(toy_path)
    spec_path = tmp_path / "killme.toml"
    spec_path.write_text(_toml(spec))
    db = tmp_path / "killme.sqlite"
    args = ["sweep", str(spec_path), "--backend", "processes", "--workers", "2", "--chunk-size", "4",
            "--db", str(db), "--out", str(tmp_path), "--no-report", "--allow-import"]
    code = f"import sys; from simulator.cli.main import main; sys.exit(main({args!r}))"
    # Pin the code version: both runs must key points alike even if a source file changes meanwhile.
    monkeypatch.setenv(CODE_VERSION_ENV, "resume-test")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while _count(db) < 40:
            if proc.poll() is not None:
                pytest.fail(f"the sweep ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the sweep stored no points within 90 s")
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # the coordinator, its fork server and its workers
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    before = _rows(db)
    total = 40 * 8 * 6
    assert 40 <= len(before) < total, "the kill must land mid-sweep for this test to mean anything"

    df = run(parse_spec(spec), backend="inprocess", db=db)
    assert len(df) == total
    assert df["point_key"].is_unique
    assert (df["writes"] == 1).all(), "a finished point was computed again"
    after = df.set_index("point_key")
    for key, (run_id, computed_at) in before.items():  # finished points kept as they were
        assert after.at[key, "run_id"] == run_id
        assert after.at[key, "computed_at"] == computed_at
    new = after.loc[~after.index.isin(list(before))]
    assert len(new) == total - len(before)
    assert new["run_id"].nunique() == 1 and new["run_id"].iloc[0] not in {r for r, _ in before.values()}
