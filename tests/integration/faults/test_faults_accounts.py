"""Passwords set through the API follow the strength policy (issue 14 finding 11); research pseudonyms
cannot be linked to a person from anything the clinic or an admin sees (finding 13)."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from ..conftest import Api

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("a@example.org", "aaaaaaaaaa"),
        ("b@example.org", "password12"),
        ("carol@example.org", "{email}"),
        ("dave@example.org", "{local}-example-org"),
    ],
)
async def test_weak_passwords_are_refused_where_accounts_are_made(
    api: Api, email: str, password: str
) -> None:
    admin = await api.account("admin")
    therapist = await api.account("therapist")
    pid = await api.patient(therapist)

    def pw(address: str) -> str:
        return password.format(email=address, local=address.split("@")[0])

    staff = await api.client.post(
        "/v1/users",
        json={"email": email, "password": pw(email), "role": "therapist"},
        headers=admin.headers,
    )
    login = await api.client.post(
        f"/v1/patients/{pid}/account",
        json={"email": "p" + email, "password": pw("p" + email)},
        headers=therapist.headers,
    )
    for r in (staff, login):
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "weak_password"
        assert error["fields"]["errors"][0]["loc"] == ["body", "password"]
    assert not api.sql(
        "SELECT 1 FROM users WHERE email IN (%(a)s, %(b)s)", {"a": email, "b": "p" + email}
    )


async def test_a_strong_password_is_accepted(api: Api) -> None:
    admin = await api.account("admin")
    r = await api.client.post(
        "/v1/users",
        json={
            "email": "erin@example.org",
            "password": "lantern-orbit-47-basil",
            "role": "researcher",
        },
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text


def _visible_text(*responses: object) -> str:
    return "\n".join(str(getattr(r, "text", r)) for r in responses)


async def test_research_pseudonyms_cannot_be_linked_from_clinic_or_admin_pages(api: Api) -> None:
    admin = await api.account("admin")
    therapist = await api.account("therapist")
    researcher = await api.account("researcher")
    patients: list[uuid.UUID] = []
    for i in range(8):
        pid = await api.patient(therapist, name=f"Person {i}")
        patients.append(pid)
        login = await api.client.post(
            f"/v1/patients/{pid}/account",
            json={
                "email": f"person{i}-{uuid.uuid4().hex[:4]}@example.org",
                "password": "maple-drift-93-quartz",
            },
            headers=therapist.headers,
        )
        assert login.status_code == 201, login.text
        patient_headers = await api.login(login.json()["email"], "maple-drift-93-quartz")
        r = await api.client.put(
            f"/v1/patients/{pid}/consent", json={"research": True}, headers=patient_headers
        )
        assert r.status_code == 200, r.text
        r = await api.client.post(
            f"/v1/patients/{pid}/sessions",
            json={
                "kind": "medicine",
                "started_at": T0.isoformat(),
                "medicine": "ketamine",
                "route": "iv",
            },
            headers=therapist.headers,
        )
        assert r.status_code == 201, r.text
        await api.client.post(
            "/v1/assignments",
            json={"therapist_id": str(therapist.id), "patient_id": str(pid)},
            headers=admin.headers,
        )
    export = await api.client.get(
        "/v1/exports",
        params={
            "format": "csv",
            "start": (T0 - timedelta(days=30)).isoformat(),
            "end": (T0 + timedelta(days=30)).isoformat(),
        },
        headers=researcher.headers,
    )
    assert export.status_code == 200, export.text
    with zipfile.ZipFile(io.BytesIO(export.content)) as zf:
        names = [n for n in zf.namelist() if n.endswith("patients.csv")]
        exported = pd.read_csv(io.BytesIO(zf.read(names[0])))["pseudonym"].tolist()
    assert len(exported) == 8

    # everything an admin and the therapist can read about these patients
    seen = [
        await api.client.get("/v1/users", headers=admin.headers),
        await api.client.get("/v1/assignments", headers=admin.headers),
        await api.client.get("/v1/audit", params={"limit": 1000}, headers=admin.headers),
        await api.client.get("/v1/patients", headers=therapist.headers),
    ]
    for pid in patients:
        seen.append(await api.client.get(f"/v1/patients/{pid}", headers=therapist.headers))
        seen.append(await api.client.get(f"/v1/patients/{pid}/consent", headers=therapist.headers))
    assert all(r.status_code == 200 for r in seen)
    text = _visible_text(*seen)
    linked = [p for p in exported if p in text]
    assert linked == [], f"{len(linked)} of 8 research pseudonyms appear on clinic/admin pages"
    # and they are not derived from anything shown there (ids, clinic codes)
    clinic_codes = {p["pseudonym"] for p in seen[3].json()}
    assert not clinic_codes & set(exported)
    for pid in patients:
        assert not any(str(pid).replace("-", "").upper()[:12] in p for p in exported)
