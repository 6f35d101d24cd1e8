"""``run(spec)``: plan the points, skip the finished ones, trace once, run the rest, return one tidy table.

The pipeline, step by step:

1. read and check the spec (``simulator.sweep.spec``) and plan its points (``plan``): all bad
   input raises here, before any work;
2. open the results database (``store``) and drop the points whose key is already in it;
3. load the distinct hardware profiles the remaining points use (``load_profile`` with overrides)
   and trace each distinct (model, batch size) once (``trace_model``);
4. cut the remaining points into chunks (points of one workload per chunk) and run them on the
   backend (``backends``); each finished chunk is written to the database in one transaction;
5. read every point's result back and return the table, one row per point, in sampling order.

A sweep that is killed loses at most the chunks in flight; running it again computes only those.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.errors import PjsimError
from simulator.frozen import FrozenMap
from simulator.hardware import HardwareProfile
from simulator.sweep.backends import Backend, make_backend
from simulator.sweep.errors import SweepSpecError
from simulator.sweep.plan import MAX_PLAN_POINTS, Plan, Point, plan_sweep
from simulator.sweep.spec import load_spec
from simulator.sweep.spec_types import SweepSpec
from simulator.sweep.store import CorruptedRowWarning, ResultStore
from simulator.sweep.worker import Task
from simulator.workload import Workload

__all__ = ["BOOKKEEPING_COLUMNS", "ProgressCallback", "make_tasks", "run"]

#: progress(points finished, points in the sweep); called once with the points already in the database.
ProgressCallback = Callable[[int, int], None]

#: Columns that say how and when a point was computed (they differ between runs and backends).
BOOKKEEPING_COLUMNS = ("point_key", "run_id", "computed_at", "compute_s", "worker", "writes")

#: Upper bound of points per task (how much a killed sweep can lose per worker).
MAX_CHUNK = 64


def _chunk_size(n_points: int, workers: int) -> int:
    """About 8 tasks per worker (load balance) but at most ``MAX_CHUNK`` points each."""
    return max(1, min(MAX_CHUNK, math.ceil(n_points / (8 * workers))))


def _load_profiles(spec: SweepSpec, points: list[Point]) -> dict[FrozenMap, HardwareProfile]:
    """Every distinct profile the points use; a value the profile rejects raises before any work."""
    from simulator.hardware import load_profile

    profiles: dict[FrozenMap, HardwareProfile] = {}
    for point in points:
        if point.overrides in profiles:
            continue
        try:
            profiles[point.overrides] = (
                load_profile(spec.profile, overrides=dict(point.overrides)) if point.overrides else load_profile(spec.profile)
            )
        except PjsimError as exc:
            raise SweepSpecError(spec.source, "axis", f"profile overrides {dict(point.overrides)} rejected: {exc}") from None
    return profiles


def _trace(
    spec: SweepSpec, points: list[Point], traced: Mapping[tuple[str, int], Workload] | None
) -> dict[tuple[str, int], Workload]:
    """One traced workload per distinct (model, batch size) among ``points`` (reusing ``traced``)."""
    from models.registry import ModelSpec
    from simulator.api import trace_model

    workloads = {}
    for model, batch_size in dict.fromkeys(p.trace_key for p in points):
        if traced is not None and (model, batch_size) in traced:
            workloads[(model, batch_size)] = traced[(model, batch_size)]
            continue
        example = None
        if spec.input_shape is not None:
            example = ModelSpec(model, lambda: None, spec.input_shape, "").example_input(batch_size)
        workloads[(model, batch_size)] = trace_model(model, example_inputs=example, batch_size=batch_size,
                                                     inputs=spec.inputs or None)
    return workloads


def _accuracy_columns(spec: SweepSpec, points: list[Point]) -> dict[str, dict[str, Any]]:
    """Point key -> ``accuracy`` and ``accuracy_source`` when the spec has an accuracy step."""
    if spec.accuracy is None:
        return {}
    from simulator.sweep.accuracy import accuracies

    by_params = accuracies(spec.model, (p.compression for p in points), spec.accuracy)
    source = spec.accuracy.describe(spec.model)
    return {p.key: {"accuracy": by_params[p.compression], "accuracy_source": source} for p in points}


def make_tasks(
    points: list[Point], profiles: Mapping[FrozenMap, HardwareProfile], chunk_size: int, engine: str = "simpy"
) -> list[Task]:
    """Chunks of at most ``chunk_size`` points, each chunk on one workload, with its distinct profiles."""
    by_trace: dict[tuple[str, int], list[Point]] = {}
    for p in points:
        by_trace.setdefault(p.trace_key, []).append(p)
    tasks = []
    for trace_key, group in by_trace.items():
        for start in range(0, len(group), chunk_size):
            chunk = group[start : start + chunk_size]
            index: dict[FrozenMap, int] = {}
            for p in chunk:
                index.setdefault(p.overrides, len(index))
            tasks.append(
                Task(
                    trace_key=trace_key,
                    points=tuple((p.key, p.compression, index[p.overrides]) for p in chunk),
                    profiles=tuple(profiles[o] for o in index),
                    engine=engine,
                )
            )
    return tasks


def _component_order(columns: list[str]) -> list[str]:
    """``energy_<component>_pj`` columns in the report's component order (unknown names last)."""
    from simulator.cost import COMPONENT_ORDER

    def rank(column: str) -> tuple[int, str]:
        name = column[len("energy_") : -len("_pj")]
        return (COMPONENT_ORDER.index(name) if name in COMPONENT_ORDER else len(COMPONENT_ORDER), name)

    return sorted(columns, key=rank)


