"""Per-example limits of the fuzz tests (issue 18: a memory cap and a time limit per example)."""

from __future__ import annotations

import contextlib
import resource
from collections.abc import Iterator

#: Hypothesis deadline per example (a loaded file takes milliseconds; the margin absorbs a busy 2-core machine).
FUZZ_DEADLINE_MS = 5_000
#: Most a single example may raise the process's peak resident memory (the bombs reached gigabytes).
MAX_PEAK_RSS_GROWTH_BYTES = 256 << 20


@contextlib.contextmanager
def peak_rss_growth_guard(limit_bytes: int = MAX_PEAK_RSS_GROWTH_BYTES) -> Iterator[None]:
    """Fail if the block raises the peak RSS by more than ``limit_bytes`` (Linux reports ru_maxrss in KiB)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    yield
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert grown <= limit_bytes, f"one example raised peak memory by {grown / 2**20:.0f} MiB"
