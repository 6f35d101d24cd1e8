"""The two fixtures SimPy's own tests use: an environment and an event log."""

from __future__ import annotations

import pytest
import simpy


@pytest.fixture
def env() -> simpy.Environment:
    return simpy.Environment()


@pytest.fixture
def log() -> list:
    return []
