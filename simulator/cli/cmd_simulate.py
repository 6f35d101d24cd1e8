"""``pjsim simulate MODEL --profile P``: map, simulate and price one inference; rich tables in the terminal.

``--json PATH`` writes the headline numbers, the footprint and the tidy rows of ``CostReport.to_frame()``
(energy, bits and accesses by layer x component x operand); ``--csv PATH`` writes those rows.
"""

from __future__ import annotations

import json
from pathlib import Path

from typing import TYPE_CHECKING

import click

from simulator.cli.model_arg import ModelArgs, model_options
from simulator.cli.outputs import check_outputs, mkdir_option
from simulator.engines import ENGINES, FIDELITIES, OBJECTIVES

if TYPE_CHECKING:  # the cost model and rich load when a command runs, not for --help
    from rich.console import Console

    from simulator.cost import CostReport

__all__ = ["command", "report_payload"]


def report_payload(report: CostReport) -> dict:
    """A JSON-ready dict of everything ``pjsim simulate`` shows: the headline numbers, then the tidy rows.

    ``energy_pj`` holds ``CostReport.to_frame()`` as records (layer, component, operand, energy_pj,
    bits, accesses), the same rows as ``--csv``.
    """
    from simulator.jsonio import to_jsonable

    frame = report.to_frame()
    return {
        "model": report.model_name,
        "profile": report.profile_name,
        **report.headline().numbers(),
        "footprint": to_jsonable(report.footprint),
        "coverage": {label: text for label, text in report.coverage.lines()},
        "accuracy": None if report.accuracy is None else {"fraction": report.accuracy.fraction, "source": report.accuracy.source},
        "compulsory_dram_bits": report.compulsory_dram_bits,
        "cold_start_dram_bits": report.cold_start_dram_bits,
        "sim_events": report.sim_events,
        "busy_cycles": dict(report.busy_cycles),
        "memory_timing": to_jsonable(report.memory_timing),
        "energy_pj": frame.drop(columns=["model", "profile", "method"]).to_dict(orient="records"),
        "metadata": dict(report.metadata),
        "conventions": list(report.conventions),
    }


def _csv_text(report: CostReport) -> str:
    from simulator.fileio import csv_safe_frame

    return csv_safe_frame(report.to_frame()).to_csv(index=False)


def _print_tables(report: CostReport, console: Console, layers: bool) -> None:
    from rich.table import Table

    from simulator.units import format_bits, format_energy_pj

    total = report.total_energy_pj or 1.0
    head = report.headline()
    table = Table(title=head.title, show_header=False)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_column("detail")
    for row in head.rows:
        table.add_row(row.label, row.text, row.detail)
    if report.compulsory_dram_bits is not None:
        table.add_row("DRAM traffic steady / compulsory",
                      f"{format_bits(report.level_bits(_dram_name(report)))} / {format_bits(report.compulsory_dram_bits)}", "")  # fmt: skip
    if report.sim_events:
        table.add_row("SimPy events", f"{report.sim_events:,}", "")
    mt = report.memory_timing
    if mt is not None and any(mt.stall_cycles_by_cause.values()):
        stalls = ", ".join(f"{k} {v:,.0f}" for k, v in mt.stall_cycles_by_cause.items() if v)
        table.add_row("stall cycles by cause", stalls, "summed over cores" if mt.requestors > 1 else "")
    for k, v in report.metadata.items():
        table.add_row(k, str(v), "")
    console.print(table)

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
        accesses = report.accesses_by_level
        for name, busy in report.busy_cycles.items():
            acc = accesses.get(name)
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


def parse_activation_density(text: str) -> dict[str, float]:
    """``--activation-density``: ``"0.35"`` -> ``{"*": 0.35}`` (every layer with MACs), ``"fc6=0.35,fc7=0.3"``
    -> per layer. Raises ``click.BadParameter`` naming the part that is not a density in (0, 1]."""
    out: dict[str, float] = {}
    parts = [p.strip() for p in text.split(",") if p.strip()]
    for part in parts or [text]:
        layer, _, value = part.rpartition("=") if "=" in part else ("*", "", part)
        try:
            density = float(value)
        except ValueError:
            density = float("nan")
        if not layer.strip() or not 0.0 < density <= 1.0:
            raise click.BadParameter(f"{part!r}: expected a density in (0, 1], as '0.35' or 'fc6=0.35,fc7=0.35'",
                                     param_hint="--activation-density")
        out[layer.strip()] = density
    return out


