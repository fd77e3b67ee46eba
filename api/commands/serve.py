"""``somatrace serve``: migrate, then serve the API (and dashboard) with uvicorn."""

from __future__ import annotations

import logging

import typer

from api.commands.db import load_settings
from api.db import migrate
from api.db.runtime import database

logger = logging.getLogger(__name__)


def serve(
    host: str | None = typer.Option(
        None, metavar="ADDRESS", help="Bind address (default SOMATRACE_HOST, 127.0.0.1)."
    ),
    port: int | None = typer.Option(
        None, metavar="PORT", help="Port (default SOMATRACE_PORT, 8000)."
    ),
    workers: int = typer.Option(
        1,
        min=1,
        max=64,
        metavar="N",
        help="Server processes (they share nothing in memory; state is in PostgreSQL).",
    ),
) -> None:
    """Serve the API on HOST:PORT; with no SOMATRACE_DATABASE_URL an embedded PostgreSQL is started."""
    from api import server  # the web stack loads only for this command
    from api.app import create_app
    from api.logs import configure_logging

    settings = load_settings()
    configure_logging(settings)
    settings.signing_secret()  # refuse weak secrets before anything starts
    bind_host = host or settings.host
    bind_port = port or settings.port
    # the port first: a busy one is one line before the (possibly slow) database start
    sock = server.bind_listener(bind_host, bind_port)
    bind_port = int(sock.getsockname()[1])
    if workers > 1:
        sock.close()  # uvicorn's worker processes bind it themselves, at once
    try:
        with database(settings) as conninfo:
            report = migrate.upgrade(conninfo)
            typer.echo(
                f"database ready ({'embedded' if settings.embedded else 'external'}, "
                f"{'TimescaleDB' if report.timescaledb else 'PostgreSQL'}, "
                f"schema {report.schema_version})",
                err=True,
            )
            typer.echo(
                f"Somatrace listening on http://{bind_host}:{bind_port}"
                + (f" ({workers} processes)" if workers > 1 else ""),
                err=True,
            )
            if workers > 1:
                server.run_workers(settings, conninfo, bind_host, bind_port, workers)
            else:
                server.run_in_process(create_app(settings, conninfo), settings, sock)
    finally:
        sock.close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
