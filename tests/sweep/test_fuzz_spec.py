"""Fuzzing sweep-spec parsing: every generated table or file gives a ``SweepSpec`` or a ``SweepSpecError``.

Generated specs draw keys from the real format plus typos, and values from hostile ones (huge
numbers, constraint bombs, import paths, nesting); a parsed spec must also pass or fail the plan-size
check cleanly. Deadline and peak-memory guard per example.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.sweep import load_spec, parse_spec
from simulator.sweep.errors import SweepSpecError
from simulator.sweep.plan import check_plan_size
from simulator.sweep.spec_types import SweepSpec
from tests.fuzz_limits import FUZZ_DEADLINE_MS, peak_rss_growth_guard

_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**15), 10**15), st.floats(), st.text(max_size=12),
    st.sampled_from([10**12, 2**63, "lenet_300_100", "os:abort", "horowitz45", "grid", "random", "lhs", "log",
                     "(((((2**64)**64)**64)**64)**64)**64 > 0", "'x' * 2**34", "min('x' * 10**9)",
                     "'%0*d' % (2**31 - 2, 1)", "(1,) * 2**31", "batch_size ** 64 ** 64 > 0", "batch_size > 1"]),
    st.lists(st.sampled_from([1, 2, 0.5, "x", "'x' * 2**34", "batch_size > 1", True]), max_size=4),
)  # fmt: skip
_AXIS_KEYS = st.sampled_from(["key", "values", "min", "max", "num", "scale", "integer", "vals"])
_AXIS_NAMES = st.sampled_from(["batch_size", "compression.density", "compression.weight_bits", "profile.memory.sram.capacity",
                               "compression.nope", "profile.", "", "x"])  # fmt: skip
_SWEEP_KEYS = st.sampled_from(["name", "model", "profile", "batch_size", "sampling", "samples", "seed", "constraints",
                               "engine", "input_shape", "modle"])  # fmt: skip


@st.composite
def specs(draw) -> dict:
    sweep = {"model": "lenet_300_100", "profile": "horowitz45"}
    sweep.update(draw(st.dictionaries(_SWEEP_KEYS, _VALUES, max_size=4)))
    axes = []
    for _ in range(draw(st.integers(0, 3))):
        axis = {"key": draw(_AXIS_NAMES)}
        axis.update(draw(st.dictionaries(_AXIS_KEYS, _VALUES, max_size=3)))
        if draw(st.booleans()):
            axis.update(min=draw(st.integers(0, 8)), max=draw(st.integers(8, 64)), num=draw(st.integers(1, 10**6)))
        axes.append(axis)
    raw: dict = {"sweep": sweep, "axis": axes}
    if draw(st.booleans()):
        raw["compression"] = draw(st.dictionaries(st.sampled_from(["density", "weight_bits", "index_bits", "weight_sharing", "x"]), _VALUES, max_size=3))
    if draw(st.booleans()):
        raw[draw(st.sampled_from(["accuracy", "axes", "extra"]))] = draw(_VALUES)
    return raw


@settings(max_examples=300, deadline=FUZZ_DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow])
@given(specs(), st.booleans())
def test_generated_specs_parse_or_raise_sweep_spec_error(raw, allow_import):
    with peak_rss_growth_guard():
        try:
            spec = parse_spec(raw, source="fuzz.toml", allow_import=allow_import)
        except SweepSpecError as exc:
            assert str(exc).startswith("fuzz.toml: "), str(exc)
            return
        assert isinstance(spec, SweepSpec)
        assert allow_import or ":" not in spec.model
        try:
            assert check_plan_size(spec) <= 100_000
        except SweepSpecError as exc:
            assert "limit" in str(exc)


@settings(max_examples=50, deadline=FUZZ_DEADLINE_MS)
@given(st.one_of(st.binary(max_size=1024), st.integers(1, 3000).map(lambda n: ("a = " + "[" * n + "]" * n).encode())))
def test_raw_files_load_or_raise_sweep_spec_error(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_bytes(data)
        with peak_rss_growth_guard():
            try:
                load_spec(path)
            except SweepSpecError as exc:
                assert "fuzz.toml" in str(exc), str(exc)
