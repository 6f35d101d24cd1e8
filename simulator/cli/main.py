"""The ``pjsim`` entry point: the command group, exit codes and error printing.

Exit codes: 0 success; 2 usage error (bad option, unknown command); 1 failure, printed as one line
(``--debug`` prints the full traceback). Commands live one per module in ``COMMAND_MODULES``; each
module exposes ``command`` (a click command or group).
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from simulator.errors import PjsimError

__all__ = ["COMMAND_MODULES", "cli", "main"]

#: Modules that each define one top-level command as ``command``.
COMMAND_MODULES = (
    "simulator.cli.cmd_demo",
    "simulator.cli.cmd_simulate",
    "simulator.cli.cmd_profiles",
    "simulator.cli.cmd_models",
    "simulator.cli.cmd_report",
    "simulator.cli.cmd_trace",
    "simulator.cli.cmd_sweep",
    "simulator.cli.cmd_compress",
    "simulator.cli.cmd_inspect",
    "simulator.cli.cmd_export",
    "simulator.cli.cmd_generate",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Print full tracebacks on failure.")
@click.version_option(package_name="pjsim", prog_name="pjsim")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """pjsim: energy and memory of neural-network inference on a hardware profile.

    Every command prints one clear line and exits 1 on failure (2 on a usage error); add --debug
    for the full traceback. Examples of every command follow.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for _name in COMMAND_MODULES:
    cli.add_command(importlib.import_module(_name).command)


def _examples(command: click.Command, prefix: str = "") -> list[str]:
    """The example lines of a command's help (the indented lines after 'Example:'/'Examples:')."""
    lines: list[str] = []
    taking = False
    for line in (command.help or "").splitlines():
        stripped = line.strip()
        if stripped.lower().startswith("example"):
            taking = True
            continue
        if taking:
            if not stripped:
                taking = False
            elif stripped.startswith("pjsim"):
                lines.append(stripped)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            lines.extend(line for line in _examples(sub) if line not in lines)
    return lines


def _epilog() -> str:
    rows = [line for name in sorted(cli.commands) for line in _examples(cli.commands[name])]
    return "\b\nExamples:\n" + "\n".join(f"  {row}" for row in rows)


cli.epilog = _epilog()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 usage error)."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="pjsim", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("pjsim: aborted", err=True)
        return 1
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "pjsim"
        click.echo(f"{command}: usage error: {exc.format_message()} (see '{command} --help')", err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return 1
    except PjsimError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"pjsim: error: {exc}", err=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence prints one line
        if debug:
            traceback.print_exc()
        else:
            click.echo(f"pjsim: error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        return 1
    return 0


def _entry() -> None:
    sys.exit(main())
