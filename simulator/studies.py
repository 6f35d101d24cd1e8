"""Studies: orchestration above the API that builds what a report shows (the report itself only formats).

A study traces models, loads checkpoints and costs them, possibly many times (the energy-vs-SRAM curve
re-simulates one traced workload at several global-buffer sizes through ``simulator.hardware.with_sram_bits``),
and returns ``simulator.report.records`` for ``simulator.report`` to format:

* ``configuration_for("lenet_300_100", "horowitz45")``: what ``pjsim report MODEL@PROFILE`` (or
  ``checkpoint:NAME@PROFILE``) shows;
* ``build_configuration(label, workload, profile)``: one configuration from a traced workload;
* ``sram_energy_curve`` / ``sram_capacity_grid``: energy vs SRAM size; the grid always holds the
  footprint's ``needed_bits`` (the step where the model starts to fit) and a point just below it;
* ``storage_from_report`` / ``storage_parts_from_workload``: the storage breakdown records;
* ``checkpoint_facts``: a checkpoint's metadata as labelled facts and a typed ``Accuracy``.

The demo (``simulator.demo``) is a study built from these. Dependency direction: api <- studies <- cli;
``simulator.report`` never imports this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simulator.api import resolve_profile, simulate, trace_model
from simulator.cost import Accuracy, CostReport
from simulator.errors import ReportError
from simulator.frozen import FrozenMap
from simulator.hardware import HardwareProfile, with_sram_bits
from simulator.report.profile_facts import profile_constants, roofline_of
from simulator.report.records import (
    Configuration,
    SramCurve,
    SramPoint,
    StorageBreakdown,
    StoragePart,
    StorageStage,
)
from simulator.mapping.residency import used_weights
from simulator.workload import Workload

__all__ = [
    "build_configuration",
    "checkpoint_facts",
    "configuration_for",
    "profile_constants",
    "sram_capacity_grid",
    "sram_energy_curve",
    "storage_from_report",
    "storage_parts_from_workload",
]

SimulateFn = Callable[[Workload, HardwareProfile], CostReport]


# ----------------------------------------------------------------------------------------------
# storage


def storage_parts_from_workload(workload: Workload) -> tuple[StoragePart, ...]:
    """Per-layer split of the stored weights into values, indices, fillers and codebook.

    The arithmetic is ``TensorEncoding.stored_bits_by_part`` (the one encoding arithmetic, the same as the
    storage accountant's and the ``.pjc`` writer's totals); dense tensors are all values. A weight shared
    by several layers is counted at its first use (``mapping.residency.used_weights``).
    """
    totals: dict[tuple[str, str], int] = {}
    for name, layer in used_weights(workload).items():
        info = workload.tensors[name]
        parts = {"values": info.dense_bits} if info.encoding is None else info.encoding.stored_bits_by_part(info.numel)
        for part, bits in parts.items():
            if bits:
                totals[(layer, part)] = totals.get((layer, part), 0) + int(bits)
    return tuple(StoragePart(layer, part, bits) for (layer, part), bits in totals.items())


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


def sram_capacity_grid(profile_sram_bits: int, needed_bits: int | None, points: int = 13) -> tuple[int, ...]:
    """Global-buffer sizes to evaluate: log-spaced around both the profile's buffer and the bits the model needs.

    Always includes the profile's own capacity and, when known, ``needed_bits`` (the footprint's: the
    smallest buffer that holds the model) and one point 2 % below it, so the step is drawn where the
    "fits from here" marker stands.
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
    simulate_fn: SimulateFn | None = None,
    progress: Callable[[], None] | None = None,
    known: CostReport | None = None,
) -> SramCurve:
    """Energy per inference (cold and steady) of ``workload`` at each global-buffer capacity.

    Args:
        workload: the traced model (traced once, costed once per capacity).
        profile: the profile whose global buffer is resized (``simulator.hardware.with_sram_bits``).
        capacities_bits: sizes in bits (default: ``sram_capacity_grid`` around the footprint's need).
        simulate_fn: the costing function (default ``simulator.api.simulate``).
        progress: called once per evaluated point (for progress bars).
        known: ``workload`` already costed on ``profile``: reused for the profile's own capacity
            (no second simulation) and the source of the default grid's ``needed_bits``.
    """
    simulate_fn = simulate_fn or simulate
    if known is None:
        known = simulate_fn(workload, profile)
    own_bits = known.sram_capacity_bits
    if capacities_bits is None:
        capacities_bits = sram_capacity_grid(own_bits or profile.on_chip_sram_bits, known.min_sram_bits)
    points = []
    for bits in capacities_bits:
        cost = known if bits == own_bits else simulate_fn(workload, with_sram_bits(profile, int(bits)))
        points.append(SramPoint(int(bits), cost.total_energy_pj, cost.cold_energy_pj, cost.latency_s, cost.fits_on_chip))
        if progress is not None:
            progress()
    steady = [p.steady_energy_pj for p in points]
    note = ""
    if steady and max(steady) - min(steady) <= 1e-9 * max(abs(max(steady)), 1.0):
        note = f"The '{known.method}' costing does not depend on SRAM capacity, so the curve is flat."
    return SramCurve(tuple(points), known.method, note)


# ----------------------------------------------------------------------------------------------
# profile constants


