"""The API's connection pool (psycopg 3 async pool) and a one-off sync connection helper for the CLI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)


class Database:
    """Owns an ``AsyncConnectionPool`` to one PostgreSQL; rows come back as dicts.

    Parameters
    ----------
    conninfo:
        libpq connection string or URL.
    min_size, max_size:
        Pool bounds.
    """

    def __init__(self, conninfo: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.conninfo = conninfo
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[dict[str, object]]] = (
            AsyncConnectionPool(
                conninfo,
                min_size=min_size,
                max_size=max_size,
                open=False,
                kwargs={"row_factory": dict_row, "autocommit": True},
                connection_class=psycopg.AsyncConnection[dict[str, object]],
                name="somatrace",
            )
        )

    async def open(self, timeout_s: float = 10.0) -> None:
        """Open the pool and wait for its first connection; raises ``DatabaseUnavailable``."""
        try:
            await self.pool.open(wait=True, timeout=timeout_s)
        except Exception as exc:  # psycopg_pool raises PoolTimeout wrapping connection errors
            await self.pool.close()
            raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[dict[str, object]]]:
        """A pooled autocommit connection; use ``conn.transaction()`` for atomic work."""
        try:
            async with self.pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"database error: {str(exc).strip().splitlines()[0]}"
            ) from exc


def connect_sync(conninfo: str) -> psycopg.Connection[dict[str, object]]:
    """A plain autocommit connection for CLI commands; raises ``DatabaseUnavailable``."""
    try:
        return psycopg.connect(conninfo, autocommit=True, row_factory=dict_row, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to the database: {str(exc).strip().splitlines()[0]}"
        ) from exc
