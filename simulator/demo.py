"""The flagship demo: configurations for ``pjsim demo`` / ``make demo``, built from what this install has.

LeNet-300-100 dense vs Deep-Compressed (the shipped, trained checkpoints) on ``horowitz45`` and on the
SRAM-limited what-if ``horowitz45-sram512k``; then AlexNet and VGG-16 compressed with the Deep
Compression papers' per-layer recipes next to their dense selves (the recipe applied to the untrained
architecture: storage, traffic and energy depend on densities and bit widths, not on the trained
values; accuracy is the paper's, and labelled so). Needs no data set and no training.

Every piece is looked up, never assumed: a checkpoint, profile, zoo model or recipe this install
lacks becomes a note in the report saying what is missing, instead of a made-up number.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.cost import Accuracy, CostReport
from simulator.errors import PjsimError
from simulator.report.records import Configuration
from simulator.studies import build_configuration, checkpoint_facts, sram_capacity_grid, storage_from_report

__all__ = ["DEMO_TITLE", "PAPER_RECORD_DIR", "DemoResult", "build_demo", "refresh_paper_record", "run_demo"]

#: Shipped results of ``deep_compression`` with the papers' recipes on the untrained ImageNet models
#: (the record of encodings and the storage accountant's report; regenerate with
#: ``python -m simulator.demo --refresh alexnet vgg16``). Running the recipe on 61M / 138M weights
#: takes minutes, too long for a demo that must finish in about a minute.
PAPER_RECORD_DIR = Path(__file__).parent / "demo_records"

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
            load_checkpoint = _optional("models.pretrained", "load_checkpoint")
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
        workload = _named(trace_model(model.eval(), _example_input("lenet_300_100"), record=record), "lenet_300_100")
        storage = _storage(model, record) if record is not None and record.encodings else None
        facts, accuracy = checkpoint_facts(metadata, checkpoint)
        for profile in profiles:
            progress(f"LeNet-300-100 {variant} on {profile.name}: costing")
            configs.append(
                build_configuration(
                    _label("LeNet-300-100", variant, profile.name), workload, profile, variant=variant,
                    storage=storage, metadata=facts, accuracy=accuracy,
                )
            )  # fmt: skip
    return configs


def _paper_configs(progress: Progress, notes: list[str]) -> list[Configuration]:
    from simulator.api import simulate

    configs = []
    for name, display in _PAPER_MODELS:
        variant = "Deep Compression (paper recipe)"
        progress(f"{display}: {variant}")
        try:
            _zoo(name)
            profile = _profile("horowitz45")
            doc = _paper_record(name)
        except (_Missing, PjsimError) as exc:
            notes.append(f"{display} with the Deep Compression paper's recipe: {exc}; configuration omitted.")
            continue
        progress(f"{display} dense: tracing and costing")
        dense = _trace_on_meta(name, None)
        dense_cost = simulate(dense, profile)
        configs.append(
            build_configuration(
                _label(display, "dense", profile.name), dense, profile, cost=dense_cost, variant="dense", sram_curve=_big_grid(dense_cost),
                metadata={"weights": "architecture only (meta device): dense float32 sizes and energy; accuracy not measured"},
            )
        )  # fmt: skip
        progress(f"{display}: tracing")
        workload = _trace_on_meta(name, doc["record"])
        progress(f"{display} on {profile.name}: costing")
        cost = simulate(workload, profile)
        metadata = {
            "recipe": str(doc.get("recipe", "")),
            "compressed_by": str(doc.get("generated_by", "")),
            "weights": "untrained (seeded zoo initialisation): sizes and energy follow the recipe; accuracy not measured",
        }
        configs.append(
            build_configuration(
                _label(display, variant, profile.name), workload, profile, cost=cost, variant=variant,
                storage=storage_from_report(doc["storage"], source=f"storage accountant, shipped in {doc['path'].name}"),
                sram_curve=_big_grid(cost), metadata=metadata, accuracy=_PAPER_ACCURACY.get(name),
            )
        )  # fmt: skip
    return configs


#: The papers' reported accuracy of the compressed models (not measured by pjsim).
_PAPER_ACCURACY = {
    "alexnet": Accuracy(1 - 0.4278, "paper's figure (Deep Compression Table 1, 42.78 % error), not measured here"),
    "vgg16": Accuracy(1 - 0.3117, "paper's figure (Deep Compression Table 1, 31.17 % error), not measured here"),
}


def _paper_record(name: str) -> dict[str, Any]:
    """The shipped ``deep_compression`` result for ``name`` (record + storage report), decoded."""
    import json

    from simulator.jsonio import from_jsonable

    path = PAPER_RECORD_DIR / f"{name}-deep-compression.json"
    if not path.is_file():
        raise _Missing(f"no shipped recipe result {path.name} (make it with: python -m simulator.demo --refresh {name})")
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {**doc, "record": from_jsonable(doc["record"]), "storage": from_jsonable(doc["storage"]), "path": path}


def _trace_on_meta(name: str, record: Any):
    """Trace zoo model ``name`` on the meta device (no weights allocated) with ``record``'s encodings."""
    import torch

    from models import model_spec
    from simulator.trace import trace

    spec = model_spec(name)
    with torch.device("meta"):
        model = spec.factory().eval()
    return trace(model, spec.example_input(1), record=record, model_name=name, device="meta")


