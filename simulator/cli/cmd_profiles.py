"""``pjsim profiles list|show``: the shipped hardware profiles and their resolved, cited constants."""

from __future__ import annotations

import click

from simulator.api import resolve_profile
from simulator.hardware import list_profiles

__all__ = ["command"]


@click.group("profiles")
def command() -> None:
    """List shipped hardware profiles or show one with its sources.

    \b
    Examples:
      pjsim profiles list
      pjsim profiles show horowitz45
    """


@command.command("list")
def list_cmd() -> None:
    """List the shipped profiles."""
    for name in list_profiles():
        click.echo(f"{name:<20} {resolve_profile(name).description}")


@command.command("show")
@click.argument("name")
def show_cmd(name: str) -> None:
    """Show profile NAME (shipped name or .toml path): every constant with its source."""
    p = resolve_profile(name)
    click.echo(f"{p.name}: {p.description}")
    click.echo(f"  clock {p.clock_hz / 1e6:g} MHz, {p.compute.macs_per_cycle} MACs/cycle, zeros: {p.zero_handling}")
    for key, pj in p.compute.op_energy_pj.items():
        click.echo(f"  energy.{key:<22} {pj:>10g} pJ   [{p.sources.get('energy.' + key, '')}]")
    for lvl in p.levels:
        click.echo(
            f"  {lvl.name:<8} {lvl.kind:<14} {lvl.capacity_bits / 8e3:>12g} KB  word {lvl.word_bits} bit  "
            f"read {lvl.read_energy_pj:g} pJ  write {lvl.write_energy_pj:g} pJ"
        )
    click.echo("sources:")
    for key, source in p.sources.items():
        click.echo(f"  {key}: {source}")
