"""``pjsim simulate MODEL --profile P``: map, simulate and price one inference; rich tables in the terminal.

``--json PATH`` writes the whole breakdown (energy by layer x component x operand, traffic per level,
busy cycles, fit verdict); ``--csv PATH`` writes the energy breakdown as tidy rows.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from simulator.api import ENGINES, simulate
from simulator.hardware import Precision
from simulator.cost import CostReport
from simulator.fileio import write_text_atomic
from simulator.units import format_bits, format_energy_pj

__all__ = ["command", "report_payload"]


def report_payload(report: CostReport) -> dict:
    """A JSON-ready dict of everything ``pjsim simulate`` shows."""
    return {
        "model": report.model_name,
        "profile": report.profile_name,
        "method": report.method,
        "total_energy_pj": report.total_energy_pj,
        "cold_start_energy_pj": report.cold_start_energy_pj,
        "cycles": report.cycles,
        "stall_cycles": report.stall_cycles,
        "latency_s": report.latency_s,
        "energy_delay_product_pj_s": report.energy_delay_product_pj_s,
        "fits_on_chip": report.fits_on_chip,
        "sram_capacity_bits": report.sram_capacity_bits,
        "min_sram_bits": report.min_sram_bits,
        "spilling_layers": list(report.spilling_layers),
        "compulsory_dram_bits": report.compulsory_dram_bits,
        "cold_start_dram_bits": report.cold_start_dram_bits,
        "sim_events": report.sim_events,
        "busy_cycles": dict(report.busy_cycles),
        "accesses_by_level": dict(report.accesses_by_level),
        "traffic_bits": [
            {"level": lv, "operand": o, "direction": d, "bits": b} for (lv, o, d), b in report.traffic_bits.items()
        ],
        "energy_pj": [
            {"layer": k[0], "component": k[1], "operand": k[2], "energy_pj": v} for k, v in report.energy_pj.items()
        ],
        "metadata": dict(report.metadata),
        "conventions": list(report.conventions),
    }


def _csv_text(report: CostReport) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["model", "profile", "layer", "component", "operand", "energy_pj"])
    for (layer, comp, operand), pj in report.energy_pj.items():
        writer.writerow([report.model_name, report.profile_name, layer, comp, operand, repr(pj)])
    return buf.getvalue()


def _print_tables(report: CostReport, console: Console, layers: bool) -> None:
    total = report.total_energy_pj or 1.0
    head = Table(title=f"{report.model_name} on {report.profile_name} ({report.method})", show_header=False)
    head.add_column("quantity")
    head.add_column("value", justify="right")
    fit = {True: "yes", False: "no", None: "n/a"}[report.fits_on_chip]
    rows = [
        ("energy / inference (steady state)", format_energy_pj(report.total_energy_pj)),
        ("first inference (cold, incl. weight load)", format_energy_pj(report.cold_energy_pj)),
        ("latency", f"{report.latency_s * 1e6:.4g} us ({report.cycles:,.0f} cycles, {report.stall_cycles:,.0f} stalled)"),
        ("energy-delay product", f"{report.energy_delay_product_pj_s * 1e-12:.4g} J*s"),
        ("MACs", f"{report.total_macs:,}"),
        ("weights dense -> stored", f"{format_bits(report.weight_dense_bits)} -> {format_bits(report.weight_stored_bits)}"),
        ("peak live activations", format_bits(report.peak_activation_bits)),
        ("fits on chip", fit),
    ]
    if report.min_sram_bits is not None and report.sram_capacity_bits is not None:
        margin = report.sram_capacity_bits - report.min_sram_bits
        rows += [
            ("on-chip buffer / needed", f"{format_bits(report.sram_capacity_bits)} / {format_bits(report.min_sram_bits)}"),
            ("margin", ("+" if margin >= 0 else "-") + format_bits(abs(margin))),
        ]
    if report.spilling_layers:
        rows.append(("spilling layers", ", ".join(x or "<top>" for x in report.spilling_layers)))
    if report.compulsory_dram_bits is not None:
        rows.append(("DRAM traffic steady / compulsory", f"{format_bits(report.level_bits(_dram_name(report)))} / {format_bits(report.compulsory_dram_bits)}"))
    if report.sim_events:
        rows.append(("SimPy events", f"{report.sim_events:,}"))
    rows += [(k, v) for k, v in report.metadata.items()]
    for k, v in rows:
        head.add_row(k, str(v))
    console.print(head)

    comp = Table(title="energy by component x operand")
    operands = sorted({k[2] for k in report.energy_pj})
    comp.add_column("component")
    for o in operands:
        comp.add_column(o, justify="right")
    comp.add_column("total", justify="right")
    comp.add_column("share", justify="right")
    by = report.energy_by("component", "operand")
    for (c,), pj in sorted(report.energy_by("component").items(), key=lambda kv: -kv[1]):
        comp.add_row(c, *[format_energy_pj(by.get((c, o), 0.0)) if by.get((c, o)) else "" for o in operands],
                     format_energy_pj(pj), f"{100 * pj / total:.1f}%")
    console.print(comp)

    if report.busy_cycles:
        res = Table(title="resources")
        for col in ("resource", "accesses", "busy cycles", "utilisation"):
            res.add_column(col, justify="right" if col != "resource" else "left")
        for name, busy in report.busy_cycles.items():
            acc = report.accesses_by_level.get(name)
            res.add_row(name, f"{acc:,.0f}" if acc is not None else "", f"{busy:,.0f}", f"{report.utilisation[name]:.1%}")
        console.print(res)

    if layers:
        lay = Table(title="energy by layer")
        for col in ("layer", "MACs", "energy", "share"):
            lay.add_column(col, justify="right" if col != "layer" else "left")
        for (layer,), pj in report.energy_by("layer").items():
            lay.add_row(layer or "<top>", f"{report.macs_by_layer.get(layer, 0):,}", format_energy_pj(pj), f"{100 * pj / total:.1f}%")
        console.print(lay)


def _dram_name(report: CostReport) -> str:
    names = {lv for lv, _, _ in report.traffic_bits}
    return "dram" if "dram" in names or not names else sorted(names)[-1]


@click.command("simulate")
@click.argument("model")
@click.option("--profile", "-p", default="horowitz45", show_default=True, help="Shipped profile name or .toml path.")
@click.option("--batch-size", "-b", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--engine", type=click.Choice(ENGINES), default="simpy", show_default=True,
              help="simpy: discrete-event memory model; closed-form: same phases by formula; baseline: no reuse.")
@click.option("--no-fuse", is_flag=True, help="Do not fuse elementwise ops into their producer.")
@click.option("--strict", is_flag=True, help="Fail on op kinds the mapper has no rule for.")
@click.option("--layers/--no-layers", default=True, show_default=True, help="Print the per-layer table.")
@click.option("--precision", default=None,
              help="Cost float tensors at this precision: 'int8', or 'w=int8,a=int8,acc=32' (default: the profile's).")
@click.option("--independent-layers", is_flag=True,
              help="Cost every layer on its own from DRAM (as ZigZag and SCALE-Sim do), not the whole network.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the breakdown as JSON.")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the energy breakdown as CSV.")
def command(model: str, profile: str, batch_size: int, engine: str, no_fuse: bool, strict: bool, layers: bool,
            precision: str | None, independent_layers: bool, json_out: Path | None, csv_out: Path | None) -> None:
    """Cost one inference of MODEL (zoo name or package.module:factory) on a profile.

    \b
    Examples:
      pjsim simulate lenet_300_100 --profile horowitz45
      pjsim simulate lenet5 --profile horowitz45 --engine closed-form --csv lenet5.csv
      pjsim simulate mypkg.nets:build --profile my_chip.toml --json out.json
      pjsim simulate resnet18 --profile npu-ethos-n77 --precision int8
    """
    if precision is not None:
        try:
            Precision.parse(precision)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--precision") from None
    report = simulate(model, profile, batch_size=batch_size, engine=engine, fuse_elementwise=not no_fuse,
                      strict=strict, timeline=False, precision=precision,
                      layers="independent" if independent_layers else "network")
    console = Console(width=max(100, Console().width))
    _print_tables(report, console, layers)
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(report_payload(report), indent=2))
        click.echo(f"breakdown written to {json_out}")
    if csv_out is not None:
        write_text_atomic(csv_out, _csv_text(report))
        click.echo(f"energy breakdown written to {csv_out}")
