"""The results database: one SQLite file, one row per finished point, keyed by the point's content hash.

Why SQLite: it is embedded (stdlib ``sqlite3``), one file next to the report, and transactional, so
a sweep killed at any moment keeps every point whose transaction committed and nothing half-written.
The file runs in WAL mode (readers, e.g. a progress monitor, never block the writer).

Safety: a file that exists is checked before anything is written to it: it must start with the
SQLite header, carry our ``application_id`` and the ``pjsim_meta`` marker table with a schema
version we know, and pass ``PRAGMA quick_check``. Otherwise ``SweepStoreError`` says what is wrong
and the file is left exactly as it was. An empty (0-byte) file is taken as a new database.

Schema (version 1)::

    pjsim_meta(key TEXT PRIMARY KEY, value TEXT)     -- ('application', 'pjsim-sweep-results'), ('schema_version', '1')
    runs(run_id INTEGER PRIMARY KEY, started_at REAL, sweep TEXT, code_version TEXT, backend TEXT)
    results(point_key TEXT PRIMARY KEY, sweep TEXT, inputs TEXT, outputs TEXT,     -- JSON objects
            run_id INTEGER, computed_at REAL, compute_s REAL, worker TEXT, writes INTEGER)

``writes`` counts how many times a point's row was written: 1 unless a point was recomputed.

One writer per database (refused, not coordinated): a ``ResultStore`` on a file holds an exclusive
``flock`` on it while open, so a second sweep on the same database fails at once with
``SweepStoreError`` instead of computing every point a second time. The lock goes away with the
process (a SIGKILLed sweep does not leave a stale lock behind).

Damaged rows: a row whose ``outputs`` is not UTF-8 JSON of an object (with a numeric
``total_energy_pj`` where it has one) is not counted as done (``usable_keys``): the sweep warns
(``CorruptedRowWarning``, naming the point keys) and recomputes it, overwriting the row. Rows are
read as bytes and decoded here, so a damaged cell never surfaces as a bare ``OperationalError``, and
``fetch`` skips (with a warning) a row that is still unreadable, so the export always completes.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import sqlite3
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from simulator.sweep.errors import SweepStoreError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "CorruptedRowWarning", "ResultStore", "StoredResult", "check_not_in_use"]

#: SQLite header field ``application_id``: ASCII "pjsw".
APPLICATION_ID = 0x706A7377
SCHEMA_VERSION = "1"
_APPLICATION = "pjsim-sweep-results"
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = f"""
CREATE TABLE pjsim_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO pjsim_meta VALUES ('application', '{_APPLICATION}'), ('schema_version', '{SCHEMA_VERSION}');
CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, started_at REAL NOT NULL, sweep TEXT NOT NULL,
                   code_version TEXT NOT NULL, backend TEXT NOT NULL);
CREATE TABLE results (point_key TEXT PRIMARY KEY, sweep TEXT NOT NULL, inputs TEXT NOT NULL, outputs TEXT NOT NULL,
                      run_id INTEGER NOT NULL, computed_at REAL NOT NULL, compute_s REAL NOT NULL,
                      worker TEXT NOT NULL, writes INTEGER NOT NULL DEFAULT 1);
