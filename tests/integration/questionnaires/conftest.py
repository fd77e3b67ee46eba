"""Questionnaire test world: the real app on a fresh database, a real SMTP server on loopback
(aiosmtpd), a therapist with a patient who has a login, and a second therapist and patient."""

from __future__ import annotations

import email
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from api.app import create_app
from api.settings import Settings

from ..conftest import CLIENT_ADDR, Account, Api, free_port

CRISIS = "Call the clinic's crisis line 0800 000 000 or your emergency number now."


class Inbox:
    """aiosmtpd handler keeping every delivered message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for rcpt, m in self.messages if address in rcpt]


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free loopback port, running for the test."""
    server = SmtpServer("127.0.0.1", free_port(), Inbox())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def questionnaire_settings(db_url: str, tmp_path: Path, smtp_port: int, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "secret_key": "questionnaire-test-signing-key-" + "q" * 32,
        "database_url": db_url,
        "data_dir": tmp_path,
        "worker_in_process": False,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_from": "somatrace@clinic.example",
        "smtp_starttls": False,
        "smtp_timeout_s": 5,
        "public_url": "https://clinic.example",
        **extra,
    }
    return Settings(_env_file=None, **values)


@dataclass
class World:
    api: Api
    settings: Settings
    therapist: Account
    patient: Account
    other_therapist: Account
    other_patient: Account
    admin: Account
    researcher: Account
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def patient_id(self) -> uuid.UUID:
        assert self.patient.patient_id is not None
        return self.patient.patient_id

    async def medicine_session(self, started: datetime) -> str:
        """The therapist records a ketamine session for the patient; returns its id."""
        r = await self.api.client.post(
            f"/v1/patients/{self.patient_id}/sessions",
            json={
                "kind": "medicine",
                "medicine": "ketamine",
                "route": "im",
                "started_at": started.isoformat(),
            },
            headers=self.therapist.headers,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def answer(
        self, who: Account, instrument: str, answers: list[Any], **more: Any
    ) -> httpx.Response:
        return await self.api.client.post(
            f"/v1/patients/{self.patient_id}/responses",
            json={"instrument": instrument, "answers": answers, **more},
            headers=who.headers,
        )


async def build_world(api: Api, settings: Settings) -> World:
    therapist = await api.account("therapist", email="therapist@clinic.example")
    pid = await api.patient(therapist, "Robin Questionnaire")
    patient = await api.account("patient", patient_id=pid, email="robin@home.example")
    other_therapist = await api.account("therapist")
    other_pid = await api.patient(other_therapist, "Other Person")
    other_patient = await api.account("patient", patient_id=other_pid)
    admin = await api.account("admin", email="admin@clinic.example")
    researcher = await api.account("researcher")
    return World(
        api, settings, therapist, patient, other_therapist, other_patient, admin, researcher
    )


@pytest.fixture
async def world(db_url: str, tmp_path: Path, smtp_server: SmtpServer) -> AsyncIterator[World]:
    settings = questionnaire_settings(db_url, tmp_path, smtp_server.port, crisis_message=CRISIS)
    app = create_app(settings, db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDR, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield await build_world(Api(app, client, db_url), settings)
