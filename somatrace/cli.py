"""The ``somatrace`` command line: a root typer app to which each package contributes its sub-commands.

A package whose extra is not installed (``somatrace[server]``, ``[collector]``, ``[analysis]``...) is
replaced by commands that say what to install. Errors from any package end as one line on stderr and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.markup import escape

from analysis.errors import AnalysisError
from api.errors import SomatraceError
from collector.errors import CollectorError
from somatrace import __version__

# Plain click help (rich_markup_mode=None): typer's rich panels print flags as ``--version <bool>``.
app = typer.Typer(
    name="somatrace",
    help="Somatrace: heartbeats from a chest strap to HRV trends beside therapy sessions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
err_console = Console(stderr=True)


@dataclass(frozen=True)
class CommandGroup:
    """A package's commands: the module whose ``register(app)`` adds them, the extra that brings
    its dependencies, the top-level modules of that extra it needs (found without importing them,
    since commands import lazily), and the names of its commands and command groups."""

    module: str
    extra: str
    requires: tuple[str, ...]
    commands: tuple[str, ...]
    groups: tuple[str, ...] = ()


#: In ``--help`` order.
_SERVER = ("fastapi", "uvicorn", "psycopg", "procrastinate", "pyarrow", "numpy", "scipy")
_COLLECTOR = ("bleak", "httpx", "platformdirs")
COMMAND_GROUPS: tuple[CommandGroup, ...] = (
    CommandGroup("api.commands.db", "server", _SERVER, (), ("db",)),
    CommandGroup("api.commands.serve", "server", _SERVER, ("serve",)),
    CommandGroup("somatrace.demo.command", "demo", (*_SERVER, *_COLLECTOR, "bumble"), ("demo",)),
    CommandGroup("api.commands.user", "server", _SERVER, (), ("user",)),
    CommandGroup("api.commands.worker", "server", _SERVER, ("worker",)),
    CommandGroup("api.commands.export", "server", _SERVER, ("export",)),
    # Uploads a beat file over HTTP (a patient's or therapist's machine): the collector's packages.
    CommandGroup("api.commands.imports", "collector", ("httpx",), ("import",)),
    CommandGroup(
        "analysis.cli", "analysis", ("numpy", "scipy", "pandas", "neurokit2"), ("analyze",)
    ),
    CommandGroup(
        "collector.cli",
        "collector",
        _COLLECTOR,
        ("scan", "pair", "record", "upload", "status", "strap-emulator"),
        ("service",),
    ),
)


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


def _not_installed(name: str, extra: str, missing: str) -> Callable[[], None]:
    def command() -> None:
        message = (
            f"`somatrace {name}` is not installed here (Python package {missing!r} is missing). "
            f"Install it with:  pip install 'somatrace[{extra}]'"
        )
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)

    command.__doc__ = f"(not installed: pip install 'somatrace[{extra}]')"
    return command


def _register_missing(group: CommandGroup, missing: str) -> None:
    settings = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
    for name in (*group.commands, *group.groups):
        app.command(name, context_settings=settings, add_help_option=False)(
            _not_installed(name, group.extra, missing)
        )


def _register_all() -> None:
    """Each package adds its own commands; a package whose dependencies are missing is replaced."""
    for group in COMMAND_GROUPS:
        absent = [m for m in group.requires if importlib.util.find_spec(m) is None]
        if absent:
            _register_missing(group, absent[0])
            continue
        try:
            module = importlib.import_module(group.module)
        except ModuleNotFoundError as exc:
            if exc.name is not None and exc.name.split(".")[0] in {
                "api",
                "analysis",
                "collector",
                "somatrace",
                "wire",
            }:
                raise  # a broken source tree, not a missing extra
            _register_missing(group, exc.name or "?")
            continue
        register: Callable[[typer.Typer], None] = module.register
        register(app)


_register_all()


def main() -> None:
    """Entry point of the ``somatrace`` script."""
    try:
        app(standalone_mode=True)
    except (SomatraceError, CollectorError, AnalysisError) as exc:
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
