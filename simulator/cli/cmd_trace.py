"""``pjsim trace MODEL``: trace a model, print its per-layer table, optionally write the op stream."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.model_arg import ModelArgs, model_options
from simulator.cli.outputs import check_outputs, mkdir_option

__all__ = ["command"]


@click.command("trace")
@click.argument("model")
@model_options
@click.option(
    "--device",
    type=click.Choice(["cpu", "meta"]),
    default="cpu",
    show_default=True,
    help="meta: run the forward pass on meta tensors (no activation memory, no compute); weight encodings are "
    "still detected from the real weights.",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the op stream to this .csv or .parquet file (Parquet needs pyarrow).",
)
@mkdir_option
def command(
    model: str, model_args: ModelArgs, device: str, out: Path | None, mkdir: bool
) -> None:
    """Trace MODEL and print MACs, weights and traffic per layer.

    MODEL is a zoo name (pjsim models list), package.module:factory (from the current directory),
    a .pjc file (traced with its stored encodings), FILE.pt@ARCH (a state dict) or an .onnx file.

    \b
    Conventions: 1 MAC = 1 multiply + 1 add (FLOPs in Han et al.'s sense = 2 x MACs);
    params = elements of the weight tensors a layer reads (parameters and buffers).
    \b
    Examples:
      pjsim trace resnet50 --device meta
      pjsim trace lenet5 --out lenet5_ops.csv
      pjsim trace mypkg.nets:build --input-shape 8,3,64,64
      pjsim trace lenet.pjc
      pjsim trace models.llama:llama_tiny --input 'ids:int64[1,128]'
      pjsim trace resnet18.onnx
    """
    from rich.console import Console
    from rich.table import Table

    from simulator.api import trace_model
    from simulator.trace.export import check_op_stream_path, write_op_stream
    from simulator.trace.summary import layer_summaries
    from simulator.units import bits_to_kb

    if out is not None:
        check_op_stream_path(out)
    check_outputs({"--out": out}, mkdir=mkdir)
    from simulator.cli.progress import progress_steps

    with progress_steps(f"tracing {model}"):
        workload = trace_model(model_args.resolve(model), device=device)

    title = f"{workload.model_name}: batch {workload.batch_size}, {len(workload.ops)} ops"
    table = Table(title=title, title_justify="left")
    for col, justify in (
        ("layer", "left"),
        ("ops", "right"),
        ("MACs", "right"),
        ("params", "right"),
        ("weights KB", "right"),
        ("stored KB", "right"),
        ("act. out KB", "right"),
        ("encoding", "left"),
    ):
        table.add_column(col, justify=justify)
    rows = layer_summaries(workload)
    for r in rows:
        table.add_row(
            r.module or "(top level)",
            str(r.ops),
            f"{r.macs:,}",
            f"{r.weight_elements:,}",
            f"{bits_to_kb(r.weight_dense_bits):,.1f}",
            f"{bits_to_kb(r.weight_stored_bits):,.1f}",
            f"{bits_to_kb(r.activation_bits):,.1f}",
            r.encoding,
        )
    table.add_section()
    table.add_row(
        "total",
        str(len(workload.ops)),
        f"{workload.total_macs:,}",
        f"{sum(r.weight_elements for r in rows):,}",
        f"{bits_to_kb(workload.weight_dense_bits):,.1f}",
        f"{bits_to_kb(workload.weight_stored_bits):,.1f}",
        f"{bits_to_kb(sum(r.activation_bits for r in rows)):,.1f}",
        "",
    )
    console = Console(width=max(Console().width, 120))
    console.print(table)
    console.print(
        f"peak live activations: {bits_to_kb(workload.peak_activation_bits):,.1f} KB; "
        "KB = 1000 bytes; 1 MAC = 1 mult + 1 add (FLOPs = 2 x MACs)"
    )
    if workload.unsupported:
        listing = ", ".join(f"{op} x{n}" for op, n in sorted(workload.unsupported.items()))
        console.print(f"[yellow]ops with no cost rule (not costed): {listing}[/yellow]")
    if out is not None:
        write_op_stream(workload, out)  # folder checked above (created only with --mkdir)
        click.echo(f"op stream written to {out}")
