"""Profile format v2 additions: ``[compute.array]`` and ``compute.precision`` (loader + records)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.errors import ProfileError
from simulator.hardware import Precision, load_profile
from simulator.workload import DataType

BASE = """
[profile]
name = "v2"
extends = "horowitz45"
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "v2.toml"
    p.write_text(BASE + text)
    return p


def test_array_geometry_and_macs_per_cycle():
    p = load_profile("zigzag-tpu-like")
    assert [(a.name, a.size, a.unrolls) for a in p.compute.array.axes] == [("D1", 32, ("K",)), ("D2", 32, ("C",))]
    assert p.compute.macs_per_cycle == 1024 and p.compute.array.fill_drain_cycles == 0
    assert load_profile("scalesim-32x32-os").compute.array.fill_drain_cycles == 62  # SCALE-Sim OS: R + C - 2
    assert p.compute.precision == Precision(DataType("int", 8), DataType("int", 8))


def test_v1_profiles_have_no_array():
    p = load_profile("horowitz45")
    assert p.compute.array is None and p.compute.precision is None


def test_array_disagreeing_with_macs_per_cycle_is_refused(tmp_path):
    path = _write(tmp_path, """
[compute.array.axes.a]
size = { value = 8, source = "x" }
unrolls = ["K"]
""")  # horowitz45 declares 64 MACs/cycle; 8 PEs disagree
    with pytest.raises(ProfileError, match=r"compute.macs_per_cycle.*8 PEs"):
        load_profile(path)


def test_unknown_unroll_dim_is_refused(tmp_path):
    path = _write(tmp_path, """
[compute]
macs_per_cycle = { value = 8, source = "x" }
[compute.array.axes.a]
size = { value = 8, source = "x" }
unrolls = ["Q"]
""")
    with pytest.raises(ProfileError, match=r"compute.array.axes.a.unrolls.*loop dims"):
        load_profile(path)


def test_bad_precision_is_refused(tmp_path):
    path = _write(tmp_path, """
[compute]
precision = { weights = "int8", activations = "eight", source = "x" }
""")
    with pytest.raises(ProfileError, match=r"compute.precision.activations"):
        load_profile(path)
    path = _write(tmp_path, """
[compute]
precision = { weights = "int8" }
""")
    with pytest.raises(ProfileError, match=r"compute.precision"):
        load_profile(path)
