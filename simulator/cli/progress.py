"""Progress display for CLI commands (rich), drawn on stderr only when it is a terminal.

Every command that can take more than a second (trace, simulate, report, sweep, compress, export,
demo) shows one through these two helpers, so the look and the quiet-when-piped rule live here:
``progress_steps`` for a known or unknown number of steps, ``progress_counter`` for a job that
reports ``(done, total)`` itself (a sweep). Nothing is drawn when stderr is not a terminal (pipes,
CI, tests), so captured output stays clean.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["progress_counter", "progress_steps"]


@contextmanager
def _progress(description: str, total: int | None, unit: str = "") -> Iterator[tuple[Any, Any]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    if unit:
        columns.append(TextColumn(unit))
    columns += [TimeElapsedColumn(), TimeRemainingColumn()] if unit else [TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
        yield bar, bar.add_task(description, total=total)


@contextmanager
def progress_steps(description: str, total: int | None = None) -> Iterator[Callable[[str], None]]:
    """A progress bar; yields ``step(message)`` which advances it by one and shows ``message``.

    With ``total=None`` the bar is indeterminate (a spinner with the elapsed time).
    """
    with _progress(description, total) as (bar, task):

        def step(message: str) -> None:
            bar.update(task, advance=1, description=f"{description}: {message}")

        yield step


@contextmanager
def progress_counter(description: str, unit: str = "") -> Iterator[Callable[[int, int], None]]:
    """A progress bar for a job counting itself; yields ``update(done, total)``."""
    with _progress(description, None, unit) as (bar, task):

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
