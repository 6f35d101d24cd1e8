"""The numbers a report shows that a single ``CostReport`` does not hold, gathered into one record.

``report/`` only formats; anything it draws must already be a number in a record. This module
produces those records from the pipeline's own outputs:

* ``FitProfile``: per layer (execution order), the stored weight bits, their running sum and the
  activation bits live while the layer runs, against the SRAM capacity (from the ``Workload``);
* ``StorageBreakdown``: the storage waterfall (dense -> pruned -> quantized/shared -> Huffman) when the
  storage accountant provided it, and the per-layer split into values, indices, fillers and codebook
  (from the weight encodings, the same arithmetic as ``TensorEncoding.encoded_bits``);
* ``SramCurve``: energy per inference as the SRAM capacity varies (one ``simulate`` per point);
* ``ProfileConstant`` rows: the profile's constants with their sources.

A ``Configuration`` bundles one labelled ``CostReport`` with these. It is what ``pjsim report`` and
``simulator.report.write_html`` take, and what the report's JSON export saves and reloads.
No torch, plotly or pandas import at module level.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from typing import Any

import numpy as np

from simulator.cost import CostReport
from simulator.errors import ReportError
from simulator.frozen import FrozenMap
from simulator.hardware import HardwareProfile
from simulator.workload import Workload

__all__ = [
    "Configuration",
    "FitLayer",
    "FitProfile",
    "ProfileConstant",
    "SramCurve",
    "SramPoint",
    "StorageBreakdown",
    "StoragePart",
    "StorageStage",
    "STORAGE_PARTS",
    "accuracy_fact",
    "build_configuration",
    "checkpoint_facts",
    "configuration_for",
    "fit_profile",
    "load_report_json",
    "profile_constants",
    "profile_with_sram_bits",
    "sram_capacity_grid",
    "sram_energy_curve",
    "stall_intervals",
    "storage_from_report",
    "storage_parts_from_workload",
]

#: Parts of stored weights, in display order (the waterfall's and per-layer split's vocabulary).
STORAGE_PARTS = ("values", "indices", "fillers", "codebook", "huffman_tables", "biases", "other")


@dataclass(frozen=True, slots=True)
class FitLayer:
    """One layer of the on-chip fit chart.

    Attributes:
        layer: module name.
        weight_bits: stored bits of the weights this layer reads (each tensor counted at first use).
        cumulative_weight_bits: weight bits of this layer and all layers before it.
        live_activation_bits: the most activation bits live at once while this layer runs.
    """

    layer: str
    weight_bits: int
    cumulative_weight_bits: int
    live_activation_bits: int


@dataclass(frozen=True, slots=True)
class FitProfile:
    """What must be on chip, layer by layer, against the SRAM capacity."""

    layers: tuple[FitLayer, ...]
    sram_capacity_bits: int | None


@dataclass(frozen=True, slots=True)
class StorageStage:
    """One bar of the storage waterfall: the model's weight bits after ``name`` (e.g. ``"pruned"``)."""

    name: str
    bits: int


@dataclass(frozen=True, slots=True)
class StoragePart:
    """Bits of one part (``STORAGE_PARTS``) of one layer's stored weights."""

    layer: str
    part: str
    bits: int


@dataclass(frozen=True, slots=True)
class StorageBreakdown:
    """Storage of the weights: the stage waterfall and the per-layer split by part.

    ``stages`` is empty when no stage-by-stage accounting was available; ``source`` says where the
    numbers come from.
    """

    stages: tuple[StorageStage, ...]
    parts: tuple[StoragePart, ...]
    source: str


@dataclass(frozen=True, slots=True)
class SramPoint:
    """Energy of one inference with the SRAM set to ``sram_bits``."""

    sram_bits: int
    steady_energy_pj: float
    cold_energy_pj: float
    latency_s: float
    fits_on_chip: bool | None


