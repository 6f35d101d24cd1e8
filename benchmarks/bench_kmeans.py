"""k-means weight sharing (5 bits) + Huffman encode + decode on 100M float32 weights: wall time and peak memory.

Targets (issue 6): under 30 s and under 3x the input's memory on 2 cores. Peak memory is measured
as the growth of the process's peak RSS over the input already in memory, plus the input itself.
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np

from simulator.compress.huffman import build_code, decode, encode, symbol_counts
from simulator.compress.kmeans import kmeans_1d

N = 100_000_000


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(n: int = N) -> list[dict]:
    rng = np.random.default_rng(0)
    weights = np.empty(n, dtype=np.float32)
    for s in range(0, n, 1 << 22):  # generate in chunks so generation does not set the peak
        weights[s:s + (1 << 22)] = rng.standard_normal(min(1 << 22, n - s), dtype=np.float32)
    base = _rss_bytes()
    t0 = time.perf_counter()
    result = kmeans_1d(weights, 32)
    t1 = time.perf_counter()
    counts = symbol_counts(result.labels, 32)
    code = build_code(counts)
    stream = encode(result.labels, code)
    t2 = time.perf_counter()
    back = decode(stream, code)
    t3 = time.perf_counter()
    ok = bool(np.array_equal(back, result.labels))
    load = os.getloadavg()[0]
    peak = _rss_bytes()
    input_bytes = weights.nbytes
    ratio = (max(peak - base, 0) + input_bytes) / input_bytes
    name = f"kmeans+huffman/{n // 1_000_000}M"
    return [
        {"benchmark": name, "metric": "k-means (k=32) time", "value": t1 - t0, "unit": "s"},
        {"benchmark": name, "metric": "Huffman encode time", "value": t2 - t1, "unit": "s"},
        {"benchmark": name, "metric": "Huffman decode time", "value": t3 - t2, "unit": "s",
         "note": f"decode == labels: {ok}"},
        {"benchmark": name, "metric": "total time", "value": t3 - t0, "unit": "s", "target": "< 30 s",
         "note": f"machine load average {load:.1f} on {os.cpu_count()} cores during the run"},
        {"benchmark": name, "metric": "peak memory / input", "value": ratio, "unit": "x", "target": "< 3x",
         "note": f"input {input_bytes / 1e6:.0f} MB; peak RSS growth {(peak - base) / 1e6:.0f} MB"},
        {"benchmark": name, "metric": "coded bits per weight", "value": 8 * len(stream.data) / n, "unit": "bit",
         "note": f"mean code {code.mean_bits(counts):.3f} bit"},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
