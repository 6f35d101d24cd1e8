"""``pjsim models list``: the model zoo (and the shipped checkpoints, when this install has them).

The list is read from the ``@register_model(name, input_shape, description)`` decorators in the
zoo's source files (``zoo_catalogue``) without importing torch: ``models list`` starts in a fraction
of a second instead of ~2 s. The decorators stay the one home of a zoo entry; a decorator whose
arguments are not literals makes the command fall back to importing the registry, and a test checks
the catalogue equals ``models.MODELS``.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import click

__all__ = ["command", "zoo_catalogue"]


def _models_dir() -> Path | None:
    """The ``models`` package directory, found without running its ``__init__`` (which imports torch)."""
    spec = importlib.util.find_spec("models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def zoo_catalogue() -> dict[str, tuple[tuple[int, ...], str]] | None:
    """``{name: (input_shape, description)}`` from the zoo's ``@register_model`` decorators, or None
    when a decorator is not written with literal arguments (then the registry must be imported)."""
    directory = _models_dir()
    if directory is None:
        return None
    entries: dict[str, tuple[tuple[int, ...], str]] = {}
    for path in sorted(directory.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "register_model":
                    try:
                        name, shape, description = (ast.literal_eval(a) for a in deco.args)
                    except (ValueError, TypeError):
                        return None
                    entries[name] = (tuple(shape), description)
    return entries


def _checkpoints() -> list[str]:
    directory = _models_dir()
    if directory is None:
        return []
    return sorted(p.stem for p in (directory / "checkpoints").glob("*.json"))  # models.pretrained.available_checkpoints


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
    catalogue = zoo_catalogue()
    if catalogue is None:
        import models

        catalogue = {name: (spec.input_shape, spec.description) for name, spec in models.MODELS.items()}
    for name, (shape, description) in sorted(catalogue.items()):
        click.echo(f"{name:<22} input {'x'.join(map(str, shape)):<12} {description}")
    names = _checkpoints()
    if names:
        click.echo("checkpoints (use as checkpoint:NAME in pjsim report):")
        for name in names:
            click.echo(f"  {name}")
