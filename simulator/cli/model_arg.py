"""The model argument every model-taking command shares: ``MODEL``, ``--input-shape``, ``--batch-size``.

``MODEL`` is a zoo name, ``package.module:factory`` (the current directory is on the import path) or
a ``.pjc`` file; ``models.resolve.resolve_model`` is the one resolver behind it (the API uses the same).
``--input-shape`` is batch first and its batch is honoured; ``--batch-size`` alone replaces the batch
of the model's known shape; both given and different is a usage error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["model_options", "shape_and_batch"]


def _shape_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    from models.resolve import parse_input_shape

    try:
        return parse_input_shape(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--input-shape`` and ``--batch-size`` to a command taking a model argument."""
    command = click.option(
        "--input-shape",
        callback=_shape_callback,
        help="Example input shape, batch first, e.g. 8,3,224,224 (needed for package.module:factory models).",
    )(command)
    command = click.option(
        "--batch-size", "-b", type=click.IntRange(min=1), default=None,
        help="Batch of the example input [default: 1, or the first dimension of --input-shape].",
    )(command)
    return command


def shape_and_batch(input_shape: tuple[int, ...] | None, batch_size: int | None, *models: str | None) -> dict[str, Any]:
    """Keyword arguments for ``trace_model``/``simulate`` for ``models``.

    Usage errors (exit 2): a batch that disagrees with the shape; a ``package.module:factory`` model
    without ``--input-shape`` (its shape cannot be known).
    """
    for model in models:
        if model is not None and ":" in model and not model.endswith(".pjc") and input_shape is None:
            raise click.UsageError(f"model '{model}' is not in the zoo: give its input shape with --input-shape "
                                   "(batch first, e.g. 1,3,224,224)")
    if input_shape is not None and batch_size is not None and batch_size != input_shape[0]:
        raise click.BadParameter(
            f"--batch-size {batch_size} disagrees with --input-shape {','.join(map(str, input_shape))} "
            "(its first dimension is the batch); give one of them",
            param_hint="--batch-size",
        )
    return {"input_shape": input_shape, "batch_size": batch_size}