def _whatif(prune: float | None, share_bits: int | None, index_bits: int | None, huffman: bool) -> object | None:
    """The ``WhatIf`` of the compression flags (None when none is given); bad settings are usage errors."""
    if prune is None and share_bits is None and index_bits is None and not huffman:
        return None
    from simulator.compress.base import CompressError
    from simulator.compress.whatif import WhatIf

    try:
        return WhatIf(prune=prune, share_bits=share_bits, index_bits=index_bits, huffman=huffman)
    except CompressError as exc:
        key = str(exc).split(":", 1)[0].replace("_", "-")
        raise click.BadParameter(str(exc), param_hint=f"--{key}" if key in ("prune", "share-bits", "index-bits", "huffman") else None) from None


def simulate(model: str, profile: str, model_args: ModelArgs, **kwargs) -> CostReport:
    """``simulator.api.simulate`` of MODEL resolved under the input options; imported when the command
    runs (``pjsim --help`` stays light)."""
    from simulator.api import simulate as api_simulate

    return api_simulate(model_args.resolve(model), profile, **kwargs)


def _mapping_arg(value: str | None) -> str | Path | None:
    """``--mapping``: a dataflow preset name (kept as the name), ``zigzag:FILE.yaml`` (kept) or an existing TOML
    file (a Path)."""
    if value is None:
        return None
    from simulator.mapping.fixed_templates import preset_name

    if preset_name(value) is not None:
        return preset_name(value)
    if value.startswith("zigzag:") and Path(value.removeprefix("zigzag:")).is_file():
        return value  # a ZigZag mapping yaml, replayed (simulator.mapping.zigzag_replay)
    path = Path(value)
    if not path.is_file():
        raise click.BadParameter(f"{value!r} is neither a dataflow preset (os, ws, is, rs) nor an existing mapping "
                                 "TOML file (nor zigzag:FILE.yaml with an existing FILE)", param_hint="--mapping")
    return path


@click.command("simulate")
@click.argument("model")
@click.option("--profile", "-p", default="horowitz45", show_default=True, help="Shipped profile name or .toml path.")
@model_options
@click.option("--engine", type=click.Choice(ENGINES), default="simpy", show_default=True,
              help="simpy: discrete-event memory model; closed-form: same phases by formula; baseline: no reuse.")
@click.option("--no-fuse", is_flag=True, help="Do not fuse elementwise ops into their producer.")
@click.option("--strict", is_flag=True, help="Fail on op kinds the mapper has no rule for.")
@click.option("--layers/--no-layers", default=True, show_default=True, help="Print the per-layer table.")
@click.option("--precision", default=None,
              help="Cost float tensors at this precision: 'int8', or 'w=int8,a=int8,acc=32' (default: the profile's).")
@click.option("--objective", type=click.Choice(OBJECTIVES), default="energy", show_default=True,
              help="What the mapper's tile search minimises: energy, latency or energy-delay product (edp).")
@click.option("--independent-layers", is_flag=True,
              help="Cost every layer on its own from DRAM (as ZigZag and SCALE-Sim do), not the whole network.")
@click.option("--dram", default=None,
              help="DRAM device behind the profile's DRAM level: 'flat' (per-bit energy) or a preset "
                   "(lpddr4-3200, ddr4-3200-x64, hbm2); default: the profile's [memory.<dram>] device.")
@click.option("--cores", type=click.IntRange(min=1), default=None,
              help="Cores sharing the DRAM (batch split, one inference each; simpy engine); default: the profile's.")
@click.option("--fidelity", type=click.Choice(FIDELITIES), default="window", show_default=True,
              help="window: a bounded window of steady-state steps per op; full: every step (verification).")
@click.option("--mapping", "mapping_file", default=None, callback=lambda ctx, param, value: _mapping_arg(value),
              help="Fixed mappings (TOML, one [[mapping]] per layer) used instead of the search for the layers they "
                   "name, or a dataflow preset for every conv/GEMM layer: os, ws, is, rs (needs a profile with an array), "
                   "or zigzag:FILE.yaml, a ZigZag mapping file replayed for every conv/GEMM layer.")
@click.option("--activation-density", "activation_density", default=None,
              help="What-if: fraction of non-zero input activations, '0.35' for every layer with MACs or "
                   "'fc6=0.35,fc7=0.35' per layer (replaces the density measured while tracing; recorded in the report).")
