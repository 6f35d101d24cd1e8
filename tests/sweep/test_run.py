"""End-to-end sweeps: the tidy table, hand-checked corners, backends agreeing, resuming from the database."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from simulator.api import simulate, trace_model
from simulator.hardware import load_profile
from simulator.sweep import BOOKKEEPING_COLUMNS, DaskBackend, InProcessBackend, ProcessBackend, parse_spec, run
from simulator.sweep.compression import analytic_record, apply_record
from simulator.sweep.spec_types import CompressionParams


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    """The table without the columns saying when/where a point ran."""
    return df.drop(columns=list(BOOKKEEPING_COLUMNS)).reset_index(drop=True)


def test_grid_gives_one_row_per_point_with_hand_checked_corners(grid_dict, toy_path):
    """2 x 3 grid -> 6 rows in grid order; two corners checked by hand, every row equals a direct simulate()."""
    df = run(parse_spec(grid_dict), backend="inprocess")
    assert len(df) == 6
    assert list(df["profile.memory.sram.capacity"]) == [0.04, 0.04, 0.04, 1, 1, 1]
    assert list(df["compression.density"]) == [1.0, 0.5, 0.25] * 2
    assert df["point_key"].is_unique

    dense_small = df.iloc[0]  # SRAM 0.04 KB = 320 bits, dense 8-bit weights
    # 8 -> 4 linear, batch 1: 8 * 4 = 32 MACs; toy float32 mult 2 pJ + add 1 pJ -> 32 * 3 = 96 pJ of compute.
    assert dense_small["total_macs"] == 32
    assert dense_small["energy_compute_pj"] == pytest.approx(96.0)
    # Dense (density 1): 32 weights * 8 bits = 256 bits, no index.
    assert dense_small["weight_stored_bits"] == 256
    assert dense_small["weight_dense_bits"] == 32 * 32
    assert dense_small["sram_capacity_bits"] == 320  # 0.04 KB * 8000 bits/KB
    # Weights (256) + input (8 * 32 = 256) alone exceed 320 bits.
    assert not dense_small["fits_on_chip"]

    sparse_big = df.iloc[5]  # SRAM 1 KB = 8000 bits, density 0.25
    # round(0.25 * 32) = 8 kept weights * (8 value + 4 index bits) = 96 bits; expected fillers
    # 8 * q / (1 - q) with q = 0.75 ** 16 = 0.01 -> round(0.08) = 0.
    assert sparse_big["weight_stored_bits"] == 96
    assert sparse_big["sram_capacity_bits"] == 8000
    assert sparse_big["fits_on_chip"]
    assert sparse_big["compression_ratio"] == pytest.approx(1024 / 96)
    # It fits, so weights stay resident: steady-state DRAM traffic is the input read once
    # (8 * 32 = 256 bits at 100 pJ / 32 bits = 800 pJ) plus the output written once
    # (4 * 32 = 128 bits at 200 pJ / 32 bits = 800 pJ) = 1600 pJ.
    assert sparse_big["energy_dram_pj"] == pytest.approx(1600.0)
    # The first inference also loads the 96 stored weight bits: DRAM read 96 * 100 / 32 = 300 pJ
    # plus SRAM write 96 * 10 / 32 = 30 pJ.
    assert sparse_big["cold_energy_pj"] - sparse_big["total_energy_pj"] == pytest.approx(330.0)

    # Every row is what simulate() gives for that point directly.
    workload = trace_model("tests.sweep.tiny_models:one_linear", example_inputs=__import__("torch").rand(1, 8))
    for _, row in df.iterrows():
        params = CompressionParams(density=row["compression.density"], weight_bits=8, index_bits=4)
        profile = load_profile(toy_path, overrides={"memory.sram.capacity": row["profile.memory.sram.capacity"]})
        report = simulate(apply_record(workload, analytic_record(workload, params)), profile)
        assert row["total_energy_pj"] == pytest.approx(report.total_energy_pj)
        assert row["latency_s"] == pytest.approx(report.latency_s)
        assert row["energy_compute_pj"] + row.get("energy_dram_pj", 0) + row.get("energy_sram_pj", 0) <= row[
            "total_energy_pj"
        ] * (1 + 1e-9)


def test_dask_local_cluster_gives_the_same_table_as_in_process(grid_dict):
    """Dask LocalCluster (2 workers) and in-process backends give the same DataFrame."""
    spec = parse_spec(grid_dict)
    reference = run(spec, backend=InProcessBackend())
    dask = run(spec, backend=DaskBackend(local_workers=2, processes=False), chunk_size=2)
    pd.testing.assert_frame_equal(_comparable(reference), _comparable(dask))
    assert dask["worker"].nunique() >= 1


def test_dask_existing_scheduler_gives_the_same_table(grid_dict):
    """`--scheduler tcp://...`: connecting to a running scheduler (here a LocalCluster's) gives the same table."""
    from distributed import LocalCluster

    spec = parse_spec(grid_dict)
    reference = run(spec, backend=InProcessBackend())
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith(("tcp://", "inproc://"))
        remote = run(spec, backend=DaskBackend(scheduler=cluster.scheduler_address))
    pd.testing.assert_frame_equal(_comparable(reference), _comparable(remote))


def test_process_pool_gives_the_same_table_as_in_process(grid_dict):
    """Local worker processes give the same DataFrame as in-process, computed in other processes."""
    import os

    spec = parse_spec(grid_dict)
    reference = run(spec, backend=InProcessBackend())
    pooled = run(spec, backend=ProcessBackend(workers=2), chunk_size=1)
    pd.testing.assert_frame_equal(_comparable(reference), _comparable(pooled))
    pids = {int(w.split(":")[1]) for w in pooled["worker"]}
    assert os.getpid() not in pids


def test_rerun_skips_finished_points(grid_dict, tmp_path):
    """A second run on the same database computes nothing and returns the same table."""
    db = tmp_path / "r.sqlite"
    spec = parse_spec(grid_dict)
    calls = []
    first = run(spec, backend="inprocess", db=db, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 6) and calls[-1] == (6, 6)
    calls.clear()
    second = run(spec, backend="inprocess", db=db, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(6, 6)]  # all six found in the database, nothing run
    pd.testing.assert_frame_equal(first, second)
    assert (second["writes"] == 1).all()


def test_extending_a_sweep_computes_only_the_new_points(grid_dict, tmp_path):
    """Adding an axis value re-uses the finished points (same keys) and computes only the new ones."""
    db = tmp_path / "r.sqlite"
    first = run(parse_spec(grid_dict), backend="inprocess", db=db)
    grid_dict["axis"][1]["values"].append(0.125)
    second = run(parse_spec(grid_dict), backend="inprocess", db=db)
    assert len(second) == 8
    old = second[second["point_key"].isin(first["point_key"])]
    assert len(old) == 6 and old["run_id"].nunique() == 1 and (old["run_id"] == first["run_id"].iloc[0]).all()
    assert (second.loc[~second["point_key"].isin(first["point_key"]), "run_id"] != first["run_id"].iloc[0]).all()


def test_random_and_lhs_sampling_respect_constraints(grid_dict):
    """Random and LHS sweeps draw `samples` points, drop duplicates and skip points failing a constraint."""
    grid_dict["sweep"].update(sampling="lhs", samples=12, seed=3, constraints=["compression.weight_bits >= 4"])
    grid_dict["axis"] = [
        {"key": "compression.density", "min": 0.1, "max": 1.0, "scale": "log"},
        {"key": "compression.weight_bits", "min": 2, "max": 8},
    ]
    df = run(parse_spec(grid_dict), backend="inprocess")
    assert (df["compression.weight_bits"] >= 4).all()
    assert len(df) + df.attrs["skipped_by_constraints"] + df.attrs["duplicates"] == 12
    assert df["compression.density"].between(0.1, 1.0).all()
    assert not math.isnan(df["total_energy_pj"].sum())


def test_code_version_is_part_of_the_key(grid_dict, monkeypatch):
    """Results computed by other code are not reused: a different code version gives different keys."""
    from simulator.sweep import plan_sweep
    from simulator.sweep.plan import CODE_VERSION_ENV

    spec = parse_spec(grid_dict)
    monkeypatch.setenv(CODE_VERSION_ENV, "a")
    keys_a = [p.key for p in plan_sweep(spec).points]
    assert keys_a == [p.key for p in plan_sweep(spec).points]
    monkeypatch.setenv(CODE_VERSION_ENV, "b")
    assert not set(keys_a) & {p.key for p in plan_sweep(spec).points}


def test_traces_once_per_model_and_batch_size(grid_dict, monkeypatch):
    """Batch size x a string profile key x density: one trace per batch size, never one per point."""
    import simulator.api

    calls = []
    real = simulator.api.trace_model

    def counting_trace_model(*args, **kwargs):
        calls.append(kwargs.get("batch_size"))
        return real(*args, **kwargs)

    monkeypatch.setattr(simulator.api, "trace_model", counting_trace_model)
    grid_dict["axis"] = [
        {"key": "batch_size", "values": [1, 2]},
        {"key": "profile.compute.zero_handling", "values": ["none", "skip"]},
        {"key": "compression.density", "values": [1.0, 0.25]},
    ]
    df = run(parse_spec(grid_dict), backend="inprocess")
    assert len(df) == 8
    assert sorted(calls) == [1, 2]
    # Twice the batch, twice the MACs (2 x 8 x 4 = 64).
    assert set(df.loc[df["batch_size"] == 2, "total_macs"]) == {64}
    assert set(df.loc[df["batch_size"] == 1, "total_macs"]) == {32}
    # Skipping zeros saves compute energy on the sparse points only.
    sparse = df[df["compression.density"] == 0.25].set_index(["batch_size", "profile.compute.zero_handling"])
    assert sparse.loc[(1, "skip"), "energy_compute_pj"] < sparse.loc[(1, "none"), "energy_compute_pj"]
