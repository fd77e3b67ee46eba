"""A real Somatrace server (uvicorn on loopback) on its own migrated database, with one account of
each role, a patient with a login and a device, for schemathesis to call with real credentials."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from api.auth.passwords import hash_password

from ...conftest import fresh_database
from ..conftest import serve_app

PASSWORD = "schemathesis-password"


@dataclass
class LiveServer:
    base_url: str
    patient_id: uuid.UUID
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


def _seed(base_url: str, db_url: str) -> LiveServer:
    password_hash = hash_password(PASSWORD)
    headers: dict[str, dict[str, str]] = {}
    with psycopg.connect(db_url, autocommit=True) as conn, httpx.Client(base_url=base_url) as http:

        def account(role: str, patient_id: uuid.UUID | None = None) -> dict[str, str]:
            email = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
            conn.execute(
                "INSERT INTO users (email, password_hash, role, patient_id) "
                "VALUES (%s, %s, %s, %s)",
                (email, password_hash, role, patient_id),
            )
            r = http.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
            r.raise_for_status()
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        for role in ("admin", "therapist", "researcher"):
            headers[role] = account(role)
        r = http.post(
            "/v1/patients",
            json={"display_name": "Fuzz Target", "timezone": "Europe/Berlin"},
            headers=headers["therapist"],
        )
        r.raise_for_status()
        patient_id = uuid.UUID(r.json()["id"])
        headers["patient"] = account("patient", patient_id)
        r = http.post(f"/v1/patients/{patient_id}/devices", headers=headers["therapist"])
        r.raise_for_status()
        headers["device"] = {"Authorization": f"Bearer {r.json()['token']}"}
        r = http.post(
            f"/v1/patients/{patient_id}/sessions",
            json={
                "kind": "medicine",
                "started_at": "2026-01-05T10:00:00Z",
                "medicine": "ketamine",
                "route": "iv",
            },
            headers=headers["therapist"],
        )
        r.raise_for_status()
    return LiveServer(base_url=base_url, patient_id=patient_id, headers=headers)


@pytest.fixture(scope="module")
def live_server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """uvicorn serving the real app in a thread, on a database made for this module."""
    with (
        fresh_database(pg_admin_url, "somatrace_schemathesis", migrated=True) as db_url,
        serve_app(db_url, tmp_path_factory.mktemp("schemathesis")) as url,
    ):
        yield _seed(url, db_url)
