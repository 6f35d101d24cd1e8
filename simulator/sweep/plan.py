"""Turn a ``SweepSpec`` into its list of points, each with a content-hash key, before any work starts.

The plan is where bad input is caught: every profile axis is tried against the profile (a key that
does not exist raises), compression values are checked, the constraints are applied, and a spec
whose constraints rule out every point raises. Nothing is traced or simulated here.

A point's key is the SHA-256 of its content: the model name (and input shape), the batch size, the
compression parameters (which fully determine the analytic ``CompressionRecord``), the digest of the
resolved profile table (``extends`` merged, the point's overrides applied:
``simulator.hardware.profile_digest``), and the code version (the package version and a digest of
the source files that compute results). Equal keys mean equal results, so the key is
what the results database is indexed by and what a re-run uses to skip finished points.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.limits import MAX_PLAN_POINTS
from simulator.errors import PjsimError
from simulator.frozen import FrozenMap
from simulator.sweep.errors import SweepSpecError
from simulator.sweep.sampling import sample_points
from simulator.sweep.spec_types import CompressionParams, SweepSpec, impossible_compression

__all__ = ["CODE_VERSION_ENV", "MAX_PLAN_POINTS", "Plan", "Point", "check_plan_size", "code_version", "plan_sweep"]


#: Source folders whose code decides a point's numbers (cli/, report/ and the sweep machinery only format).
_RESULT_SOURCES = ("simulator", "models")
_FORMAT_ONLY = ("simulator/cli", "simulator/report", "simulator/sweep")
_RESULT_SWEEP_FILES = ("simulator/sweep/compression.py", "simulator/sweep/worker.py")


@dataclass(frozen=True, slots=True)
class Point:
    """One design point.

    Attributes:
        index: position in the spec's sampling order (rows are reported in this order).
        key: content hash of the point (hex SHA-256).
        inputs: every input as a column name -> value (``model``, ``profile``, ``batch_size``,
            ``compression.*`` and the profile axes ``profile.*``).
        batch_size: the batch size to trace at.
        compression: the analytic compression parameters.
        overrides: profile dotted path -> value, passed to ``load_profile``.
    """

    index: int
    key: str
    inputs: FrozenMap[str, Any]
    batch_size: int
    compression: CompressionParams
    overrides: FrozenMap[str, Any]

    @property
    def trace_key(self) -> tuple[str, int]:
        """The points sharing this key share one traced ``Workload``."""
        return (str(self.inputs["model"]), self.batch_size)


@dataclass(frozen=True, slots=True)
class Plan:
    """A spec's points after sampling, constraints and de-duplication."""

    spec: SweepSpec
    points: tuple[Point, ...]
    sampled: int
    skipped_by_constraints: int
    duplicates: int
    code_version: str


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


#: Environment variable that replaces the computed code version (see ``code_version``).
CODE_VERSION_ENV = "PJSIM_SWEEP_CODE_VERSION"


def code_version() -> str:
    """``"<package version>+<12 hex digits of the result-computing sources>"``.

    Any edit to the sources that compute results changes it, so results computed by other code are
    never reused. Setting ``PJSIM_SWEEP_CODE_VERSION`` replaces it (to keep using a database across
    a change known not to affect results, e.g. a docstring edit).
    """
    return os.environ.get(CODE_VERSION_ENV) or _source_version()


