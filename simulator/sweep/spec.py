"""Read a sweep specification (TOML file or dict) into a checked ``SweepSpec``.

Format (every key but ``sweep.model``, ``sweep.profile`` and the axes is optional)::

    [sweep]
    name = "lenet-sram-density"       # default: the file's stem
    model = "lenet_300_100"           # zoo name, a .pjc/.onnx/FILE.pt@ARCH file; package.module:factory only with --allow-import
    input_shape = [1, 1, 28, 28]      # only for package.module:factory models (batch first)
    # inputs = ["ids:int64[1,128]"]   # or typed inputs, one per forward argument (models.input_spec)
    profile = "horowitz45"            # shipped name, or a .toml path relative to this file
    batch_size = 1
    engine = "simpy"                  # "simpy" | "closed-form" | "baseline" (simulate's engine)
    sampling = "grid"                 # "grid" | "random" | "lhs"
    samples = 200                     # random / lhs: number of draws
    seed = 0
    constraints = ["compression.index_bits <= compression.weight_bits"]

    [compression]                     # the base compression (analytic; default: dense float32)
    density = 1.0                     # fraction of conv/linear weights kept
    weight_bits = 32                  # bits per weight (per codebook index when weight_sharing: <= 16)
    index_bits = 0                    # relative-index bits per kept weight (1..weight_bits when density < 1)
    weight_sharing = false

    [accuracy]                        # optional: accuracy of each compression (no retraining)
    dataset = "mnist"                 # the MNIST test set
    checkpoint = "lenet_300_100-dense"   # default: "<model>-dense" (models/checkpoints)
    test_images = 10000               # default: all

    [[axis]]
    key = "profile.memory.sram.capacity"   # any numeric/string profile entry; the number replaces
    values = [0.064, 0.256, 1, 4, 16]      # `value` and keeps the entry's unit (MB here)

    [[axis]]
    key = "compression.density"
    min = 0.02                        # a range axis: min/max (inclusive), num grid points,
    max = 0.5                         # scale "linear" | "log", integer = true for whole numbers
    num = 6
    scale = "log"

    [[axis]]
    key = "batch_size"
    values = [1, 4]

Axis keys start with ``profile.`` (a dotted path into the profile TOML), ``compression.`` (one of
``density``, ``weight_bits``, ``index_bits``, ``weight_sharing``) or are ``batch_size``. Constraints
are expressions over these names (see ``simulator.sweep.expr``). Everything here is checked before
any point is computed; profile paths are checked against the profile by the planner.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simulator.fileio import MAX_NESTING_DEPTH, InputFileError, check_nesting, read_bounded_text
from simulator.engines import ENGINES  # the engines a sweep may use (simulate's)
from simulator.sweep.errors import SweepSpecError
from simulator.sweep.expr import ConstraintSyntaxError, parse_constraint
from simulator.sweep.sampling import SAMPLERS
from simulator.sweep.spec_types import (
    COMPRESSION_KEYS,
    DATASETS,
    AccuracySpec,
    Axis,
    CompressionParams,
    SweepSpec,
    impossible_compression,
)

__all__ = ["MAX_SPEC_BYTES", "import_refusal", "input_names", "load_spec", "parse_spec"]

#: Largest sweep specification file read (a spec is a few KB; long value lists stay far below this).
MAX_SPEC_BYTES = 1 << 20

_TOP_KEYS = {"sweep", "compression", "axis", "accuracy"}
_ACCURACY_KEYS = {"dataset", "checkpoint", "test_images", "data_path"}
_SWEEP_KEYS = {
    "name", "description", "model", "input_shape", "inputs", "profile", "batch_size", "sampling", "samples", "seed", "constraints",
    "engine",
}
_AXIS_KEYS = {"key", "values", "min", "max", "num", "scale", "integer"}
_SCALES = ("linear", "log")


def load_spec(path: str | Path, *, allow_import: bool = False) -> SweepSpec:
    """Read and check the sweep specification in the TOML file ``path``.

    The file must be a regular file of at most ``MAX_SPEC_BYTES``, UTF-8, nested at most
    ``MAX_NESTING_DEPTH`` deep. A sweep file is data: its model must be a zoo name unless
    ``allow_import`` (``pjsim sweep --allow-import``) permits a ``package.module:factory`` import path.

    Raises:
        SweepSpecError: naming the file, the key and what was expected.
    """
    path = Path(path)
    try:
        text = read_bounded_text(path, MAX_SPEC_BYTES, "sweep specification")
        raw = check_nesting(tomllib.loads(text), path, "sweep specification")
    except InputFileError as exc:
        raise SweepSpecError(str(path), "(file)", f"expected {exc.expected}, found {exc.found}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepSpecError(str(path), "(file)", f"not valid TOML ({exc})") from None
    except RecursionError:
        raise SweepSpecError(str(path), "(file)", f"TOML nested more than {MAX_NESTING_DEPTH} deep") from None
    return parse_spec(raw, source=str(path), base_dir=path.parent, default_name=path.stem, allow_import=allow_import)


def import_refusal(model: str) -> str:
    """Why a sweep file's import-path model is refused without ``--allow-import``."""
    return (
        f"'{model}' is an import path: the sweep would import that module and call its factory, i.e. run its "
        "code; a sweep file names zoo models unless you trust it and pass --allow-import (pjsim sweep) "
        "or allow_import=True (load_spec / run)"
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_keys(table: Any, allowed: set[str], source: str, where: str) -> None:
    if not isinstance(table, Mapping):
        raise SweepSpecError(source, where, f"expected a table, found {table!r}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SweepSpecError(source, f"{where}.{unknown[0]}" if where else unknown[0], f"unknown key; expected one of {sorted(allowed)}")


def _resolve_profile(profile: str, base_dir: Path | None) -> str:
    """A profile path written relative to the spec file, made absolute; shipped names unchanged."""
    if base_dir is not None and (profile.endswith(".toml") or "/" in profile) and not Path(profile).is_absolute():
        return str((base_dir / profile).resolve())
    return profile


def _compression_value(param: str, value: Any, source: str, where: str) -> Any:
    """``value`` checked as compression parameter ``param`` (type and range)."""
    kind = COMPRESSION_KEYS[param]
    if kind is bool:
        if not isinstance(value, bool):
            raise SweepSpecError(source, where, f"expected true or false, found {value!r}")
        return value
    if not _is_number(value):
        raise SweepSpecError(source, where, f"expected a number, found {value!r}")
    if kind is int:
        if float(value) != int(value):
            raise SweepSpecError(source, where, f"expected a whole number, found {value!r}")
        value = int(value)
        low = 1 if param == "weight_bits" else 0
        if not low <= value <= 32:
            raise SweepSpecError(source, where, f"expected {low} <= {param} <= 32, found {value}")
        return value
    value = float(value)
    if not 0.0 < value <= 1.0:
        raise SweepSpecError(source, where, f"expected a density in (0, 1], found {value}")
    return value


def _check_axis_value(axis_key: str, value: Any, source: str, where: str) -> Any:
    kind = axis_key.split(".", 1)[0]
    if kind == "compression":
        return _compression_value(axis_key.split(".", 1)[1], value, source, where)
    if kind == "batch_size":
        if not _is_number(value) or float(value) != int(value) or value < 1:
            raise SweepSpecError(source, where, f"expected a whole number >= 1, found {value!r}")
        return int(value)
    if not (_is_number(value) or isinstance(value, (str, bool))):
        raise SweepSpecError(source, where, f"expected a number, string or boolean, found {value!r}")
    return value


def _parse_axis(raw: Any, i: int, source: str) -> Axis:
    where = f"axis[{i}]"
    _check_keys(raw, _AXIS_KEYS, source, where)
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise SweepSpecError(source, f"{where}.key", f"expected a name such as 'profile.memory.sram.capacity', found {key!r}")
    kind, _, target = key.partition(".")
    valid = (
        (kind == "batch_size" and not target)
        or (kind == "compression" and target in COMPRESSION_KEYS)
        or (kind == "profile" and bool(target))
    )
    if not valid:
        raise SweepSpecError(
            source,
            f"{where}.key",
            f"'{key}' names no sweepable input; expected 'profile.<dotted path in the profile>', "
            f"'compression.<{'|'.join(COMPRESSION_KEYS)}>' or 'batch_size'",
        )
    where = f"axis '{key}'"
    has_values = "values" in raw
    has_range = "min" in raw or "max" in raw
    if has_values == has_range:
        raise SweepSpecError(source, where, "expected either `values = [...]` or a range `min`/`max` (not both)")
    if has_values:
        values = raw["values"]
        if not isinstance(values, list):
            raise SweepSpecError(source, f"{where}.values", f"expected a list, found {values!r}")
        if not values:
            raise SweepSpecError(source, f"{where}.values", "the axis is empty; give at least one value")
        for extra in ("num", "scale", "integer"):
            if extra in raw:
                raise SweepSpecError(source, f"{where}.{extra}", "only applies to a range axis (min/max)")
        checked = tuple(_check_axis_value(key, v, source, f"{where}.values[{j}]") for j, v in enumerate(values))
        return Axis(key=key, values=tuple(dict.fromkeys(checked)))
    low, high = raw.get("min"), raw.get("max")
    if not _is_number(low) or not _is_number(high):
        raise SweepSpecError(source, where, f"a range axis needs numeric min and max, found min={low!r}, max={high!r}")
    if low > high:
        raise SweepSpecError(source, where, f"the range is empty: min {low} > max {high}")
    scale = raw.get("scale", "linear")
    if not isinstance(scale, str) or scale not in _SCALES:
        raise SweepSpecError(source, f"{where}.scale", f"expected one of {list(_SCALES)}, found {scale!r}")
    if scale == "log" and low <= 0:
        raise SweepSpecError(source, f"{where}.min", f"a log axis needs min > 0, found {low}")
    integer = raw.get("integer", COMPRESSION_KEYS.get(target) is int if kind == "compression" else kind == "batch_size")
    if not isinstance(integer, bool):
        raise SweepSpecError(source, f"{where}.integer", f"expected true or false, found {integer!r}")
    num = raw.get("num")
    if num is not None and (not isinstance(num, int) or isinstance(num, bool) or num < 1):
        raise SweepSpecError(source, f"{where}.num", f"expected a whole number >= 1, found {num!r}")
    for bound, name in ((low, "min"), (high, "max")):
        _check_axis_value(key, round(bound) if integer else bound, source, f"{where}.{name}")
    return Axis(key=key, low=float(low), high=float(high), num=num, scale=scale, integer=integer)


def input_names(axes: tuple[Axis, ...]) -> set[str]:
    """Every name a constraint may read: the compression parameters, ``batch_size`` and the axes."""
    return {f"compression.{k}" for k in COMPRESSION_KEYS} | {"batch_size"} | {a.key for a in axes}


def parse_spec(
    raw: Mapping[str, Any],
    source: str = "<dict>",
    base_dir: Path | None = None,
    default_name: str = "sweep",
    *,
    allow_import: bool = True,
) -> SweepSpec:
    """Check the table ``raw`` (the TOML's content) and build a ``SweepSpec``.

    Args:
        raw: the specification as a dict (as ``tomllib`` reads it).
        source: name used in error messages (the file path).
        base_dir: directory that relative profile paths are resolved against.
        default_name: the sweep's name when ``sweep.name`` is absent.
        allow_import: whether ``sweep.model`` may be a ``package.module:factory`` import path (which
            imports that module and calls the factory). True for a dict built by Python code (the
            caller already runs code); ``load_spec`` passes False for files unless told otherwise.

    Raises:
        SweepSpecError: naming the source, the key and what was expected.
    """
    _check_keys(raw, _TOP_KEYS, source, "")
    sweep = raw.get("sweep")
    if sweep is None:
        raise SweepSpecError(source, "sweep", "missing the [sweep] table (model, profile, ...)")
    _check_keys(sweep, _SWEEP_KEYS, source, "sweep")
    for key in ("model", "profile"):
        if not isinstance(sweep.get(key), str) or not sweep.get(key):
            raise SweepSpecError(source, f"sweep.{key}", f"expected a non-empty string, found {sweep.get(key)!r}")
    if ":" in sweep["model"] and not allow_import:
        raise SweepSpecError(source, "sweep.model", import_refusal(sweep["model"]))
    name = sweep.get("name", default_name)
    if not isinstance(name, str) or not name or any(c in name for c in "/\\\0"):
        raise SweepSpecError(source, "sweep.name", f"expected a file-name-safe string, found {name!r}")
    batch_size = _check_axis_value("batch_size", sweep.get("batch_size", 1), source, "sweep.batch_size")
    sampling = sweep.get("sampling", "grid")
    if not isinstance(sampling, str) or sampling not in SAMPLERS:
        raise SweepSpecError(source, "sweep.sampling", f"expected one of {sorted(SAMPLERS)}, found {sampling!r}")
    samples = sweep.get("samples")
    if sampling != "grid":
        if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
            raise SweepSpecError(source, "sweep.samples", f"{sampling} sampling needs samples = <whole number >= 1>, found {samples!r}")
    elif samples is not None:
        raise SweepSpecError(source, "sweep.samples", "only applies to random and lhs sampling")
    engine = sweep.get("engine", "simpy")
    if not isinstance(engine, str) or engine not in ENGINES:
        raise SweepSpecError(source, "sweep.engine", f"expected one of {list(ENGINES)}, found {engine!r}")
    seed = sweep.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SweepSpecError(source, "sweep.seed", f"expected a whole number >= 0, found {seed!r}")

    input_shape = sweep.get("input_shape")
    if input_shape is not None:
        if not isinstance(input_shape, list) or not input_shape or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in input_shape
        ):
            raise SweepSpecError(source, "sweep.input_shape", f"expected a list of whole numbers >= 1, found {input_shape!r}")
        input_shape = tuple(input_shape)
    inputs = sweep.get("inputs", [])
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise SweepSpecError(source, "sweep.inputs", f"expected a list of input specs such as ['ids:int64[1,128]'], found {inputs!r}")
    if inputs and input_shape is not None:
        raise SweepSpecError(source, "sweep.inputs", "give input_shape or inputs, not both")
    from models.input_spec import parse_input_spec

    for i, text in enumerate(inputs):
        try:
            parse_input_spec(text, i)
        except ValueError as exc:
            raise SweepSpecError(source, f"sweep.inputs[{i}]", str(exc)) from None

    comp_raw = raw.get("compression", {})
    _check_keys(comp_raw, set(COMPRESSION_KEYS), source, "compression")
    comp_values = {k: _compression_value(k, v, source, f"compression.{k}") for k, v in comp_raw.items()}
    compression = CompressionParams(**comp_values)

    accuracy = None
    if "accuracy" in raw:
        acc = raw["accuracy"]
        _check_keys(acc, _ACCURACY_KEYS, source, "accuracy")
        dataset = acc.get("dataset", "mnist")
        if not isinstance(dataset, str) or dataset not in DATASETS:
            raise SweepSpecError(source, "accuracy.dataset", f"expected one of {list(DATASETS)}, found {dataset!r}")
        for key in ("checkpoint", "data_path"):
            if key in acc and (not isinstance(acc[key], str) or not acc[key]):
                raise SweepSpecError(source, f"accuracy.{key}", f"expected a non-empty string, found {acc[key]!r}")
        n = acc.get("test_images")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise SweepSpecError(source, "accuracy.test_images", f"expected a whole number >= 1, found {n!r}")
        data_path = acc.get("data_path")
        if data_path is not None and base_dir is not None and not Path(data_path).is_absolute():
            data_path = str((base_dir / data_path).resolve())
        accuracy = AccuracySpec(dataset=dataset, checkpoint=acc.get("checkpoint"), test_images=n, data_path=data_path)

    axes_raw = raw.get("axis")
    if not isinstance(axes_raw, list) or not axes_raw:
        raise SweepSpecError(source, "axis", "expected at least one [[axis]] table")
    axes = tuple(_parse_axis(a, i, source) for i, a in enumerate(axes_raw))
    seen: set[str] = set()
    for axis in axes:
        if axis.key in seen:
            raise SweepSpecError(source, f"axis '{axis.key}'", "appears twice")
        seen.add(axis.key)
        if sampling == "grid" and axis.values is None and axis.num is None:
            raise SweepSpecError(source, f"axis '{axis.key}'.num", "a range axis needs num = <points> for grid sampling")

    if not any(axis.kind == "compression" for axis in axes):
        # Every point shares the base compression: refuse it now. With compression axes each sampled
        # point is checked by the planner (after the constraints), with the same rule.
        problem = impossible_compression(compression)
        if problem is not None:
            raise SweepSpecError(source, problem[0], problem[1])

    constraints_raw = sweep.get("constraints", [])
    if isinstance(constraints_raw, str):
        constraints_raw = [constraints_raw]
    if not isinstance(constraints_raw, list):
        raise SweepSpecError(source, "sweep.constraints", f"expected a list of expressions, found {constraints_raw!r}")
    known = input_names(axes)
    constraints = []
    for i, text in enumerate(constraints_raw):
        try:
            constraint = parse_constraint(text)
        except ConstraintSyntaxError as exc:
            raise SweepSpecError(source, f"sweep.constraints[{i}]", f"{text!r}: {exc}") from None
        unknown = sorted(constraint.names - known)
        if unknown:
            raise SweepSpecError(
                source, f"sweep.constraints[{i}]", f"{text!r} reads unknown name(s) {unknown}; known: {sorted(known)}"
            )
        constraints.append(constraint)

    return SweepSpec(
        name=name,
        model=sweep["model"],
        profile=_resolve_profile(sweep["profile"], base_dir),
        axes=axes,
        batch_size=batch_size,
        compression=compression,
        sampling=sampling,
        samples=samples,
        seed=seed,
        constraints=tuple(constraints),
        source=source,
        input_shape=input_shape,
        inputs=tuple(inputs),
        accuracy=accuracy,
        engine=engine,
    )
