"""Hostile sweep input (issue 18): the constraint budget, plan limits, import paths, one writer per
database, damaged rows recomputed, formula cells neutralised in the sweep table."""

from __future__ import annotations

import csv
import sqlite3
import time

import pytest

from simulator.cli.main import main
from simulator.fileio import CSV_FORMULA_PREFIXES
from simulator.sweep import load_spec, parse_spec, run
from simulator.sweep.errors import SweepSpecError, SweepStoreError
from simulator.sweep.expr import (
    MAX_INT_BITS,
    ConstraintBudgetError,
    ConstraintSyntaxError,
    parse_constraint,
)
from simulator.sweep.plan import MAX_PLAN_POINTS, check_plan_size, plan_sweep
from simulator.sweep.store import CorruptedRowWarning, ResultStore, check_not_in_use
from tests.sweep.test_resume import _toml

BOMBS = [
    "(((((2**64)**64)**64)**64)**64)**64 > 0",
    "'x' * 2**34",
    "(1,) * 2**31",
    "'%0*d' % (2**31 - 2, 1)",
    "min('x' * 10**9)",
]


@pytest.mark.parametrize("bomb", BOMBS)
def test_literal_bombs_are_refused_when_the_spec_is_read(bomb):
    start = time.monotonic()
    with pytest.raises(ConstraintSyntaxError, match="exceeds the evaluation budget"):
        parse_constraint(bomb)
    assert time.monotonic() - start < 0.1


@pytest.mark.parametrize(
    "text",
    [
        "batch_size ** 64 ** 64 > 0",
        "(batch_size ** 64) ** 64 > 0",
        "batch_size * 'x' == ''",
        "(batch_size,) * batch_size == ()",
        "'%d' % batch_size == '1'",
        "batch_size * batch_size ** 64 * 2 ** 64 * 2 ** 64 * 2 ** 64 * 2 ** 64 > 0",
    ],
)
def test_bombs_over_inputs_are_refused_before_the_step_runs(text):
    start = time.monotonic()
    with pytest.raises(ConstraintBudgetError, match=r"constraint .* exceeds its evaluation budget"):
        parse_constraint(text).holds({"batch_size": 2**60})
    assert time.monotonic() - start < 0.1


def test_budget_keeps_ordinary_arithmetic():
    assert parse_constraint("2 ** 64 > 10 ** 19").holds({})
    assert parse_constraint("('a',) + ('b',) == ('a', 'b')").holds({})
    assert parse_constraint("batch_size ** 64 > 2 ** 64").holds({"batch_size": 2**60})  # 3841 bits < MAX_INT_BITS
    assert MAX_INT_BITS == 4096
    with pytest.raises(ConstraintSyntaxError, match="at most 2000 characters"):
        parse_constraint("1 + " * 1000 + "1 > 0")


def test_budget_error_names_the_constraint_in_the_plan(grid_dict):
    grid_dict["sweep"]["constraints"] = ["compression.weight_bits ** 64 ** 64 > 0"]
    with pytest.raises(SweepSpecError, match=r"sweep.constraints\[0\]: 'compression.weight_bits \*\* 64 \*\* 64 > 0'"):
        plan_sweep(parse_spec(grid_dict))


def test_huge_grid_is_refused_before_sampling_naming_the_axes(grid_dict):
    grid_dict["axis"] = [
        {"key": "compression.density", "min": 0.01, "max": 1.0, "num": 100_000},
        {"key": "profile.memory.sram.capacity", "min": 0.01, "max": 1.0, "num": 100_000},
    ]
    spec = parse_spec(grid_dict)
    start = time.monotonic()
    with pytest.raises(SweepSpecError, match=r"10,000,000,000 points \(compression.density \(100000\) x profile.memory.sram.capacity \(100000\)\)"):
        plan_sweep(spec)
    assert time.monotonic() - start < 1.0
    assert check_plan_size(spec, max_points=10**10) == 10**10  # the limit is a parameter (pjsim sweep --max-points)


def test_sample_count_limit(grid_dict):
    grid_dict["sweep"].update(sampling="random", samples=10**12)
    with pytest.raises(SweepSpecError, match=r"sweep.samples: 1,000,000,000,000 samples is more than the limit of 100,000"):
        plan_sweep(parse_spec(grid_dict))
    assert MAX_PLAN_POINTS == 100_000


