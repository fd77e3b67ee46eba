"""The API's connection pool (psycopg 3 async pool) and a one-off sync connection helper for the CLI.

The pool fails fast: a connection is checked before it is handed out (a stale one is replaced, never
given to a request), and a request waits at most ``checkout_timeout_s`` for one, so during a database
outage or when every connection is busy a request gets ``DatabaseUnavailable`` (503 with
``Retry-After``) at once instead of hanging. Reconnecting is left to the pool's background workers;
while they are still backing off after the database has returned, a request that finds no pooled
connection is served on a short-lived connection of its own instead of failing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final, cast

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout, TooManyRequests

from api.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

#: Longest wait for a pooled connection, s: well under the 1 s a client should wait for an answer.
CHECKOUT_TIMEOUT_S: Final[float] = 0.5
#: Longest wait for a new server connection (libpq ``connect_timeout`` takes whole seconds).
CONNECT_TIMEOUT_S: Final[int] = 2
#: Longest wait for a request's own connection when the pool has none to give (it may still be
#: backing off after an outage), s: with the checkout wait, an answer stays within a second.
DIRECT_CONNECT_TIMEOUT_S: Final[float] = 0.4
#: ``Retry-After`` (s) when the database is down, and when every connection is busy.
RETRY_AFTER_DOWN_S: Final[int] = 5
RETRY_AFTER_BUSY_S: Final[int] = 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Database:
    """Owns an ``AsyncConnectionPool`` to one PostgreSQL; rows come back as dicts.

    Parameters
    ----------
    conninfo:
        libpq connection string or URL.
    min_size, max_size:
        Pool bounds.
    checkout_timeout_s:
        Longest wait for a connection before ``DatabaseUnavailable`` is raised, s.
    max_waiting:
        Requests allowed to wait for a connection at once; more are refused at once (0: no limit).
    """

    def __init__(
        self,
        conninfo: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        checkout_timeout_s: float = CHECKOUT_TIMEOUT_S,
        max_waiting: int = 0,
    ) -> None:
        self.conninfo = conninfo
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[dict[str, object]]] = (
            AsyncConnectionPool(
                conninfo,
                min_size=min_size,
                max_size=max_size,
                open=False,
                kwargs={
                    "row_factory": dict_row,
                    "autocommit": True,
                    "connect_timeout": CONNECT_TIMEOUT_S,
                },
                connection_class=psycopg.AsyncConnection[dict[str, object]],
                check=AsyncConnectionPool.check_connection,
                timeout=checkout_timeout_s,
                max_waiting=max_waiting,
                # keep trying to reconnect through an outage of any length
                reconnect_timeout=365 * 24 * 3600.0,
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

    def busy(self) -> bool:
        """True when every connection the pool may open is in use (the database is reachable)."""
        stats = self.pool.get_stats()
        return (
            stats.get("pool_size", 0) >= self.pool.max_size and stats.get("pool_available", 0) == 0
        )

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[dict[str, object]]]:
        """A pooled, checked autocommit connection; use ``conn.transaction()`` for atomic work.

        Raises
        ------
        DatabaseUnavailable
            No connection within the checkout timeout (database down, or all connections busy:
            ``fields["busy"]`` says which), or the connection failed while in use.
        """
        try:
            async with self._checkout() as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"database error: {_first_line(exc)}", busy=False, retry_after_s=RETRY_AFTER_DOWN_S
            ) from exc

    @asynccontextmanager
    async def _checkout(self) -> AsyncIterator[psycopg.AsyncConnection[dict[str, object]]]:
        pooled = self.pool.connection()
        try:
            conn = await pooled.__aenter__()
        except (PoolTimeout, TooManyRequests) as exc:
            busy = self.busy()
            own = (
                await self._own_connection() if isinstance(exc, PoolTimeout) and not busy else None
            )
            if own is None:
                retry = RETRY_AFTER_BUSY_S if busy else RETRY_AFTER_DOWN_S
                message = "the server is busy" if busy else "the database is unavailable"
                raise DatabaseUnavailable(
                    f"{message}; try again in {retry} s", busy=busy, retry_after_s=retry
                ) from exc
            logger.info("no pooled connection yet (the pool is reconnecting): one of its own")
            async with own:
                yield own
            return
        try:
            yield conn
        except BaseException as body_exc:
            if not await pooled.__aexit__(type(body_exc), body_exc, body_exc.__traceback__):
                raise
        else:
            await pooled.__aexit__(None, None, None)

    async def _own_connection(self) -> psycopg.AsyncConnection[dict[str, object]] | None:
        """A connection outside the pool, or ``None`` when the database does not answer in time."""
        try:
            conn = await asyncio.wait_for(
                psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, row_factory=dict_row, connect_timeout=1
                ),
                timeout=DIRECT_CONNECT_TIMEOUT_S,
            )
        except (psycopg.OperationalError, TimeoutError):
            return None
        return cast(psycopg.AsyncConnection[dict[str, object]], conn)


def connect_sync(conninfo: str) -> psycopg.Connection[dict[str, object]]:
    """A plain autocommit connection for CLI commands; raises ``DatabaseUnavailable``."""
    try:
        return psycopg.connect(conninfo, autocommit=True, row_factory=dict_row, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {_first_line(exc)}") from exc