@dataclass(frozen=True, slots=True)
class SramCurve:
    """Energy per inference as a function of SRAM capacity (all else as in the profile)."""

    points: tuple[SramPoint, ...]
    method: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class ProfileConstant:
    """One constant of a hardware profile as shown in the report (value already in ``unit``)."""

    key: str
    value: float | None
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class Configuration:
    """One column of a report: a labelled ``CostReport`` plus what the report draws beside it.

    Attributes:
        label: short name shown in the report ("LeNet-300-100 dense on horowitz45").
        cost: the costed inference.
        variant: what was done to the model ("dense", "Deep Compression checkpoint ...").
        profile_description: the profile's one-line description.
        profile_constants: the profile's constants with sources.
        storage: the weight storage breakdown (None = not available).
        fit: the per-layer on-chip fit profile (None = not available).
        sram_curve: energy vs SRAM capacity (None = not computed).
        notes: what is missing from this configuration and why (shown in the report).
    """

    label: str
    cost: CostReport
    variant: str = ""
    profile_description: str = ""
    profile_constants: tuple[ProfileConstant, ...] = ()
    storage: StorageBreakdown | None = None
    fit: FitProfile | None = None
    sram_curve: SramCurve | None = None
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, report: CostReport) -> Configuration:
        """A configuration holding only ``report`` (the report omits what it lacks, with a note)."""
        return cls(label=f"{report.model_name} on {report.profile_name}", cost=report)


# ----------------------------------------------------------------------------------------------
# on-chip fit


def fit_profile(workload: Workload, sram_capacity_bits: int | None) -> FitProfile:
    """Per-layer weight bits (stored encoding), their running sum and live activation bits.

    Live activations per op use the same liveness rule as ``simulator.workload.peak_live_bits``
    (a tensor is live from its producer through its last use), so the maximum over all layers
    equals ``workload.peak_activation_bits``.
    """
    n_ops = len(workload.ops)
    live = _live_bits_per_op(workload, n_ops)
    weight_bits: dict[str, int] = {}
    live_bits: dict[str, int] = {}
    seen: set[str] = set()
    for op in workload.ops:
        weight_bits.setdefault(op.module, 0)
        live_bits[op.module] = max(live_bits.get(op.module, 0), int(live[op.index]) if op.index < n_ops else 0)
        for access in op.accesses:
            info = workload.tensors.get(access.tensor)
            if info is None or info.kind != "weight" or info.name in seen:
                continue
            seen.add(info.name)
            weight_bits[op.module] += info.stored_bits
    running = 0
    layers = []
    for layer, bits in weight_bits.items():
        running += bits
        layers.append(FitLayer(layer, bits, running, live_bits.get(layer, 0)))
    return FitProfile(tuple(layers), sram_capacity_bits)


def _live_bits_per_op(workload: Workload, n_ops: int) -> np.ndarray:
    if n_ops == 0:
        return np.zeros(0, dtype=np.int64)
    starts, ends, sizes = [], [], []
    for t in workload.tensors.values():
        if t.kind == "weight":
            continue
        start = t.producer if t.producer is not None else 0
        end = t.last_use if t.last_use is not None else start
        starts.append(start)
        ends.append(max(end, start))
        sizes.append(t.dense_bits)
    delta = np.zeros(n_ops + 1, dtype=np.int64)
    if sizes:
        np.add.at(delta, np.asarray(starts), np.asarray(sizes, dtype=np.int64))
        np.add.at(delta, np.asarray(ends) + 1, -np.asarray(sizes, dtype=np.int64))
    return np.cumsum(delta)[:n_ops]


# ----------------------------------------------------------------------------------------------
# storage


def storage_parts_from_workload(workload: Workload) -> tuple[StoragePart, ...]:
    """Per-layer split of the stored weights into values, indices, fillers and codebook.

    Follows ``TensorEncoding.encoded_bits``: each kept entry costs its value bits (or mean Huffman code
    length) plus its relative-index bits (or mean code length); filler entries cost a full entry; the
    codebook costs ``codebook_entries x codebook_value_bits``. Dense tensors are all values. A weight
    shared by several layers is counted at its first use.
    """
    totals: dict[tuple[str, str], float] = {}
    seen: set[str] = set()
    for op in workload.ops:
        for access in op.accesses:
            info = workload.tensors.get(access.tensor)
            if info is None or info.kind != "weight" or info.name in seen:
                continue
            seen.add(info.name)
            enc = info.encoding
            if enc is None:
                parts = {"values": float(info.dense_bits)}
            else:
                kept = int(round(enc.density * info.numel))
                value = enc.mean_code_bits if enc.mean_code_bits is not None else enc.value_bits
                index = enc.mean_index_code_bits if enc.mean_index_code_bits is not None else enc.index_bits
                parts = {
                    "values": kept * value,
                    "indices": kept * index,
                    "fillers": enc.filler_entries * (value + index),
                    "codebook": float(enc.codebook_bits()),
                }
            for part, bits in parts.items():
                if bits:
                    totals[(op.module, part)] = totals.get((op.module, part), 0.0) + bits
    return tuple(StoragePart(layer, part, int(math.ceil(bits))) for (layer, part), bits in totals.items())


