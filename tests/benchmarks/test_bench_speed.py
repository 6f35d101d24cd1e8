"""``benchmarks/bench_speed.py``'s one definition of "map + simulate" time, on a hand-built workload (fast)."""

from __future__ import annotations

from benchmarks import bench_speed
from simulator.mapping import tiling
from tests.memsim.builders import chain_workload, level, make_profile


def test_map_simulate_seconds_times_cold_runs(monkeypatch):
    """Each run starts from empty mapper memos: the tile search misses at every level of every layer."""
    profile = make_profile([level("rf", "register_file", 1 << 12, 1.0), level("sram", "sram", 1 << 21, 5.0),
                            level("dram", "dram", 1 << 40, 640.0)])
    misses = []
    original = bench_speed._median_cpu

    def spy(fn):
        def run():
            fn()
            misses.append(tiling.search_tile.cache_info().misses)
        return original(run)

    monkeypatch.setattr(bench_speed, "_median_cpu", spy)
    monkeypatch.setattr(bench_speed, "RUNS", 3)
    cpu, wall, runs = bench_speed.map_simulate_seconds(chain_workload([(64, 256, 256), (64, 256, 64)]), profile,
                                                       "closed-form")
    assert runs == 3 and cpu > 0 and wall > 0
    assert misses[0] > 0 and misses == [misses[0]] * 3
