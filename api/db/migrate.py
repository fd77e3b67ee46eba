"""Applies the numbered SQL migrations in ``api/db/migrations`` once each, under an advisory lock.

A file may start with ``-- requires: timescaledb`` or ``-- requires: no-timescaledb``; of the variants
that share a number exactly one applies. What each migration does is left to its SQL.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import psycopg
from psycopg import sql

from api.errors import DatabaseUnavailable, MigrationError

logger = logging.getLogger(__name__)

#: Key of the session-level advisory lock held while migrating (any constant shared by all processes).
MIGRATION_LOCK_KEY = 7_406_211_905
_FILE_RE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_REQUIRES_RE = re.compile(
    r"^--\s*requires:\s*(?P<req>timescaledb|no-timescaledb)\s*$", re.MULTILINE
)

Requirement = Literal["timescaledb", "no-timescaledb"] | None


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql_text: str
    requires: Requirement

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql_text.encode()).hexdigest()

    def applies(self, timescale: bool) -> bool:
        if self.requires is None:
            return True
        return (self.requires == "timescaledb") == timescale


@dataclass
class MigrationReport:
    """What an upgrade found and did."""

    timescaledb: bool
    applied: list[str] = field(default_factory=list)
    schema_version: int = 0


def load_migrations() -> list[Migration]:
    """All migration files, sorted by version (variants of one version side by side)."""
    found: list[Migration] = []
    for entry in resources.files("api.db.migrations").iterdir():
        match = _FILE_RE.match(entry.name)
        if match is None:
            if entry.name.endswith(".sql"):
                raise MigrationError(
                    f"migration file name not of the form NNNN_name.sql: {entry.name}"
                )
            continue
        text = entry.read_text(encoding="utf-8")
        req = _REQUIRES_RE.search(text.split("\n\n", 1)[0])
        found.append(
            Migration(
                version=int(match["version"]),
                name=match["name"],
                sql_text=text,
                requires=req["req"] if req else None,  # type: ignore[arg-type]
            )
        )
    found.sort(key=lambda m: (m.version, m.name))
    return found


def timescaledb_available(conn: psycopg.Connection[Any]) -> bool:
    """True when the server can load the ``timescaledb`` extension (or already has it)."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')"
    ).fetchone()
    return bool(row and row[0])


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """Highest applied migration version, 0 for an empty database."""
    exists = conn.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def _ensure_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def upgrade_connection(conn: psycopg.Connection[Any]) -> MigrationReport:
    """Apply pending migrations on an open autocommit connection.

    Holds a session advisory lock so that concurrent upgraders serialise; each migration runs in its own
    transaction together with its bookkeeping row, so a failing file leaves nothing of itself behind.
    """
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        timescale = timescaledb_available(conn)
        report = MigrationReport(timescaledb=timescale)
        _ensure_table(conn)
        done = {
            int(r[0]): str(r[1])
            for r in conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        }
        for migration in load_migrations():
            if not migration.applies(timescale):
                continue
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    logger.warning(
                        "migration %04d_%s changed after it was applied",
                        migration.version,
                        migration.name,
                    )
                continue
            label = f"{migration.version:04d}_{migration.name}"
            logger.info("applying migration %s", label)
            try:
                with conn.transaction():
                    conn.execute(sql.SQL(migration.sql_text))
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
            except psycopg.Error as exc:
                raise MigrationError(f"migration {label} failed: {exc}", migration=label) from exc
            done[migration.version] = migration.checksum
            report.applied.append(label)
        report.schema_version = schema_version(conn)
        return report
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


def upgrade(conninfo: str) -> MigrationReport:
    """Connect to ``conninfo`` and apply pending migrations (idempotent; safe to run concurrently)."""
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to the database: {str(exc).strip().splitlines()[0]}"
        ) from exc
    with conn:
        return upgrade_connection(conn)