@functools.lru_cache(maxsize=1)
def _source_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg = version("pjsim")
    except PackageNotFoundError:
        pkg = "dev"
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    files = []
    for folder in _RESULT_SOURCES:
        files += sorted((root / folder).rglob("*.py"))
    for path in files:
        rel = path.relative_to(root).as_posix()
        if rel.startswith(_FORMAT_ONLY) and rel not in _RESULT_SWEEP_FILES:
            continue
        digest.update(rel.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return f"{pkg}+{digest.hexdigest()[:12]}"


def _check_profile_axes(spec: SweepSpec) -> None:
    """Try each profile axis's first value on the profile: a path that does not exist raises here."""
    from simulator.hardware import load_profile

    for axis in spec.axes:
        if axis.kind != "profile":
            continue
        value = axis.grid_values()[0] if axis.values is not None or axis.num else axis.low
        try:
            load_profile(spec.profile, overrides={axis.target: value})
        except PjsimError as exc:
            raise SweepSpecError(spec.source, f"axis '{axis.key}'", f"not a usable key of profile '{spec.profile}': {exc}") from None


def _check_model(spec: SweepSpec) -> None:
    if spec.accuracy is not None:
        from models.pretrained import available_checkpoints

        checkpoint = spec.accuracy.checkpoint or f"{spec.model}-dense"
        if checkpoint not in available_checkpoints():
            raise SweepSpecError(
                spec.source,
                "accuracy.checkpoint",
                f"no shipped checkpoint {checkpoint!r} for the accuracy step; shipped: {', '.join(available_checkpoints())}",
            )
    from models.resolve import ONNX_SUFFIX, PJC_SUFFIX, PT_SUFFIXES

    if spec.model.partition("@")[0].endswith((PJC_SUFFIX, ONNX_SUFFIX, *PT_SUFFIXES)):
        from pathlib import Path

        if not Path(spec.model.partition("@")[0]).is_file():
            raise SweepSpecError(spec.source, "sweep.model", f"no such file {spec.model.partition('@')[0]!r} "
                                 "(a path is relative to the current directory)")
        return
    if ":" in spec.model:
        if spec.input_shape is None and not spec.inputs:
            raise SweepSpecError(
                spec.source, "sweep.input_shape", f"model '{spec.model}' is not in the zoo; give its input_shape (batch first)"
            )
        return
    from models import model_spec

    try:
        model_spec(spec.model)
    except PjsimError as exc:
        raise SweepSpecError(spec.source, "sweep.model", str(exc)) from None


def check_plan_size(spec: SweepSpec, max_points: int = MAX_PLAN_POINTS) -> int:
    """The number of points ``spec`` samples (before constraints), refused above ``max_points``.

    Computed from the axis sizes alone (exact integers), so nothing is allocated for a huge plan.

    Raises:
        SweepSpecError: naming the axis sizes (or ``samples``) and the limit.
    """
    if spec.sampling == "grid":
        sizes = [len(a.values) if a.values is not None else int(a.num or 1) for a in spec.axes]
        total = 1
        for size in sizes:
            total *= size
        if total > max_points:
            detail = " x ".join(f"{a.key} ({n})" for a, n in zip(spec.axes, sizes))
            raise SweepSpecError(
                spec.source, "axis",
                f"the grid has {total:,} points ({detail}), more than the limit of {max_points:,}; "
                "use fewer values, random/lhs sampling, or raise the limit (pjsim sweep --max-points N)",
            )
        return total
    samples = int(spec.samples or 0)
    if samples > max_points:
        raise SweepSpecError(
            spec.source, "sweep.samples",
            f"{samples:,} samples is more than the limit of {max_points:,} (raise it with pjsim sweep --max-points N)",
        )
    return samples


def plan_sweep(spec: SweepSpec, *, max_points: int = MAX_PLAN_POINTS) -> Plan:
    """The points of ``spec``, in sampling order, with keys; raises on bad input before any work.

    Args:
        spec: the checked specification.
        max_points: most points the plan may sample (``check_plan_size``), checked first.

    Raises:
        SweepSpecError: too many points, unknown model, an axis
            naming a profile key that does not exist, a value a point cannot take, a constraint
            over its evaluation budget, or constraints that rule out every point.
    """
    check_plan_size(spec, max_points)
    _check_model(spec)
    _check_profile_axes(spec)
    from simulator.hardware import profile_digest

    digests: dict[FrozenMap, str] = {}
    version = code_version()
    base_inputs: dict[str, Any] = {
        "model": spec.model, "profile": spec.profile, "engine": spec.engine, "batch_size": spec.batch_size,
    }
    base_inputs.update({f"compression.{k}": v for k, v in spec.compression.as_dict().items()})
    axis_keys = [a.key for a in spec.axes]

    sampled = sample_points(spec.axes, spec.sampling, spec.samples, spec.seed)
    points: list[Point] = []
    seen: set[str] = set()
    skipped = duplicates = 0
    for values in sampled:
        inputs = dict(base_inputs)
        inputs.update(zip(axis_keys, values))
        if not _constraints_hold(spec, inputs):
            skipped += 1
            continue
        compression = CompressionParams(**{k: inputs[f"compression.{k}"] for k in spec.compression.as_dict()})
        problem = impossible_compression(compression)
        if problem is not None:
            raise SweepSpecError(spec.source, problem[0], f"at the point {dict(zip(axis_keys, values))}: {problem[1]}")
        overrides = FrozenMap({a.target: inputs[a.key] for a in spec.axes if a.kind == "profile"})
        if overrides not in digests:
            digests[overrides] = profile_digest(spec.profile, dict(overrides))
        content = {
            "model": spec.model,
            "input_shape": spec.input_shape,
            "batch_size": inputs["batch_size"],
            "record": compression.as_dict(),
            "profile": digests[overrides],
            "engine": spec.engine,
            "code": version,
        }
        if spec.accuracy is not None:
            content["accuracy"] = spec.accuracy.as_dict()
        key = hashlib.sha256(_canonical(content).encode()).hexdigest()
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        points.append(
            Point(
                index=len(points),
                key=key,
                inputs=FrozenMap(inputs),
                batch_size=int(inputs["batch_size"]),
                compression=compression,
                overrides=overrides,
            )
        )
    if not points:
        raise SweepSpecError(
            spec.source,
            "sweep.constraints",
            f"the constraints rule out all {len(sampled)} sampled points: "
            + "; ".join(c.text for c in spec.constraints),
        )
    return Plan(spec, tuple(points), len(sampled), skipped, duplicates, version)



def _constraints_hold(spec: SweepSpec, inputs: dict[str, Any]) -> bool:
    """Whether every constraint holds at ``inputs``; a failing or over-budget one is named in the error."""
    for i, constraint in enumerate(spec.constraints):
        try:
            if not constraint.holds(inputs):
                return False
        except (ArithmeticError, TypeError, ValueError) as exc:
            point = {k: v for k, v in inputs.items() if k in constraint.names}
            raise SweepSpecError(
                spec.source, f"sweep.constraints[{i}]", f"{constraint.text!r} cannot be evaluated at {point}: {exc}"
            ) from None
    return True

