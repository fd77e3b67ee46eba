"""``somatrace serve``: migrate, then serve the API (and dashboard) with uvicorn."""

from __future__ import annotations

import logging

import typer

from api.commands.db import load_settings
from api.db import migrate
from api.db.runtime import database

logger = logging.getLogger(__name__)


def serve(
    host: str | None = typer.Option(None, help="Bind address (default SOMATRACE_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default SOMATRACE_PORT, 8000)."),
) -> None:
    """Serve the API on HOST:PORT; with no SOMATRACE_DATABASE_URL an embedded PostgreSQL is started."""
    import uvicorn  # the web stack loads only for this command

    from api.app import create_app

    settings = load_settings()
    settings.signing_secret()  # refuse placeholder secrets before anything starts
    bind_host = host or settings.host
    bind_port = port or settings.port
    with database(settings) as conninfo:
        report = migrate.upgrade(conninfo)
        typer.echo(
            f"database ready ({'embedded' if settings.embedded else 'external'}, "
            f"{'TimescaleDB' if report.timescaledb else 'PostgreSQL'}, schema {report.schema_version})",
            err=True,
        )
        app = create_app(settings, conninfo)
        typer.echo(f"Somatrace listening on http://{bind_host}:{bind_port}", err=True)
        uvicorn.run(
            app,
            host=bind_host,
            port=bind_port,
            log_level=settings.log_level.lower(),
            access_log=False,
        )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
