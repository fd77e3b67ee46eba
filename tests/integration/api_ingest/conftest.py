"""Ingest test fixtures: a migrated database, patients with device tokens, the app over ASGI."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from api.app import create_app
from api.settings import Settings


@dataclass(frozen=True)
class Device:
    patient_id: uuid.UUID
    device_id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def insert_device(db_url: str, patient_id: uuid.UUID | None = None, *, tz: str = "UTC") -> Device:
    """A patient (new unless given) and an active device of theirs, inserted directly with SQL."""
    token = "stdev_" + secrets.token_urlsafe(32)
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        if patient_id is None:
            row = conn.execute(
                "INSERT INTO patients (pseudonym, display_name, timezone)"
                " VALUES (%s, %s, %s) RETURNING id",
                (f"P-{secrets.token_hex(4).upper()}", "Test patient", tz),
            ).fetchone()
            assert row is not None
            patient_id = row["id"]
        row = conn.execute(
            "INSERT INTO devices (patient_id, token_hash) VALUES (%s, %s) RETURNING id",
            (patient_id, hashlib.sha256(token.encode()).digest()),
        ).fetchone()
        assert row is not None
        return Device(patient_id=patient_id, device_id=row["id"], token=token)


def settings_for(db_url: str, data_dir: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=data_dir, secret_key="t" * 48, db_pool_max=6)


@pytest.fixture
def device(db_url: str) -> Device:
    return insert_device(db_url)


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the app in-process (lifespan run, real pool, real PostgreSQL)."""
    app = create_app(settings_for(db_url, tmp_path), db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def batch(t0_ms: int, rr_ticks: list[int], batch_id: uuid.UUID | None = None) -> dict[str, object]:
    """A batch body whose beat times follow from the RR intervals."""
    beats = []
    t = t0_ms
    for rr in rr_ticks:
        t += round(rr * 1000 / 1024)
        beats.append({"t_ms": t, "rr_ticks": rr})
    return {"batch_id": str(batch_id or uuid.uuid4()), "beats": beats}