def storage_from_report(report: Any, source: str = "") -> StorageBreakdown:
    """A ``StorageBreakdown`` from the storage accountant's ``StorageReport`` (``simulator.storage``).

    The waterfall holds the total of every stage the record reaches (dense, pruned, quantized,
    huffman); the per-layer split is the last stage's, with parameters grouped by their module
    (``fc1.weight`` and ``fc1.bias`` -> ``fc1``).
    """
    stages = tuple(StorageStage(stage, int(report.total_bits(stage))) for stage in report.stages)
    final = report.stages[-1] if report.stages else None
    totals: dict[tuple[str, str], int] = {}
    for (stage, tensor, part), bits in report.bits.items():
        if stage != final or not bits:
            continue
        layer = tensor.rsplit(".", 1)[0] if "." in tensor else tensor
        totals[(layer, part)] = totals.get((layer, part), 0) + int(bits)
    parts = tuple(StoragePart(layer, part, bits) for (layer, part), bits in totals.items())
    conventions = getattr(report, "conventions", "")
    return StorageBreakdown(stages, parts, source or f"storage accountant (simulator.storage.storage_report); {conventions}")


def _storage_from_workload(workload: Workload, stages: Sequence[StorageStage] = ()) -> StorageBreakdown:
    return StorageBreakdown(
        stages=tuple(stages),
        parts=storage_parts_from_workload(workload),
        source="per-layer split from the traced weight encodings (TensorEncoding.encoded_bits)",
    )


# ----------------------------------------------------------------------------------------------
# energy vs SRAM capacity


def profile_with_sram_bits(profile: HardwareProfile, sram_bits: int) -> HardwareProfile:
    """``profile`` with its total SRAM set to ``sram_bits`` (several SRAM levels scale in proportion).

    A profile loaded from a file is re-loaded with the capacities overridden, so energies its file
    derives from the capacity (``{ rule = "sqrt_capacity" }``) follow the new size; otherwise (a
    profile built in code) only the capacities change. Everything else stays as the profile gives it.

    Raises:
        ValueError: the profile has no SRAM level.
    """
    total = profile.on_chip_sram_bits
    if total <= 0:
        raise ValueError(f"profile {profile.name!r} has no SRAM level to resize")
    sizes = {lvl.name: max(1, int(round(lvl.capacity_bits * sram_bits / total))) for lvl in profile.levels if lvl.kind == "sram"}
    if profile.path and Path(profile.path).is_file():
        from simulator.hardware import load_profile

        overrides = {
            f"memory.{name}.capacity": {"value": bits, "unit": "bit", "source": "pjsim energy-vs-SRAM-size curve"}
            for name, bits in sizes.items()
        }
        return load_profile(profile.path, overrides=overrides)
    levels = tuple(dataclasses.replace(lvl, capacity_bits=sizes[lvl.name]) if lvl.name in sizes else lvl for lvl in profile.levels)
    return dataclasses.replace(profile, levels=levels)


