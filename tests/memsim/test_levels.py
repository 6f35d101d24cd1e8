"""The SimPy ports and compute array on two or three transfers, asserting the full event log.

DRAM here: 32 bits/cycle, 10 cycles latency; a transfer holds the port for bits / 32 cycles and its
data arrives 10 cycles after the port is released.
"""

from __future__ import annotations

from simulator.memsim.levels import ComputeArray, CountingEnvironment, Port
from tests.memsim.builders import level

DRAM = level("dram", "dram", 10**9, 100.0, bandwidth=32.0, latency=10.0)


def _job(env, log, name, gen):
    yield env.process(gen)
    log.append((name, "arrived", env.now))


def test_two_transfers_share_the_port(env, log):
    """320 bits: port 0..10, arrives 20. 64 bits queued behind it: port 10..12, arrives 22."""
    busy = []
    port = Port(env, DRAM, busy)
    env.process(_job(env, log, "a", port.transfer(320, "fc", "load weights")))
    env.process(_job(env, log, "b", port.transfer(64, "fc", "load inputs")))
    env.run()
    assert busy == [("dram", 0, 10.0, "fc", "load weights"), ("dram", 10.0, 12.0, "fc", "load inputs")]
    assert log == [("a", "arrived", 20.0), ("b", "arrived", 22.0)]
    assert port.busy_cycles == 12.0


def test_transfer_overlaps_compute(env, log):
    """Compute 15 cycles from 0 while 320 bits load (port 0..10, arrives 20); a later 96-bit store
    starts at 15 when compute ends: port 15..18, done 28."""
    busy = []
    port, array = Port(env, DRAM, busy), ComputeArray(env, busy)

    def compute_then_store():
        yield env.process(array.compute(15, "fc", "mac"))
        log.append(("compute", "done", env.now))
        yield env.process(port.transfer(96, "fc", "store outputs"))
        log.append(("store", "done", env.now))

    env.process(_job(env, log, "load", port.transfer(320, "fc", "load weights")))
    env.process(compute_then_store())
    env.run()
    assert busy == [
        ("dram", 0, 10.0, "fc", "load weights"),
        ("compute", 0, 15, "fc", "mac"),
        ("dram", 15, 18.0, "fc", "store outputs"),
    ]
    assert log == [("compute", "done", 15), ("load", "arrived", 20.0), ("store", "done", 28.0)]


def test_three_streams_contend_in_request_order(env, log):
    """Three 32-bit transfers requested at 0: ports 0..1, 1..2, 2..3; arrivals 11, 12, 13."""
    busy = []
    port = Port(env, DRAM, busy)
    for name in ("w", "i", "o"):
        env.process(_job(env, log, name, port.transfer(32, "l", name)))
    env.run()
    assert [(s, e) for _, s, e, _, _ in busy] == [(0, 1.0), (1.0, 2.0), (2.0, 3.0)]
    assert log == [("w", "arrived", 11.0), ("i", "arrived", 12.0), ("o", "arrived", 13.0)]


def test_counting_environment_counts_scheduled_events():
    env = CountingEnvironment()
    env.timeout(1)
    env.timeout(2)
    env.run()
    assert env.scheduled_events == 2
