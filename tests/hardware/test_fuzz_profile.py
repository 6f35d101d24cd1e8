"""Fuzzing the profile loader: every generated file gives a valid profile or a ``ProfileError``, fast and small.

Each example mutates the round-number toy profile (a value, a unit, a key, a table, bytes) or is raw
bytes; the per-example deadline and ``peak_rss_growth_guard`` bound time and memory per example.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import ProfileError
from simulator.hardware import HardwareProfile, load_profile
from tests.conftest import TOY_PROFILE
from tests.fuzz_limits import FUZZ_DEADLINE_MS, peak_rss_growth_guard

_LINES = TOY_PROFILE.splitlines()
_TOKENS = st.sampled_from([
    "1e308", "-1e308", "inf", "nan", "0", "-1", "1e-320", "123456789012345678901234567890", '"x"', "true", "[]", "{}",
    '{ value = 1e308, unit = "uJ", source = "s" }', '{ value = 1, unit = "PB", source = "s" }', '"/dev/zero"',
    '{ rule = "sqrt_capacity" }', '{ rule = "mac_multiple", of = "int100000", factor = { value = 1, source = "s" } }',
    "[" * 40 + "]" * 40, '"' + "a" * 1000 + '"',
])  # fmt: skip
_HEADERS = st.sampled_from(["[energy.float7]", "[energy.int100000]", "[energy.int8]", "[memory.reg]", "[rules.sqrt_capacity.a]",
                            "[profile]", "[clock]", "[[axis]]", "[energy.decode]"])  # fmt: skip


@st.composite
def mutated_profiles(draw) -> bytes:
    lines = list(_LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["value", "line", "header", "drop", "key"]))
        if kind == "value" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {draw(_TOKENS)}"
        elif kind == "line":
            lines.insert(i, f"{draw(st.sampled_from(['value', 'unit', 'word', 'capacity', 'extends', 'kind', 'add']))} = {draw(_TOKENS)}")
        elif kind == "header":
            lines.insert(i, draw(_HEADERS))
        elif kind == "drop":
            del lines[i]
        else:
            lines[i] = lines[i].replace("value", draw(st.sampled_from(["valeu", "value", "unit"])), 1)
    text = "\n".join(lines).encode()
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.binary(max_size=16)) + text[cut:]
    return text


def _load(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_bytes(data)
        with peak_rss_growth_guard():
            try:
                assert isinstance(load_profile(path), HardwareProfile)
            except ProfileError as exc:
                assert "fuzz.toml" in str(exc) or "/dev/zero" in str(exc) or "horowitz" in str(exc), str(exc)


@settings(max_examples=150, deadline=FUZZ_DEADLINE_MS, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_profiles())
def test_mutated_profiles_load_or_raise_profile_error(data):
    _load(data)


@settings(max_examples=50, deadline=FUZZ_DEADLINE_MS)
@given(st.binary(max_size=2048))
def test_random_bytes_load_or_raise_profile_error(data):
    _load(data)


def test_extends_name_longer_than_the_file_system_allows_is_a_profile_error(tmp_path):
    """Found by the fuzz test above: ``extends = "aaaa..."`` (5,000 characters) raised OSError
    (ENAMETOOLONG) from the shipped-profile lookup instead of a ProfileError."""
    import pytest

    child = tmp_path / "child.toml"
    child.write_text(f'[profile]\nextends = "{"a" * 5000}"\nname = "x"\n')
    with pytest.raises(ProfileError, match="a shipped profile name"):
        load_profile(child)
