"""The README's sweep example and every shipped ``examples/sweeps/*.toml`` run and give plausible numbers.

Issue 17: the README's example once priced a 2**32-entry codebook (8.39 J and 51.5 GB per
LeNet-300-100 inference). The bounds here are physical sanity, not fits:

- LeNet-300-100 (266,200 MACs) on the 45 nm table: every point < 1 mJ (issue 17's bound) and
  > 266,200 x 4.6 pJ x (compute floor of a 32-bit float MAC, Horowitz ISSCC 2014: 3.7 + 0.9 pJ)
  is not required (weights may be 2-8 bit), so the floor is the MACs alone at 0.1 pJ each.
- Stored weights never exceed the dense float32 weights (266,200 x 32 bits).
- ResNet-18 (1.8 GMACs): between 1 mJ and 1 J per inference.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from simulator.sweep import load_spec, parse_spec, plan_sweep, run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "sweeps").glob("*.toml"))

LENET_MACS = 266_200
LENET_DENSE_WEIGHT_BITS = 266_610 * 32


def readme_sweep_spec():
    """The TOML block in the README's "Sweeps" section, as a spec."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Sweeps\n.*?```toml\n(.*?)```", text, re.S | re.M)
    assert match, "README.md has no ```toml block in its Sweeps section"
    return parse_spec(tomllib.loads(match.group(1)), source="README.md (Sweeps)", default_name="readme")


def _check_lenet(df) -> None:
    assert (df["total_macs"] == LENET_MACS).all()
    assert (df["total_energy_pj"] < 1e9).all(), df["total_energy_pj"].max()  # < 1 mJ
    assert (df["total_energy_pj"] > 0.1 * LENET_MACS).all()
    assert (df["weight_stored_bits"] < LENET_DENSE_WEIGHT_BITS).all(), df["weight_stored_bits"].max()
    assert (df["compression_ratio"] > 1).all()


def test_readme_sweep_example_is_plausible():
    spec = readme_sweep_spec()
    df = run(dataclasses.replace(spec, engine="closed-form"), backend="inprocess")
    assert len(df) == 24
    _check_lenet(df)
    # 5-bit shared weights + 5-bit indices at density 0.02: ~ 32 / (10 * 0.02) compression, far above 10x.
    assert df["compression_ratio"].max() > 10


def test_every_example_parses_and_plans():
    assert EXAMPLES, "examples/sweeps/ is empty"
    for path in EXAMPLES:
        plan = plan_sweep(load_spec(path))
        assert plan.points, path


def test_lenet_example_is_plausible():
    spec = load_spec(ROOT / "examples" / "sweeps" / "lenet_sram_density.toml")
    # Same points, timed by formula (energy is counted the same way; the slow test below runs all
    # examples as written).
    df = run(dataclasses.replace(spec, engine="closed-form"), backend="inprocess")
    assert len(df) > 0
    _check_lenet(df)


def test_resnet18_example_sample_is_plausible():
    spec = load_spec(ROOT / "examples" / "sweeps" / "resnet18_lhs.toml")
    df = run(dataclasses.replace(spec, samples=3, engine="closed-form"), backend="inprocess")
    assert len(df) > 0
    assert (df["total_energy_pj"] > 1e9).all() and (df["total_energy_pj"] < 1e12).all(), df["total_energy_pj"]


@pytest.mark.slow
@pytest.mark.parametrize("path", [*EXAMPLES, "README"], ids=[*(p.stem for p in EXAMPLES), "readme_lenet"])
def test_every_example_runs_as_written(path, tmp_path):
    spec = readme_sweep_spec() if path == "README" else load_spec(path)
    df = run(spec, backend="processes", db=tmp_path / "sweep.sqlite")
    assert len(df) > 0
    assert (df["total_energy_pj"] < 1e12).all()
    if "lenet" in spec.model:
        _check_lenet(df)
