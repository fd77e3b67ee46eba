"""A real HTTP ingest server on 127.0.0.1 implementing the ingest contract with an idempotent
in-memory store, run by uvicorn in a background thread (no mock objects)."""

from __future__ import annotations

import collections
import hashlib
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from api.app import create_app
from api.settings import Settings

TOKEN = "device-token-for-tests"


class BeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    t_ms: int
    rr_ticks: int


class GapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start_ms: int
    end_ms: int


class StrapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str | None
    name: str | None
    model: str | None
    firmware: str | None
    battery_pct: int | None


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_id: str
    beats: list[BeatIn]
    gaps: list[GapIn]
    strap: StrapIn


@dataclass
class IngestStore:
    """Server-side truth: what was stored, and how often each beat arrived in a new batch."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    beats: dict[int, int] = field(default_factory=dict)
    gaps: set[tuple[int, int]] = field(default_factory=set)
    batches: dict[str, int] = field(default_factory=dict)
    receipts: collections.Counter[int] = field(default_factory=collections.Counter)
    attempts: collections.Counter[str] = field(default_factory=collections.Counter)
    straps: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    duplicate_batches: int = 0
    fail_next: list[int] = field(default_factory=list)
    max_beats: int | None = None


def error(status: int, code: str, message: str) -> JSONResponse:
    """The API's error envelope (api/app.py ``error_body``)."""
    body = {"error": {"code": code, "message": message, "fields": {"status": status}}}
    return JSONResponse(body, status_code=status)


def build_app(store: IngestStore) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/ingest/beats")
    def ingest(
        batch: BatchIn, response: Response, authorization: str | None = Header(default=None)
    ) -> Any:
        with store.lock:
            store.requests += 1
            store.attempts[batch.batch_id] += 1
            if authorization != f"Bearer {TOKEN}":
                return error(401, "unauthorized", "invalid device token")
            if store.fail_next:
                status = store.fail_next.pop(0)
                return error(status, "injected", f"injected failure {status}")
            if store.max_beats is not None and len(batch.beats) > store.max_beats:
                return error(413, "too_large", "batch too large")
            if batch.batch_id in store.batches:
                store.duplicate_batches += 1
                return {"batch_id": batch.batch_id, "accepted": 0, "duplicates": len(batch.beats)}
            accepted = duplicates = 0
            for b in batch.beats:
                store.receipts[b.t_ms] += 1
                if b.t_ms in store.beats:
                    duplicates += 1
                else:
                    store.beats[b.t_ms] = b.rr_ticks
                    accepted += 1
            store.gaps.update((g.start_ms, g.end_ms) for g in batch.gaps)
            store.straps.append(batch.strap.model_dump())
            store.batches[batch.batch_id] = accepted
            return {"batch_id": batch.batch_id, "accepted": accepted, "duplicates": duplicates}

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class IngestServer:
    """Start/stop a uvicorn server on a fixed port so tests can take it down and bring it back."""

    def __init__(self) -> None:
        self.store = IngestStore()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            build_app(self.store),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("ingest test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
        self._server = None
        self._thread = None


@pytest.fixture
def ingest_server() -> Iterator[IngestServer]:
    server = IngestServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stopped_ingest_server() -> Iterator[IngestServer]:
    server = IngestServer()
    yield server
    server.stop()


@dataclass(frozen=True)
class Api:
    url: str
    db_url: str
    device_id: uuid.UUID
    token: str


def insert_device(db_url: str) -> tuple[uuid.UUID, str]:
    """A patient and an active device with a fresh token, inserted with SQL."""
    token = "stdev_" + secrets.token_urlsafe(32)
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO patients (pseudonym, display_name, timezone) VALUES (%s, %s, 'UTC')"
            " RETURNING id",
            (f"P-{secrets.token_hex(4).upper()}", "Collector upload test"),
        ).fetchone()
        assert row is not None
        dev = conn.execute(
            "INSERT INTO devices (patient_id, token_hash) VALUES (%s, %s) RETURNING id",
            (row[0], hashlib.sha256(token.encode()).digest()),
        ).fetchone()
        assert dev is not None
        return dev[0], token


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    settings = Settings(
        database_url=db_url, data_dir=tmp_path / "data", secret_key="c" * 48, db_pool_max=4
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, db_url), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("API server did not start")
        time.sleep(0.02)
    device_id, token = insert_device(db_url)
    try:
        yield Api(f"http://127.0.0.1:{port}", db_url, device_id, token)
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def stored(api: Api) -> list[tuple[int, int]]:
    with psycopg.connect(api.db_url) as conn:
        rows = conn.execute(
            "SELECT (extract(epoch FROM t) * 1000)::bigint, rr_ticks FROM beats"
            " WHERE device_id = %s ORDER BY t",
            (api.device_id,),
        ).fetchall()
    return [(int(t), int(r)) for t, r in rows]
