"""Produce the shipped checkpoints with the project's own code: ``python -m models.make_checkpoints``.

Stage 1 trains LeNet-300-100 and LeNet-5 densely on the full MNIST training set (``simulator.compress.training``)
and writes ``<name>-dense.pt`` plus ``<name>-dense.json`` (how it was trained, measured test error).
Stage 2 runs ``simulator.compress.deep_compression`` with the paper's recipe on the dense model and
writes ``<name>-deep-compression.pjc`` (the pjsim compressed file) plus its ``.json`` metadata.
An existing dense checkpoint is reused (pass ``--retrain`` to train again).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from models import load_model
from models.mnist import load_mnist
from simulator.compress.training import evaluate, train_classifier
from simulator.fileio import write_bytes_atomic, write_text_atomic

__all__ = ["CHECKPOINT_DIR", "DENSE_RECIPES", "main", "make_compressed", "make_dense"]

CHECKPOINT_DIR = Path(__file__).parent / "checkpoints"

#: Dense training settings (SGD with momentum; learning rate decayed per epoch).
DENSE_RECIPES = {
    "lenet_300_100": {"epochs": 20, "lr": 0.05, "batch_size": 64, "optimizer": "sgd", "momentum": 0.9,
                      "weight_decay": 1e-4, "lr_decay": 0.9, "seed": 0},
    "lenet5": {"epochs": 12, "lr": 0.02, "batch_size": 64, "optimizer": "sgd", "momentum": 0.9,
               "weight_decay": 5e-4, "lr_decay": 0.85, "seed": 0},
}


def _data(path: str | None):
    return load_mnist("train", path=path), load_mnist("test", path=path)


def make_dense(name: str, data_path: str | None, retrain: bool = False) -> Path:
    """Train ``name`` densely (or reuse the existing checkpoint); returns the ``.pt`` path."""
    out = CHECKPOINT_DIR / f"{name}-dense.pt"
    if out.exists() and not retrain:
        print(f"{out.name}: exists, reused")
        return out
    train, test = _data(data_path)
    recipe = DENSE_RECIPES[name]
    model = load_model(name)
    start = time.perf_counter()
    result = train_classifier(model, train, description=f"{name} dense", **recipe)
    seconds = time.perf_counter() - start
    ev = evaluate(model, test)
    import io

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    write_bytes_atomic(out, buf.getvalue())
    meta = {
        "model": name,
        "stage": "dense",
        "file": out.name,
        "format": "torch state_dict (torch.save)",
        "trained_by": "models.make_checkpoints.make_dense -> simulator.compress.training.train_classifier",
        "training": {**recipe, "train_images": int(train[0].shape[0]), "steps": result.steps,
                     "seconds": round(seconds, 1), "torch_threads": torch.get_num_threads(),
                     "torch": torch.__version__, "machine": platform.machine()},
        "test_errors": ev.errors,
        "test_count": ev.count,
        "test_error_percent": round(ev.error_percent, 3),
    }
    write_text_atomic(out.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
    print(f"{out.name}: {ev.errors} test errors ({ev.error_percent:.2f}%) in {seconds:.0f} s")
    return out


def make_compressed(name: str, data_path: str | None, recipe=None, out_dir: Path | None = None) -> Path:
    """Deep-compress the dense checkpoint with the paper's recipe; writes ``<name>-deep-compression.pjc`` + ``.json``.

    ``recipe`` overrides the built-in ``DeepCompressionRecipe``; ``out_dir`` the output directory.
    """
    from simulator.compress import deep_compression, get_recipe
    from simulator.storage import pack, storage_report

    dense_path = make_dense(name, data_path)
    train, test = _data(data_path)
    model = load_model(name)
    model.load_state_dict(torch.load(dense_path, weights_only=True))
    dense_eval = evaluate(model, test)
    stages = {}

    def on_stage(stage, m, rec):
        ev = evaluate(m, test)
        stages[stage] = {"test_errors": ev.errors, "test_error_percent": round(ev.error_percent, 3)}
        print(f"  {name} {stage}: {ev.errors} test errors", flush=True)

    recipe = recipe or get_recipe(name)
    start = time.perf_counter()
    model, record = deep_compression(model, recipe, data=train, on_stage=on_stage)
    seconds = time.perf_counter() - start
    out = (out_dir or CHECKPOINT_DIR) / f"{name}-deep-compression.pjc"
    report = storage_report(model, record)
    ev = evaluate(model, test)
    meta = {
        "model": name,
        "stage": "deep-compression",
        "file": out.name,
        "format": "pjsim compressed file (simulator.storage.pack), biases float32",
        "trained_by": "models.make_checkpoints.make_compressed -> simulator.compress.deep_compression",
        "from": dense_path.name,
        "recipe": {"keep": dict(recipe.keep), "weight_bits": dict(recipe.weight_bits), "index_bits": recipe.index_bits,
                   "prune_rounds": recipe.prune_rounds, "retrain_epochs": recipe.retrain_epochs,
                   "retrain_lr": recipe.retrain_lr, "finetune_epochs": recipe.finetune_epochs,
                   "finetune_lr": recipe.finetune_lr, "batch_size": recipe.batch_size,
                   "retrain_lr_decay": recipe.retrain_lr_decay, "weight_decay": recipe.weight_decay,
                   "source": recipe.source},
        "seconds": round(seconds, 1),
        "dense_test_errors": dense_eval.errors,
        "stages": stages,
        "storage_bits": {s: report.total_bits(s) for s in report.stages},
        "compression_rate": round(report.rate(report.stages[-1]), 2),
        "test_errors": ev.errors,
        "test_count": ev.count,
        "test_error_percent": round(ev.error_percent, 3),
    }
    pack(model, record, out, model_name=name, metadata={"test_errors": ev.errors, "recipe": name})
    write_text_atomic(out.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
    print(f"{out.name}: {ev.errors} test errors, {meta['compression_rate']}x, {out.stat().st_size} bytes")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(DENSE_RECIPES))
    parser.add_argument("--data", default=None, help="MNIST directory (default: PJSIM_DATA / user cache)")
    parser.add_argument("--stage", choices=("dense", "compressed", "all"), default="all")
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for name in args.models:
        if args.stage in ("dense", "all"):
            make_dense(name, args.data, args.retrain)
        if args.stage in ("compressed", "all"):
            make_compressed(name, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
