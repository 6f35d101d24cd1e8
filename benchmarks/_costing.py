"""Shared by the lecture-method benchmarks: cost each produced model with ``simulate`` and keep one table.

Every model a benchmark produces (distilled student, lottery ticket, low-rank, binary, ...) is traced
with its ``CompressionRecord`` and costed on ``horowitz45`` and on an SRAM-limited profile
(``horowitz45-sram512k`` when shipped, else a what-if that extends horowitz45 with a 512 KB SRAM,
written to a temporary directory). The rows of all benchmarks are merged into one markdown table,
``benchmarks/results/LECTURE_METHODS.md`` (method, accuracy, storage, fits on-chip, energy); each
benchmark's rows are cached as JSON under ``~/.cache/pjsim/bench`` so running one benchmark keeps
the others' rows.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import torch

from simulator.api import simulate
from simulator.fileio import write_text_atomic
from simulator.hardware import load_profile

__all__ = ["CACHE", "SRAM_LIMITED", "cost_model", "mnist_path", "publish_table"]

HERE = Path(__file__).parent
CACHE = Path(os.environ.get("PJSIM_BENCH_CACHE", Path.home() / ".cache" / "pjsim" / "bench"))
#: Every lecture benchmark's cost rows, one JSON file per benchmark (``publish_table``).
COSTS = HERE / "results" / "lecture_costs"
SRAM_LIMITED = "horowitz45-sram512k"

_WHAT_IF = """\
[profile]
name = "horowitz45-sram512k"
description = "what-if: horowitz45 with a 512 KB SRAM (written by benchmarks/_costing.py because the shipped profile is absent)"
extends = "horowitz45"

[memory.sram]
capacity = { value = 512, unit = "KB", source = "what-if: 512 KB on-chip SRAM, an SRAM-limited edge accelerator" }
"""


def mnist_path() -> str | None:
    """Where the MNIST IDX files are: ``$PJSIM_DATA``, else the workspace's shared copy if present."""
    env = os.environ.get("PJSIM_DATA")
    if env:
        return env
    shared = HERE.resolve().parents[1] / "shared" / "data" / "mnist"
    return str(shared) if shared.is_dir() else None


def _profiles():
    profiles = [load_profile("horowitz45")]
    try:
        profiles.append(load_profile(SRAM_LIMITED))
    except Exception:  # noqa: BLE001 - the shipped profile may not exist yet: use the what-if file
        tmp = Path(tempfile.mkdtemp(prefix="pjsim-whatif-")) / f"{SRAM_LIMITED}.toml"
        tmp.write_text(_WHAT_IF)
        profiles.append(load_profile(tmp))
    return profiles


def cost_model(method: str, model: torch.nn.Module, record, accuracy_percent: float, note: str = "",
               reports: list | None = None) -> list[dict]:
    """Simulate one inference of ``model`` (MNIST input, batch 1) on each profile; one table row each.

    The ``CostReport``s are appended to ``reports`` when given (for ``publish_table``'s HTML report).
    """
    example = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    model.eval()
    rows = []
    for profile in _profiles():
        report = simulate(model, profile, example_inputs=example, record=record)
        if reports is not None:
            reports.append(report)
        rows.append({
            "method": method,
            "profile": profile.name,
            "accuracy_percent": round(float(accuracy_percent), 2),
            "weight_stored_kb": report.weight_stored_bits / 8 / 1000,
            "weight_dense_kb": report.weight_dense_bits / 8 / 1000,
            "fits_on_chip": report.fits_on_chip,
            "energy_uj": report.total_energy_pj * 1e-6,
            "macs": report.total_macs,
            "cost_method": report.method,
            "note": note,
        })
    return rows


def publish_table(bench: str, rows: list[dict], reports: list | None = None) -> Path:
    """Store ``bench``'s cost rows and rewrite LECTURE_METHODS.md from every benchmark's stored rows.

    The rows live in ``benchmarks/results/lecture_costs/<bench>.json`` (committed beside the table, not in the
    local training cache), so running one benchmark rewrites its own rows and keeps the others' (running only
    the distillation benchmark once dropped the lottery and low-rank rows).

    With ``reports`` (``CostReport``s), also write the ordinary HTML report of them to
    ``reports/lecture-<bench>.html`` (no special cases: the same ``write_html`` as any model).
    """
    COSTS.mkdir(parents=True, exist_ok=True)
    write_text_atomic(COSTS / f"{bench}.json", json.dumps(rows, indent=1, default=str))
    all_rows = []
    for path in sorted(COSTS.glob("*.json")):
        all_rows += json.loads(path.read_text())
    lines = [
        "# Lecture methods: accuracy, storage and energy per inference",
        "",
        (f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by benchmarks/bench_distillation.py, "
         "bench_lottery.py and bench_lowrank_binary.py (full MNIST; each model costed with `simulator.api.simulate`, "
         "batch 1). Storage = weights + biases in their encoding (decimal KB). Energy = one steady-state inference."),
        "",
        "| method | profile | test accuracy [%] | storage [KB] | dense [KB] | fits on-chip | energy [uJ] | MACs | costed by | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in all_rows:
        lines.append(
            f"| {r['method']} | {r['profile']} | {r['accuracy_percent']:.2f} | {r['weight_stored_kb']:.1f} | "
            f"{r['weight_dense_kb']:.1f} | {r['fits_on_chip']} | {r['energy_uj']:.3f} | {r['macs']:,} | {r['cost_method']} | {r['note']} |"
        )
    out = HERE / "results" / "LECTURE_METHODS.md"
    write_text_atomic(out, "\n".join(lines) + "\n")
    if reports:
        from simulator.report import write_html

        write_html(reports, HERE.parent / "reports" / f"lecture-{bench}.html", title=f"pjsim: lecture methods ({bench})",
                   notes=[f"{r['method']} on {r['profile']}: test accuracy {r['accuracy_percent']:.2f}%" for r in rows])
    return out
