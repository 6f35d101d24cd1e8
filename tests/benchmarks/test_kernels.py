"""The training benchmarks' kernel pin (``benchmarks/_kernels.py``): a benchmark started without it re-runs
itself with torch's AVX2 kernels selected, and a process on other kernels is told so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks._kernels import KERNEL_ENV, PINNED_CAPABILITY

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    path = os.pathsep.join([str(cwd), str(ROOT)])
    result = subprocess.run([sys.executable, *args], env={**env, "PYTHONPATH": path}, cwd=cwd, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_benchmark_started_without_the_pin_reruns_itself_with_it(tmp_path):
    (tmp_path / "pinned_probe.py").write_text(
        "import sys\nfrom benchmarks._kernels import run_pinned\n"
        "if __name__ == '__main__':\n"
        "    print('start', flush=True)\n"
        "    run_pinned('pinned_probe')\n"
        "    import os, torch\n"
        "    print(torch.backends.cpu.get_cpu_capability(), os.environ['MKL_CBWR'], sys.argv[1:])\n")
    env = {k: v for k, v in os.environ.items() if k not in KERNEL_ENV}
    out = _run(["-m", "pinned_probe", "--flag", "x"], env, tmp_path).split()
    # printed "start" twice (once per process), then the pinned kernels and the arguments carried over
    assert out.count("start") == 2
    assert out[-4:] == [PINNED_CAPABILITY, "AVX2", "['--flag',", "'x']"]
    # a user's explicit choice is kept and nothing re-runs
    out = _run(["-m", "pinned_probe"], {**env, "ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"},
               tmp_path).split()
    assert out.count("start") == 1 and out[1:3] == ["DEFAULT", "COMPATIBLE"]
    # the Makefile's entry point runs any module pinned, in one re-run
    out = _run(["-m", "benchmarks._kernels", "pinned_probe", "--flag", "x"], env, tmp_path).split()
    assert out.count("start") == 1 and out[-4:] == [PINNED_CAPABILITY, "AVX2", "['--flag',", "'x']"]


def test_other_kernels_are_named_in_the_warning(tmp_path):
    code = "from benchmarks._kernels import capability_note; print(capability_note())"
    env = {k: v for k, v in os.environ.items() if k not in KERNEL_ENV}
    assert _run(["-c", code], {**env, **KERNEL_ENV}, tmp_path).strip() == "None"
    note = _run(["-c", code], {**env, "ATEN_CPU_CAPABILITY": "default"}, tmp_path)
    assert "torch runs its DEFAULT kernels, not the pinned AVX2" in note and "ATEN_CPU_CAPABILITY=avx2" in note
