"""``pjsim sweep SPEC``: run a design-space sweep, store every point in SQLite, write the table and report."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.outputs import check_outputs, mkdir_option
from simulator.limits import MAX_PLAN_POINTS

_DEFAULT_OUT = Path("reports")

__all__ = ["command"]


@click.command("sweep")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--backend",
    type=click.Choice(["inprocess", "processes", "dask"]),
    default="processes",
    show_default=True,
    help="Where points run: this process, local worker processes (all cores), or Dask distributed.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Local worker processes (default: all cores).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT", help="Run on an existing Dask scheduler.")
@click.option("--dask-local", type=click.IntRange(min=1), default=None, metavar="N", help="Start a Dask LocalCluster of N workers.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SQLite results file (default: OUT/<sweep name>.sqlite). Finished points in it are skipped.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=_DEFAULT_OUT, show_default=True,
              help="Folder for <name>.html (report), <name>.csv (table) and the default database.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, help="Points per task (default: automatic).")
@click.option("--no-report", is_flag=True, help="Only compute and store the points (no HTML report).")
@click.option("--allow-import", is_flag=True,
              help="Let the sweep file name its model as package.module:factory (imports and runs that code).")
@click.option("--max-points", type=click.IntRange(min=1), default=MAX_PLAN_POINTS, show_default=True,
              help="Refuse a sweep whose grid or sample count is larger (checked before planning).")
@mkdir_option
def command(
    spec: Path,
    backend: str,
    workers: int | None,
    scheduler: str | None,
    dask_local: int | None,
    db: Path | None,
    out: Path,
    chunk_size: int | None,
    no_report: bool,
    allow_import: bool,
    max_points: int,
    mkdir: bool,
) -> None:
    """Run the sweep in SPEC (TOML): every point is stored in SQLite as it finishes; re-running resumes.

    \b
    Examples:
      pjsim sweep examples/sweeps/lenet_sram_density.toml
      pjsim sweep my_sweep.toml --backend inprocess --out reports/
      pjsim sweep my_sweep.toml --dask-local 4
      pjsim sweep my_sweep.toml --scheduler tcp://10.0.0.5:8786
    """
    from simulator.cli.progress import progress_counter
    from simulator.fileio import csv_safe_frame, write_files_atomic
    from simulator.report.sweep_report import render_sweep_html
    from simulator.sweep import load_spec, make_backend, report_inputs, run
    from simulator.sweep.plan import check_plan_size
    from simulator.sweep.store import check_not_in_use

    sweep_spec = load_spec(spec, allow_import=allow_import)
    db_path = db if db is not None else out / f"{sweep_spec.name}.sqlite"
    csv_out, html_out = out / f"{sweep_spec.name}.csv", out / f"{sweep_spec.name}.html"
    make_parents = mkdir or out == _DEFAULT_OUT
    outputs = {"--db": db_path, "--out (table)": csv_out} | ({} if no_report else {"--out (report)": html_out})
    check_outputs(outputs, mkdir=make_parents)
    check_plan_size(sweep_spec, max_points)  # a 10^10-point grid is refused here, before planning
    check_not_in_use(db_path)  # a second sweep on one database is refused before any work
    runner = make_backend(backend, workers=workers, scheduler=scheduler, dask_local=dask_local)
    click.echo(f"sweep '{sweep_spec.name}': {sweep_spec.model} on {sweep_spec.profile}, backend {runner.describe()}, db {db_path}")
    with progress_counter(sweep_spec.name, unit="points") as progress:
        df = run(sweep_spec, backend=runner, db=db_path, chunk_size=chunk_size, progress=progress, max_points=max_points)
    files = {csv_out: csv_safe_frame(df).to_csv(index=False)}
    if not no_report:
        files[html_out] = render_sweep_html(**report_inputs(df))
    write_files_atomic({p: text.encode("utf-8") for p, text in files.items()}, make_parents=make_parents)
    click.echo(f"{len(df)} points; table written to {csv_out}")
    if not no_report:
        click.echo(f"report written to {html_out}")