# ----------------------------------------------------------------------------------------------
# checkpoints and configurations


def checkpoint_facts(metadata: Mapping[str, Any] | None, checkpoint: str) -> tuple[dict[str, str], Accuracy | None]:
    """A checkpoint's metadata as labelled facts, and its accuracy as a typed record (None when unrecorded).

    Nested entries (training settings, per-stage tables) are left out; a recorded ``test_error_percent``
    becomes the ``Accuracy`` with a source naming the checkpoint.
    """
    facts = {str(k): str(v) for k, v in dict(metadata or {}).items() if not isinstance(v, (dict, list))}
    facts.setdefault("checkpoint", checkpoint)
    accuracy = None
    if "test_error_percent" in facts:
        accuracy = Accuracy(1.0 - float(facts["test_error_percent"]) / 100.0,
                            f"test set, measured when '{checkpoint}' was made (checkpoint metadata)")  # fmt: skip
    return facts, accuracy


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
    accuracy: Accuracy | None = None,
    simulate_fn: SimulateFn | None = None,
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
        sram_curve: True for the default capacity grid (around the footprint's need), an iterable of
            capacities in bits (the need is added), or False.
        notes: what is missing and why.
        metadata: labelled facts merged into the report's metadata (e.g. a checkpoint's name).
        accuracy: the model's accuracy with its source.
        simulate_fn: the costing function (default ``simulator.api.simulate``).
        progress: called after each costed point (for progress bars).
    """
    simulate_fn = simulate_fn or simulate
    if cost is None:
        cost = simulate_fn(workload, profile)
        if progress is not None:
            progress()
    if metadata or accuracy is not None:
        merged = FrozenMap({**cost.metadata, **{str(k): str(v) for k, v in (metadata or {}).items()}})
        cost = dataclasses.replace(cost, metadata=merged, accuracy=accuracy if accuracy is not None else cost.accuracy)
    curve = None
    if sram_curve is not False and cost.footprint is not None and cost.footprint.capacity_bits > 0:
        capacities = None
        if sram_curve is not True:
            capacities = tuple(sorted({*map(int, sram_curve), cost.footprint.needed_bits}))
        curve = sram_energy_curve(workload, profile, capacities, simulate_fn=simulate_fn, progress=progress, known=cost)
    return Configuration(
        label=label,
        cost=cost,
        variant=variant,
        profile_description=profile.description,
        profile_constants=profile_constants(profile),
        roofline=roofline_of(profile),
        storage=storage if storage is not None else _storage_from_workload(workload, storage_stages),
        sram_curve=curve,
        notes=tuple(notes),
    )


def configuration_for(
    model: str | None,
    profile: str | Path | HardwareProfile = "horowitz45",
    checkpoint: str | None = None,
    sram_points: int = 13,
    batch_size: int | None = None,
    progress: Callable[[], None] | None = None,
    input_shape: tuple[int, ...] | None = None,
) -> Configuration:
    """The configuration ``pjsim report MODEL@PROFILE`` (or ``checkpoint:NAME@PROFILE``) builds.

    Args:
        model: a model argument (zoo name, ``package.module:factory``, ``.pjc``/``.pt``/``.onnx``) or a
            ``models.resolve.ResolvedModel`` (``models.resolve``; None when ``checkpoint`` is given).
        profile: shipped profile name, path or profile.
        checkpoint: a shipped checkpoint name (``models.load_checkpoint``), dense or compressed.
        sram_points: points of the energy-vs-SRAM curve (0 = none; the footprint's need is added).
        batch_size: batch of the example input (default 1, or ``input_shape``'s).
        progress: called after each costed point.
        input_shape: the example input's shape, batch first (needed for ``package.module:factory``).
    """
    hw = resolve_profile(profile)
    metadata: dict[str, str] = {}
    accuracy, variant, storage = None, "as built", None
    if checkpoint is not None:
        try:
            from models.pretrained import load_checkpoint
        except ImportError:
            raise ReportError(f"checkpoint '{checkpoint}': this install has no shipped checkpoints (models.pretrained)") from None
        net, record, raw_metadata = load_checkpoint(checkpoint)
        metadata, accuracy = checkpoint_facts(raw_metadata, checkpoint)
        model_name = metadata.get("model") or checkpoint.split("-")[0]
        if record.encodings:
            from simulator.storage import storage_report

            storage = storage_from_report(storage_report(net, record))
        from models import model_spec

        workload = trace_model(net.eval(), model_spec(model_name).example_input(batch_size or 1), record=record)
        workload = dataclasses.replace(workload, model_name=model_name)
        variant = f"checkpoint {checkpoint}"
    else:
        if model is None:
            raise ValueError("configuration_for needs a model or a checkpoint")
        workload = trace_model(model, batch_size=batch_size, input_shape=input_shape)
    cost = simulate(workload, hw)
    if progress is not None:
        progress()
    curve: bool | tuple[int, ...] = False
    if sram_points > 0 and cost.sram_capacity_bits:
        curve = sram_capacity_grid(cost.sram_capacity_bits, cost.min_sram_bits, sram_points)
    return build_configuration(
        f"{workload.model_name} · {variant} · {hw.name}", workload, hw, cost=cost, variant=variant, sram_curve=curve,
        storage=storage, metadata=metadata, accuracy=accuracy, progress=progress,
    )
