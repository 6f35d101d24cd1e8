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
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from simulator.sweep.errors import SweepStoreError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "ResultStore", "StoredResult"]

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
        if self.path is not None and self.path.exists() and self.path.stat().st_size > 0:
            _check_existing(self.path)
            fresh = False
        else:
            fresh = True
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
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
            raise SweepStoreError(f"{self.path or ':memory:'}: cannot open the results database ({exc})") from None

    def close(self) -> None:
        self._con.close()

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
        """Keys of every point already in the database."""
        return {r[0] for r in self._con.execute("SELECT point_key FROM results")}

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
        cursor = self._con.execute(
            "SELECT point_key, outputs, run_id, computed_at, compute_s, worker, writes FROM results"
        )
        for key, outputs, run_id, computed_at, compute_s, worker, writes in cursor:
            if key in wanted:
                out[key] = StoredResult(key, json.loads(outputs), run_id, computed_at, compute_s, worker, writes)
        return out

    def count(self) -> int:
        return int(self._con.execute("SELECT COUNT(*) FROM results").fetchone()[0])
