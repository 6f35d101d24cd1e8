"""The results database refuses files that are not its own, and leaves them untouched."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from simulator.sweep import ResultStore, SweepStoreError, parse_spec, run


def _fingerprint(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns


def _siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


def test_foreign_sqlite_file_is_refused_and_untouched(grid_dict, tmp_path):
    """An SQLite database written by something else: clear error, same bytes, no -wal/-shm left."""
    db = tmp_path / "other.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers VALUES (1, 'Ada')")
    con.commit()
    con.close()
    before, files = _fingerprint(db), _siblings(db)
    with pytest.raises(SweepStoreError, match="did not write"):
        run(parse_spec(grid_dict), backend="inprocess", db=db)
    assert _fingerprint(db) == before
    assert _siblings(db) == files


def test_corrupted_file_is_refused_and_untouched(grid_dict, tmp_path):
    """A file that is not SQLite at all (e.g. a report saved under the wrong name): clear error, untouched."""
    db = tmp_path / "results.sqlite"
    db.write_bytes(b"<html>not a database</html>" + os.urandom(2000))
    before = _fingerprint(db)
    with pytest.raises(SweepStoreError, match="not an SQLite database"):
        run(parse_spec(grid_dict), backend="inprocess", db=db)
    assert _fingerprint(db) == before


def test_damaged_pjsim_database_is_refused_and_untouched(grid_dict, tmp_path):
    """Our own database with its pages overwritten by garbage: clear error, untouched."""
    db = tmp_path / "results.sqlite"
    run(parse_spec(grid_dict), backend="inprocess", db=db)
    ResultStore(db).close()  # checkpoint: the WAL is folded into the main file on the last close
    data = bytearray(db.read_bytes())
    assert len(data) > 4096
    data[1024 : len(data)] = os.urandom(len(data) - 1024)  # keep the header, destroy every page
    db.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    before = _fingerprint(db)
    with pytest.raises(SweepStoreError):
        run(parse_spec(grid_dict), backend="inprocess", db=db)
    assert _fingerprint(db) == before


def test_other_schema_version_is_refused(tmp_path):
    """A pjsim database from another schema version is not silently reused."""
    db = tmp_path / "results.sqlite"
    ResultStore(db).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE pjsim_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(SweepStoreError, match="schema version"):
        ResultStore(db)


def test_write_is_one_transaction_and_counts_rewrites(tmp_path):
    """Rows land together; writing a key again bumps its ``writes`` counter instead of duplicating it."""
    with ResultStore(tmp_path / "r.sqlite") as store:
        run_id = store.start_run("s", "v", "inprocess")
        store.write("s", run_id, [("a", {"x": 1}, {"e": 1.0}, 0.1, "w"), ("b", {"x": 2}, {"e": 2.0}, 0.1, "w")])
        store.write("s", run_id, [("a", {"x": 1}, {"e": 3.0}, 0.1, "w")])
        got = store.fetch(["a", "b", "c"])
        assert set(got) == {"a", "b"}
        assert got["a"].writes == 2 and got["a"].outputs == {"e": 3.0}
        assert got["b"].writes == 1
        assert store.count() == 2
