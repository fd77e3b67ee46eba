"""The demo's questionnaire step against the real app and database: every planned answer is stored as
the patient's, Alex's session card data shows response and remission, and Robin's older safety alert is
acknowledged with a note while the newest stays open."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from somatrace.demo.accounts import PATIENTS, DemoPatient
from somatrace.demo.questionnaires import ACK_NOTE, SeededQuestionnaires, answer_questionnaires
from somatrace.demo.seed import simulate

from .conftest import World

DAYS = 42


class Caller:
    """The demo's ApiCaller over the test client."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def call(self, method: str, path: str, token: str, json: object | None = None) -> Any:
        r = await self.world.api.client.request(
            method, path, json=json, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.is_success, r.text
        return r.json() if r.content else None


async def seed(world: World, spec: DemoPatient) -> SeededQuestionnaires:
    now = datetime.now(UTC)
    sim = simulate(spec, now, days=DAYS)
    token = world.therapist.headers["Authorization"].split()[1]
    for s in sim.sessions:
        body = s.to_dict()
        if body["kind"] == "medicine":
            body.setdefault("medicine", "ketamine")
            body.setdefault("route", "iv")
        r = await world.api.client.post(
            f"/v1/patients/{world.patient_id}/sessions", json=body, headers=world.therapist.headers
        )
        assert r.status_code == 201, r.text
    return await answer_questionnaires(
        Caller(world),
        world.api.db_url,
        patient_id=world.patient_id,
        spec=spec,
        sim=sim,
        therapist_token=token,
        now=now,
    )


@pytest.mark.parametrize("email", ["alex@demo.somatrace.org", "robin@demo.somatrace.org"])
async def test_demo_step(world: World, email: str) -> None:
    spec = next(p for p in PATIENTS if p.login.email == email)
    seeded = await seed(world, spec)
    stored = world.api.sql("SELECT source, entered_by FROM questionnaire_responses")
    assert len(stored) == seeded.responses > 10
    assert {r["source"] for r in stored} == {"patient"}
    assert {r["entered_by"] for r in stored} == {world.patient.id}
    r = await world.api.client.get(
        f"/v1/patients/{world.patient_id}/questionnaires/change", headers=world.therapist.headers
    )
    changes = r.json()
    assert len(changes) == 2
    due = (
        await world.api.client.get(
            f"/v1/patients/{world.patient_id}/questionnaires/due", headers=world.patient.headers
        )
    ).json()
    assert any(d["state"] in ("due", "overdue") for d in due)  # something left for the visitor
    alerts = (
        await world.api.client.get(
            f"/v1/patients/{world.patient_id}/safety-alerts", headers=world.therapist.headers
        )
    ).json()
    if email.startswith("alex"):
        phq = next(i for i in changes[-1]["instruments"] if i["instrument"] == "phq9")
        assert phq["latest"]["response"] is True and phq["latest"]["remission"] is True
        assert alerts == []
    else:
        assert [a["acknowledged_at"] is None for a in alerts] == [True, False]  # open first
        assert alerts[1]["note"] == ACK_NOTE
        assert len(seeded.alerts) == 2
