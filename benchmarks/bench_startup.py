"""CLI start-up time (issue 17: ``pjsim --help`` and ``pjsim models list`` under 0.5 s).

Each command runs in a fresh interpreter (as a user's shell starts it), 5 times; the row is the median
wall time. ``tests/cli/test_startup.py`` checks the cause (no torch, numpy or cost model imported), which
holds on a loaded machine; this measures the effect.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

COMMANDS = {
    "pjsim --help": "from simulator.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n",
    "pjsim models list": "from simulator.cli.main import main\ntry:\n    main(['models', 'list'])\nexcept SystemExit:\n    pass\n",
    "python -c pass (interpreter floor)": "pass\n",
}
RUNS = 5


def _median_wall_s(code: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> list[dict]:
    rows = []
    for name, code in COMMANDS.items():
        target = "< 0.5 s (issue 17)" if name.startswith("pjsim") else ""
        rows.append({"benchmark": "cli/startup", "metric": f"{name}, median of {RUNS} fresh processes",
                     "value": _median_wall_s(code), "unit": "s", "target": target})
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['metric']:<60} {row['value']:.3f} {row['unit']}")
