"""``pjsim trace MODEL``: trace a model, print its per-layer table, optionally write the op stream."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.outputs import check_outputs, mkdir_option

__all__ = ["command"]


def _parse_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 1,3,224,224, got {text!r}") from None
    if not shape or any(s <= 0 for s in shape):
        raise click.BadParameter(f"expected positive dimensions such as 1,3,224,224, got {text!r}")
    return shape


@click.command("trace")
@click.argument("model")
@click.option("--batch-size", "-b", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--input-shape", help="Input shape for package.module:factory models, e.g. 1,3,224,224 (batch first).")
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
def command(model: str, batch_size: int, input_shape: str | None, device: str, out: Path | None, mkdir: bool) -> None:
    """Trace MODEL (zoo name or package.module:factory) and print MACs, weights and traffic per layer.

    \b
    Conventions: 1 MAC = 1 multiply + 1 add (FLOPs in Han et al.'s sense = 2 x MACs);
    params = elements of the weight tensors a layer reads (parameters and buffers).
    \b
    Examples:
      pjsim trace resnet50 --device meta
      pjsim trace lenet5 --out lenet5_ops.csv
      pjsim trace mypkg.nets:build --input-shape 1,3,64,64
    """
    import torch
    from rich.console import Console
    from rich.table import Table

    from models import load_model, model_spec
    from simulator.errors import ModelError
    from simulator.trace import trace
    from simulator.trace.export import check_op_stream_path, write_op_stream
    from simulator.trace.summary import layer_summaries
    from simulator.units import bits_to_kb

    shape = _parse_shape(input_shape)
    if out is not None:
        check_op_stream_path(out)
    check_outputs({"--out": out}, mkdir=mkdir)
    if ":" in model:
        if shape is None:
            raise click.UsageError(f"model '{model}' is not in the zoo: give its input shape with --input-shape")
        net = load_model(model)
        example = torch.rand((batch_size, *shape[1:]), generator=torch.Generator().manual_seed(0))
    else:
        spec = model_spec(model)
        net = spec.factory()
        example = spec.example_input(batch_size) if shape is None else torch.rand((batch_size, *shape[1:]))
    if not isinstance(net, torch.nn.Module):
        raise ModelError(f"'{model}' did not give a torch.nn.Module")
    workload = trace(net.eval(), example, model_name=model, device=device)

    table = Table(title=f"{model}: batch {workload.batch_size}, {len(workload.ops)} ops", title_justify="left")
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
