"""The model argument every model-taking command shares: ``MODEL`` and its input options.

``MODEL`` is a zoo name, ``package.module:factory`` (the current directory is on the import path),
a ``.pjc`` file, a ``.pt`` state dict with its architecture (``FILE.pt@ARCH`` or ``--arch``) or an
``.onnx`` file; ``models.resolve.resolve_model`` is the one resolver behind it (the API uses the same).

Inputs: ``--input-shape`` is batch first and its batch is honoured; ``--input NAME:DTYPE[DIMS]``
(repeatable, one per forward argument; ``models.input_spec``) gives typed inputs such as token ids;
``--batch-size`` alone replaces the batch of the model's known shape (or of every ``--input``);
contradictions are usage errors naming both options.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

__all__ = ["ModelArgs", "model_options"]


@dataclass(frozen=True, slots=True)
class ModelArgs:
    """The input options of one command line, applied to each MODEL it names."""

    input_shape: tuple[int, ...] | None = None
    batch_size: int | None = None
    inputs: tuple[str, ...] = ()
    arch: str | None = None
    allow_pickle: bool = False

    def check(self, *models: str | None) -> None:
        """Usage errors (exit 2) before any work: contradicting options, a shape-less import path."""
        if self.inputs and self.input_shape is not None:
            raise click.UsageError("give the input as --input-shape or as --input specs, not both")
        if self.input_shape is not None and self.batch_size is not None and self.batch_size != self.input_shape[0]:
            raise click.BadParameter(
                f"--batch-size {self.batch_size} disagrees with --input-shape {','.join(map(str, self.input_shape))} "
                "(its first dimension is the batch); give one of them",
                param_hint="--batch-size",
            )
        from models.resolve import ONNX_SUFFIX, PJC_SUFFIX, PT_SUFFIXES

        files = (PJC_SUFFIX, ONNX_SUFFIX, *PT_SUFFIXES)
        for model in models:
            if (model is not None and ":" in model and not model.partition("@")[0].endswith(files)
                    and self.input_shape is None and not self.inputs):
                raise click.UsageError(f"model '{model}' is not in the zoo: give its input with --input-shape "
                                       "(batch first, e.g. 1,3,224,224) or --input 'x:float32[1,3,224,224]'")

    def resolve(self, model: str) -> Any:
        """The ``models.resolve.ResolvedModel`` of ``model`` under these options."""
        from models.resolve import resolve_model

        self.check(model)
        return resolve_model(model, self.input_shape, self.batch_size, inputs=self.inputs or None,
                             arch=self.arch, allow_pickle=self.allow_pickle)


def _shape_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    from models.resolve import parse_input_shape

    try:
        return parse_input_shape(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _inputs_callback(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    from models.input_spec import parse_input_spec

    for i, text in enumerate(value):
        try:
            parse_input_spec(text, i)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return tuple(value)


def model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the input options to a command; it receives them as one ``model_args: ModelArgs``."""

    @functools.wraps(command)
    def wrapper(*args: Any, input_shape=None, batch_size=None, inputs=(), arch=None, allow_pickle=False, **kwargs: Any):
        return command(*args, model_args=ModelArgs(input_shape, batch_size, tuple(inputs), arch, allow_pickle), **kwargs)

    wrapped: Callable[..., Any] = wrapper
    for decorate in (
        click.option("--allow-pickle", is_flag=True,
                     help="Load a .pt holding a pickled module. Unpickling runs code from the file: trusted files only."),
        click.option("--arch", default=None,
                     help="Architecture of a .pt state dict (zoo name or package.module:factory); or write FILE.pt@ARCH."),
        click.option("--input", "inputs", multiple=True, callback=_inputs_callback, metavar="NAME:DTYPE[DIMS]",
                     help="A typed example input, batch first, e.g. 'x:float32[8,3,224,224]' or 'ids:int64[1,128]' "
                          "(ids drawn seeded in [0, vocab); ':LOW..HIGH' sets the range); repeat for several inputs."),
        click.option("--input-shape", callback=_shape_callback,
                     help="Example input shape, batch first, e.g. 8,3,224,224 (needed for package.module:factory models)."),
        click.option("--batch-size", "-b", type=click.IntRange(min=1), default=None,
                     help="Batch of the example input [default: 1, or the first dimension of --input-shape/--input]."),
    ):
        wrapped = decorate(wrapped)
    return wrapped
