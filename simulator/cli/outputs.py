"""Output checks shared by the commands: every output location is checked before the work starts.

A command names its outputs once, calls ``check_outputs`` before tracing or simulating, and writes
them with ``simulator.fileio`` (atomically; several files all-or-nothing). A missing folder is
created only for a default location (e.g. ``reports/``) or under the command's ``--mkdir`` flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click

from simulator.fileio import check_output_path

__all__ = ["MKDIR_HELP", "check_outputs", "mkdir_option"]

MKDIR_HELP = "Create missing output folders (default locations such as reports/ are always created)."


def mkdir_option(command: click.Command) -> click.Command:
    """The ``--mkdir`` flag, for commands that write files."""
    return click.option("--mkdir", "mkdir", is_flag=True, help=MKDIR_HELP)(command)


def check_outputs(outputs: Mapping[str, Path | None], *, mkdir: bool, defaults: Mapping[str, bool] | None = None) -> None:
    """Check each ``option name -> path`` (None = not requested) can be written; raise before any work.

    Args:
        outputs: the command's outputs by the option that names them (``"--json"``).
        mkdir: the user passed ``--mkdir``.
        defaults: option name -> whether the path is the option's default (its folder may be created).

    Raises:
        simulator.fileio.OutputFileError: naming the option and the path.
    """
    defaults = defaults or {}
    for what, path in outputs.items():
        if path is not None:
            check_output_path(path, what, make_parents=mkdir or defaults.get(what, False))