def test_sweep_file_import_paths_need_allow_import(grid_dict, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(_toml(grid_dict))
    with pytest.raises(SweepSpecError, match=r"s.toml: sweep.model: 'tests.sweep.tiny_models:one_linear' is an import path"):
        load_spec(path)
    assert load_spec(path, allow_import=True).model == "tests.sweep.tiny_models:one_linear"
    grid_dict["sweep"]["model"] = "os:abort"
    path.write_text(_toml(grid_dict))
    with pytest.raises(SweepSpecError, match="--allow-import"):
        run(path, backend="inprocess")


def test_sweep_spec_files_are_read_bounded(tmp_path):
    with pytest.raises(SweepSpecError, match="/dev/zero: \\(file\\): expected a regular file"):
        load_spec("/dev/zero")
    (tmp_path / "deep.toml").write_text("a = " + "[" * 10_000 + "]" * 10_000)
    with pytest.raises(SweepSpecError, match="deep.toml: \\(file\\): .*nested"):
        load_spec(tmp_path / "deep.toml")


def test_a_second_writer_is_refused(tmp_path):
    db = tmp_path / "r.sqlite"
    with ResultStore(db):
        with pytest.raises(SweepStoreError, match="another pjsim sweep is writing"):
            ResultStore(db)
        with pytest.raises(SweepStoreError, match="another pjsim sweep is writing"):
            check_not_in_use(db)
    with ResultStore(db):  # released on close
        pass
    check_not_in_use(tmp_path / "absent.sqlite")
    assert not (tmp_path / "absent.sqlite").exists()


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE results SET outputs = CAST(x'ff00fe' AS TEXT) WHERE point_key = ?",  # before: OperationalError
        "UPDATE results SET outputs = '{\"total_energy_pj\": ' WHERE point_key = ?",
        "UPDATE results SET outputs = '[1, 2]' WHERE point_key = ?",
        "UPDATE results SET outputs = '{\"total_energy_pj\": \"lots\"}' WHERE point_key = ?",
    ],
)
def test_a_damaged_row_is_recomputed_with_a_warning_and_the_export_completes(grid_dict, tmp_path, damage):
    db = tmp_path / "r.sqlite"
    first = run(parse_spec(grid_dict), backend="inprocess", db=db)
    victim = first["point_key"].iloc[2]
    con = sqlite3.connect(db)
    con.execute(damage, (victim,))
    con.commit()
    con.close()
    with pytest.warns(CorruptedRowWarning, match="1 damaged result row"):
        again = run(parse_spec(grid_dict), backend="inprocess", db=db)
    assert len(again) == len(first)
    row = again.set_index("point_key").loc[victim]
    assert row["writes"] == 2 and row["total_energy_pj"] == first.set_index("point_key").loc[victim, "total_energy_pj"]
    assert (again.drop(columns=["point_index"]).set_index("point_key")["writes"].drop(victim) == 1).all()


def test_a_row_damaged_after_the_sweep_still_exports(grid_dict, tmp_path):
    """``fetch`` leaves an unreadable row out (with a warning) instead of crashing the table."""
    db = tmp_path / "r.sqlite"
    run(parse_spec(grid_dict), backend="inprocess", db=db)
    with ResultStore(db) as store:
        keys = sorted(store.done_keys())
        store._con.execute("UPDATE results SET outputs = CAST(x'ff' AS TEXT) WHERE point_key = ?", (keys[0],))
        with pytest.warns(CorruptedRowWarning, match="left out"):
            got = store.fetch(keys)
    assert set(got) == set(keys[1:])


def test_sweep_table_neutralises_formula_cells(grid_dict, tmp_path):
    """A string axis value that a spreadsheet would run ('=...') is written as text in the sweep CSV."""
    grid_dict["axis"] = [{"key": "profile.profile.description", "values": ["=HYPERLINK(\"http://evil\",\"x\")", "plain"]}]
    spec = tmp_path / "s.toml"
    spec.write_text(_toml(grid_dict))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--backend", "inprocess", "--allow-import", "--mkdir", "--out", str(out), "--no-report"]) == 0
    with (out / "grid.csv").open(newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in cells
    assert not any(cell.startswith(CSV_FORMULA_PREFIXES) for cell in cells if not _is_number(cell))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
