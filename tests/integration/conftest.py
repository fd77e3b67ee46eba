"""Fixtures shared by the API integration tests (accounts, authorization): the real app on a fresh database.

``api`` runs the app's lifespan (real pool) and talks to it through httpx's ASGI transport from a
fixed client address; helpers create accounts directly in the database and log in over HTTP.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from psycopg.rows import dict_row

from api.app import create_app
from api.auth.passwords import hash_password
from api.settings import Settings

CLIENT_ADDR = "203.0.113.7"
PASSWORD = "correct horse battery"


@dataclass
class Account:
    id: uuid.UUID
    email: str
    role: str
    headers: dict[str, str]
    patient_id: uuid.UUID | None = None


@dataclass
class Api:
    app: Any
    client: httpx.AsyncClient
    db_url: str
    _hash: str = field(default="")

    def sql(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with psycopg.connect(self.db_url, autocommit=True, row_factory=dict_row) as conn:
            cur = conn.execute(query, params or {})  # type: ignore[arg-type]
            return cur.fetchall() if cur.description is not None else []

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        r = await self.client.post("/v1/auth/token", data={"username": email, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def account(
        self, role: str, *, patient_id: uuid.UUID | None = None, email: str | None = None
    ) -> Account:
        """Insert an account (one shared argon2 hash of PASSWORD) and log it in over HTTP."""
        if not self._hash:
            self._hash = hash_password(PASSWORD)
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.org"
        row = self.sql(
            "INSERT INTO users (email, password_hash, role, patient_id) "
            "VALUES (%(e)s, %(h)s, %(r)s, %(p)s) RETURNING id",
            {"e": email, "h": self._hash, "r": role, "p": patient_id},
        )[0]
        return Account(row["id"], email, role, await self.login(email), patient_id)

    async def patient(self, therapist: Account, name: str = "Alex") -> uuid.UUID:
        r = await self.client.post(
            "/v1/patients",
            json={"display_name": name, "timezone": "Europe/Berlin"},
            headers=therapist.headers,
        )
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()["id"])

    def audit_rows(self, **where: Any) -> list[dict[str, Any]]:
        rows = self.sql("SELECT * FROM audit_log ORDER BY id")
        return [r for r in rows if all(r[k] == v for k, v in where.items())]


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = Settings(
        secret_key="integration-test-signing-key-" + "x" * 32,
        database_url=db_url,
        data_dir=tmp_path,
        worker_in_process=False,
    )
    app = create_app(settings, db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDR, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(app, client, db_url)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: Signing key of the apps the tests serve (test databases only).
TEST_SIGNING_KEY = "integration-test-signing-key-" + "k" * 32


@contextmanager
def serve_app(db_url: str, data_dir: Path, **settings: Any) -> Iterator[str]:
    """The real app on ``db_url`` under uvicorn in a thread, without the in-process worker; yields
    its base URL. ``settings`` override the test defaults."""
    values: dict[str, Any] = {
        "secret_key": TEST_SIGNING_KEY,
        "database_url": db_url,
        "data_dir": data_dir,
        "worker_in_process": False,
        **settings,
    }
    with serve_in_thread(create_app(Settings(**values), db_url)) as url:
        yield url


@contextmanager
def serve_in_thread(app: Any, *, start_timeout_s: float = 60.0) -> Iterator[str]:
    """Run ``app`` under a real uvicorn server on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("uvicorn did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
