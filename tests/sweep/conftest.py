"""Fixtures for sweep tests: a spec over the tiny linear model on the round-number toy profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TOY_PROFILE

#: The shared toy profile plus an integer add (relative indices cost an index add per stored entry).
SWEEP_TOY_PROFILE = TOY_PROFILE + """
[energy.int32]
add = { value = 0.5, unit = "pJ", source = "test" }
"""


@pytest.fixture
def toy_path(tmp_path: Path) -> Path:
    """The round-number toy profile (1 KB SRAM, DRAM; float32 add 1 pJ, mult 2 pJ) as a file."""
    path = tmp_path / "toy.toml"
    path.write_text(SWEEP_TOY_PROFILE)
    return path


@pytest.fixture
def grid_dict(toy_path: Path) -> dict:
    """A 2 x 3 grid: SRAM capacity {0.04, 1} KB x density {1, 0.5, 0.25}, 8-bit weights, 4-bit indices."""
    sweep = {
        "name": "grid",
        "model": "tests.sweep.tiny_models:one_linear",
        "input_shape": [1, 8],
        "profile": str(toy_path),
    }
    return {
        "sweep": sweep,
        "compression": {"weight_bits": 8, "index_bits": 4},
        "axis": [
            {"key": "profile.memory.sram.capacity", "values": [0.04, 1]},
            {"key": "compression.density", "values": [1.0, 0.5, 0.25]},
        ],
    }
