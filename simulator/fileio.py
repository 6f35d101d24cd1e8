"""Bounded reading and safe, atomic writing: the one place pjsim touches files given on the command line.

Reading. Every input file (profiles and what they ``extends``, report JSON, sweep specs, ``.pjc``) is
read with ``read_regular_file_bytes`` / ``read_bounded_text``: the path must name a regular file (a
device such as ``/dev/zero``, a FIFO, a socket or a directory is refused at once, without blocking),
no larger than a documented limit (checked on the open descriptor, and again while reading, so a
file that grows meanwhile cannot exceed it). Text must be UTF-8. Parsed documents are checked for
nesting depth with ``check_nesting`` (a parser's ``RecursionError`` is turned into the same error).
Failures raise ``InputFileError`` naming the file, what was expected and what was found; callers
re-raise it as their own error type (``ProfileError``, ``ReportError``, ``SweepSpecError``).

Writing. ``write_bytes_atomic`` writes a temporary file beside the target, fsyncs it and renames it
over the target, so a reader sees the old file or the complete new one. Only regular files are
written: an existing device, FIFO or socket at the path is refused (and left alone; ``os.replace``
would otherwise destroy it). A symlink is written *through*: the link stays and its target is
replaced atomically. ``write_files_atomic`` writes several files all-or-nothing (a report and its
exports): every temporary file is written first, then all are renamed; if anything fails, every
target keeps its old content. ``check_output_path`` runs the same checks before any work starts, so
an unwritable output is reported before a long simulation rather than after it.

CSV. ``csv_safe_cell`` neutralises spreadsheet formulas (OWASP "CSV injection"): a text cell that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``. Every CSV
pjsim writes goes through ``csv_safe_cell`` (``csv_safe_frame`` for pandas tables).
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from simulator.errors import PjsimError

__all__ = [
    "CSV_FORMULA_PREFIXES",
    "MAX_NESTING_DEPTH",
    "InputFileError",
    "OutputFileError",
    "check_nesting",
    "check_output_path",
    "csv_safe_cell",
    "csv_safe_frame",
    "load_json_bounded",
    "read_bounded_text",
    "read_regular_file_bytes",
    "write_bytes_atomic",
    "write_files_atomic",
    "write_text_atomic",
]

#: Deepest nesting of tables/arrays/objects accepted in a parsed input document.
MAX_NESTING_DEPTH = 64
#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP CSV injection).
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class InputFileError(PjsimError):
    """An input file cannot be read safely: names the file, what was expected and what was found."""

    def __init__(self, path: str | Path, what: str, expected: str, found: str) -> None:
        self.path, self.what, self.expected, self.found = str(path), what, expected, found
        super().__init__(f"{path}: {what}: expected {expected}, found {found}")


class OutputFileError(PjsimError):
    """An output cannot be written safely (not a regular file, unwritable, missing folder); nothing was changed."""


# ---------------------------------------------------------------------------------------------------------
# Reading


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISREG, "a regular file"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file_bytes(path: str | Path, limit_bytes: int, what: str) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit_bytes`` bytes.

    The file is opened non-blocking (a FIFO cannot hang the open) and checked on the descriptor,
    so the checked file is the file read. At most ``limit_bytes + 1`` bytes are ever read.

    Raises:
        InputFileError: missing, unreadable, not a regular file, or larger than ``limit_bytes``.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputFileError(path, what, "an existing file", "no such file") from None
    except IsADirectoryError:
        raise InputFileError(path, what, "a regular file", "a directory") from None
    except OSError as exc:
        raise InputFileError(path, what, "a readable regular file", f"{type(exc).__name__}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(path, what, "a regular file", _kind(info.st_mode))
        if info.st_size > limit_bytes:
            raise InputFileError(path, what, f"at most {limit_bytes:,} bytes", f"{info.st_size:,} bytes")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit_bytes:
                raise InputFileError(path, what, f"at most {limit_bytes:,} bytes", "a file still growing past the limit")
    except OSError as exc:
        raise InputFileError(path, what, "a readable regular file", f"{type(exc).__name__}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_bounded_text(path: str | Path, limit_bytes: int, what: str) -> str:
    """``read_regular_file_bytes`` decoded as UTF-8 (a binary file is an ``InputFileError``, not a bare ``UnicodeDecodeError``)."""
    data = read_regular_file_bytes(path, limit_bytes, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, what, "UTF-8 text", f"binary data (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from None


def check_nesting(doc: Any, path: str | Path, what: str, max_depth: int = MAX_NESTING_DEPTH) -> Any:
    """Return ``doc`` if its dicts/lists nest at most ``max_depth`` deep (checked without recursion)."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            raise InputFileError(path, what, f"tables/lists nested at most {max_depth} deep", f"deeper nesting ({depth}+)")
        stack.extend((child, depth + 1) for child in children)
    return doc


def load_json_bounded(path: str | Path, limit_bytes: int, what: str, max_depth: int = MAX_NESTING_DEPTH) -> Any:
    """Read and parse a JSON file with a size limit and a nesting limit."""
    text = read_bounded_text(path, limit_bytes, what)
    try:
        doc = json.loads(text)
    except RecursionError:
        raise InputFileError(path, what, f"JSON nested at most {max_depth} deep", "deeper nesting") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(path, what, "valid JSON", str(exc)) from None
    return check_nesting(doc, path, what, max_depth)