"""


class CorruptedRowWarning(UserWarning):
    """Result rows of the database were unreadable; they are recomputed (or left out of the table)."""


def _decode_outputs(blob: bytes | None) -> dict[str, Any] | None:
    """A row's ``outputs`` cell (read as bytes) as a dict, or None when it is damaged."""
    if blob is None:
        return None
    try:
        outputs = json.loads(bytes(blob).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(outputs, dict):
        return None
    total = outputs.get("total_energy_pj", 0.0)
    if isinstance(total, bool) or not isinstance(total, (int, float)) or math.isnan(total):
        return None
    return outputs


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One finished point as stored: its outputs and when, where and by which run it was computed."""

    key: str
    outputs: dict[str, Any]
    run_id: int
    computed_at: float
    compute_s: float
    worker: str
    writes: int


def _check_existing(path: Path) -> None:
    """Raise ``SweepStoreError`` unless ``path`` is a pjsim results database (read-only checks)."""
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_MAGIC))
    if head != _SQLITE_MAGIC:
        raise SweepStoreError(
            f"{path}: not an SQLite database (bad header); refusing to overwrite it. "
            "Pass another --db path or move the file away."
        )
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if app_id != APPLICATION_ID or "pjsim_meta" not in tables:
                raise SweepStoreError(
                    f"{path}: an SQLite database that pjsim did not write (application_id {app_id:#x}, "
                    f"tables {sorted(tables)}); refusing to touch it. Pass another --db path."
                )
            meta = dict(con.execute("SELECT key, value FROM pjsim_meta").fetchall())
            if meta.get("application") != _APPLICATION or meta.get("schema_version") != SCHEMA_VERSION:
                raise SweepStoreError(
                    f"{path}: pjsim results database with marker {meta}; this pjsim reads schema version "
                    f"{SCHEMA_VERSION} only. Pass another --db path."
                )
            check = con.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                raise SweepStoreError(f"{path}: the database is corrupted ({check[:3]}); it was left untouched.")
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise SweepStoreError(f"{path}: corrupted or unreadable SQLite database ({exc}); it was left untouched.") from None


class ResultStore:
    """The results of finished points in one SQLite file (or in memory when ``path`` is None).

    The coordinator is the only writer; each ``write`` is one transaction.
    """

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock_fd: int | None = None
        if self.path is not None and self.path.exists() and self.path.stat().st_size > 0:
            _check_existing(self.path)
        elif self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path is not None:
            self._lock_fd = _lock(self.path)
        fresh = self.path is None or self.path.stat().st_size == 0
        target = ":memory:" if self.path is None else str(self.path)
        try:
            self._con = sqlite3.connect(target, isolation_level=None, timeout=30.0)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            if fresh:
                self._con.execute("BEGIN IMMEDIATE")
                self._con.execute(f"PRAGMA application_id={APPLICATION_ID}")
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._con.execute(statement)
                self._con.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._unlock()
            raise SweepStoreError(f"{self.path or ':memory:'}: cannot open the results database ({exc})") from None

    def close(self) -> None:
        self._con.close()
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_run(self, sweep: str, code_version: str, backend: str) -> int:
        """Record a new run and return its id (stored with each point it computes)."""
        cur = self._con.execute(
            "INSERT INTO runs (started_at, sweep, code_version, backend) VALUES (?, ?, ?, ?)",
            (time.time(), sweep, code_version, backend),
        )
        return int(cur.lastrowid)

    def done_keys(self) -> set[str]:
        """Keys of every point already in the database (damaged rows included; see ``usable_keys``)."""
        return {r[0] for r in self._con.execute("SELECT CAST(point_key AS TEXT) FROM results")}

    def usable_keys(self) -> tuple[set[str], set[str]]:
        """``(usable, damaged)``: keys whose stored outputs read back as a result, and keys whose rows do not."""
        usable, damaged = set(), set()
        for key, blob in self._rows():
            (usable if _decode_outputs(blob) is not None else damaged).add(key)
        return usable, damaged

    def _rows(self) -> list[tuple[str, bytes | None]]:
        """``(point_key, outputs as bytes)`` of every row; a damaged key cell is decoded with replacement."""
        cursor = self._con.execute("SELECT CAST(point_key AS BLOB), CAST(outputs AS BLOB) FROM results")
        return [(bytes(k or b"").decode("utf-8", "replace"), v) for k, v in cursor]

    def write(
        self,
        sweep: str,
        run_id: int,
        rows: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any], float, str]],
    ) -> None:
        """Store finished points ``(key, inputs, outputs, compute_s, worker)`` in one transaction.

        A key already present is overwritten and its ``writes`` counter incremented (a recomputed
        point is visible, never duplicated).
        """
        now = time.time()
        params = [
            (key, sweep, json.dumps(dict(inputs), default=str), json.dumps(dict(outputs)), run_id, now, compute_s, worker)
            for key, inputs, outputs, compute_s, worker in rows
        ]
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany(
                "INSERT INTO results (point_key, sweep, inputs, outputs, run_id, computed_at, compute_s, worker) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(point_key) DO UPDATE SET "
                "outputs=excluded.outputs, inputs=excluded.inputs, run_id=excluded.run_id, "
                "computed_at=excluded.computed_at, compute_s=excluded.compute_s, worker=excluded.worker, "
                "writes=results.writes + 1",
                params,
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def fetch(self, keys: Iterable[str]) -> dict[str, StoredResult]:
        """The stored results for ``keys`` (keys not in the database are absent from the result)."""
        wanted = set(keys)
        out: dict[str, StoredResult] = {}
        damaged = []
        cursor = self._con.execute(
            "SELECT CAST(point_key AS BLOB), CAST(outputs AS BLOB), run_id, computed_at, compute_s, "
            "CAST(worker AS BLOB), writes FROM results"
        )
        for key, blob, run_id, computed_at, compute_s, worker, writes in cursor:
            key = bytes(key or b"").decode("utf-8", "replace")
            if key not in wanted:
                continue
            outputs = _decode_outputs(blob)
            try:
                record = StoredResult(
                    key, outputs or {}, int(run_id), float(computed_at), float(compute_s),
                    bytes(worker or b"").decode("utf-8", "replace"), int(writes),
                )
            except (TypeError, ValueError):
                outputs = None
            if outputs is None:
                damaged.append(key)
                continue
            out[key] = record
        if damaged:
            warnings.warn(
                f"{self.path}: {len(damaged)} damaged result row(s) left out: {', '.join(k[:12] for k in damaged[:5])}",
                CorruptedRowWarning,
                stacklevel=2,
            )
        return out

    def count(self) -> int:
        return int(self._con.execute("SELECT COUNT(*) FROM results").fetchone()[0])


def _lock(path: Path) -> int:
    """An exclusive, non-blocking ``flock`` on ``path`` (created empty if missing); the open descriptor holding it.

    Raises:
        SweepStoreError: another process (another sweep) holds the database.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise _in_use(path) from None
    return fd


def check_not_in_use(path: str | Path) -> None:
    """Raise ``SweepStoreError`` now if another sweep holds ``path`` (a preflight check; takes no lock, creates nothing)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return  # absent (or unreadable: ResultStore reports that with its own message)
    try:
        if not os.path.isfile(path):
            return
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _in_use(path) from None
    finally:
        os.close(fd)


def _in_use(path: Path) -> SweepStoreError:
    return SweepStoreError(
        f"{path}: another pjsim sweep is writing this results database right now; a second writer is refused "
        "(it would compute every point twice). Wait for it to finish, or pass another --db path."
    )
