"""What runs on a worker: cost a chunk of points against one shipped ``Workload``. No torch import.

A ``Task`` carries the points of one chunk (all sharing one traced workload) and the distinct
``HardwareProfile``s they use, already loaded and checked by the coordinator, so a worker neither
traces nor parses TOML: it applies each point's analytic compression to the workload (cached per
chunk) and calls ``simulator.api.simulate``. The result of a point is a flat dict of numbers (the
tidy row's outputs), built from the ``CostReport`` only.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from simulator.api import simulate
from simulator.cost import CostReport
from simulator.hardware import HardwareProfile
from simulator.sweep.compression import analytic_record, apply_record
from simulator.sweep.spec_types import CompressionParams
from simulator.workload import Workload

__all__ = ["PointResult", "Task", "evaluate_task", "report_outputs"]

#: (point key, outputs, seconds spent on the point, worker id)
PointResult = tuple[str, dict[str, Any], float, str]


@dataclass(frozen=True, slots=True)
class Task:
    """One chunk of points for one traced workload.

    Attributes:
        trace_key: (model, batch size) of the workload the points run on.
        points: (point key, compression parameters, index into ``profiles``) per point.
        profiles: the distinct hardware profiles the chunk's points use.
        engine: ``simulate``'s engine (``"simpy"``, ``"closed-form"`` or ``"baseline"``).
    """

    trace_key: tuple[str, int]
    points: tuple[tuple[str, CompressionParams, int], ...]
    profiles: tuple[HardwareProfile, ...]
    engine: str = "simpy"


def report_outputs(report: CostReport) -> dict[str, Any]:
    """The output columns of one point: the report's ``headline().numbers()`` plus its energy breakdown.

    Energy is in pJ per inference (steady state), broken down by component (``energy_<component>_pj``)
    and by operand (``energy_<operand>_operand_pj``); ``accuracy`` (a fraction) is present only when the
    report carries one.
    """
    out: dict[str, Any] = {}
    for (component,), pj in report.energy_by("component").items():
        out[f"energy_{component}_pj"] = pj
    for (operand,), pj in report.energy_by("operand").items():
        if operand != "none":
            out[f"energy_{operand}_operand_pj"] = pj
    out.update(report.headline().numbers())
    return out


def _worker_id() -> str:
    import threading

    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def evaluate_task(workload: Workload, task: Task) -> list[PointResult]:
    """Cost every point of ``task`` on ``workload`` (the workload traced at ``task.trace_key``)."""
    worker = _worker_id()
    compressed: dict[CompressionParams, Workload] = {}
    results: list[PointResult] = []
    for key, params, profile_index in task.points:
        start = time.perf_counter()
        point_workload = compressed.get(params)
        if point_workload is None:
            point_workload = apply_record(workload, analytic_record(workload, params))
            compressed[params] = point_workload
        # No timeline: a sweep row keeps totals only, and recording it costs about half the time.
        report = simulate(point_workload, task.profiles[profile_index], engine=task.engine, timeline=False)
        results.append((key, report_outputs(report), time.perf_counter() - start, worker))
    return results


# -- process-pool plumbing: the workloads are sent once per worker process, not once per task ------

_WORKLOADS: dict[tuple[str, int], Workload] = {}


def init_process(workloads: dict[tuple[str, int], Workload]) -> None:
    """``ProcessPoolExecutor`` initializer: keep the shipped workloads in this worker process."""
    _WORKLOADS.clear()
    _WORKLOADS.update(workloads)


def evaluate_task_in_process(task: Task) -> list[PointResult]:
    """``evaluate_task`` on the workload this process received at start-up."""
    return evaluate_task(_WORKLOADS[task.trace_key], task)
