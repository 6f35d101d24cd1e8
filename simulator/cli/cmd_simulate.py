"""``pjsim simulate MODEL --profile P``: cost one inference and print the breakdown."""

from __future__ import annotations

import json
from pathlib import Path

import click

from simulator.api import simulate
from simulator.fileio import write_text_atomic
from simulator.units import format_energy_pj

__all__ = ["command"]


@click.command("simulate")
@click.argument("model")
@click.option("--profile", "-p", default="horowitz45", show_default=True, help="Shipped profile name or .toml path.")
@click.option("--batch-size", "-b", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the breakdown as JSON.")
def command(model: str, profile: str, batch_size: int, json_out: Path | None) -> None:
    """Cost one inference of MODEL (zoo name or package.module:factory) on a profile.

    \b
    Examples:
      pjsim simulate lenet_300_100 --profile horowitz45
      pjsim simulate mypkg.nets:build --profile my_chip.toml --json out.json
    """
    report = simulate(model, profile, batch_size=batch_size)
    click.echo(f"{report.model_name} on {report.profile_name} ({report.method})")
    for (comp,), pj in sorted(report.energy_by("component").items(), key=lambda kv: -kv[1]):
        click.echo(f"  {comp:<10} {format_energy_pj(pj):>12}  {100 * pj / report.total_energy_pj:5.1f}%")
    click.echo(f"  {'total':<10} {format_energy_pj(report.total_energy_pj):>12}")
    if json_out is not None:
        payload = {
            "model": report.model_name,
            "profile": report.profile_name,
            "method": report.method,
            "total_energy_pj": report.total_energy_pj,
            "cycles": report.cycles,
            "energy_pj": [{"layer": k[0], "component": k[1], "operand": k[2], "energy_pj": v} for k, v in report.energy_pj.items()],
        }
        write_text_atomic(json_out, json.dumps(payload, indent=2))
        click.echo(f"breakdown written to {json_out}")
