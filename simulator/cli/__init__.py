"""The ``pjsim`` command line: one module per command, assembled in ``main``."""

from simulator.cli.main import cli, main

__all__ = ["cli", "main"]
