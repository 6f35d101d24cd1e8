"""``simulator.fileio``: bounded reading of regular files, safe atomic writes, all-or-nothing sets, CSV cells."""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import fileio
from simulator.fileio import (
    CSV_FORMULA_PREFIXES,
    InputFileError,
    OutputFileError,
    check_output_path,
    csv_safe_cell,
    load_json_bounded,
    read_bounded_text,
    read_regular_file_bytes,
    write_files_atomic,
    write_text_atomic,
)


def test_reads_a_regular_file_within_the_limit(tmp_path):
    (tmp_path / "a.txt").write_text("héllo")
    assert read_bounded_text(tmp_path / "a.txt", 100, "test") == "héllo"


def test_refuses_files_over_the_limit_without_reading_them(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 1001)
    with pytest.raises(InputFileError, match=r"big: test: expected at most 1,000 bytes, found 1,001 bytes"):
        read_regular_file_bytes(tmp_path / "big", 1000, "test")


@pytest.mark.parametrize(
    ("make", "found"),
    [
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: os.mkfifo(p), "FIFO"),
        (lambda p: None, "no such file"),
    ],
)
def test_refuses_what_is_not_a_regular_file_at_once(tmp_path, make, found):
    path = tmp_path / "x.toml"
    make(path)
    with pytest.raises(InputFileError, match=found):
        read_bounded_text(path, 1000, "profile")


def test_dev_zero_and_binary_text_are_named(tmp_path):
    with pytest.raises(InputFileError, match="/dev/zero: profile: expected a regular file, found a character device"):
        read_bounded_text("/dev/zero", 1 << 20, "profile")
    (tmp_path / "bin").write_bytes(b"\x00\xff\xfe")
    with pytest.raises(InputFileError, match="expected UTF-8 text, found binary data"):
        read_bounded_text(tmp_path / "bin", 100, "profile")


def test_json_nesting_is_bounded(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 65 + "]" * 65)
    with pytest.raises(InputFileError, match="nested at most 64"):
        load_json_bounded(tmp_path / "deep.json", 1 << 20, "report")
    (tmp_path / "deeper.json").write_text("[" * 100_000 + "]" * 100_000)  # the parser's RecursionError, named
    with pytest.raises(InputFileError, match="deeper.json: report: expected JSON nested at most 64"):
        load_json_bounded(tmp_path / "deeper.json", 1 << 20, "report")
    (tmp_path / "ok.json").write_text("[" * 64 + "]" * 64)
    assert load_json_bounded(tmp_path / "ok.json", 1 << 20, "report")


def test_write_refuses_a_device_node_and_leaves_it(tmp_path):
    node = tmp_path / "null"
    if os.geteuid() == 0:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:
        os.mkfifo(node)
    before = os.lstat(node)
    with pytest.raises(OutputFileError, match="pjsim writes only regular files"):
        write_text_atomic(node, "x")
    assert os.lstat(node).st_ino == before.st_ino and os.lstat(node).st_mode == before.st_mode


def test_write_goes_through_a_symlink_and_keeps_it(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_text_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_missing_folder_only_with_make_parents(tmp_path):
    with pytest.raises(OutputFileError, match="does not exist"):
        write_text_atomic(tmp_path / "a" / "b.txt", "x", make_parents=False)
    assert not (tmp_path / "a").exists()
    write_text_atomic(tmp_path / "a" / "b.txt", "x", make_parents=True)
    assert (tmp_path / "a" / "b.txt").read_text() == "x"
    with pytest.raises(OutputFileError, match="Not a directory|is not a folder"):
        check_output_path(tmp_path / "a" / "b.txt" / "c", make_parents=True)


@pytest.mark.parametrize("fail_at", [0, 1, 2])
def test_a_set_is_all_or_nothing_when_a_rename_fails(tmp_path, monkeypatch, fail_at):
    """The third file's rename fails (or the first, second): every file keeps its old content, no temp files stay."""
    paths = [tmp_path / n for n in ("r.html", "r.json", "r.csv")]
    for p in paths[:2]:
        p.write_text(f"old {p.name}")  # r.csv does not exist yet
    real_replace, calls = os.replace, []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == fail_at + 1:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", flaky_replace)
    with pytest.raises(OutputFileError, match="No space left on device"):
        write_files_atomic({p: b"new" for p in paths})
    monkeypatch.undo()
    assert [p.read_text() for p in paths[:2]] == ["old r.html", "old r.json"]
    assert not paths[2].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json"]


def test_a_set_with_an_unwritable_member_writes_nothing(tmp_path):
    (tmp_path / "r.html").write_text("old")
    (tmp_path / "r.json").mkdir()  # a folder where a file must go
    with pytest.raises(OutputFileError, match="r.json"):
        write_files_atomic({tmp_path / "r.html": b"new", tmp_path / "r.json": b"new"})
    assert (tmp_path / "r.html").read_text() == "old"


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil","x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert csv_safe_cell(cell) == "'" + cell


@settings(max_examples=200, deadline=1000)
@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False)))
def test_csv_cells_never_start_a_formula(value):
    """Property: text never starts with a formula character after neutralising; numbers and safe text are unchanged."""
    out = csv_safe_cell(value)
    if isinstance(value, str):
        assert not out.startswith(CSV_FORMULA_PREFIXES)
        assert out == value or out == "'" + value
        assert (out == value) == (not value.startswith(CSV_FORMULA_PREFIXES))
    else:
        assert out == value