def _storage(model: Any, record: Any):
    """The storage accountant's breakdown of a compressed model, when this install has the accountant."""
    try:
        storage_report = _optional("simulator.storage", "storage_report")
    except _Missing:
        return None
    return storage_from_report(storage_report(model, record))


def _big_grid(cost: CostReport) -> tuple[int, ...]:
    """A coarser SRAM grid for the big models (each point is a full simulation); holds the fit point."""
    import numpy as np

    needed = cost.min_sram_bits
    full = sram_capacity_grid(cost.sram_capacity_bits or 0, needed, points=_BIG_MODEL_SRAM_POINTS)
    keep = set(np.asarray(full)[np.linspace(0, len(full) - 1, _BIG_MODEL_SRAM_POINTS).round().astype(int)].tolist())
    keep.add(cost.sram_capacity_bits or 0)
    if needed:
        keep.update({needed, max(1, int(needed * 0.98))})
    return tuple(sorted(b for b in keep if b > 0))


def _example_input(name: str):
    from models import model_spec

    return model_spec(name).example_input(1)


def _named(workload, name: str):
    import dataclasses

    return workload if workload.model_name == name else dataclasses.replace(workload, model_name=name)


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
    write_html(result.configurations, out, title=DEMO_TITLE, notes=result.notes, export=True)  # the demo keeps its tables (report --from)
    return result


def refresh_paper_record(name: str, out_dir: Path = PAPER_RECORD_DIR) -> Path:
    """Run ``deep_compression`` with the paper's recipe on the untrained zoo model ``name`` and ship the result.

    Writes ``<out_dir>/<name>-deep-compression.json``: the ``CompressionRecord`` and the storage
    accountant's ``StorageReport``, with how they were made. No training: the weights are the zoo
    model's seeded initialisation, so the densities, bit widths and code lengths follow the recipe
    while the accuracy is the paper's, not measured.
    """
    import json
    import platform
    import time

    import torch

    from models import load_model
    from simulator.compress import deep_compression, get_recipe
    from simulator.fileio import write_text_atomic
    from simulator.jsonio import to_jsonable
    from simulator.storage import storage_report

    torch.manual_seed(0)
    start = time.perf_counter()
    model, record = deep_compression(load_model(name).eval(), name, seed=0)
    storage = storage_report(model, record)
    doc = {
        "model": name,
        "recipe": get_recipe(name).source,
        "generated_by": f"simulator.demo.refresh_paper_record('{name}'): deep_compression(load_model('{name}'), "
                        f"'{name}', seed=0) on the untrained, seeded zoo weights (no retraining)",
        "seconds": round(time.perf_counter() - start, 1),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "record": to_jsonable(record),
        "storage": to_jsonable(storage),
    }
    out = out_dir / f"{name}-deep-compression.json"
    write_text_atomic(out, json.dumps(doc, indent=1))
    return out


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Regenerate the demo's shipped paper-recipe records.")
    parser.add_argument("--refresh", nargs="+", metavar="MODEL", required=True, help="zoo models, e.g. alexnet vgg16")
    for model_name in parser.parse_args().refresh:
        print(refresh_paper_record(model_name))
