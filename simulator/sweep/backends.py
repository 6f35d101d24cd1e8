"""Execution backends behind one interface: run chunks of points, yield their results as they finish.

- ``InProcessBackend``: runs the tasks one by one in this process (for debugging; exceptions surface
  with their full traceback).
- ``ProcessBackend`` (the default): a ``concurrent.futures.ProcessPoolExecutor`` on all cores. The
  workers start from a fork server that has preloaded ``simulator.sweep.worker`` (torch-free), and
  each receives the traced workloads once, at start-up; tasks carry only points and profiles.
- ``DaskBackend``: Dask distributed, either on an existing scheduler (``tcp://host:port``; its
  workers need pjsim installed) or on a ``LocalCluster`` of ``n`` workers it starts and stops. The
  workloads are scattered to every worker once (``broadcast=True``) and tasks refer to them.

Every backend's ``run(workloads, tasks)`` yields one list of ``PointResult`` per finished task, in
completion order; the caller stores them as they come.
"""

from __future__ import annotations

import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from simulator.sweep.errors import SweepSpecError
from simulator.sweep.worker import PointResult, Task, evaluate_task, evaluate_task_in_process, init_process
from simulator.workload import Workload

__all__ = ["BACKENDS", "Backend", "DaskBackend", "InProcessBackend", "ProcessBackend", "make_backend"]

TraceKey = tuple[str, int]


class Backend(ABC):
    """Runs sweep tasks somewhere; ``workers`` is how many run at once (used to size chunks)."""

    name: str = "backend"

    @property
    @abstractmethod
    def workers(self) -> int: ...

    @abstractmethod
    def run(self, workloads: Mapping[TraceKey, Workload], tasks: Sequence[Task]) -> Iterator[list[PointResult]]:
        """Run ``tasks`` (each on ``workloads[task.trace_key]``); yield each task's results as it finishes."""

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"


class InProcessBackend(Backend):
    """Runs every task in the calling process, in order."""

    name = "inprocess"

    @property
    def workers(self) -> int:
        return 1

    def run(self, workloads: Mapping[TraceKey, Workload], tasks: Sequence[Task]) -> Iterator[list[PointResult]]:
        for task in tasks:
            yield evaluate_task(workloads[task.trace_key], task)


class ProcessBackend(Backend):
    """A pool of local worker processes (default: one per core)."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise SweepSpecError("--workers", "workers", f"expected a whole number >= 1, found {workers}")
        self._workers = workers or os.cpu_count() or 1

    @property
    def workers(self) -> int:
        return self._workers

    def run(self, workloads: Mapping[TraceKey, Workload], tasks: Sequence[Task]) -> Iterator[list[PointResult]]:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            ctx.set_forkserver_preload(["simulator.sweep.worker"])
        workers = min(self._workers, max(1, len(tasks)))
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=init_process, initargs=(dict(workloads),))
        try:
            pending = {pool.submit(evaluate_task_in_process, task) for task in tasks}
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend(Backend):
    """Dask distributed: an existing scheduler, or a ``LocalCluster`` started for the sweep."""

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        local_workers: int | None = None,
        processes: bool = True,
        threads_per_worker: int = 1,
    ) -> None:
        if (scheduler is None) == (local_workers is None):
            raise SweepSpecError("dask backend", "--scheduler/--dask-local", "give exactly one of a scheduler address or a local worker count")
        if local_workers is not None and local_workers < 1:
            raise SweepSpecError("dask backend", "--dask-local", f"expected a whole number >= 1, found {local_workers}")
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.processes = processes
        self.threads_per_worker = threads_per_worker
        self._n_workers = local_workers or 0

    @property
    def workers(self) -> int:
        return max(1, self._n_workers)

    def describe(self) -> str:
        where = self.scheduler or f"LocalCluster, {'processes' if self.processes else 'threads'}"
        return f"dask ({where}, {self.workers} worker{'s' if self.workers != 1 else ''})"

    def _connect(self):
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            try:
                client = Client(self.scheduler, timeout="20s")
            except OSError as exc:
                raise SweepSpecError("dask backend", "--scheduler", f"cannot reach {self.scheduler}: {exc}") from None
            n = len(client.scheduler_info().get("workers", {}))
            self._n_workers = n * self.threads_per_worker if n else 1
            return client, None
        cluster = LocalCluster(
            n_workers=self.local_workers,
            threads_per_worker=self.threads_per_worker,
            processes=self.processes,
            dashboard_address=None,
        )
        return Client(cluster), cluster

    def run(self, workloads: Mapping[TraceKey, Workload], tasks: Sequence[Task]) -> Iterator[list[PointResult]]:
        from distributed import as_completed

        client, cluster = self._connect()
        try:
            shipped = {key: client.scatter(wl, broadcast=True, hash=False) for key, wl in workloads.items()}
            futures = [client.submit(evaluate_task, shipped[t.trace_key], t, pure=False) for t in tasks]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                client.cancel(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


#: Backend names the CLI accepts.
BACKENDS = ("inprocess", "processes", "dask")


def make_backend(
    name: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
) -> Backend:
    """The backend called ``name``; ``scheduler`` or ``dask_local`` imply ``dask``."""
    if scheduler is not None or dask_local is not None:
        if name not in ("dask", "processes"):
            raise SweepSpecError("backend", "--backend", f"--scheduler/--dask-local need the dask backend, not {name!r}")
        return DaskBackend(scheduler=scheduler, local_workers=dask_local)
    if name == "inprocess":
        return InProcessBackend()
    if name == "processes":
        return ProcessBackend(workers)
    if name == "dask":
        return DaskBackend(local_workers=workers or os.cpu_count() or 1)
    raise SweepSpecError("backend", "--backend", f"expected one of {list(BACKENDS)}, found {name!r}")
