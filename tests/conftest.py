"""Shared test fixtures: fresh PostgreSQL databases on the machine's server (never skipped in CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

#: Admin URL of the PostgreSQL the integration tests use (the machine's PostgreSQL 15); .ci/run sets
#: SOMATRACE_TEST_ADMIN_URL to a freshly created database on it.
ADMIN_URL = os.environ.get(
    "SOMATRACE_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _with_db(url: str, dbname: str) -> str:
    """The same server URL with another database name (URL form, as SOMATRACE_DATABASE_URL expects)."""
    return urlunsplit(urlsplit(url)._replace(path="/" + dbname))


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """Admin URL; fails (does not skip) when PostgreSQL is down, so CI cannot pass silently."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {ADMIN_URL}: {exc}")
    return ADMIN_URL


def create_database(admin_url: str, prefix: str = "somatrace_test") -> str:
    """Create a uniquely named empty database and return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _with_db(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name)))
        )


@contextmanager
def fresh_database(
    admin_url: str, prefix: str = "somatrace_test", *, migrated: bool = False
) -> Iterator[str]:
    """A uniquely named database (with every migration applied when ``migrated``), dropped afterwards."""
    url = create_database(admin_url, prefix)
    try:
        if migrated:
            from api.db.migrate import upgrade

            upgrade(url)
        yield url
    finally:
        drop_database(admin_url, url)


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database with no schema, dropped after the test."""
    with fresh_database(pg_admin_url) as url:
        yield url


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """A fresh database with every migration applied."""
    from api.db.migrate import upgrade

    upgrade(empty_db_url)
    return empty_db_url
