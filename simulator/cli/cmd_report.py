"""``pjsim report``: one HTML report from configurations or saved JSON (CSV/JSON tables on request)."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.model_arg import ModelArgs, model_options
from simulator.cli.outputs import check_outputs, mkdir_option

__all__ = ["command", "parse_spec"]

_DEFAULT_OUT = Path("reports/report.html")


def parse_spec(spec: str, default_profile: str) -> tuple[str | None, str | None, str]:
    """``MODEL[@PROFILE]`` or ``checkpoint:NAME[@PROFILE]`` -> ``(model, checkpoint, profile)``."""
    target, _, profile = spec.rpartition("@") if "@" in spec else (spec, "", "")
    profile = profile or default_profile
    if not target:
        raise click.BadParameter(f"'{spec}': expected MODEL[@PROFILE] or checkpoint:NAME[@PROFILE]", param_hint="SPEC")
    if target.startswith("checkpoint:"):
        name = target.removeprefix("checkpoint:")
        if not name:
            raise click.BadParameter(f"'{spec}': checkpoint name missing after 'checkpoint:'", param_hint="SPEC")
        return None, name, profile
    return target, None, profile


@click.command("report")
@click.argument("specs", nargs=-1, metavar="[SPEC]...")
@click.option("--from", "from_json", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A report's .json export (or saved configurations) to include; repeatable.")
@click.option("--profile", "-p", default="horowitz45", show_default=True, help="Profile for SPECs without @PROFILE.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=_DEFAULT_OUT,
              show_default=True, help="The HTML file (with --export, tables go beside it as <stem>.json and <stem>.<table>.csv).")
@click.option("--title", default="pjsim energy report", show_default=True)
@click.option("--sram-points", type=click.IntRange(min=0), default=13, show_default=True,
              help="Points of the energy-vs-SRAM-size curve per configuration (0 = no curve).")
@model_options
@click.option("--export", "export", default="", metavar="FORMATS",
              help="Also write the tables beside the HTML: a comma-separated subset of csv,json (json is what --from reads).")
@click.option("--plotly-js", "plotly_js", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Write one shared plotly.min.js in DIR and reference it relatively instead of inlining it (~4.8 MB).")
@click.option("--no-export", is_flag=True, hidden=True, help="Kept for old scripts: the default already writes only the HTML.")
@mkdir_option
def command(specs: tuple[str, ...], from_json: tuple[Path, ...], profile: str, out: Path, title: str,
            sram_points: int, model_args: ModelArgs,
            export: str, plotly_js: Path | None, no_export: bool, mkdir: bool) -> None:  # fmt: skip
    """Build one report comparing configurations side by side.

    Writes one self-contained HTML file; --export csv,json adds the tables beside it and
    --plotly-js DIR shares one plotly.js between many reports.

    A SPEC is MODEL[@PROFILE] (zoo name, package.module:factory from the current directory, or a
    .pjc file) or checkpoint:NAME[@PROFILE] (a shipped checkpoint, compressed or dense). Saved
    reports are re-read with --from. --input-shape applies to every MODEL.

    \b
    Examples:
      pjsim report lenet_300_100@horowitz45 lenet_300_100@horowitz45-sram512k
      pjsim report checkpoint:lenet_300_100-deep-compression@horowitz45 --out reports/dc.html
      pjsim report --from reports/demo.json --out reports/demo-again.html
      pjsim report lenet_300_100 --export csv,json --plotly-js reports/js --out reports/lenet.html
      pjsim report lenet.pjc@horowitz45 lenet_300_100@horowitz45 --out reports/mine.html
    """
    from simulator.cli.progress import progress_steps
    from simulator.report import load_report_json, write_html
    from simulator.studies import configuration_for

    if not specs and not from_json:
        raise click.UsageError("give at least one SPEC or --from FILE.json")
    parsed = [parse_spec(s, profile) for s in specs]
    from simulator.report.export import export_formats, export_paths

    try:
        formats = () if no_export else export_formats(export)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--export") from None
    default_out = out == _DEFAULT_OUT
    outputs = {"--out": out} | {f"--out ({p.name})": p for p in (export_paths(out, formats) if formats else [])}
    if plotly_js is not None:
        outputs["--plotly-js"] = plotly_js / "plotly.min.js"
    check_outputs(outputs, mkdir=mkdir, defaults=dict.fromkeys(outputs, default_out))
    model_args.check(*(model for model, _, _ in parsed))
    configs, notes = [], []
    for path in from_json:
        saved_title, saved_notes, saved = load_report_json(path)
        configs.extend(saved)
        notes.extend(saved_notes)
        if saved_title and title == "pjsim energy report" and not specs and len(from_json) == 1:
            title = saved_title
    points_per_config = 1 + sram_points
    with progress_steps("costing", total=len(parsed) * points_per_config) as step:
        for model, checkpoint, prof in parsed:
            resolved = model_args.resolve(model) if model is not None else None
            configs.append(configuration_for(resolved, prof, checkpoint=checkpoint, sram_points=sram_points,
                                             batch_size=model_args.batch_size, progress=lambda: step(f"{model or checkpoint} on {prof}")))
    write_html(configs, out, title=title, notes=notes, export=formats, make_parents=mkdir or default_out, plotly_js=plotly_js)
    for c in configs:
        head = c.cost.headline()
        click.echo(f"{c.label}: {head.row('energy').text} per inference ({head.method})")
    click.echo(f"report written to {out.resolve()}")
