"""Chooses the database for a command: the configured URL, or an embedded PostgreSQL in the data dir."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from api.db.embedded import EmbeddedPostgres
from api.errors import ConfigError, DatabaseUnavailable
from api.settings import Settings


def check_reachable(conninfo: str, setting: str = "SOMATRACE_DATABASE_URL") -> None:
    """Connect once; a malformed URL or an unreachable server becomes a one-line error naming the setting."""
    try:
        psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(setting, f"is not a valid PostgreSQL URL ({exc})") from exc
    try:
        with psycopg.connect(conninfo, connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"{setting}: cannot connect to the database ({first})", setting=setting
        ) from exc


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """Yield a reachable connection URL; starts and stops an embedded PostgreSQL when none is configured."""
    if settings.database_url is not None:
        check_reachable(settings.database_url)
        yield settings.database_url
        return
    with EmbeddedPostgres(settings.data_dir) as embedded:
        check_reachable(embedded.conninfo, setting="SOMATRACE_DATA_DIR (embedded PostgreSQL)")
        yield embedded.conninfo
