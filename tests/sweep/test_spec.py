"""Bad sweep specifications fail with a clear error naming the key, before any point is computed."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.sweep import SweepSpecError, load_spec, parse_spec, plan_sweep, run


def _run_expecting(spec_dict: dict, tmp_path: Path, match: str) -> None:
    db = tmp_path / "never.sqlite"
    with pytest.raises(SweepSpecError, match=match):
        run(parse_spec(spec_dict), backend="inprocess", db=db)
    assert not db.exists(), "no work (not even the database) may start on bad input"


def test_axis_naming_a_profile_key_that_does_not_exist(grid_dict, tmp_path):
    grid_dict["axis"][0]["key"] = "profile.memory.sram.capacityy"
    _run_expecting(grid_dict, tmp_path, r"axis 'profile.memory.sram.capacityy'.*memory.sram.capacityy")


def test_axis_naming_an_unknown_level(grid_dict, tmp_path):
    grid_dict["axis"][0]["key"] = "profile.memory.l2.capacity"
    _run_expecting(grid_dict, tmp_path, r"profile.memory.l2.capacity")


def test_axis_naming_no_input_kind(grid_dict):
    grid_dict["axis"][1]["key"] = "compression.sparsity"
    with pytest.raises(SweepSpecError, match=r"axis\[1\].key.*compression.sparsity.*names no sweepable input"):
        parse_spec(grid_dict)


def test_empty_axis(grid_dict):
    grid_dict["axis"][1]["values"] = []
    with pytest.raises(SweepSpecError, match=r"compression.density.*empty"):
        parse_spec(grid_dict)


def test_empty_range(grid_dict):
    grid_dict["axis"][1] = {"key": "compression.density", "min": 0.5, "max": 0.1, "num": 3}
    with pytest.raises(SweepSpecError, match="range is empty"):
        parse_spec(grid_dict)


def test_constraint_ruling_out_every_point(grid_dict, tmp_path):
    grid_dict["sweep"]["constraints"] = ["compression.density > 2"]
    _run_expecting(grid_dict, tmp_path, r"rule out all 6 sampled points.*compression.density > 2")


def test_constraint_reading_an_unknown_name(grid_dict):
    grid_dict["sweep"]["constraints"] = ["compression.densty < 0.5"]
    with pytest.raises(SweepSpecError, match=r"constraints\[0\].*unknown name.*compression.densty"):
        parse_spec(grid_dict)


def test_constraint_with_code_is_refused(grid_dict):
    grid_dict["sweep"]["constraints"] = ["__import__('os').system('echo pwned') == 0"]
    with pytest.raises(SweepSpecError, match="only these functions may be called"):
        parse_spec(grid_dict)


def test_value_out_of_range(grid_dict):
    grid_dict["axis"][1]["values"] = [1.0, 1.5]
    with pytest.raises(SweepSpecError, match=r"values\[1\].*density in \(0, 1\]"):
        parse_spec(grid_dict)


def test_sparse_point_without_index_bits(grid_dict):
    grid_dict["compression"]["index_bits"] = 0
    with pytest.raises(SweepSpecError, match="index_bits"):
        plan_sweep(parse_spec(grid_dict))


def test_unknown_model(grid_dict):
    grid_dict["sweep"]["model"] = "resnet9000"
    with pytest.raises(SweepSpecError, match="sweep.model.*resnet9000"):
        plan_sweep(parse_spec(grid_dict))


def test_random_sampling_needs_samples(grid_dict):
    grid_dict["sweep"]["sampling"] = "random"
    with pytest.raises(SweepSpecError, match="sweep.samples"):
        parse_spec(grid_dict)


def test_unknown_top_level_key_and_bad_toml(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[sweep]\nmodel = 'lenet5'\nprofile = 'horowitz45'\n[axes]\n")
    with pytest.raises(SweepSpecError, match=r"s.toml: axes: unknown key"):
        load_spec(path)
    path.write_text("[sweep\n")
    with pytest.raises(SweepSpecError, match="not valid TOML"):
        load_spec(path)


def test_relative_profile_path_is_resolved_against_the_spec_file(tmp_path, toy_path):
    path = tmp_path / "sub" / "s.toml"
    path.parent.mkdir()
    path.write_text(
        "[sweep]\nmodel = 'lenet5'\nprofile = '../toy.toml'\n[[axis]]\nkey = 'batch_size'\nvalues = [1, 2]\n"
    )
    spec = load_spec(path)
    assert spec.profile == str(toy_path.resolve())
    assert spec.name == "s"
