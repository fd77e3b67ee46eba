"""A real server (uvicorn thread) with SMTP to a real loopback server (aiosmtpd), a therapist, a patient
with a login and a medicine session yesterday; Chromium tabs from the dashboard tests' helpers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from api.app import create_app
from api.auth.passwords import hash_password
from api.settings import Settings
from api.worker.runner import run_worker

from ...conftest import fresh_database
from ..conftest import free_port, serve_in_thread
from ..dashboard_browser.conftest import browser, new_tab  # noqa: F401 - the browser fixture
from ..questionnaires.conftest import Inbox, SmtpServer

PASSWORD = "questionnaire-browser-pass-7"
CRISIS = "Call the clinic's crisis line 0800 111 222 now, or your local emergency number."


@dataclass
class Person:
    email: str
    password: str = PASSWORD


@dataclass
class Clinic:
    base_url: str
    db_url: str
    settings: Settings
    smtp: SmtpServer
    therapist: Person
    patient: Person
    other: Person
    patient_id: uuid.UUID
    other_id: uuid.UUID
    patient_name: str = "Jordan Answers"

    def sql(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with psycopg.connect(self.db_url, autocommit=True, row_factory=dict_row) as conn:
            cur = conn.execute(query, params or {})  # type: ignore[arg-type]
            return cur.fetchall() if cur.description is not None else []

    def run_worker(self) -> None:
        """One pass of the real background worker (mail queue included), as the server's would; in a
        thread of its own, because Playwright's sync API keeps an event loop in this one."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(
                asyncio.run, run_worker(self.db_url, wait=False, settings=self.settings)
            ).result()


def _seed(base_url: str, db_url: str) -> tuple[Person, Person, Person, uuid.UUID, uuid.UUID]:
    tag = uuid.uuid4().hex[:6]
    therapist = Person(f"therapist-{tag}@clinic.example")
    patient = Person(f"jordan-{tag}@home.example")
    other = Person(f"casey-{tag}@home.example")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (email, password_hash, role, display_name) VALUES (%s, %s, 'therapist', %s)",
            (therapist.email, hash_password(PASSWORD), "Dr. Questionnaire"),
        )
    with httpx.Client(base_url=base_url, timeout=60) as http:
        r = http.post("/v1/auth/token", data={"username": therapist.email, "password": PASSWORD})
        r.raise_for_status()
        th = {"Authorization": f"Bearer {r.json()['access_token']}"}
        ids = []
        for name, person in (("Casey Other", other), ("Jordan Answers", patient)):
            r = http.post(
                "/v1/patients", json={"display_name": name, "timezone": "Europe/Berlin"}, headers=th
            )
            r.raise_for_status()
            pid = r.json()["id"]
            r = http.post(
                f"/v1/patients/{pid}/account",
                json={"email": person.email, "password": PASSWORD},
                headers=th,
            )
            assert r.status_code == 201, r.text
            ids.append(uuid.UUID(pid))
        other_id, patient_id = ids
        started = datetime.now(UTC) - timedelta(days=1, hours=2)
        for pid in ids:
            r = http.post(
                f"/v1/patients/{pid}/sessions",
                json={
                    "kind": "medicine",
                    "medicine": "ketamine",
                    "route": "im",
                    "started_at": started.isoformat(),
                },
                headers=th,
            )
            assert r.status_code == 201, r.text
        # a baseline answered in clinic three days before the session
        r = http.post(
            f"/v1/patients/{patient_id}/responses",
            json={
                "instrument": "phq9",
                "answers": [2, 2, 2, 2, 1, 2, 1, 1, 0],
                "at": (started - timedelta(days=3)).isoformat(),
            },
            headers=th,
        )
        assert r.status_code == 201, r.text
    return therapist, patient, other, patient_id, other_id


@pytest.fixture(scope="module")
def clinic(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    smtp = SmtpServer("127.0.0.1", free_port(), Inbox())
    smtp.start()
    try:
        with fresh_database(pg_admin_url, "somatrace_qbrowser", migrated=True) as db_url:
            settings = Settings(
                secret_key="questionnaire-browser-signing-key-" + "b" * 32,
                database_url=db_url,
                data_dir=tmp_path_factory.mktemp("qbrowser"),
                worker_in_process=False,
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_from="somatrace@clinic.example",
                smtp_starttls=False,
                smtp_timeout_s=5,
                public_url="https://clinic.example",
                crisis_message=CRISIS,
                _env_file=None,
            )
            with serve_in_thread(create_app(settings, db_url)) as url:
                therapist, patient, other, pid, oid = _seed(url, db_url)
                yield Clinic(url, db_url, settings, smtp, therapist, patient, other, pid, oid)
    finally:
        smtp.stop()