def sram_capacity_grid(profile_sram_bits: int, needed_bits: int | None, points: int = 13) -> tuple[int, ...]:
    """SRAM sizes to evaluate: log-spaced around both the profile's SRAM and the bits the model needs.

    Includes the profile's own capacity and, when known, the exact fit point and one just below it
    (so the step at the fit point is drawn sharp).
    """
    anchors = [profile_sram_bits] + ([needed_bits] if needed_bits else [])
    low = max(8 * 1000, min(anchors) // 16)
    high = max(anchors) * 4
    grid = {int(round(v)) for v in np.geomspace(low, high, num=max(points, 2))}
    grid.add(int(profile_sram_bits))
    if needed_bits:
        grid.update({int(needed_bits), max(1, int(needed_bits * 0.98))})
    return tuple(sorted(grid))


def sram_energy_curve(
    workload: Workload,
    profile: HardwareProfile,
    capacities_bits: Iterable[int] | None = None,
    simulate_fn: Callable[[Workload, HardwareProfile], CostReport] | None = None,
    progress: Callable[[], None] | None = None,
) -> SramCurve:
    """Energy per inference (cold and steady) of ``workload`` at each SRAM capacity.

    Args:
        workload: the traced model (traced once, costed once per capacity).
        profile: the profile whose SRAM is resized.
        capacities_bits: SRAM sizes in bits (default: ``sram_capacity_grid``).
        simulate_fn: the costing function (default ``simulator.api.simulate``).
        progress: called once per evaluated point (for progress bars).
    """
    if simulate_fn is None:
        from simulator.api import simulate as simulate_fn  # noqa: N813 - the API function itself
    if capacities_bits is None:
        needed = workload.weight_stored_bits + workload.peak_activation_bits
        capacities_bits = sram_capacity_grid(profile.on_chip_sram_bits, needed)
    points = []
    method = ""
    for bits in capacities_bits:
        cost = simulate_fn(workload, profile_with_sram_bits(profile, int(bits)))
        method = cost.method
        points.append(SramPoint(int(bits), cost.total_energy_pj, cost.cold_energy_pj, cost.latency_s, cost.fits_on_chip))
        if progress is not None:
            progress()
    steady = [p.steady_energy_pj for p in points]
    note = ""
    if steady and max(steady) - min(steady) <= 1e-9 * max(abs(max(steady)), 1.0):
        note = f"The '{method}' costing does not depend on SRAM capacity, so the curve is flat."
    return SramCurve(tuple(points), method, note)


# ----------------------------------------------------------------------------------------------
# timeline


def stall_intervals(report: CostReport, resource: str = "compute") -> tuple[tuple[float, float], ...]:
    """The stretches of ``[0, report.cycles]`` where ``resource`` is busy with nothing: its stalls.

    The complement of the resource's busy intervals in the timeline (overlaps merged). For the SimPy
    hierarchy the compute array's idle time is its wait for memory, so the lengths add up to
    ``report.stall_cycles``. Empty when the timeline has no ``resource`` events.
    """
    events = [(e.start_cycle, e.end_cycle) for e in report.timeline if e.resource == resource]
    if not events:
        return ()
    busy = np.asarray(sorted(events), dtype=float)
    ends = np.maximum.accumulate(busy[:, 1])
    gap_starts = np.concatenate([[0.0], ends])
    gap_ends = np.concatenate([busy[:, 0], [max(float(report.cycles), float(ends[-1]))]])
    keep = gap_ends > gap_starts
    return tuple(zip(gap_starts[keep].tolist(), gap_ends[keep].tolist()))


# ----------------------------------------------------------------------------------------------
# profile constants

_LEVEL_FIELDS = {
    "capacity": ("capacity_bits", "KB", 1 / 8000),
    "word": ("word_bits", "bit", 1),
    "read_energy": ("read_energy_pj", "pJ", 1),
    "write_energy": ("write_energy_pj", "pJ", 1),
    "bandwidth": ("bandwidth_bits_per_cycle", "bit/cycle", 1),
    "latency": ("latency_cycles", "cycle", 1),
    "leakage": ("leakage_mw", "mW", 1),
}


def profile_constants(profile: HardwareProfile) -> tuple[ProfileConstant, ...]:
    """Every sourced constant of ``profile``, in file order, converted to a display unit.

    Keys the report does not know how to read back from the record keep their source with no value
    (``value=None``), so nothing cited is ever dropped.
    """
    rows = []
    for key, source in profile.sources.items():
        value, unit = _constant_value(profile, key)
        rows.append(ProfileConstant(key, value, unit, source))
    return tuple(rows)


def _constant_value(profile: HardwareProfile, key: str) -> tuple[float | None, str]:
    parts = key.split(".")
    try:
        if key == "clock.frequency":
            return profile.clock_hz / 1e6, "MHz"
        if key == "compute.macs_per_cycle":
            return float(profile.compute.macs_per_cycle), "MAC/cycle"
        if key == "compute.accumulator_bits":
            return float(profile.compute.accumulator_bits), "bit"
        if parts[0] == "energy" and len(parts) == 3:
            return float(profile.compute.op_energy_pj[f"{parts[1]}.{parts[2]}"]), "pJ"
        if parts[0] == "memory" and len(parts) == 3 and parts[2] == "capacity":
            bits = float(profile.level(parts[1]).capacity_bits)
            for unit, scale in (("GB", 8e9), ("MB", 8e6), ("KB", 8e3)):
                if bits >= scale:
                    return bits / scale, unit
            return bits / 8, "B"
        if parts[0] == "memory" and len(parts) == 3 and parts[2] in _LEVEL_FIELDS:
            attr, unit, scale = _LEVEL_FIELDS[parts[2]]
            return float(getattr(profile.level(parts[1]), attr)) * scale, unit
    except (KeyError, AttributeError):
        pass
    return None, ""


# ----------------------------------------------------------------------------------------------
# accuracy

_ACCURACY_KEYS = ("accuracy", "test_accuracy", "top1_accuracy", "accuracy_top1")
_ORIGIN_KEYS = ("accuracy_source", "accuracy_origin", "accuracy_measured", "accuracy_note")


def accuracy_fact(metadata: dict[str, str] | CostReport) -> tuple[str, str] | None:
    """``(accuracy, where it comes from)`` from a report's metadata, or None when unknown.

    Looks for ``accuracy`` (or ``test_accuracy``, ``top1_accuracy``) and its origin under
    ``accuracy_source`` (or ``accuracy_origin``); the origin defaults to "metadata".
    """
    meta = metadata.metadata if isinstance(metadata, CostReport) else metadata
    for key in _ACCURACY_KEYS:
        if key in meta and str(meta[key]).strip():
            origin = next((str(meta[k]) for k in _ORIGIN_KEYS if k in meta and str(meta[k]).strip()), "recorded in metadata")
            return str(meta[key]), origin
    return None


# ----------------------------------------------------------------------------------------------
# one configuration


def build_configuration(
    label: str,
    workload: Workload,
    profile: HardwareProfile,
    cost: CostReport | None = None,
    variant: str = "",
    storage_stages: Sequence[StorageStage] = (),
    storage: StorageBreakdown | None = None,
    sram_curve: bool | Iterable[int] = True,
    notes: Sequence[str] = (),
    metadata: Mapping[str, str] | None = None,
    simulate_fn: Callable[[Workload, HardwareProfile], CostReport] | None = None,
    progress: Callable[[], None] | None = None,
) -> Configuration:
    """Cost ``workload`` on ``profile`` (unless ``cost`` is given) and gather what the report draws.

    Args:
        label: the configuration's name in the report.
        workload: the traced (possibly compressed) model.
        profile: the hardware profile.
        cost: an already computed ``CostReport`` for ``(workload, profile)``.
        variant: what was done to the model, in words.
        storage_stages: the storage waterfall from the storage accountant, when available.
        storage: a complete storage breakdown (overrides ``storage_stages``).
        sram_curve: True for the default capacity grid, an iterable of capacities in bits, or False.
        notes: what is missing and why.
        metadata: labelled facts merged into the report's metadata (e.g. a checkpoint's accuracy).
        simulate_fn: the costing function (default ``simulator.api.simulate``).
        progress: called after each costed point (for progress bars).
    """
    if simulate_fn is None:
        from simulator.api import simulate as simulate_fn  # noqa: N813
    if cost is None:
        cost = simulate_fn(workload, profile)
        if progress is not None:
            progress()
    if metadata:
        cost = dataclasses.replace(cost, metadata=FrozenMap({**cost.metadata, **{str(k): str(v) for k, v in metadata.items()}}))
    curve = None
    if sram_curve is not False and profile.on_chip_sram_bits > 0:
        capacities = None if sram_curve is True else tuple(sram_curve)
        curve = sram_energy_curve(workload, profile, capacities, simulate_fn=simulate_fn, progress=progress)
    return Configuration(
        label=label,
        cost=cost,
        variant=variant,
        profile_description=profile.description,
        profile_constants=profile_constants(profile),
        storage=storage if storage is not None else _storage_from_workload(workload, storage_stages),
        fit=fit_profile(workload, profile.on_chip_sram_bits),
        sram_curve=curve,
        notes=tuple(notes),
    )


# ----------------------------------------------------------------------------------------------
# saved reports


def load_report_json(path: str | Path) -> tuple[str, tuple[str, ...], tuple[Configuration, ...]]:
    """Read ``(title, notes, configurations)`` back from a report's JSON export.

    Also accepts a file holding one encoded ``Configuration`` or ``CostReport`` (or a list of them).

    Raises:
        ReportError: the file is missing, unreadable, not JSON, or holds no pjsim configurations
            (the message names the file and what was expected).
    """
    from simulator.fileio import InputFileError, load_json_bounded
    from simulator.jsonio import MAX_REPORT_JSON_BYTES, RecordDecodeError, from_jsonable

    path = Path(path)
    try:
        data = load_json_bounded(path, MAX_REPORT_JSON_BYTES, "pjsim report .json")
    except InputFileError as exc:
        raise ReportError(str(exc)) from None
    title, notes = "", ()
    if isinstance(data, dict) and "configurations" in data:
        raw_notes = data.get("notes", [])
        if not isinstance(raw_notes, list):
            raise ReportError(f"{path}: 'notes' must be a list of strings, found {type(raw_notes).__name__}")
        title, notes, data = str(data.get("title", "")), tuple(map(str, raw_notes)), data["configurations"]
    items = data if isinstance(data, list) else [data]
    try:
        decoded = [from_jsonable(item, f"{path}[{i}]") for i, item in enumerate(items)]
    except RecordDecodeError as exc:
        raise ReportError(str(exc)) from None
    configs = []
    for i, item in enumerate(decoded):
        if isinstance(item, CostReport):
            item = Configuration.of(item)
        if not isinstance(item, Configuration):
            raise ReportError(f"{path}: entry {i} is {type(item).__name__}, expected a pjsim Configuration or CostReport")
        configs.append(item)
    if not configs:
        raise ReportError(f"{path}: holds no configurations")
    return title, notes, tuple(configs)


def checkpoint_facts(metadata: Mapping[str, Any] | None, checkpoint: str) -> dict[str, str]:
    """A checkpoint's metadata as labelled facts, with its accuracy labelled by where it comes from.

    Nested entries (training settings, per-stage tables) are left out; a recorded
    ``test_error_percent`` becomes ``accuracy`` with ``accuracy_source`` naming the checkpoint.
    """
    facts = {str(k): str(v) for k, v in dict(metadata or {}).items() if not isinstance(v, (dict, list))}
    facts.setdefault("checkpoint", checkpoint)
    if "accuracy" not in facts and "test_error_percent" in facts:
        facts["accuracy"] = f"{100 - float(facts['test_error_percent']):.2f} %"
        facts.setdefault("accuracy_source", f"test set, measured when '{checkpoint}' was made (checkpoint metadata)")
    return facts


def configuration_for(
    model: str | None,
    profile: str | Path | HardwareProfile = "horowitz45",
    checkpoint: str | None = None,
    sram_points: int = 13,
    batch_size: int = 1,
    progress: Callable[[], None] | None = None,
) -> Configuration:
    """The configuration ``pjsim report MODEL@PROFILE`` (or ``checkpoint:NAME@PROFILE``) builds.

    Args:
        model: zoo name or ``package.module:factory`` (None when ``checkpoint`` is given).
        profile: shipped profile name, path or profile.
        checkpoint: a shipped checkpoint name (``models.load_checkpoint``), dense or compressed.
        sram_points: points of the energy-vs-SRAM curve (0 = none).
        batch_size: batch of the example input.
        progress: called after each costed point.
    """
    from simulator.api import resolve_profile, trace_model

    hw = resolve_profile(profile)
    record, metadata, variant, storage = None, {}, "as built", None
    if checkpoint is not None:
        try:
            from models.pretrained import load_checkpoint
        except ImportError:
            raise ReportError(f"checkpoint '{checkpoint}': this install has no shipped checkpoints (models.pretrained)") from None
        net, record, raw_metadata = load_checkpoint(checkpoint)
        metadata = checkpoint_facts(raw_metadata, checkpoint)
        model_name = metadata.get("model") or checkpoint.split("-")[0]
        if record.encodings:
            from simulator.storage import storage_report

            storage = storage_from_report(storage_report(net, record))
        from models import model_spec

        workload = trace_model(net.eval(), model_spec(model_name).example_input(batch_size), record=record)
        workload = dataclasses.replace(workload, model_name=model_name)
        variant = f"checkpoint {checkpoint}"
    else:
        if model is None:
            raise ValueError("configuration_for needs a model or a checkpoint")
        workload = trace_model(model, batch_size=batch_size)
    curve: bool | tuple[int, ...] = False
    if sram_points > 0 and hw.on_chip_sram_bits > 0:
        curve = sram_capacity_grid(hw.on_chip_sram_bits, workload.weight_stored_bits + workload.peak_activation_bits, sram_points)
    return build_configuration(
        f"{workload.model_name} · {variant} · {hw.name}", workload, hw, variant=variant, sram_curve=curve,
        storage=storage, metadata=metadata, progress=progress,
    )
