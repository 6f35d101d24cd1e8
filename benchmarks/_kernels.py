"""The CPU kernel set the trained lecture benchmarks are pinned to, so a seeded run repeats bit for bit on any
x86-64 CPU with AVX2.

PyTorch picks its vectorised ATen kernels per CPU (AVX512 where the CPU has it, else AVX2) and MKL picks its
GEMM code path; different kernels round differently, and over 60 epochs of training a different rounding is a
different network. Issue 19, measured 2026-12-02 on one AMD EPYC: the distillation students trained with the
AVX512 kernels made 145 / 93 test errors (alone / T = 20), with ``ATEN_CPU_CAPABILITY=avx2`` 131 / 92, the
committed table's numbers, which earlier sessions trained on AVX2-only machines. ``MKL_CBWR=AVX2`` (MKL's
conditional numerical reproducibility) pins MKL's path the same way on CPUs where it would choose another.
Both variables are read when torch is first imported, so they must be set before: the training benchmarks'
``__main__`` blocks re-run themselves with them (``run_pinned``), and ``python -m benchmarks._kernels MODULE
ARGS...`` runs any module with them (``make bench-lecture``).
"""

from __future__ import annotations

import os
import sys

__all__ = ["KERNEL_ENV", "PINNED_CAPABILITY", "capability_note", "run_pinned"]

#: Environment that selects the kernels (read by torch at import); setdefault keeps a user's explicit choice.
KERNEL_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2"}
#: ``torch.backends.cpu.get_cpu_capability()`` under ``KERNEL_ENV``.
PINNED_CAPABILITY = "AVX2"


def run_pinned(module: str, args: list[str] | None = None) -> None:
    """Re-run ``python -m module args`` (default: this process's arguments) under ``KERNEL_ENV`` unless every
    variable is already set (a user's explicit value is kept); returns only when nothing needs re-running."""
    if all(name in os.environ for name in KERNEL_ENV):
        return
    env = {**KERNEL_ENV, **os.environ}
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", module, *(sys.argv[1:] if args is None else args)], env)


def capability_note() -> str | None:
    """None when this process runs the pinned ATen kernels, else a sentence saying which it runs and how to pin."""
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    if capability == PINNED_CAPABILITY:
        return None
    pins = " ".join(f"{k}={v}" for k, v in KERNEL_ENV.items())
    return (f"torch runs its {capability} kernels, not the pinned {PINNED_CAPABILITY}: trained networks differ from "
            f"the committed ones (set {pins} before torch is imported, as make bench-lecture does)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m benchmarks._kernels MODULE [ARGS...]  (runs MODULE with the pinned kernels)")
    module, rest = sys.argv[1], sys.argv[2:]
    run_pinned(module, rest)
    os.execv(sys.executable, [sys.executable, "-m", module, *rest])  # already pinned: run it as it is
