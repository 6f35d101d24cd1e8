"""``pjsim models list``: the model zoo."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.group("models")
def command() -> None:
    """The model zoo.

    \b
    Example:
      pjsim models list
    """


@command.command("list")
def list_cmd() -> None:
    """List zoo models with their input shape."""
    from models import MODELS

    for name, spec in sorted(MODELS.items()):
        click.echo(f"{name:<16} input {'x'.join(map(str, spec.input_shape)):<12} {spec.description}")
