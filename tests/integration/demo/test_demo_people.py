"""The demo's people against the real app and database (``create_people``, no beats): a login for each of
the four roles, research consent (journal text too) from the patients whose spec says so, so the
researcher's cohort lists them by pseudonym only, and questionnaire answers with response and remission
on a session card."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from somatrace.demo.accounts import PATIENTS, all_logins
from somatrace.demo.seed import ApiCaller, create_people, simulate

from ..conftest import Api

pytestmark = pytest.mark.integration

DAYS = 42


async def test_every_role_logs_in_and_consenting_patients_reach_the_cohort(api: Api) -> None:
    now = datetime.now(UTC)
    sims = [simulate(spec, now, days=DAYS) for spec in PATIENTS]
    seeded = await create_people(ApiCaller(api.client), api.db_url, sims, now)

    logins = all_logins()
    assert {login.role for login in logins} == {"admin", "therapist", "researcher", "patient"}
    headers = {login.email: await api.login(login.email, login.password) for login in logins}

    consenting = [p for p in PATIENTS if p.research_consent]
    assert consenting and any(p.journal_consent for p in consenting)
    researcher = next(login for login in logins if login.role == "researcher")
    r = await api.client.get("/v1/cohort", headers=headers[researcher.email])
    assert r.status_code == 200, r.text
    cohort = r.json()
    assert len(cohort) == len(consenting)
    assert sorted(c["journal_text"] for c in cohort) == sorted(
        p.journal_consent for p in consenting
    )
    assert not any(p.display_name in r.text or p.login.email in r.text for p in PATIENTS)

    therapist = next(login for login in logins if login.role == "therapist")
    alex = next(s for s in seeded if s.spec.live)
    assert alex.questionnaires > 10 and sum(s.safety_alerts for s in seeded) >= 1
    r = await api.client.get(
        f"/v1/patients/{alex.patient_id}/questionnaires/change", headers=headers[therapist.email]
    )
    assert r.status_code == 200, r.text
    phq = next(i for i in r.json()[-1]["instruments"] if i["instrument"] == "phq9")
    assert phq["latest"]["response"] is True and phq["latest"]["remission"] is True
    # the listed patient with the open alert comes first
    r = await api.client.get("/v1/patients", headers=headers[therapist.email])
    listed = r.json()
    assert listed[0]["open_safety_alerts"] == 1
