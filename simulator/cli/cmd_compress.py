"""``pjsim compress MODEL --recipe deep-compression``: compress, write the pjsim file, print the storage table."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.outputs import check_outputs, mkdir_option

__all__ = ["command"]

RECIPE_CHOICES = ("deep-compression",)


@click.command("compress")
@click.argument("model")
@click.option("--recipe", type=click.Choice(RECIPE_CHOICES), default="deep-compression", show_default=True,
              help="Compression pipeline (the papers' per-layer settings for MODEL).")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path),
              help="MNIST directory: retrain after pruning and fine-tune the centroids (else one-shot, no training).")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Compressed file to write [default: reports/MODEL-deep-compression.pjc].")
@click.option("--no-biases", is_flag=True, help="Leave biases out of the storage totals (they stay in the file).")
@click.option("--layers", is_flag=True, help="Also print the per-layer breakdown of the final stage.")
@mkdir_option
def command(model: str, recipe: str, data: Path | None, out: Path | None, no_biases: bool, layers: bool, mkdir: bool) -> None:
    """Compress MODEL (zoo name) and write it in the pjsim file format (.pjc).

    The file can be traced, simulated and reported like a model (pjsim simulate FILE.pjc) and
    inspected (pjsim inspect FILE.pjc).

    Starts from the shipped trained checkpoint when there is one (lenet_300_100, lenet5), else from
    the zoo's initial weights. Prints the storage of each stage (dense, pruned, quantized, Huffman)
    split into values, indices, fillers, codebook, Huffman tables and biases (KB = 1000 bytes).

    \b
    Examples:
      pjsim compress lenet_300_100                       # one-shot, no data needed
      pjsim compress lenet5 --data ~/mnist --out lenet5.pjc
      pjsim compress alexnet_caffe --layers
    """
    from models import load_model
    from models.pretrained import available_checkpoints, load_checkpoint
    from simulator.compress import deep_compression, get_recipe
    from simulator.storage import pack, storage_report

    check_outputs({"--out": out or Path("reports") / f"{model}-deep-compression.pjc"}, mkdir=mkdir or out is None)
    chosen = get_recipe(model)
    if f"{model}-dense" in available_checkpoints():
        net, _, meta = load_checkpoint(f"{model}-dense")
        click.echo(f"{model}: shipped dense checkpoint ({meta.get('test_errors')} test errors)")
    else:
        net = load_model(model)
        click.echo(f"{model}: zoo initial weights (no trained checkpoint shipped)")
    train_data = None
    if data is not None:
        from models import model_spec
        from models.mnist import load_mnist

        if tuple(model_spec(model).input_shape[1:]) != (1, 28, 28):
            raise click.BadParameter(f"--data is MNIST; {model} takes inputs of shape {model_spec(model).input_shape}",
                                     param_hint="--data")

        train_data = load_mnist("train", path=data)
    else:
        click.echo("no --data: one-shot pruning and weight sharing, no retraining")
    net, record = deep_compression(net, chosen, data=train_data)
    out = out or Path("reports") / f"{model}-deep-compression.pjc"
    from models import model_spec

    # The input shape travels in the file so a .pjc is self-describing (models.resolve reads it).
    result = pack(net, record, out, model_name=model, metadata={"input_shape": list(model_spec(model).input_shape)})
    report = storage_report(net, record, include_biases=not no_biases)
    click.echo(report.table())
    if layers:
        click.echo(report.layer_table(report.stages[-1]))
    click.echo(report.conventions)
    click.echo(f"wrote {out} ({result['file_bytes']} bytes: payload {result['payload_bytes']}, "
               f"header + checksum {result['header_bytes']})")
