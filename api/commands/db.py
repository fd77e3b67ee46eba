"""``somatrace db``: apply migrations and report the schema state."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from api.db import migrate
from api.db.runtime import database
from api.errors import ConfigError
from api.settings import Settings

db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)


def load_settings() -> Settings:
    """Settings from the environment; a bad value becomes a one-line ``ConfigError`` naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "SOMATRACE_" + str(first["loc"][0]).upper() if first.get("loc") else "settings"
        raise ConfigError(name, str(first["msg"])) from None


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply pending migrations (idempotent; safe when several processes run it at once)."""
    settings = load_settings()
    with database(settings) as conninfo:
        report = migrate.upgrade(conninfo)
    flavour = "TimescaleDB" if report.timescaledb else "plain PostgreSQL"
    if report.applied:
        typer.echo(
            f"applied {', '.join(report.applied)} ({flavour}); schema version {report.schema_version}"
        )
    else:
        typer.echo(f"schema is up to date ({flavour}); schema version {report.schema_version}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
