"""The ``somatrace`` command line: a root typer app to which each package contributes its sub-commands.

Errors from any package end as one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import typer
from rich.console import Console

from analysis.errors import AnalysisError
from api.errors import SomatraceError
from collector.errors import CollectorError
from somatrace import __version__

app = typer.Typer(
    name="somatrace",
    help="Somatrace: heartbeats from a chest strap to HRV trends beside therapy sessions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"somatrace {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages to stderr."),
) -> None:
    """Somatrace command line."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _register_all() -> None:
    """Each package adds its own commands; the order here is the order of ``--help``."""
    from analysis import cli as analysis_commands
    from api.commands import db as db_commands
    from api.commands import export as export_commands
    from api.commands import imports as import_commands
    from api.commands import serve as serve_commands
    from api.commands import user as user_commands
    from api.commands import worker as worker_commands
    from collector import cli as collector_commands
    from somatrace.demo import command as demo_commands

    registrars: list[Callable[[typer.Typer], None]] = [
        db_commands.register,
        serve_commands.register,
        demo_commands.register,
        user_commands.register,
        worker_commands.register,
        export_commands.register,
        import_commands.register,
        analysis_commands.register,
        collector_commands.register,
    ]
    for register in registrars:
        register(app)


_register_all()


def main() -> None:
    """Entry point of the ``somatrace`` script."""
    try:
        app(standalone_mode=True)
    except (SomatraceError, CollectorError, AnalysisError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
