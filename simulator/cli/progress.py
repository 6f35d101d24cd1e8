"""Progress bars for CLI commands (rich), drawn on stderr only when it is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_steps"]


@contextmanager
def progress_steps(description: str, total: int | None = None) -> Iterator[Callable[[str], None]]:
    """A progress bar; yields ``step(message)`` which advances it by one and shows ``message``.

    With ``total=None`` the bar is indeterminate (a spinner with the elapsed time). Nothing is drawn
    when stderr is not a terminal (pipes, CI, tests), so output stays clean there.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(description, total=total)

        def step(message: str) -> None:
            bar.update(task, advance=1, description=f"{description}: {message}")

        yield step
