"""The staging buffer: reservations wait for room (back-pressure), amounts are whole bits."""

from __future__ import annotations

from simulator.memsim.buffers import StagingBuffer


def test_reservation_waits_for_room(env, log):
    """Capacity 100: A takes 60 at 0, B asks 60 at 0 and gets it when A releases at 5."""
    buf = StagingBuffer(env, "sram", 100)

    def a():
        yield from buf.reserve(60)
        yield env.timeout(5)
        yield from buf.release(60)

    def b():
        yield from buf.reserve(60)
        log.append(("b", env.now))

    env.process(a())
    env.process(b())
    env.run()
    assert log == [("b", 5)]
    assert buf.wait_cycles == 5
    assert buf.peak_bits == 60
    assert buf.occupancy[0] == (0.0, 0.0) and buf.occupancy[1] == (0.0, 60.0)
    assert buf.occupancy[-1] == (5.0, 60.0) and len(buf.occupancy) == 4


def test_fractional_amounts_release_exactly(env, log):
    """In floats (0.2 + 0.5) - 0.2 = 0.49999999999999994 < 0.5: a float container would make the release
    of 0.5 wait forever. Amounts are rounded up to whole bits, so the level is exact."""
    buf = StagingBuffer(env, "sram", 10)

    def run():
        yield from buf.reserve(0.2)
        yield from buf.reserve(0.5)
        yield from buf.release(0.2)
        yield from buf.release(0.5)
        log.append(("done", env.now, buf.container.level))

    env.process(run())
    env.run()
    assert log == [("done", 0, 0)]


def test_requests_larger_than_the_buffer_are_clamped(env):
    buf = StagingBuffer(env, "sram", 100)
    assert buf.clamp(250.5) == 100
    assert buf.clamp(0) == 0
