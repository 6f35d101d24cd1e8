"""Held-out probes of the distillation student's recipe (issue 19): which training knob, if any, moves the
distilled student, measured where the targets cannot see it.

The reproduction's targets are MNIST *test* errors, so knobs are compared on a split of the training set:
the first 50,000 images are the transfer set and the last 10,000 the validation set. The shipped teacher
(``models.mnist_mlps.TEACHER_RECIPE``) was trained on all 60,000, so it has seen the validation images
(28 errors on them against 74 on the test set); the students have not, but a distilled student copies the
teacher's function, so its validation errors are flattered (the recipe's student: 60 here, 92 on the test set;
the student alone, who never sees the teacher: 156 and 131). Probes are therefore compared with each other,
never with the test-set targets; a teacher trained on the 50,000 alone would remove the bias at 110 CPU
minutes. Each probe changes one knob of
``STUDENT_RECIPE`` or of ``bench_distillation.ALPHA`` at the paper's T = 20 and keeps the seed, so the
initial weights and the shuffling of every probe are the recipe's; ``alone`` is the recipe trained on the
hard labels. A probe run is a ``bench_distillation`` student job (same training code, same cache, same
2-process training), cached under ``probe-*`` names keyed by its recipe and the 50,000-image transfer set.

``python -m benchmarks.probe_distillation`` trains what is not cached (about 7 CPU minutes per probe at
batch 100, two at a time) and writes ``benchmarks/results/DISTILLATION-probes.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass

import torch

from benchmarks import bench_distillation as bench
from benchmarks._kernels import run_pinned
from models.mnist_mlps import STUDENT_RECIPE, TEACHER_RECIPE, MlpRecipe, mlp_800_800, mlp_1200_1200_dropout
from simulator.compress.training import evaluate
from simulator.fileio import write_text_atomic

__all__ = ["PROBES", "TRANSFER_IMAGES", "Probe", "probe_table", "run"]

#: The transfer set is the first ``TRANSFER_IMAGES`` training images; the rest (10,000) is the validation set.
TRANSFER_IMAGES = 50000


@dataclass(frozen=True, slots=True)
class Probe:
    """One variant of the student's training: its recipe, the soft-term weight (None = trained alone on the
    hard labels) and what it changes."""

    name: str
    recipe: MlpRecipe
    alpha: float | None
    change: str


def _with_rate(recipe: MlpRecipe, lr0: float) -> MlpRecipe:
    """``recipe`` starting at rate ``lr0`` (same total decay)."""
    return dataclasses.replace(recipe, schedule=dataclasses.replace(recipe.schedule, lr0=lr0))


PROBES = (
    Probe("recipe", STUDENT_RECIPE, bench.ALPHA, "none: the reproduction's student (Adam 2e-3 -> 1/200, 60 epochs, "
          "batch 100, alpha 0.9)"),
    Probe("alone", STUDENT_RECIPE, None, "trained alone on the hard labels (the gain's reference)"),
    Probe("alpha-1", STUDENT_RECIPE, 1.0, "alpha 1.0: soft targets only, no hard-label term"),
    Probe("lr-1e-3", _with_rate(STUDENT_RECIPE, 1e-3), bench.ALPHA, "rate 1e-3 (half), same decay"),
    Probe("batch-32", dataclasses.replace(_with_rate(STUDENT_RECIPE.with_epochs(30), 1e-3), batch_size=32),
          bench.ALPHA, "batch 32 (more gradient noise), 30 epochs, rate 1e-3, same total decay"),
)


def _job(probe: Probe, transfer_images: int, teacher_key: str) -> bench.StudentJob:
    cfg = bench.run_config(probe.recipe, transfer_images, bench.TRAIN_THREADS)
    cache_name = f"probe-{probe.name}"
    if probe.alpha is None:
        return bench.alone_job(probe.name, cache_name, probe.recipe, cfg)
    return bench.distilled_job(probe.name, cache_name, probe.recipe, cfg, bench.MAIN_T, probe.alpha, teacher_key)


def run(workers: int = bench.WORKERS, log=print, data: tuple[torch.Tensor, torch.Tensor] | None = None,
        probes: tuple[Probe, ...] = PROBES, transfer_images: int = TRANSFER_IMAGES) -> list[tuple[Probe, int, float]]:
    """Train the uncached probes, then ``(probe, validation errors, training CPU seconds)`` for each.

    ``data``: the ``(images, labels)`` to split (default: the MNIST training set); the first
    ``transfer_images`` train, the rest validate. The teacher is ``TEACHER_RECIPE``'s, cached or shipped.
    """
    torch.set_num_threads(bench.TRAIN_THREADS)
    images, labels = bench._load(quick=False)[0] if data is None else data
    if not 0 < transfer_images < len(labels):
        raise ValueError(f"transfer_images must leave a validation set: got {transfer_images} of {len(labels)} images")
    transfer = (images[:transfer_images], labels[:transfer_images])
    validation = (images[transfer_images:], labels[transfer_images:])
    teacher_cfg = bench.run_config(TEACHER_RECIPE, 60000, bench.TRAIN_THREADS)
    teacher, _, stored = bench._cached_train("teacher", teacher_cfg, mlp_1200_1200_dropout(), None)
    if not stored:
        raise FileNotFoundError("no trained teacher for TEACHER_RECIPE (shipped or cached): run "
                                "python -m benchmarks.bench_distillation")
    log(f"teacher: {evaluate(teacher, validation).errors} validation errors (it was trained on them)")
    jobs = [_job(p, transfer_images, bench._key("teacher", teacher_cfg)) for p in probes]
    if workers > 1:
        bench._train_in_workers([j for j in jobs if bench.stored_weights(j.cache_name, j.cfg) is None], transfer,
                                teacher_cfg, workers, log)
    results = []
    for probe, job in zip(probes, jobs):
        model, times, _ = bench._cached_train(job.cache_name, job.cfg, mlp_800_800(),
                                              bench._trainer(job, transfer, teacher))
        errors = evaluate(model, validation).errors
        log(f"{probe.name}: {errors} validation errors")
        results.append((probe, errors, times[1]))
    return results


def probe_table(results: list[tuple[Probe, int, float]], transfer_images: int = TRANSFER_IMAGES,
                validation_images: int = 60000 - TRANSFER_IMAGES) -> str:
    """Markdown: each probe's validation errors beside the recipe's (the probe named "recipe")."""
    base = next(errors for probe, errors, _ in results if probe.name == "recipe")
    lines = ["# Distillation: held-out probes of the student's recipe (T = 20)", "",
             f"Transfer set: the first {transfer_images:,} MNIST training images; validation: the last "
             f"{validation_images:,} (never seen by the students; the shipped teacher was trained on them, which "
             "flatters the distilled students: compare probes with each other, not with the test-set targets). "
             f"Seed, initial weights and shuffling are the recipe's. {time.strftime('%Y-%m-%d', time.gmtime())}, "
             f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()} kernels), 1 thread per network.",
             "",
             "| probe | change | validation errors | vs recipe | training CPU s |", "|---|---|---|---|---|"]
    lines += [f"| {p.name} | {p.change} | {errors} | {errors - base:+d} | {cpu:.0f} |" for p, errors, cpu in results]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run_pinned("benchmarks.probe_distillation")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=bench._positive_int, default=bench.WORKERS,
                        help=f"processes training the probes (default {bench.WORKERS})")
    args = parser.parse_args()
    out = bench.HERE / "results" / "DISTILLATION-probes.md"
    write_text_atomic(out, probe_table(run(args.workers)))
    print(f"table written to {out}")