# ---------------------------------------------------------------------------------------------------------
# Writing


def _resolve_target(path: Path) -> Path:
    """The file a write to ``path`` must replace: symlinks followed (the link itself is kept)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_output_path(path: str | Path, what: str = "output", *, make_parents: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written as a regular file; return the real target.

    Args:
        path: the output file.
        what: how the error names it (e.g. ``"--json"``).
        make_parents: a missing parent folder will be created (only for default locations or under
            an explicit flag); otherwise a missing folder is an error.

    Raises:
        OutputFileError: the path is (or links to) a device, FIFO, socket or directory; its folder
            is missing (without ``make_parents``), not a folder, or not writable.
    """
    path = Path(path)
    target = _resolve_target(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputFileError(f"{path}: {what}: cannot inspect it ({exc.strerror or exc})") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputFileError(
            f"{path}: {what}: pjsim writes only regular files, and this is {_kind(info.st_mode)}; it was left untouched"
        )
    parent = target.parent
    existing = parent
    while not existing.exists():
        if not make_parents:
            raise OutputFileError(
                f"{path}: {what}: the folder {parent} does not exist (create it first, or pass the command's --mkdir flag)"
            )
        existing = existing.parent
    if not existing.is_dir():
        raise OutputFileError(f"{path}: {what}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputFileError(f"{path}: {what}: the folder {existing} is not writable")
    return target


def _write_temp(target: Path, data: bytes) -> str:
    """A fsynced temporary file beside ``target`` holding ``data`` (mode from the umask); returns its name."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode) if target.exists() else 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_files_atomic(files: Mapping[str | Path, bytes], *, make_parents: bool = True) -> list[Path]:
    """Write every ``path -> data`` of ``files`` or none of them; returns the paths as given.

    Every target is checked (regular file or absent), every temporary file is written and synced,
    then all are renamed into place. If a write or a rename fails, the targets already replaced get
    their old content back (kept as hard links until the end) and new ones are removed.

    Raises:
        OutputFileError: a target is not a regular file or its folder cannot be written (nothing changed).
            Any other ``OSError`` while writing (disk full, a folder that refuses files) becomes an
            ``OutputFileError`` naming the file, after the rollback.
    """
    paths = [Path(p) for p in files]
    targets = [check_output_path(p, "output", make_parents=make_parents) for p in paths]
    for target in targets:
        if make_parents:
            target.parent.mkdir(parents=True, exist_ok=True)
    temps: list[str] = []
    backups: list[tuple[Path, str | None]] = []  # (target, hard link to its old content or None if new)
    current = ""
    try:
        for path, target, data in zip(paths, targets, files.values()):
            current = str(path) if target == path else f"{path} (-> {target})"
            temps.append(_write_temp(target, data))
        for path, target, tmp in zip(paths, targets, temps):
            current = str(path) if target == path else f"{path} (-> {target})"
            backup = None
            if target.exists():
                backup = str(target.parent / f".{target.name}.{secrets.token_hex(8)}.old")
                os.link(target, backup)  # fails rather than overwrite if the name exists
            backups.append((target, backup))
            os.replace(tmp, target)
    except BaseException:
        for target, backup in reversed(backups):
            try:
                if backup is not None:
                    os.replace(backup, target)
                    Path(backup).unlink(missing_ok=True)  # rename is a no-op when both are links to one file
                else:
                    target.unlink(missing_ok=True)
            except OSError:
                pass
        for tmp in temps:
            Path(tmp).unlink(missing_ok=True)
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and not isinstance(exc, OutputFileError):
            others = " (no file of the set was changed)" if len(paths) > 1 else ""
            raise OutputFileError(f"{current}: cannot write it ({exc.strerror or exc}){others}") from None
        raise
    for _, backup in backups:
        if backup is not None:
            Path(backup).unlink(missing_ok=True)
    return paths


def write_bytes_atomic(path: str | Path, data: bytes, *, make_parents: bool = True) -> Path:
    """Replace the regular file ``path`` (or its symlink's target) with ``data`` atomically; return ``path``.

    Raises:
        OutputFileError: ``path`` is a device, FIFO, socket or directory (it is left untouched), or
            its folder is missing (without ``make_parents``) or not writable.
    """
    return write_files_atomic({path: data}, make_parents=make_parents)[0]


def write_text_atomic(path: str | Path, text: str, *, make_parents: bool = True) -> Path:
    """``write_bytes_atomic`` for UTF-8 text."""
    return write_bytes_atomic(path, text.encode("utf-8"), make_parents=make_parents)


# ---------------------------------------------------------------------------------------------------------
# CSV


def csv_safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula (OWASP rule); else unchanged.

    Numbers are left alone (``-1.5`` stays a number); only strings starting with ``= + - @``, tab or
    carriage return are changed.
    """
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe_frame(frame: Any) -> Any:
    """A copy of the pandas ``frame`` with ``csv_safe_cell`` applied to every text cell and column name."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype.kind not in "biufcmM":  # text, object, category: anything that may hold a string
            out[column] = out[column].astype(object).map(csv_safe_cell)
    out.columns = [csv_safe_cell(c) for c in out.columns]
    return out
