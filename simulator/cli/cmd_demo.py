"""``pjsim demo``: the main job on built-in defaults (LeNet-300-100 on horowitz45 -> reports/demo.html)."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.api import simulate
from simulator.cost import CostReport
from simulator.report import write_html
from simulator.units import format_energy_pj

__all__ = ["command", "run_demo"]


def run_demo(out: Path) -> CostReport:
    """Cost LeNet-300-100 on horowitz45, write the report to ``out`` and return the CostReport."""
    report = simulate("lenet_300_100", "horowitz45")
    write_html([report], out, title="pjsim demo: LeNet-300-100 on horowitz45")
    return report


@click.command("demo")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("reports/demo.html"),
              show_default=True, help="Where to write the HTML report.")
def command(out: Path) -> None:
    """Run the flagship job on built-in defaults and write an HTML report.

    \b
    Example:
      pjsim demo --out reports/demo.html
    """
    report = run_demo(out)
    click.echo(f"{report.model_name} on {report.profile_name}: {format_energy_pj(report.total_energy_pj)} per inference")
    click.echo(f"report written to {out.resolve()}")
