"""``pjsim demo``: the flagship report (LeNet-300-100 dense vs Deep-Compressed on two chips, AlexNet, VGG-16)."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.outputs import check_outputs, mkdir_option

__all__ = ["command"]


@click.command("demo")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("reports/demo.html"),
              show_default=True, help="Where to write the HTML report (tables go beside it as CSV/JSON).")
@mkdir_option
def command(out: Path, mkdir: bool) -> None:
    """Build the flagship report: Deep Compression from LeNet-300-100 to VGG-16, on chip or off.

    Needs no data set and no training: it uses the shipped checkpoints and the papers' recipes;
    whatever this install lacks is named in the report instead of being made up.

    \b
    Example:
      pjsim demo --out reports/demo.html
    """
    from simulator.cli.progress import progress_steps
    from simulator.report.export import export_paths

    outputs = {"--out": out} | {f"--out ({p.name})": p for p in export_paths(out)}
    check_outputs(outputs, mkdir=mkdir or out == Path("reports/demo.html"))
    from simulator.demo import run_demo

    with progress_steps("demo") as step:
        result = run_demo(out, progress=step)
    for c in result.configurations:
        head = c.cost.headline()
        click.echo(f"{c.label}: {head.row('energy').text} per inference (first: {head.row('cold_energy').text}), "
                   f"fits on chip: {head.row('fits').text}")  # fmt: skip
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"report written to {out.resolve()}")
