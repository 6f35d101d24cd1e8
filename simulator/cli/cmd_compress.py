"""``pjsim compress MODEL --recipe deep-compression``: compress, write the pjsim file, print the storage table."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.model_arg import ModelArgs, model_options
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
@model_options
@mkdir_option
def command(model: str, recipe: str, data: Path | None, out: Path | None, no_biases: bool, layers: bool,
            model_args: ModelArgs, mkdir: bool) -> None:
    """Compress MODEL and write it in the pjsim file format (.pjc).

    MODEL is a zoo name, package.module:factory or FILE.pt@ARCH. The papers' per-layer recipes are
    used for lenet_300_100, lenet5, alexnet(_caffe) and vgg16; any other model gets the generic
    recipe (per layer type, from Deep Compression's AlexNet: conv keep 35% with 8-bit shared weights,
    fc keep 9% with 5-bit, 5-bit relative indices).

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
      pjsim compress resnet18 --out resnet18.pjc       # generic recipe
    """
    from models.pretrained import available_checkpoints, load_checkpoint
    from simulator.cli.progress import progress_steps
    from simulator.compress import deep_compression, get_recipe
    from simulator.storage import pack, storage_report

    stem = Path(model.partition("@")[0]).stem if model.partition("@")[0].endswith((".pt", ".pth")) else model.replace(":", "-")
    if model.endswith((".onnx", ".pjc")):
        raise click.BadParameter(f"'{model}': compress takes a zoo name, package.module:factory or FILE.pt@ARCH "
                                 "(a .pjc file must name an architecture pjsim can rebuild)", param_hint="MODEL")
    check_outputs({"--out": out or Path("reports") / f"{stem}-deep-compression.pjc"}, mkdir=mkdir or out is None)
    resolved = model_args.resolve(model)
    if f"{model}-dense" in available_checkpoints():
        net, _, meta = load_checkpoint(f"{model}-dense")
        click.echo(f"{model}: shipped dense checkpoint ({meta.get('test_errors')} test errors)")
    else:
        net = resolved.module
        click.echo(f"{model}: {'zoo initial weights (no trained checkpoint shipped)' if resolved.source == 'zoo' else 'weights as given'}")
    chosen = get_recipe(resolved.name, net)
    click.echo(f"recipe: {chosen.source}")
    train_data = None
    if data is not None:
        from models.mnist import load_mnist

        if tuple(resolved.input_shape[1:]) != (1, 28, 28):
            raise click.BadParameter(f"--data is MNIST; {model} takes inputs of shape {resolved.input_shape}",
                                     param_hint="--data")

        train_data = load_mnist("train", path=data)
    else:
        click.echo("no --data: one-shot pruning and weight sharing, no retraining")
    with progress_steps(f"compressing {model}", total=3) as step:
        net, record = deep_compression(net, chosen, data=train_data, on_stage=lambda stage, *_: step(stage))
    out = out or Path("reports") / f"{stem}-deep-compression.pjc"
    # The input shape travels in the file so a .pjc is self-describing (models.resolve reads it).
    result = pack(net, record, out, model_name=resolved.name, metadata={"input_shape": list(resolved.input_shape)})
    report = storage_report(net, record, include_biases=not no_biases)
    click.echo(report.table())
    if layers:
        click.echo(report.layer_table(report.stages[-1]))
    click.echo(report.conventions)
    click.echo(f"wrote {out} ({result['file_bytes']} bytes: payload {result['payload_bytes']}, "
               f"header + checksum {result['header_bytes']})")
