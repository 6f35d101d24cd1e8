"""The flagship demo: configurations for ``pjsim demo`` / ``make demo``, built from what this install has.

LeNet-300-100 dense vs Deep-Compressed (the shipped, trained checkpoints) on ``horowitz45`` and on the
SRAM-limited what-if ``horowitz45-sram512k``; then AlexNet and VGG-16 compressed with the Deep
Compression papers' per-layer recipes (applied to the untrained architecture: storage, traffic and
energy depend on densities and bit widths, not on the trained values; accuracy is the paper's, and
labelled so). Needs no data set and no training.

Every piece is looked up, never assumed: a checkpoint, profile, zoo model or recipe this install
lacks becomes a note in the report saying what is missing, instead of a made-up number.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.errors import PjsimError
from simulator.report_data import Configuration, StorageStage, build_configuration

__all__ = ["DEMO_TITLE", "DemoResult", "build_demo", "run_demo"]

DEMO_TITLE = "pjsim demo: Deep Compression from LeNet-300-100 to VGG-16, on chip or off"

#: (model, checkpoint stage, label of the variant, profiles)
_LENET_VARIANTS = (
    ("dense", "dense"),
    ("deep-compression", "Deep Compression"),
)
_LENET_PROFILES = ("horowitz45", "horowitz45-sram512k")
#: ImageNet models costed with the paper's recipe, their display name, and how many SRAM-curve points.
_PAPER_MODELS = (("alexnet", "AlexNet"), ("vgg16", "VGG-16"))
_BIG_MODEL_SRAM_POINTS = 7

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    """The demo's configurations and the report-level notes (what could not be built, and why)."""

    configurations: tuple[Configuration, ...]
    notes: tuple[str, ...]


class _Missing(Exception):
    """A piece of the demo this install does not have (becomes a note)."""


