"""Issue 19's checks on the full reproduction, read from the trained networks cached by
``python -m benchmarks.bench_distillation`` (about 38 minutes on 2 cores with the shipped teacher; the test
never trains: it skips, naming the missing runs, unless the teacher (cached or shipped), the student alone
and every distilled student are stored for the current recipes). Targets (issue 19; Hinton, Vinyals & Dean
2015, MNIST: teacher 67, student alone 146, distilled at T = 20: 74): teacher <= 80 test errors, distilled
student <= 90 and at least 40 fewer than the same student trained alone, all from one seeded run."""

from __future__ import annotations

import pytest
import torch

import benchmarks.bench_distillation as bench
from models.mnist_mlps import STUDENT_RECIPE, TEACHER_RECIPE

pytestmark = pytest.mark.slow


def _uncached_runs() -> list[str]:
    """Names of the reproduction's runs whose weights are neither cached nor shipped (for one torch thread)."""
    teacher_cfg = bench.run_config(TEACHER_RECIPE, 60000, 1)
    student_cfg = bench.run_config(STUDENT_RECIPE, 60000, 1)
    paths = {"teacher": bench.stored_weights("teacher", teacher_cfg)}
    for job in bench._student_jobs(STUDENT_RECIPE, student_cfg, bench.TEMPERATURES, bench.ALPHA,
                                   bench._key("teacher", teacher_cfg)):
        paths[job.run_name] = bench.stored_weights(job.cache_name, job.cfg)
    return [name for name, path in paths.items() if path is None]


@pytest.mark.xfail(strict=True, reason=(
    "measured 2026-12-02, one seeded run (benchmarks/results/DISTILLATION.md): teacher 74 (200 epochs; target <= 80, "
    "met), student alone 131, distilled T=20 92 (target <= 90: missed by 2), gain 39 (target >= 40: missed by 1); "
    "T = 1/2/5/10: 101/95/97/93. Shuffling seeds 2 / 3 (not the recipe): T=20 93 / 103, alone 137 / 144, gains 44 / "
    "41, so the distilled target is missed on every seed (mean 96) and the gain is met on 2 of 3. With the "
    "100-epoch teacher (80 errors) the same students gave T=20 91 and gain 40: the better teacher did not carry over. "
    "The T=20 student matches the teacher's logits on the training set "
    "(58 of 60,000 argmax disagreements) but not on the test set: a generalisation gap of the student's training, "
    "where the paper's student lands 7 errors above its teacher and pjsim's 18. Held-out probes of the student's "
    "knobs at T=20 (benchmarks/results/DISTILLATION-probes.md: alpha 1.0, rate 1e-3, batch 32) give 58-66 validation "
    "errors against the recipe's 60, within the kernels' own +-4: no student knob closes the gap. These are torch's AVX2 kernels "
    "(benchmarks/_kernels.py); with the AVX512 kernels the same seeded run gave alone 145, T=20 93 (gain 52: met; "
    "distilled still missed by 3)"))
def test_issue_19_targets_from_the_cached_run():
    missing = _uncached_runs()
    if missing:
        pytest.skip(f"not trained yet (run python -m benchmarks.bench_distillation): {missing}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train, test = bench._load(quick=False)
        runs, _ = bench.reproduce(train, test, log=lambda _msg: None)
    finally:
        torch.set_num_threads(threads)
    assert all(r.cached for r in runs)
    errors = {r.name: r.errors for r in runs}
    main = errors[f"distilled T={bench.MAIN_T:g}"]
    assert errors["teacher"] <= 80, errors
    assert main <= 90, errors
    assert errors["student alone"] - main >= 40, errors
