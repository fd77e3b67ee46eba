"""Worker test fixtures: a simulated patient, device, therapist, sessions; the app over ASGI."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pytest
from psycopg.rows import dict_row

from api.app import create_app
from api.auth.tokens import issue_access_token
from api.settings import Settings
from somatrace.demo.story import SimulatedPatient, simulate_patient

SECRET = "w" * 48
#: Six days of night + morning wear, one medicine session on day 4 (baseline days 0-3).
SIM_START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    patient_id: uuid.UUID
    device_token: str
    therapist_token: str
    sim: SimulatedPatient

    @property
    def device_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.device_token}"}

    @property
    def reader_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.therapist_token}"}


@pytest.fixture(scope="module")
def sim() -> SimulatedPatient:
    return simulate_patient(
        seed=11,
        days=6,
        start=SIM_START,
        medicine_days=(4,),
        ln_rmssd_shift_after=(0.2,),
        missing_day_rate=0.0,
    )


def make_world(db_url: str, sim: SimulatedPatient) -> World:
    """Patient, device, assigned therapist and the simulated sessions, inserted with SQL."""
    token = "stdev_" + secrets.token_urlsafe(32)
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        pid = conn.execute(
            "INSERT INTO patients (pseudonym, display_name, timezone)"
            " VALUES (%s, 'Sim', %s) RETURNING id",
            (f"P-{secrets.token_hex(4).upper()}", sim.tz),
        ).fetchone()["id"]  # type: ignore[index]
        conn.execute(
            "INSERT INTO devices (patient_id, token_hash) VALUES (%s, %s)",
            (pid, hashlib.sha256(token.encode()).digest()),
        )
        uid = conn.execute(
            "INSERT INTO users (email, password_hash, role)"
            " VALUES (%s, 'x', 'therapist') RETURNING id",
            (f"t{secrets.token_hex(3)}@example.org",),
        ).fetchone()["id"]  # type: ignore[index]
        conn.execute(
            "INSERT INTO therapist_assignments (therapist_id, patient_id) VALUES (%s, %s)",
            (uid, pid),
        )
        for s in sim.sessions:
            conn.execute(
                "INSERT INTO sessions (patient_id, kind, started_at, ended_at, note)"
                " VALUES (%s, %s, %s, %s, %s)",
                (pid, s.kind, s.started_at, s.ended_at, s.note),
            )
    return World(pid, token, issue_access_token(SECRET, uid, "therapist", 3600), sim)


@pytest.fixture
def world(db_url: str, sim: SimulatedPatient) -> World:
    return make_world(db_url, sim)


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=db_url, data_dir=tmp_path, secret_key=SECRET)
    app = create_app(settings, db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def batches(t_ms: np.ndarray, rr_ticks: np.ndarray, size: int = 5_000) -> list[dict[str, object]]:
    """Consecutive upload batches as a collector would send them."""
    out = []
    for i in range(0, t_ms.size, size):
        beats = [
            {"t_ms": int(t), "rr_ticks": int(r)}
            for t, r in zip(t_ms[i : i + size], rr_ticks[i : i + size], strict=True)
        ]
        out.append({"batch_id": str(uuid.uuid4()), "beats": beats})
    return out
