"""Tracer speed and memory: ResNet-50 and VGG-16 at batch 1, and a >1B-parameter model on the meta device.

Rows: trace time on the meta device (model built on meta: tracer plus PyTorch's meta kernels) and on
real CPU tensors (includes the forward pass itself and value-based encoding detection), median of 3
after one warm-up trace, as wall time and as process CPU time (which does not depend on other
processes' load); the plain forward pass as the floor of a real-tensor trace; the peak RSS of a fresh
subprocess that builds a 1.34 B-parameter transformer on meta and traces it. Targets (issue 3): each
trace under 1 s on 2 cores; peak RSS under 1 GB.

NB: PyTorch runs with one intra-op thread here. The benchmark machine is shared, and under contention
OpenMP's spin-waiting inflates a multi-threaded run's CPU time; one thread gives a stable CPU time that
is an upper bound for the same trace on 2 free cores.

NB: the peak RSS is read from ``VmHWM`` in ``/proc/self/status``, which starts afresh at ``exec``;
``ru_maxrss`` is reported beside it, but on Linux it survives ``exec`` and so would carry a parent's
larger peak into the child (the subprocess runs first for that reason).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent


class BigTransformer(nn.Module):
    """A GPT-sized stack for the memory benchmark: embedding 32000 x 2048, 24 encoder layers (width 2048,
    16 heads, FFN 8192), LM head: 1,339,670,528 parameters (5.4 GB as float32)."""

    def __init__(self, vocab: int = 32000, dim: int = 2048, depth: int = 24, heads: int = 16, ffn: int = 8192) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, ffn, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(tokens)))


def measure_big_model_on_meta() -> dict:
    """Build ``BigTransformer`` on meta, trace 128 tokens; report parameters, MACs, ops and peak RSS."""
    import resource

    from simulator.trace import trace

    rss_after_import_mb = _vm_hwm_mb()
    with torch.device("meta"):
        model = BigTransformer().eval()
    start = time.perf_counter()
    workload = trace(model, torch.zeros(1, 128, dtype=torch.long), model_name="big_transformer")
    seconds = time.perf_counter() - start
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "macs": workload.total_macs,
        "ops": len(workload.ops),
        "seconds": seconds,
        "rss_after_import_mb": rss_after_import_mb,
        "peak_rss_mb": _vm_hwm_mb(),
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux: KiB
    }


def _vm_hwm_mb() -> float:
    """This process's peak resident set size in MiB (``VmHWM``; Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (this benchmark needs Linux)")


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call of ``fn``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _time_trace(name: str, on_meta: bool) -> dict:
    """Cold and warm (median of 3) trace times, wall and CPU, plus the plain forward pass on real tensors."""
    from models import model_spec
    from simulator.trace import trace

    spec = model_spec(name)
    if on_meta:
        with torch.device("meta"):
            model = spec.factory().eval()
    else:
        model = spec.factory().eval()
    x = spec.example_input(1)
    n_ops = len(trace(model, x, model_name=name).ops)  # one warm-up trace
    warm = [_timed(lambda: trace(model, x, model_name=name)) for _ in range(3)]
    result = {
        "ops": n_ops,
        "wall": statistics.median(w for w, _ in warm),
        "cpu": statistics.median(c for _, c in warm),
    }
    if not on_meta:
        with torch.no_grad():
            bare = [_timed(lambda: model(x)) for _ in range(3)]
        result["bare_wall"] = statistics.median(w for w, _ in bare)
        result["bare_cpu"] = statistics.median(c for _, c in bare)
    return result


def run() -> list[dict]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run()
    finally:
        torch.set_num_threads(threads)


def _run() -> list[dict]:
    rows = _big_model_rows()
    load = os.getloadavg()[0]
    for name in ("resnet50", "vgg16"):
        for on_meta in (True, False):
            r = _time_trace(name, on_meta)
            where = "meta device" if on_meta else "real CPU tensors"
            what = "" if on_meta else "; includes the forward pass and encoding detection"
            rows.append(
                {
                    "benchmark": f"trace/{name}",
                    "metric": f"trace wall time, batch 1, {where} (median of 3)",
                    "value": r["wall"],
                    "unit": "s",
                    "target": "< 1 s",
                    "note": f"{r['ops']} costed ops{what}; 1 thread; 1-min load average {load:.1f} on {os.cpu_count()} cores",
                }
            )
            rows.append(
                {
                    "benchmark": f"trace/{name}",
                    "metric": f"trace CPU time, batch 1, {where} (median of 3)",
                    "value": r["cpu"],
                    "unit": "s",
                    "target": "< 1 s",
                    "note": "process CPU time (all threads): the work, independent of other processes' load",
                }
            )
            if not on_meta:
                rows.append(
                    {
                        "benchmark": f"trace/{name}",
                        "metric": "plain forward pass, no tracing (median of 3): wall / CPU",
                        "value": r["bare_wall"],
                        "unit": "s",
                        "note": f"CPU {r['bare_cpu']:.3g} s; the floor a real-tensor trace cannot go below",
                    }
                )
    return rows


def _big_model_rows() -> list[dict]:
    rows = []
    code = "import json; from benchmarks.bench_trace import measure_big_model_on_meta as m; print(json.dumps(m()))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    big = json.loads(proc.stdout.strip().splitlines()[-1])
    note = (
        f"{big['params']:,} parameters, {big['macs']:,} MACs, {big['ops']} ops, traced in {big['seconds']:.2f} s; "
        f"VmHWM (ru_maxrss, inherited across exec: {big['ru_maxrss_mb']:.0f} MiB)"
    )
    rows.append(
        {
            "benchmark": "trace/big_transformer_meta",
            "metric": "peak RSS of the tracing process",
            "value": big["peak_rss_mb"],
            "unit": "MiB",
            "target": "< 1 GB",
            "note": note,
        }
    )
    rows.append(
        {
            "benchmark": "trace/big_transformer_meta",
            "metric": "RSS after importing torch and pjsim",
            "value": big["rss_after_import_mb"],
            "unit": "MiB",
            "note": "the floor the trace adds to",
        }
    )
    return rows
