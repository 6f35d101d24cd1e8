"""The distillation reproduction's pipeline end to end on a few random images (seconds): teacher,
student alone and a temperature sweep are trained once, cached, reloaded, and tabulated beside the paper."""

from __future__ import annotations

import torch

import benchmarks.bench_distillation as bench
from models.mnist_mlps import STUDENT_RECIPE, TEACHER_RECIPE


def test_reproduce_trains_caches_and_tabulates(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "CACHE", tmp_path)
    gen = torch.Generator().manual_seed(0)
    train = (torch.rand(120, 1, 28, 28, generator=gen), torch.randint(0, 10, (120,), generator=gen))
    test = (torch.rand(50, 1, 28, 28, generator=gen), torch.randint(0, 10, (50,), generator=gen))
    recipes = dict(teacher_recipe=TEACHER_RECIPE.with_epochs(1), student_recipe=STUDENT_RECIPE.with_epochs(1),
                   temperatures=(1.0, 20.0), log=lambda _msg: None)
    runs, models = bench.reproduce(train, test, **recipes)
    assert [r.name for r in runs] == ["teacher", "student alone", "distilled T=1", "distilled T=20"]
    assert not any(r.cached for r in runs) and all(r.test_images == 50 and r.epochs == 1 for r in runs)
    # same initial weights and schedule; only the loss differs, so the weights differ after training
    assert not torch.equal(models["student alone"].fc1.weight, models["distilled T=20"].fc1.weight)
    again, _ = bench.reproduce(train, test, **recipes)
    assert all(r.cached for r in again)
    assert [r.errors for r in again] == [r.errors for r in runs]
    text = bench.table(runs, "smoke")
    assert "| teacher |" in text and "| 67 |" in text and "| 146 |" in text and "| 74 |" in text
    assert "distilled (T=20) errors" in text and ("MET" in text or "MISSED" in text)


def test_cost_table_lists_energy_and_storage_of_the_student():
    from benchmarks._costing import cost_model
    from models.mnist_mlps import mlp_800_800
    from simulator.compress.distill import dense_record

    student = mlp_800_800()
    costs = cost_model("distillation: distilled T=20 (784-800-800-10)", student, dense_record(student, "dense"), 90.0)
    text = bench.cost_table(costs)
    # 784*800 + 800*800 + 800*10 = 1,275,200 MACs; (1,275,200 weights + 1,610 biases) x 4 bytes = 5,107.2 KB
    assert "| distilled T=20 (784-800-800-10) | horowitz45 | 5107.2 |" in text
    assert "1,275,200 |" in text


def test_students_trained_in_worker_processes_equal_the_sequential_ones(tmp_path, monkeypatch):
    """Two spawned processes train the same students, bit for bit, as one after the other."""
    gen = torch.Generator().manual_seed(1)
    train = (torch.rand(100, 1, 28, 28, generator=gen), torch.randint(0, 10, (100,), generator=gen))
    test = (torch.rand(40, 1, 28, 28, generator=gen), torch.randint(0, 10, (40,), generator=gen))
    recipes = dict(teacher_recipe=TEACHER_RECIPE.with_epochs(1), student_recipe=STUDENT_RECIPE.with_epochs(1),
                   temperatures=(20.0,), log=lambda _msg: None)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        monkeypatch.setattr(bench, "CACHE", tmp_path / "sequential")
        _, sequential = bench.reproduce(train, test, **recipes)
        monkeypatch.setattr(bench, "CACHE", tmp_path / "parallel")
        runs, parallel = bench.reproduce(train, test, workers=2, **recipes)
    finally:
        torch.set_num_threads(threads)
    assert not any(r.cached for r in runs)  # trained by the workers in this call, not read from an old cache
    for name in ("student alone", "distilled T=20"):
        for key, value in sequential[name].state_dict().items():
            assert torch.equal(value, parallel[name].state_dict()[key]), (name, key)


def test_the_shipped_teacher_is_the_current_recipe_s(tmp_path, monkeypatch):
    """A fresh clone (empty cache) finds the teacher in models/checkpoints for exactly the recipe's key, so
    only the students train; changing the recipe without re-shipping (``--ship-teacher``) fails here."""
    from models.pretrained import CHECKPOINT_DIR

    monkeypatch.setattr(bench, "CACHE", tmp_path)
    cfg = bench.run_config(TEACHER_RECIPE, 60000, bench.TRAIN_THREADS)
    assert bench.stored_weights("teacher", cfg) == CHECKPOINT_DIR / "mlp_1200_1200_dropout-dense.pt"
    assert bench.stored_weights("teacher", bench.run_config(TEACHER_RECIPE.with_epochs(3), 60000, 1)) is None
    assert bench.stored_weights("teacher", bench.run_config(TEACHER_RECIPE, 60000, 2)) is None
    monkeypatch.setattr(bench, "USE_SHIPPED", False)
    assert bench.stored_weights("teacher", cfg) is None
