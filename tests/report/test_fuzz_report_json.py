"""Fuzzing ``load_report_json``: every generated document gives configurations or a ``ReportError``.

Documents mix pjsim's record encoding (``__record__``, ``__map__``, ``__tuple__``, ``__float__``,
``__dict__``) with arbitrary JSON, deep nesting and raw bytes; deadline and peak-memory guard per example.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models  # noqa: F401 - imported up front: the first decode of a models.* record would time its import
from simulator.errors import ReportError
from simulator.report.records import Configuration
from simulator.report.saved import load_report_json
from tests.fuzz_limits import FUZZ_DEADLINE_MS, peak_rss_growth_guard

_RECORD_NAMES = st.sampled_from([
    "simulator.cost:CostReport", "simulator.report.records:Configuration", "simulator.frozen:FrozenMap",
    "simulator.workload:DataType", "os:system", "simulator.cli.main:main", "simulator.nope:X", "simulator:", ":", 5,
    "simulator.hardware.profile:MemoryLevel", "models.registry:ModelSpec", "simulator.\x00:X",
])  # fmt: skip
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))


def _encoded(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
        st.builds(lambda n, f: {"__record__": n, **f}, _RECORD_NAMES, st.dictionaries(st.sampled_from(["name", "kind", "bits", "cost", "label", "x"]), children, max_size=3)),
        st.builds(lambda v: {"__map__": v}, st.one_of(children, st.lists(st.lists(children, min_size=2, max_size=2), max_size=3))),
        st.builds(lambda v: {"__dict__": v}, children),
        st.builds(lambda v: {"__tuple__": v}, children),
        st.builds(lambda v: {"__float__": v}, st.one_of(st.sampled_from(["NaN", "Infinity", "-Infinity", "inf"]), children)),
    )  # fmt: skip


_DOCS = st.recursive(_SCALARS, _encoded, max_leaves=20)


def _load(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.json"
        path.write_bytes(data)
        with peak_rss_growth_guard():
            try:
                _, _, configs = load_report_json(path)
                assert configs and all(isinstance(c, Configuration) for c in configs)
            except ReportError as exc:
                assert "fuzz.json" in str(exc), str(exc)


@settings(max_examples=200, deadline=FUZZ_DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS, st.booleans())
def test_generated_documents_load_or_raise_report_error(doc, wrapped):
    if wrapped:
        doc = {"format": "pjsim-report/1", "title": "t", "notes": [], "configurations": doc}
    _load(json.dumps(doc).encode())


@settings(max_examples=50, deadline=FUZZ_DEADLINE_MS)
@given(st.one_of(st.binary(max_size=512), st.integers(1, 5000).map(lambda n: ("[" * n + "]" * n).encode())))
def test_raw_bytes_and_deep_nesting_load_or_raise_report_error(data):
    _load(data)