@click.option("--prune", type=float, default=None,
              help="What-if: keep this density of every conv/linear weight by magnitude (0.1 keeps 10%), no retraining.")
@click.option("--share-bits", type=int, default=None, help="What-if: k-means weight sharing with this many index bits (1..16).")
@click.option("--index-bits", type=int, default=None, help="What-if: relative-index bits of pruned weights [default: 5].")
@click.option("--huffman", is_flag=True, help="What-if: Huffman-code the index streams (with --prune and/or --share-bits).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the breakdown as JSON.")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the energy breakdown as CSV.")
@mkdir_option
def command(model: str, profile: str, model_args: ModelArgs, engine: str,
            no_fuse: bool, strict: bool, layers: bool, precision: str | None, objective: str, independent_layers: bool,
            dram: str | None, cores: int | None, fidelity: str, mapping_file: str | Path | None, activation_density: str | None,
            prune: float | None, share_bits: int | None,
            index_bits: int | None, huffman: bool, json_out: Path | None, csv_out: Path | None, mkdir: bool) -> None:
    """Cost one inference of MODEL on a profile.

    MODEL is a zoo name (pjsim models list), package.module:factory (from the current directory),
    a .pjc file (costed with its stored encodings), FILE.pt@ARCH (a state dict) or an .onnx file.
    --prune/--share-bits/--index-bits/--huffman compress the real weights first (what-if, no retraining).

    \b
    Examples:
      pjsim simulate lenet_300_100 --profile horowitz45
      pjsim simulate lenet5 --profile horowitz45 --engine closed-form --csv lenet5.csv
      pjsim simulate mypkg.nets:build --input-shape 8,3,64,64 --profile my_chip.toml --json out.json
      pjsim simulate lenet.pjc --profile horowitz45-sram512k
      pjsim simulate resnet18 --profile npu-ethos-n77 --precision int8
      pjsim simulate lenet_300_100 --profile horowitz45-sram512k --dram lpddr4-3200
      pjsim simulate resnet18 --profile horowitz45-2core-lpddr4
      pjsim simulate resnet18 --profile zigzag-tpu-like --objective latency
      pjsim simulate lenet5 --profile horowitz45 --mapping conv1.mapping.toml
      pjsim simulate resnet18 --profile zigzag-tpu-like --mapping ws --independent-layers
      pjsim simulate alexnet_caffe --profile eyeriss --activation-density conv2=0.61,conv3=0.28
      pjsim simulate lenet_300_100 --prune 0.1 --share-bits 5 --index-bits 5 --huffman
      pjsim simulate models.llama:llama_tiny --input 'ids:int64[1,128]'
      pjsim simulate weights.pt@resnet18 --input-shape 8,3,224,224
      pjsim simulate resnet18.onnx --profile npu-ethos-n77
    """
    from rich.console import Console

    from simulator.cli.progress import progress_steps
    from simulator.fileio import write_files_atomic
    from simulator.hardware import Precision

    check_outputs({"--json": json_out, "--csv": csv_out}, mkdir=mkdir)
    compress = _whatif(prune, share_bits, index_bits, huffman)
    if precision is not None:
        try:
            Precision.parse(precision)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--precision") from None
    densities = parse_activation_density(activation_density) if activation_density is not None else None
    try:
        with progress_steps(f"simulating {model}"):
            report = simulate(model, profile, model_args, compress=compress, engine=engine,
                              fuse_elementwise=not no_fuse, strict=strict, timeline=False, precision=precision,
                              layers="independent" if independent_layers else "network", objective=objective,
                              dram=dram, cores=cores, fidelity=fidelity, mapping=mapping_file,
                              activation_density=densities)
    except ValueError as exc:
        if "DRAM device" in str(exc) or "cores" in str(exc) or "activation_density" in str(exc):
            raise click.UsageError(str(exc)) from None
        raise
    console = Console(width=max(100, Console().width))
    _print_tables(report, console, layers)
    files = {}  # both outputs or neither
    if json_out is not None:
        files[json_out] = json.dumps(report_payload(report), indent=2).encode("utf-8")
    if csv_out is not None:
        files[csv_out] = _csv_text(report).encode("utf-8")
    write_files_atomic(files, make_parents=mkdir)
    if json_out is not None:
        click.echo(f"breakdown written to {json_out}")
    if csv_out is not None:
        click.echo(f"energy breakdown written to {csv_out}")