def _optional(module: str, attr: str) -> Any:
    """``module.attr``, or raise ``_Missing`` when this install does not provide it."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise _Missing(f"{module} is not part of this install") from None
        raise
    if not hasattr(mod, attr):
        raise _Missing(f"{module}.{attr} is not part of this install")
    return getattr(mod, attr)


def _profile(name: str):
    from simulator.hardware import list_profiles, load_profile

    if name not in list_profiles():
        raise _Missing(f"hardware profile '{name}' is not shipped with this install")
    return load_profile(name)


def _zoo(name: str) -> None:
    import models

    if name not in models.MODELS:
        raise _Missing(f"zoo model '{name}' is not in this install")


def _label(display: str, variant: str, profile: str) -> str:
    return f"{display} · {variant} · {profile}"


def _lenet_configs(progress: Progress, notes: list[str]) -> list[Configuration]:
    from simulator.api import trace_model

    configs = []
    profiles = []
    for name in _LENET_PROFILES:
        try:
            profiles.append(_profile(name))
        except _Missing as exc:
            notes.append(f"LeNet-300-100 on {name}: {exc}.")
    for stage, variant in _LENET_VARIANTS:
        checkpoint = f"lenet_300_100-{stage}"
        progress(f"LeNet-300-100 {variant}: loading checkpoint")
        try:
            load_checkpoint = _optional("models", "load_checkpoint")
            model, record, metadata = load_checkpoint(checkpoint)
        except (_Missing, PjsimError, FileNotFoundError) as exc:
            if stage != "dense":
                notes.append(f"LeNet-300-100 {variant}: shipped checkpoint '{checkpoint}' unavailable ({exc}); configuration omitted.")
                continue
            # The dense architecture costs the same trained or not; only its accuracy is then unknown.
            notes.append(f"LeNet-300-100 dense: shipped checkpoint '{checkpoint}' unavailable ({exc}); "
                         "costed the untrained zoo architecture instead (accuracy unknown).")  # fmt: skip
            from models import load_model

            model, record, metadata, checkpoint = load_model("lenet_300_100"), None, {}, "(none: zoo architecture)"
        progress(f"LeNet-300-100 {variant}: tracing")
        workload = trace_model(model.eval(), _example_input("lenet_300_100"), record=record)
        workload = _named(workload, "lenet_300_100")
        stages = _storage_stages(model, record, metadata)
        for profile in profiles:
            progress(f"LeNet-300-100 {variant} on {profile.name}: costing")
            configs.append(
                build_configuration(
                    _label("LeNet-300-100", variant, profile.name), workload, profile, variant=variant,
                    storage_stages=stages, metadata=_metadata(metadata, checkpoint),
                )
            )  # fmt: skip
    return configs


def _paper_configs(progress: Progress, notes: list[str]) -> list[Configuration]:
    configs = []
    for name, display in _PAPER_MODELS:
        progress(f"{display}: Deep Compression recipe")
        try:
            _zoo(name)
            paper_record = _optional("simulator.compress", "paper_recipe_record")
            profile = _profile("horowitz45")
            model, record, metadata = paper_record(name)
        except (_Missing, PjsimError) as exc:
            notes.append(f"{display} with the Deep Compression paper's recipe: {exc}; configuration omitted.")
            continue
        from simulator.api import trace_model

        progress(f"{display}: tracing")
        workload = _named(trace_model(model, _example_input(name), record=record), name)
        progress(f"{display} on {profile.name}: costing")
        grid = _big_grid(workload, profile)
        configs.append(
            build_configuration(
                _label(display, "Deep Compression (paper recipe)", profile.name), workload, profile,
                variant="Deep Compression (paper recipe)", storage_stages=_storage_stages(model, record, metadata),
                sram_curve=grid, metadata=metadata,
            )
        )  # fmt: skip
    return configs


def _big_grid(workload, profile) -> tuple[int, ...]:
    import numpy as np

    from simulator.report_data import sram_capacity_grid

    needed = workload.weight_stored_bits + workload.peak_activation_bits
    full = sram_capacity_grid(profile.on_chip_sram_bits, needed, points=_BIG_MODEL_SRAM_POINTS)
    keep = set(np.asarray(full)[np.linspace(0, len(full) - 1, _BIG_MODEL_SRAM_POINTS).round().astype(int)].tolist())
    keep.update({profile.on_chip_sram_bits, needed, max(1, int(needed * 0.98))})
    return tuple(sorted(keep))


def _example_input(name: str):
    from models import model_spec

    return model_spec(name).example_input(1)


def _named(workload, name: str):
    import dataclasses

    return workload if workload.model_name == name else dataclasses.replace(workload, model_name=name)


def _metadata(metadata: Any, checkpoint: str) -> dict[str, str]:
    """Checkpoint metadata as labelled facts; the accuracy is labelled with where it comes from."""
    meta = {str(k): str(v) for k, v in dict(metadata or {}).items() if not isinstance(v, dict)}
    meta.setdefault("checkpoint", checkpoint)
    if "accuracy" not in meta and "test_error_percent" in meta:
        meta["accuracy"] = f"{100 - float(meta['test_error_percent']):.2f} %"
        meta.setdefault("accuracy_source", f"recorded in checkpoint '{checkpoint}' (MNIST test set, measured when it was trained)")
    return meta


def _storage_stages(model: Any, record: Any, metadata: Any) -> tuple[StorageStage, ...]:
    """The storage waterfall from the storage accountant, when this install has one (else empty)."""
    try:
        stages_fn = _optional("simulator.storage", "storage_stages")
    except _Missing:
        return ()
    return tuple(StorageStage(name, int(bits)) for name, bits in stages_fn(model, record))


def build_demo(progress: Progress | None = None) -> DemoResult:
    """Build every demo configuration this install supports; ``progress`` gets a line per step."""
    progress = progress or (lambda _msg: None)
    notes: list[str] = []
    configs = _lenet_configs(progress, notes) + _paper_configs(progress, notes)
    if not configs:
        raise PjsimError("the demo could not build any configuration: " + " ".join(notes))
    return DemoResult(tuple(configs), tuple(notes))


def run_demo(out: str | Path = "reports/demo.html", progress: Progress | None = None) -> DemoResult:
    """Build the demo and write its report (plus CSV/JSON tables) to ``out``."""
    from simulator.report import write_html

    result = build_demo(progress)
    if progress is not None:
        progress("writing the report")
    write_html(result.configurations, out, title=DEMO_TITLE, notes=result.notes)
    return result
