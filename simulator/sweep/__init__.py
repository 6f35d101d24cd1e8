"""Design-space sweeps: many (model, compression, profile) points -> SQLite results -> one tidy DataFrame.

``run(spec)`` plans the points of a sweep specification (TOML; see ``simulator.sweep.spec``), skips
those already in the results database, traces each (model, batch size) once, runs the rest on a
backend (in-process, local processes, or Dask distributed) and returns one row per point.
``simulator.sweep.analysis`` adds Pareto fronts and per-axis sensitivity for the report.
"""

from simulator.sweep.analysis import add_pareto_columns, frontier_table, fronts_for, report_inputs, sensitivity_table
from simulator.sweep.backends import BACKENDS, Backend, DaskBackend, InProcessBackend, ProcessBackend, make_backend
from simulator.sweep.errors import SweepSpecError, SweepStoreError
from simulator.sweep.pareto import pareto_mask
from simulator.sweep.plan import Plan, Point, plan_sweep
from simulator.sweep.runner import BOOKKEEPING_COLUMNS, run
from simulator.sweep.spec import load_spec, parse_spec
from simulator.sweep.spec_types import Axis, CompressionParams, SweepSpec
from simulator.sweep.store import ResultStore

__all__ = [
    "BACKENDS",
    "BOOKKEEPING_COLUMNS",
    "Axis",
    "Backend",
    "CompressionParams",
    "DaskBackend",
    "InProcessBackend",
    "Plan",
    "Point",
    "ProcessBackend",
    "ResultStore",
    "SweepSpec",
    "SweepSpecError",
    "SweepStoreError",
    "add_pareto_columns",
    "frontier_table",
    "fronts_for",
    "load_spec",
    "make_backend",
    "pareto_mask",
    "parse_spec",
    "plan_sweep",
    "report_inputs",
    "run",
    "sensitivity_table",
]
