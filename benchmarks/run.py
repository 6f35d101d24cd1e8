"""Run every ``benchmarks/bench_*.py`` and write the results table to ``benchmarks/results/RESULTS.md``.

Each benchmark module exposes ``run() -> list[Row]``; a row is a dict with ``benchmark``, ``metric``,
``value``, ``unit`` and optionally ``target`` and ``note``. ``python -m benchmarks.run NAME...`` runs
only the named modules (``bench_trace`` or ``trace``).
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
import traceback
from pathlib import Path

from simulator.fileio import write_text_atomic

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def _modules(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if selected:
        wanted = {s if s.startswith("bench_") else f"bench_{s}" for s in selected}
        unknown = wanted - set(names)
        if unknown:
            raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    return names


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main(argv: list[str]) -> int:
    rows: list[dict] = []
    failed = []
    for name in _modules(argv):
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            new_rows = module.run()
        except Exception:  # a failing benchmark is reported, the others still run
            traceback.print_exc()
            failed.append(name)
            continue
        for row in new_rows:
            print("   ", {k: _fmt(v) for k, v in row.items()}, flush=True)
        rows.extend(new_rows)
        print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)
    header = (
        f"# pjsim benchmark results\n\nMachine: {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n"
        "| benchmark | metric | value | unit | target | note |\n|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r['benchmark']} | {r['metric']} | {_fmt(r['value'])} | {r.get('unit', '')} | {r.get('target', '')} | {r.get('note', '')} |\n"
        for r in rows
    )
    suffix = "".join(f"\nFAILED: {name}\n" for name in failed)
    out = RESULTS / ("RESULTS.md" if not argv else f"RESULTS-{'-'.join(argv)}.md")
    write_text_atomic(out, header + body + suffix)
    write_text_atomic(out.with_suffix(".json"), json.dumps(rows, indent=2, default=str))
    print(f"results written to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
