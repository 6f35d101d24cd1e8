"""``pjsim export MODEL --format zigzag|timeloop -o DIR``: the traced conv/linear layers in a peer's format."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.model_arg import ModelArgs, model_options
from simulator.cli.outputs import mkdir_option

__all__ = ["command"]


@click.command("export")
@click.argument("model")
@click.option("--format", "fmt", type=click.Choice(["zigzag", "timeloop"]), required=True,
              help="zigzag: one workload YAML; timeloop: one problem YAML per conv/linear layer.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory to write into.")
@click.option("--precision", default=None, help="Operand bits as simulate's --precision ('int8', 'w=int8,a=int8,acc=32').")
@model_options
@mkdir_option
def command(model: str, fmt: str, out: Path, precision: str | None, model_args: ModelArgs, mkdir: bool) -> None:
    """Trace MODEL and write its conv and linear layers for ZigZag or Timeloop (cross-checks in a peer).

    \b
    Examples:
      pjsim export resnet18 --format zigzag -o peers/
      pjsim export resnet18 --format timeloop -o peers/resnet18-timeloop --precision int8
    """
    from simulator.api import trace_model
    from simulator.cli.progress import progress_steps
    from simulator.fileio import write_files_atomic
    from simulator.hardware import Precision
    from simulator.mapping.precision import at_precision
    from simulator.trace.peer_export import timeloop_problems, zigzag_workload

    chosen = None
    if precision is not None:
        try:
            chosen = Precision.parse(precision)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--precision") from None
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} exists and is not a directory", param_hint="--out")
    if not out.exists() and not mkdir and not out.parent.is_dir():
        raise click.BadParameter(f"the folder {out.parent} does not exist (pass --mkdir to create it)", param_hint="--out")
    with progress_steps(f"tracing {model}"):
        workload = at_precision(trace_model(model_args.resolve(model)), chosen)
    stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in workload.model_name.split(" ")[0])
    if fmt == "zigzag":
        files = {out / f"{stem}.yaml": zigzag_workload(workload, chosen.accumulator_bits if chosen else None)}
    else:
        files = {out / name: text for name, text in timeloop_problems(workload).items()}
    if not files or (fmt == "timeloop" and not files):
        raise click.ClickException(f"{workload.model_name} has no conv or linear layer to export")
    write_files_atomic({p: t.encode("utf-8") for p, t in files.items()}, make_parents=True)
    click.echo(f"wrote {len(files)} file(s) to {out} ({fmt})" + (f": {next(iter(files))}" if len(files) == 1 else ""))
