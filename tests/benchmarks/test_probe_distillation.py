"""The held-out probes of the distillation student (``benchmarks/probe_distillation.py``) on a few random
images with the shipped teacher (seconds): each probe is a cached student job of the reproduction, keyed
apart from the reproduction's runs, and tabulated against the recipe's probe."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import benchmarks.bench_distillation as bench
import benchmarks.probe_distillation as probes
from models.mnist_mlps import STUDENT_RECIPE


def test_each_probe_changes_the_recipe_or_the_loss_and_nothing_shares_a_cache_key():
    by_name = {p.name: p for p in probes.PROBES}
    assert by_name["recipe"].recipe == STUDENT_RECIPE and by_name["recipe"].alpha == bench.ALPHA
    assert by_name["alone"].alpha is None
    assert all(p.recipe.seed == STUDENT_RECIPE.seed for p in probes.PROBES)  # same initial weights and shuffling
    jobs = [probes._job(p, probes.TRANSFER_IMAGES, "teacher-key") for p in probes.PROBES]
    assert len({bench._key(j.cache_name, j.cfg) for j in jobs}) == len(jobs)
    reproduction = bench._student_jobs(STUDENT_RECIPE, bench.run_config(STUDENT_RECIPE, 60000, 1), (20.0,),
                                       bench.ALPHA, "teacher-key")
    assert not {bench._key(j.cache_name, j.cfg) for j in jobs} & {bench._key(j.cache_name, j.cfg) for j in reproduction}


def test_probes_train_cache_and_tabulate_against_the_recipe(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "CACHE", tmp_path)
    gen = torch.Generator().manual_seed(0)
    data = (torch.rand(90, 1, 28, 28, generator=gen), torch.randint(0, 10, (90,), generator=gen))
    short = STUDENT_RECIPE.with_epochs(1)
    tiny = (probes.Probe("recipe", short, bench.ALPHA, "none"), probes.Probe("alone", short, None, "hard labels"),
            probes.Probe("alpha-1", short, 1.0, "soft only"),
            probes.Probe("batch-32", dataclasses.replace(short, batch_size=32), bench.ALPHA, "batch 32"))
    results = probes.run(workers=1, log=lambda _msg: None, data=data, probes=tiny, transfer_images=60)
    assert [p.name for p, _, _ in results] == ["recipe", "alone", "alpha-1", "batch-32"]
    assert all(0 <= errors <= 30 for _, errors, _ in results)
    assert len(list(tmp_path.glob("distill2-probe-*.pt"))) == 4
    again = probes.run(workers=1, log=lambda _msg: None, data=data, probes=tiny, transfer_images=60)
    assert [errors for _, errors, _ in again] == [errors for _, errors, _ in results]  # read back from the cache
    text = probes.probe_table(results, 60, 30)
    base = results[0][1]
    assert "first 60 MNIST training images" in text and "the last 30" in text
    assert f"| recipe | none | {base} | +0 |" in text
    assert f"| alone | hard labels | {results[1][1]} | {results[1][1] - base:+d} |" in text
    with pytest.raises(ValueError, match="transfer_images must leave a validation set"):
        probes.run(workers=1, data=data, probes=tiny, transfer_images=90)