def _table(plan: Plan, store: ResultStore) -> pd.DataFrame:
    stored = store.fetch(p.key for p in plan.points)
    rows = []
    for p in plan.points:
        row: dict[str, Any] = {"point_index": p.index, **p.inputs}
        result = stored.get(p.key)  # absent only if its row was damaged after being recomputed (fetch warned)
        if result is None:
            row.update(dict.fromkeys(("total_energy_pj", "cold_energy_pj"), math.nan), point_key=p.key)
            row.update(dict.fromkeys(BOOKKEEPING_COLUMNS[1:]))
            rows.append(row)
            continue
        row.update(result.outputs)
        row.update(
            point_key=p.key,
            run_id=result.run_id,
            computed_at=result.computed_at,
            compute_s=result.compute_s,
            worker=result.worker,
            writes=result.writes,
        )
        rows.append(row)
    df = pd.DataFrame(rows)
    # A component or operand that a point's report lacks spent no energy there.
    energy_columns = [c for c in df.columns if c.startswith("energy_") and c.endswith("_pj")]
    df[energy_columns] = df[energy_columns].fillna(0.0)
    # Inputs, then total energies, then the breakdown (components, then operands), then the rest.
    inputs = ["point_index", *plan.points[0].inputs]
    totals = ["total_energy_pj", "cold_energy_pj"]
    components = [c for c in energy_columns if not c.endswith("_operand_pj") and c not in totals]
    operands = [c for c in energy_columns if c.endswith("_operand_pj")]
    head = inputs + totals + _component_order(components) + operands
    rest = [c for c in df.columns if c not in head and c not in BOOKKEEPING_COLUMNS]
    df = df[head + rest + list(BOOKKEEPING_COLUMNS)]
    df.attrs.update(
        sweep=plan.spec.name,
        axes=[a.key for a in plan.spec.axes],
        sampling=plan.spec.sampling,
        sampled=plan.sampled,
        skipped_by_constraints=plan.skipped_by_constraints,
        duplicates=plan.duplicates,
        code_version=plan.code_version,
        constraints=[c.text for c in plan.spec.constraints],
    )
    return df


def run(
    spec: SweepSpec | str | Path,
    *,
    backend: Backend | str = "processes",
    db: str | Path | None = None,
    chunk_size: int | None = None,
    progress: ProgressCallback | None = None,
    workloads: Mapping[tuple[str, int], Workload] | None = None,
    max_points: int = MAX_PLAN_POINTS,
    allow_import: bool = False,
) -> pd.DataFrame:
    """Run a sweep and return one tidy row per point (inputs, energy breakdown, latency, storage, fit).

    Args:
        spec: a ``SweepSpec`` or the path of a sweep TOML file.
        backend: a ``Backend`` or a name (``"inprocess"``, ``"processes"``, ``"dask"``).
        db: the SQLite results file; points already in it are not recomputed. None keeps results
            in memory (nothing survives the call).
        chunk_size: points per task (default: about 8 tasks per worker, at most 64 points).
        progress: called with (points finished, points in the sweep) as chunks finish.
        workloads: already traced workloads by (model, batch size), used instead of tracing again
            (e.g. across several sweeps of one model in a notebook).
        max_points: most points the plan may sample (``simulator.sweep.plan.MAX_PLAN_POINTS``).
        allow_import: when ``spec`` is a file path, whether its model may be a
            ``package.module:factory`` import path (see ``load_spec``).

    Returns:
        The table, in sampling order; ``df.attrs`` holds the axes and planning counts.

    Raises:
        SweepSpecError: bad input, before any point is computed.
        SweepStoreError: ``db`` is not a pjsim results database (it is left untouched), or another
            sweep is writing it.

    Warns:
        CorruptedRowWarning: damaged result rows found in ``db``; those points are recomputed.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec, allow_import=allow_import)
    if chunk_size is not None and chunk_size < 1:
        raise SweepSpecError(spec.source, "chunk_size", f"expected a whole number >= 1, found {chunk_size}")
    plan = plan_sweep(spec, max_points=max_points)
    runner = make_backend(backend) if isinstance(backend, str) else backend
    with ResultStore(db) as store:
        done, damaged = store.usable_keys()
        damaged &= {p.key for p in plan.points}
        if damaged:
            warnings.warn(
                f"{db}: {len(damaged)} damaged result row(s) (unreadable outputs) will be recomputed: "
                + ", ".join(sorted(k[:12] for k in damaged)[:5]),
                CorruptedRowWarning,
                stacklevel=2,
            )
        pending = [p for p in plan.points if p.key not in done]
        total = len(plan.points)
        finished = total - len(pending)
        if progress is not None:
            progress(finished, total)
        if pending:
            profiles = _load_profiles(spec, pending)
            traced = _trace(spec, pending, workloads)
            size = chunk_size or _chunk_size(len(pending), runner.workers)
            tasks = make_tasks(pending, profiles, size, spec.engine)
            # Accuracy (optional) depends on the compression only: once per distinct compression.
            extra = _accuracy_columns(spec, pending)
            inputs = {p.key: p.inputs for p in pending}
            run_id = store.start_run(spec.name, plan.code_version, runner.describe())
            for results in runner.run(traced, tasks):
                rows = [(k, inputs[k], {**out, **extra.get(k, {})}, s, w) for k, out, s, w in results]
                store.write(spec.name, run_id, rows)
                finished += len(results)
                if progress is not None:
                    progress(finished, total)
        return _table(plan, store)

