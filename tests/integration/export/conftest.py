"""A small research world for export tests: real app, real database, beats through real ingest, real worker.

Patients: ALPHA (research + journal-text consent), BETA (research consent only), GAMMA (no consent).
"""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
import pytest_asyncio
from psycopg.rows import dict_row

from analysis.simulate import simulate_rr
from api.app import create_app
from api.auth.passwords import hash_password
from api.settings import Settings
from api.worker.runner import run_until_idle

from ...conftest import fresh_database

PASSWORD = "export test password"
#: Recording start: a 5-minute boundary, so clock-aligned windows and file-aligned windows coincide.
RECORDING_START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
RECORDING_S = 40 * 60
SECRET_NAME = "Gamma Nonconsenting"


@dataclass
class PatientData:
    id: uuid.UUID
    pseudonym: str
    t_ms: np.ndarray
    rr_ticks: np.ndarray
    journal_text: str


@dataclass
class World:
    client: httpx.AsyncClient
    db_url: str
    app: Any
    researcher: dict[str, str]
    therapist: dict[str, str]
    patient_headers: dict[str, str]
    patients: dict[str, PatientData] = field(default_factory=dict)
    secret_name: str = SECRET_NAME
    recording_start: datetime = RECORDING_START

    def sql(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with psycopg.connect(self.db_url, autocommit=True, row_factory=dict_row) as conn:
            cur = conn.execute(query, params or {})  # type: ignore[arg-type]
            return cur.fetchall() if cur.description is not None else []

    async def export(
        self, fmt: str, *, headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        query = {
            "format": fmt,
            "start": (RECORDING_START - timedelta(days=30)).isoformat(),
            "end": (RECORDING_START + timedelta(days=30)).isoformat(),
            **params,
        }
        return await self.client.get(
            "/v1/exports", params=query, headers=self.researcher if headers is None else headers
        )

    async def export_zip(self, fmt: str, **params: Any) -> zipfile.ZipFile:
        response = await self.export(fmt, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        return zipfile.ZipFile(io.BytesIO(response.content))


async def _login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    r = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _beats(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rr_ms = simulate_rr(RECORDING_S, seed=seed)
    ticks = np.round(rr_ms * 1024 / 1000).astype(np.int64)
    ticks = ticks[(ticks > 300) & (ticks < 2400)]
    start_ms = int(RECORDING_START.timestamp() * 1000)
    t_ms = start_ms + np.round(np.cumsum(ticks * 1000 / 1024)).astype(np.int64)
    return t_ms, ticks


async def _ingest(
    client: httpx.AsyncClient, token: str, t_ms: np.ndarray, ticks: np.ndarray
) -> None:
    for a in range(0, t_ms.size, 5000):
        body = {
            "batch_id": str(uuid.uuid4()),
            "beats": [
                {"t_ms": int(t), "rr_ticks": int(k)}
                for t, k in zip(t_ms[a : a + 5000], ticks[a : a + 5000], strict=True)
            ],
            "gaps": [],
            "strap": {
                "address": "AA:BB:CC:DD:EE:FF",
                "name": "Polar H10 1234",
                "model": "H10",
                "firmware": "5.0",
                "battery_pct": 90,
            },
        }
        r = await client.post(
            "/v1/ingest/beats", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def export_db_url(pg_admin_url: str) -> Iterator[str]:
    """One migrated database for the whole module (building the world takes a while)."""
    with fresh_database(pg_admin_url, "somatrace_export", migrated=True) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    export_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    db_url = export_db_url
    tmp_path = tmp_path_factory.mktemp("export")
    settings = Settings(
        secret_key="export-test-signing-key-" + "x" * 32,
        database_url=db_url,
        data_dir=tmp_path,
        worker_in_process=False,
        _env_file=None,
    )
    app = create_app(settings, db_url)
    pw = hash_password(PASSWORD)
    with psycopg.connect(db_url, autocommit=True) as conn:
        for email, role in (
            ("researcher@example.org", "researcher"),
            ("therapist@example.org", "therapist"),
        ):
            conn.execute(
                "INSERT INTO users (email, password_hash, role) VALUES (%s, %s, %s)",
                (email, pw, role),
            )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 41000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=120
        ) as client:
            researcher = await _login(client, "researcher@example.org")
            therapist = await _login(client, "therapist@example.org")
            w = World(client, db_url, app, researcher, therapist, {})
            for seed, (label, name, research, journal_text) in enumerate(
                (
                    ("ALPHA", "Alpha Person", True, True),
                    ("BETA", "Beta Person", True, False),
                    ("GAMMA", SECRET_NAME, False, False),
                ),
                start=11,
            ):
                r = await client.post(
                    "/v1/patients",
                    json={"display_name": name, "timezone": "Europe/Berlin"},
                    headers=therapist,
                )
                assert r.status_code == 201, r.text
                pid = uuid.UUID(r.json()["id"])
                # exports name patients by their research pseudonym, which no clinic route returns
                with psycopg.connect(db_url, autocommit=True) as conn:
                    row = conn.execute(
                        "SELECT pseudonym FROM research_pseudonyms WHERE patient_id = %s", (pid,)
                    ).fetchone()
                assert row is not None and row[0] != r.json()["pseudonym"]
                pseudonym = str(row[0])
                email = f"{label.lower()}@example.org"
                r = await client.post(
                    f"/v1/patients/{pid}/account",
                    json={"email": email, "password": PASSWORD},
                    headers=therapist,
                )
                assert r.status_code in (200, 201), r.text
                headers = await _login(client, email)
                if label == "ALPHA":
                    w.patient_headers = headers
                r = await client.put(
                    f"/v1/patients/{pid}/consent",
                    json={"research": research, "journal_text": journal_text},
                    headers=headers,
                )
                assert r.status_code == 200, r.text
                r = await client.post(
                    f"/v1/patients/{pid}/devices", json={"label": "strap"}, headers=therapist
                )
                assert r.status_code in (200, 201), r.text
                t_ms, ticks = _beats(seed)
                await _ingest(client, r.json()["token"], t_ms, ticks)
                for kind, day in (("medicine", -10), ("integration", -8)):
                    r = await client.post(
                        f"/v1/patients/{pid}/sessions",
                        json={
                            "kind": kind,
                            "started_at": (RECORDING_START + timedelta(days=day)).isoformat(),
                            **(
                                {"medicine": "ketamine", "route": "iv"}
                                if kind == "medicine"
                                else {}
                            ),
                        },
                        headers=therapist,
                    )
                    assert r.status_code == 201, r.text
                text = f"felt calm after the walk ({label.lower()} private words)"
                r = await client.post(
                    f"/v1/patients/{pid}/journal",
                    json={
                        "at": (RECORDING_START + timedelta(hours=2)).isoformat(),
                        "text": text,
                        "tags": ["walk", "calm"],
                        "mood": 7,
                        "body": 6,
                    },
                    headers=headers,
                )
                assert r.status_code == 201, r.text
                w.patients[label] = PatientData(pid, pseudonym, t_ms, ticks, text)
            status = await asyncio.to_thread(run_until_idle, db_url)
            assert not status.problems, status.problems
            yield w
