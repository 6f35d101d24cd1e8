"""Profile values checked for meaning (issue 18): finite after unit conversion, words within their level,
known data types and plausible widths; every refusal names the file and the key. Plus bounded reading."""

from __future__ import annotations

import os

import pytest

from simulator.errors import ProfileError
from simulator.hardware import load_profile
from tests.conftest import TOY_PROFILE


def _write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        # Before: 'inf J' with exit 0.
        ('add = { value = 1, unit = "pJ"', 'add = { value = 1e308, unit = "uJ"', "energy.float32.add.value", "finite"),
        # Before: a bare OverflowError.
        ('capacity = { value = 1, unit = "KB"', 'capacity = { value = 1e308, unit = "GB"', "memory.sram.capacity.value", "finite"),
        # Before: a bare ZeroDivisionError.
        ('frequency = { value = 1, unit = "GHz"', 'frequency = { value = 1e308, unit = "GHz"', "clock.frequency.value", "finite"),
        ('frequency = { value = 1, unit = "GHz"', 'frequency = { value = 1e6, unit = "GHz"', "clock.frequency.value", "at most 1e13 Hz"),
        ('add = { value = 1, unit = "pJ"', 'add = { value = 2e6, unit = "uJ"', "energy.float32.add.value", "at most 1e12 pJ"),
        # Before: accepted, and SRAM energy per bit vanished.
        ('word = { value = 32, unit = "bit"', 'word = { value = 16000, unit = "bit"', "memory.sram.word", "no wider than the level's capacity (8000 bits)"),
        ('accumulator_bits = { value = 32', 'accumulator_bits = { value = 1e9', "compute.accumulator_bits.value", "at most 65536 bits"),
    ],
)
def test_values_without_meaning_are_refused_naming_file_and_key(tmp_path, old, new, key, expected):
    assert old in TOY_PROFILE
    path = _write(tmp_path, TOY_PROFILE.replace(old, new, 1))
    with pytest.raises(ProfileError, match="p.toml") as info:
        load_profile(path)
    assert info.value.key == key and expected in info.value.expected, str(info.value)


@pytest.mark.parametrize("dtype", ["float7", "int100000", "int0", "float128", "int65"])
def test_unknown_data_types_are_refused(tmp_path, dtype):
    path = _write(tmp_path, TOY_PROFILE + f'\n[energy.{dtype}]\nadd = {{ value = 1, unit = "pJ", source = "x" }}\n')
    with pytest.raises(ProfileError, match=rf"p.toml: key 'energy.{dtype}': expected a data type name int1..int64"):
        load_profile(path)


@pytest.mark.parametrize("dtype", ["int1", "int4", "int64", "float4", "float8", "float16", "float64"])
def test_real_data_types_are_accepted(tmp_path, dtype):
    path = _write(tmp_path, TOY_PROFILE + f'\n[energy.{dtype}]\nadd = {{ value = 1, unit = "pJ", source = "x" }}\n')
    assert f"{dtype}.add" in load_profile(path).compute.op_energy_pj


def test_sweep_override_to_an_infinite_capacity_is_refused(tmp_path):
    path = _write(tmp_path, TOY_PROFILE)
    with pytest.raises(ProfileError, match="memory.sram.capacity.value"):
        load_profile(path, overrides={"memory.sram.capacity": 1e308})


@pytest.mark.parametrize(
    ("make", "found"),
    [
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff"), "UTF-8 text"),  # before: bare UnicodeDecodeError
        (lambda p: p.write_text("a = " + "[" * 50_000 + "]" * 50_000), "nested at most 64"),  # before: RecursionError
        (lambda p: p.write_text("x = 1\n" + "#" * (1 << 20)), "at most 1,048,576 bytes"),
        (lambda p: os.mkfifo(p), "FIFO"),
    ],
)
def test_unreadable_profiles_are_named(tmp_path, make, found):
    path = tmp_path / "bad.toml"
    make(path)
    with pytest.raises(ProfileError, match="bad.toml") as info:
        load_profile(path)
    assert found in str(info.value)


@pytest.mark.parametrize("parent", ["/dev/zero", "sub/"])
def test_extends_to_a_device_or_folder_names_the_extending_file(tmp_path, parent):
    """Before: /dev/zero grew to 20 GB; a folder gave a bare IsADirectoryError."""
    (tmp_path / "sub").mkdir()
    path = _write(tmp_path, TOY_PROFILE.replace('name = "toy"', f'name = "toy"\nextends = "{parent}"'))
    with pytest.raises(ProfileError, match=r"p.toml: key 'profile.extends'") as info:
        load_profile(path)
    assert "character device" in str(info.value) or "directory" in str(info.value)
