"""Low-rank and binary/ternary LeNet-300-100 on full MNIST: accuracy vs rank and vs bits, and their cost.

Start: the dense LeNet-300-100 checkpoint shipped in ``models/checkpoints`` (trained by
``models.make_checkpoints``), or, if absent, the same recipe trained here (20 epochs SGD).

Low-rank (truncated SVD of fc1 and fc2; fc3 has only 10 outputs and is left dense): accuracy right
after factorisation and after FINE_TUNE_EPOCHS of SGD. Binary (XNOR-Net binary-weight network,
+-alpha per output neuron, alpha = mean |w|) and ternary (TWN, {-alpha, 0, +alpha}), all three layers,
trained with the straight-through estimator from the dense weights for QUANT_EPOCHS (XNOR-Net
trains from scratch for many more epochs; shortened for the CPU budget). Every model is costed with
``simulate`` on horowitz45 and the SRAM-limited profile (``benchmarks/_costing.py``).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import torch

from benchmarks._costing import CACHE, cost_model, mnist_path, publish_table
from models.lenet import LeNet300100
from models.mnist import load_mnist
from simulator.compress.training import evaluate, train_classifier
from simulator.compress.binary import quantize_weights
from simulator.compress.distill import dense_record
from simulator.compress.lowrank import low_rank

CHECKPOINT = Path(__file__).resolve().parents[1] / "models" / "checkpoints" / "lenet_300_100-dense.pt"
RANKS = [(10, 10), (20, 20), (40, 30), (80, 50)]  # (fc1, fc2); full ranks are 300 and 100
FINE_TUNE_EPOCHS = 3
QUANT_EPOCHS = 10


def _dense(train) -> tuple[torch.nn.Module, str]:
    model = LeNet300100()
    if CHECKPOINT.is_file():
        model.load_state_dict(torch.load(CHECKPOINT))
        return model, f"dense checkpoint {CHECKPOINT.name}"
    cached = CACHE / "lowrank-dense-lenet_300_100.pt"
    if cached.is_file():
        model.load_state_dict(torch.load(cached))
        return model, "dense weights from cache"
    torch.manual_seed(0)
    train_classifier(model, train, epochs=20, lr=0.05, batch_size=64, momentum=0.9, weight_decay=1e-4, lr_decay=0.9,
                     seed=0, progress=False)
    CACHE.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), cached)
    return model, "dense trained here (20 epochs SGD)"


def run() -> list[dict]:
    torch.set_num_threads(1)
    html: list = []
    data = mnist_path()
    train = load_mnist("train", data)
    test = load_mnist("test", data)
    dense, source = _dense(train)
    rows, costs = [], []

    def acc(model) -> float:
        return 100.0 - evaluate(model, test).error_percent

    dense_acc = acc(dense)
    rows.append({"benchmark": "lowrank/dense", "metric": "test accuracy", "value": dense_acc, "unit": "%",
                 "target": "paper 98.36% (Han 2015, 1.64% error)", "note": source})
    costs += cost_model("dense LeNet-300-100 (32-bit)", dense, dense_record(dense, "dense"), dense_acc, source, reports=html)

    def tune(m):
        train_classifier(m, train, epochs=FINE_TUNE_EPOCHS, lr=0.01, batch_size=64, momentum=0.9, lr_decay=0.7,
                         seed=1, progress=False)

    for r1, r2 in RANKS:
        start = time.perf_counter()
        cut, _, reports = low_rank(copy.deepcopy(dense), ranks={"fc1": r1, "fc2": r2})
        cut_acc = acc(cut)
        tuned, record, _ = low_rank(copy.deepcopy(dense), ranks={"fc1": r1, "fc2": r2}, fine_tune=tune)
        tuned_acc = acc(tuned)
        weights = sum(r.weights_after for r in reports) + 1000
        energy_kept = ", ".join(f"{r.layer} {100 * r.energy_kept:.1f}%" for r in reports)
        rows.append({"benchmark": f"lowrank/fc1 r{r1}, fc2 r{r2}", "metric": "test accuracy (SVD only)", "value": cut_acc,
                     "unit": "%", "note": f"{weights:,} weights ({100 * weights / 266200:.1f}%); energy kept {energy_kept}"})
        rows.append({"benchmark": f"lowrank/fc1 r{r1}, fc2 r{r2}", "metric": "test accuracy (fine-tuned)", "value": tuned_acc,
                     "unit": "%", "note": f"{FINE_TUNE_EPOCHS} epochs SGD after SVD; {time.perf_counter() - start:.0f} s"})
        costs += cost_model(f"low-rank fc1 r{r1} / fc2 r{r2} (fine-tuned)", tuned, record, tuned_acc,
                            f"{weights:,} weights; SVD only: {cut_acc:.2f}%", reports=html)

    for mode in ("binary", "ternary"):
        start = time.perf_counter()
        post_hoc, _ = quantize_weights(copy.deepcopy(dense), mode)
        post_acc = acc(post_hoc)

        def ste(m):
            train_classifier(m, train, epochs=QUANT_EPOCHS, lr=1e-3, optimizer="adam", batch_size=64, lr_decay=0.8,
                             seed=2, progress=False)

        model, record = quantize_weights(copy.deepcopy(dense), mode, train=ste)
        model_acc = acc(model)
        bits = 1 if mode == "binary" else 2
        rows.append({"benchmark": f"binary/{mode} ({bits} bit)", "metric": "test accuracy (no retraining)",
                     "value": post_acc, "unit": "%", "note": "dense weights quantized as they are"})
        rows.append({"benchmark": f"binary/{mode} ({bits} bit)", "metric": "test accuracy (straight-through training)",
                     "value": model_acc, "unit": "%",
                     "note": f"{QUANT_EPOCHS} epochs Adam from dense weights; {time.perf_counter() - start:.0f} s"})
        costs += cost_model(f"{mode} weights LeNet-300-100 ({bits} bit + 32-bit alpha per neuron)", model, record,
                            model_acc, f"all 3 layers; biases float32; {QUANT_EPOCHS} epochs STE", reports=html)

    publish_table("lowrank_binary", costs, html)
    for c in costs:
        rows.append({"benchmark": "lowrank_binary/cost", "metric": f"{c['method']} on {c['profile']}",
                     "value": c["energy_uj"], "unit": "uJ/inference",
                     "note": f"storage {c['weight_stored_kb']:.1f} KB, fits on-chip {c['fits_on_chip']}, accuracy {c['accuracy_percent']}%"})
    return rows
