"""Profile loading speed: a sweep builds thousands of profile variants, so loads/s matter.

Measures cold loads (parse TOML + resolve ``extends`` + validate), cached loads, override variants (the
sweep path: cached resolved table, path-copied overrides, full validation) and resolved-table digests.
"""

from __future__ import annotations

import time

from simulator.hardware import list_profiles, load_profile, loader, profile_digest
from simulator.workload import DataType


def _rate(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def _cold(i: int) -> None:
    loader._RESOLVED_CACHE.clear()
    loader._PROFILE_CACHE.clear()
    load_profile("horowitz45-full")


def run() -> list[dict]:
    bench = "profiles/load"
    for name in list_profiles():  # warm imports and caches once
        load_profile(name)
    rows = [
        {"benchmark": bench, "metric": "cold load horowitz45-full (parse + extends + validate)",
         "value": _rate(_cold, 300), "unit": "loads/s"},
        {"benchmark": bench, "metric": "cached load (unchanged files)",
         "value": _rate(lambda i: load_profile("horowitz45-full"), 20000), "unit": "loads/s"},
        {"benchmark": bench, "metric": "override variant horowitz45-full (2 keys, √capacity re-derived)",
         "value": _rate(lambda i: load_profile("horowitz45-full", {"memory.sram.capacity": 1 + i % 64,
                                                                  "compute.zero_handling": "skip"}), 5000),
         "unit": "variants/s", "target": ">= 1000 variants/s (a sweep loads thousands of variants)"},
        {"benchmark": bench, "metric": "override variant eyeriss (ladder re-derived)",
         "value": _rate(lambda i: load_profile("eyeriss", {"memory.dram.read_energy.factor": 100 + i % 200}), 5000),
         "unit": "variants/s", "target": ">= 1000 variants/s"},
        {"benchmark": bench, "metric": "digest of an override variant",
         "value": _rate(lambda i: profile_digest("horowitz45", {"memory.sram.capacity": i}), 5000),
         "unit": "digests/s"},
    ]
    p = load_profile("horowitz45-full")
    int16 = DataType("int", 16)
    rows.append({"benchmark": "profiles/lookup", "metric": "derived op energy lookup (memoised)",
                 "value": _rate(lambda i: p.op_energy_pj("mult", int16), 200000), "unit": "lookups/s"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['metric']:<70} {row['value']:>12,.0f} {row['unit']}")
