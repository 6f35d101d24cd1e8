"""``pjsim models list``: the model zoo (and the shipped checkpoints, when this install has them)."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.group("models")
def command() -> None:
    """The model zoo and the shipped checkpoints.

    \b
    Example:
      pjsim models list
    """


@command.command("list")
def list_cmd() -> None:
    """List zoo models with their input shape, then the shipped checkpoints."""
    import models

    for name, spec in sorted(models.MODELS.items()):
        click.echo(f"{name:<22} input {'x'.join(map(str, spec.input_shape)):<12} {spec.description}")
    try:
        from models.pretrained import available_checkpoints
    except ImportError:  # an install without shipped checkpoints
        return
    names = available_checkpoints()
    if names:
        click.echo("checkpoints (use as checkpoint:NAME in pjsim report):")
        for name in names:
            click.echo(f"  {name}")
