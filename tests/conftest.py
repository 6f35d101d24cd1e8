"""Shared fixtures: tiny models and a round-number profile written to a temporary TOML file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

TOY_PROFILE = textwrap.dedent(
    """
    [profile]
    name = "toy"
    description = "round numbers for hand arithmetic"

    [clock]
    frequency = { value = 1, unit = "GHz", source = "test" }

    [compute]
    macs_per_cycle = { value = 10, source = "test" }
    accumulator_bits = { value = 32, unit = "bit", source = "test" }
    zero_handling = "none"

    [energy.float32]
    add = { value = 1, unit = "pJ", source = "test" }
    mult = { value = 2, unit = "pJ", source = "test" }

    [memory.sram]
    kind = "sram"
    capacity = { value = 1, unit = "KB", source = "test" }
    word = { value = 32, unit = "bit", source = "test" }
    read_energy = { value = 10, unit = "pJ", source = "test" }
    write_energy = { value = 10, unit = "pJ", source = "test" }
    bandwidth = { value = 64, unit = "bit/cycle", source = "test" }
    latency = { value = 1, unit = "cycle", source = "test" }
    leakage = { value = 0, unit = "mW", source = "test" }

    [memory.dram]
    kind = "dram"
    capacity = { value = 1, unit = "GB", source = "test" }
    word = { value = 32, unit = "bit", source = "test" }
    read_energy = { value = 100, unit = "pJ", source = "test" }
    write_energy = { value = 200, unit = "pJ", source = "test" }
    bandwidth = { value = 32, unit = "bit/cycle", source = "test" }
    latency = { value = 10, unit = "cycle", source = "test" }
    leakage = { value = 0, unit = "mW", source = "test" }
    """
)


@pytest.fixture
def toy_profile_path(tmp_path: Path) -> Path:
    """A two-level profile (1 KB SRAM, DRAM) with round numbers, as a file."""
    path = tmp_path / "toy.toml"
    path.write_text(TOY_PROFILE)
    return path


@pytest.fixture
def toy_profile(toy_profile_path: Path):
    from simulator.hardware import load_profile

    return load_profile(toy_profile_path)
