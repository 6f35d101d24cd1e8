"""``pjsim profiles list|show``: the shipped hardware profiles and their resolved, cited constants.

``show`` prints the resolved profile (after ``extends``) as rich tables: the compute array, every listed
energy, the energies the declared rules derive for common widths (marked as derived, with the rule and
row they came from), the memory levels, and every source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # rich and the profile loader (numpy) load when a command runs, not for --help
    from rich.console import Console
    from rich.table import Table

    from simulator.hardware import HardwareProfile

__all__ = ["command"]

#: Widths ``show`` tries to derive for when the profile does not list them: (kind, bits).
_SHOWN_WIDTHS = tuple((kind, bits) for kind in ("int", "float") for bits in (8, 16, 32))
_SHOWN_OPERATIONS = ("add", "mult", "compare")


def _console() -> Console:
    from rich.console import Console

    # Created per call so that click's output capture (tests, pipes) sees it; wide enough for sources.
    return Console(width=160, soft_wrap=False, highlight=False)


@click.group("profiles")
def command() -> None:
    """List shipped hardware profiles or show one with its sources.

    \b
    Examples:
      pjsim profiles list
      pjsim profiles show horowitz45
      pjsim profiles show my_chip.toml
    """


@command.command("list")
def list_cmd() -> None:
    """List the shipped profiles."""
    from rich.table import Table

    from simulator.hardware import list_profiles, load_profile
    from simulator.units import format_bits

    table = Table(title="shipped hardware profiles (hw_profiles/)", show_lines=False)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("clock", justify="right", no_wrap=True)
    table.add_column("MACs/cycle", justify="right")
    table.add_column("on-chip SRAM", justify="right", no_wrap=True)
    table.add_column("description")
    for name in list_profiles():
        p = load_profile(name)
        table.add_row(
            name, f"{p.clock_hz / 1e6:g} MHz", str(p.compute.macs_per_cycle), format_bits(p.on_chip_sram_bits), p.description
        )
    _console().print(table)


@command.command("show")
@click.argument("name")
def show_cmd(name: str) -> None:
    """Show profile NAME (shipped name or .toml path): every constant with its source."""
    from simulator.hardware import load_profile

    p = load_profile(name)
    console = _console()
    console.print(f"[bold]{p.name}[/bold]: {p.description}")
    console.print(f"file: {p.path}")
    console.print(_compute_table(p))
    console.print(_energy_table(p))
    console.print(_memory_table(p))
    console.print(_sources_table(p))


def _compute_table(p: HardwareProfile) -> Table:
    from rich.table import Table

    t = Table(title="clock and compute array")
    for col in ("key", "value", "source"):
        t.add_column(col, overflow="fold")
    t.add_row("clock.frequency", f"{p.clock_hz / 1e6:g} MHz", p.sources.get("clock.frequency", ""))
    t.add_row("compute.macs_per_cycle", str(p.compute.macs_per_cycle), p.sources.get("compute.macs_per_cycle", ""))
    t.add_row(
        "compute.accumulator_bits", f"{p.compute.accumulator_bits} bit", p.sources.get("compute.accumulator_bits", "")
    )
    t.add_row("compute.zero_handling", p.zero_handling, "")
    return t


def _energy_table(p: HardwareProfile) -> Table:
    from rich.table import Table

    t = Table(title="energy per operation (listed rows, then what the declared rules derive)")
    for col in ("operation", "energy", "how", "source"):
        t.add_column(col, overflow="fold")
    listed = set(p.compute.op_energy_pj)
    for key, pj in p.compute.op_energy_pj.items():
        t.add_row(key, f"{pj:.4g} pJ", "listed", p.sources.get(f"energy.{key}", ""))
    from simulator.errors import ProfileError
    from simulator.workload import DataType

    for dtype in (DataType(kind, bits) for kind, bits in _SHOWN_WIDTHS):
        for op in _SHOWN_OPERATIONS:
            if f"{dtype.name}.{op}" in listed:
                continue
            try:
                value = p.op_energy(op, dtype)
            except ProfileError:
                continue  # neither listed nor derivable: a lookup would be an error
            t.add_row(f"{dtype.name}.{op}", f"{value.energy_pj:.4g} pJ", "derived", value.source)
    return t


def _memory_table(p: HardwareProfile) -> Table:
    from rich.table import Table

    from simulator.units import format_bits

    t = Table(title="memory levels, innermost first (energies per access of `word` bits)")
    for col in ("level", "kind", "capacity", "banks", "word", "read", "write", "bandwidth", "latency", "leakage"):
        t.add_column(col, justify="right" if col not in ("level", "kind") else "left", no_wrap=True)
    for lvl in p.levels:
        t.add_row(
            lvl.name,
            lvl.kind,
            format_bits(lvl.capacity_bits),
            str(lvl.banks),
            f"{lvl.word_bits} bit",
            f"{lvl.read_energy_pj:.4g} pJ",
            f"{lvl.write_energy_pj:.4g} pJ",
            f"{lvl.bandwidth_bits_per_cycle:.4g} bit/cycle",
            f"{lvl.latency_cycles:.4g} cycle",
            f"{lvl.leakage_mw:.4g} mW",
        )
    return t


def _sources_table(p: HardwareProfile) -> Table:
    from rich.table import Table

    t = Table(title="sources (every numeric key of the resolved profile)")
    t.add_column("key", no_wrap=True)
    t.add_column("source", overflow="fold")
    for key, source in p.sources.items():
        t.add_row(key, source)
    return t
