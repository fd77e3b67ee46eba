"""Patients, patient logins, consent, sessions, journal, devices, audit, and the HTTP hardening."""

from __future__ import annotations

import hashlib
import re
import uuid

from ..conftest import PASSWORD, Api


async def test_patients_get_random_pseudonyms_and_belong_to_their_therapist(api: Api) -> None:
    therapist = await api.account("therapist")
    other = await api.account("therapist")
    ids = [await api.patient(therapist, name=f"P{i}") for i in range(3)]
    listed = (await api.client.get("/v1/patients", headers=therapist.headers)).json()
    assert [p["id"] for p in listed] == [str(i) for i in ids]
    pseudonyms = {p["pseudonym"] for p in listed}
    assert len(pseudonyms) == 3
    assert all(re.fullmatch(r"ST-[A-HJ-NP-Z2-9]{8}", p) for p in pseudonyms)
    assert (await api.client.get("/v1/patients", headers=other.headers)).json() == []
    # each listed patient is audited as read
    assert len(api.audit_rows(actor_id=therapist.id, resource="GET /v1/patients")) == 3
    bad = await api.client.post(
        "/v1/patients",
        json={"display_name": "X", "timezone": "Mars/Olympus"},
        headers=therapist.headers,
    )
    assert bad.status_code == 422


async def test_patient_login_sees_only_themself_and_updates_consent(api: Api) -> None:
    therapist = await api.account("therapist")
    patient_id = await api.patient(therapist, name="Sam")
    other_id = await api.patient(therapist, name="Kim")
    r = await api.client.post(
        f"/v1/patients/{patient_id}/account",
        json={"email": "sam@example.org", "password": PASSWORD},
        headers=therapist.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "patient" and r.json()["patient_id"] == str(patient_id)
    again = await api.client.post(
        f"/v1/patients/{patient_id}/account",
        json={"email": "sam2@example.org", "password": PASSWORD},
        headers=therapist.headers,
    )
    assert again.status_code == 409
    sam = await api.login("sam@example.org")
    listed = (await api.client.get("/v1/patients", headers=sam)).json()
    assert [p["id"] for p in listed] == [str(patient_id)]
    assert (await api.client.get(f"/v1/patients/{other_id}", headers=sam)).status_code == 404

    url = f"/v1/patients/{patient_id}/consent"
    assert (
        await api.client.put(url, json={"research": True}, headers=therapist.headers)
    ).status_code == 403
    r = await api.client.put(url, json={"research": True, "journal_text": True}, headers=sam)
    assert r.status_code == 200 and r.json()["research"] and r.json()["journal_text"]
    r = await api.client.put(url, json={"research": True}, headers=sam)
    assert r.json()["journal_text"] is True  # omitted: unchanged
    r = await api.client.put(url, json={"research": False}, headers=sam)
    assert r.json() == {**r.json(), "research": False, "journal_text": False}
    stored = api.sql(
        "SELECT research_consent, consent_updated_at FROM patients WHERE id = %(i)s",
        {"i": patient_id},
    )
    assert stored[0]["research_consent"] is False and stored[0]["consent_updated_at"] is not None


async def test_sessions_crud_and_validation(api: Api) -> None:
    therapist = await api.account("therapist")
    patient_id = await api.patient(therapist)
    base = f"/v1/patients/{patient_id}/sessions"
    h = therapist.headers
    r = await api.client.post(
        base,
        json={
            "kind": "medicine",
            "started_at": "2026-03-02T10:00:00+01:00",
            "medicine": "ketamine",
            "route": "im",
            "dose": 0.5,
            "dose_unit": "mg/kg",
            "setting": " clinic room, eyeshades and music ",
            "note": "first",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    session = r.json()
    assert session["started_at"] == "2026-03-02T09:00:00Z"
    assert (session["medicine"], session["route"], session["dose"], session["dose_unit"]) == (
        "ketamine",
        "im",
        0.5,
        "mg/kg",
    )
    assert session["setting"] == "clinic room, eyeshades and music"
    second = await api.client.post(
        base, json={"kind": "integration", "started_at": "2026-03-05T09:00:00Z"}, headers=h
    )
    assert second.status_code == 201
    sid = session["id"]
    in_range = await api.client.get(
        base, params={"start": "2026-03-04T00:00:00Z", "end": "2026-03-06T00:00:00Z"}, headers=h
    )
    assert [s["kind"] for s in in_range.json()] == ["integration"]
    r = await api.client.patch(
        f"{base}/{sid}", json={"ended_at": "2026-03-02T12:00:00Z", "note": None}, headers=h
    )
    assert r.status_code == 200 and r.json()["ended_at"] == "2026-03-02T12:00:00Z"
    assert r.json()["note"] is None and r.json()["kind"] == "medicine"
    bad_patch = await api.client.patch(
        f"{base}/{sid}", json={"started_at": "2026-03-03T00:00:00Z"}, headers=h
    )
    assert bad_patch.status_code == 422  # would end before it starts
    assert (
        await api.client.patch(f"{base}/{sid}", json={"kind": None}, headers=h)
    ).status_code == 422
    r = await api.client.put(
        f"{base}/{sid}", json={"kind": "other", "started_at": "2026-03-02T08:00:00Z"}, headers=h
    )
    assert r.status_code == 200 and r.json()["ended_at"] is None and r.json()["kind"] == "other"
    assert r.json()["medicine"] is None and r.json()["setting"] is None
    at = "2026-03-02T08:00:00Z"
    medicine = {
        "kind": "medicine",
        "started_at": at,
        "medicine": "esketamine",
        "route": "intranasal",
    }
    for bad, field, message in (
        ({"kind": "party", "started_at": at}, "kind", None),
        ({"kind": "other", "started_at": "2026-03-02T08:00:00"}, "started_at", "UTC offset"),
        ({"kind": "other", "started_at": "1969-12-31T00:00:00+14:00"}, "started_at", "1970"),
        ({"kind": "other", "started_at": "0001-01-01T00:00:00+14:00"}, "started_at", "1970"),
        ({"kind": "other", "started_at": at, "note": "a\u0000b"}, "note", "ordinary text"),
        (
            {"kind": "other", "started_at": at, "ended_at": "2026-03-01T08:00:00Z"},
            "ended_at",
            "The end must be after the start.",
        ),
        ({"kind": "medicine", "started_at": at}, "medicine", "Choose a medicine."),
        ({**medicine, "route": "rectal"}, "route", "Choose one of: Intravenous (IV)"),
        ({**medicine, "dose": 56}, "dose_unit", "Choose the unit of the dose."),
        ({**medicine, "dose": 0, "dose_unit": "mg"}, "dose", "Enter a number above 0"),
        ({"kind": "integration", "started_at": at, "medicine": "ketamine"}, "medicine", "Only"),
    ):
        r = await api.client.post(base, json=bad, headers=h)
        assert r.status_code == 422, bad
        if message is not None:
            errors = r.json()["error"]["fields"]["errors"]
            assert any(e["loc"][-1] == field and message in e["msg"] for e in errors), errors
    assert (await api.client.delete(f"{base}/{sid}", headers=h)).status_code == 204
    assert (await api.client.get(f"{base}/{sid}", headers=h)).status_code == 404
    assert (await api.client.delete(f"{base}/{sid}", headers=h)).status_code == 404
    assert len((await api.client.get(base, headers=h)).json()) == 1


async def test_journal_crud_and_validation(api: Api) -> None:
    therapist = await api.account("therapist")
    patient_id = await api.patient(therapist)
    patient = await api.account("patient", patient_id=patient_id)
    base = f"/v1/patients/{patient_id}/journal"
    r = await api.client.post(
        base,
        json={"at": "2026-03-03T07:30:00Z", "text": "slept well", "tags": ["sleep"], "mood": 7},
        headers=patient.headers,
    )
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    assert r.json()["body"] is None and r.json()["tags"] == ["sleep"]
    r = await api.client.patch(
        f"{base}/{eid}", json={"body": 4, "mood": None}, headers=therapist.headers
    )
    assert r.status_code == 200 and r.json()["body"] == 4 and r.json()["mood"] is None
    assert r.json()["text"] == "slept well"
    r = await api.client.put(
        f"{base}/{eid}", json={"at": "2026-03-03T08:00:00Z"}, headers=patient.headers
    )
    assert r.json()["text"] == "" and r.json()["tags"] == [] and r.json()["body"] is None
    for bad in (
        {"at": "2026-03-03T07:30:00Z", "mood": 11},
        {"at": "2026-03-03T07:30:00Z", "body": -1},
        {"at": "2026-03-03T07:30:00Z", "tags": ["t"] * 33},
        {"at": "2026-03-03T07:30:00Z", "tags": [""]},
        {"text": "no time"},
    ):
        assert (
            await api.client.post(base, json=bad, headers=patient.headers)
        ).status_code == 422, bad
    assert (
        await api.client.patch(f"{base}/{eid}", json={"tags": None}, headers=patient.headers)
    ).status_code == 422
    listed = await api.client.get(base, headers=therapist.headers)
    assert [e["id"] for e in listed.json()] == [eid]
    assert (await api.client.delete(f"{base}/{eid}", headers=patient.headers)).status_code == 204
    assert (await api.client.get(base, headers=therapist.headers)).json() == []


async def test_records_of_one_patient_cannot_be_reached_through_another(api: Api) -> None:
    therapist = await api.account("therapist")
    mine = await api.patient(therapist)
    theirs_therapist = await api.account("therapist")
    theirs = await api.patient(theirs_therapist)
    r = await api.client.post(
        f"/v1/patients/{theirs}/sessions",
        json={
            "kind": "medicine",
            "started_at": "2026-03-02T10:00:00Z",
            "medicine": "ketamine",
            "route": "iv",
        },
        headers=theirs_therapist.headers,
    )
    sid = r.json()["id"]
    # the therapist of `mine` addresses `theirs`'s session through their own patient's path
    for method in ("GET", "DELETE"):
        r = await api.client.request(
            method, f"/v1/patients/{mine}/sessions/{sid}", headers=therapist.headers
        )
        assert r.status_code == 404
    r = await api.client.patch(
        f"/v1/patients/{mine}/sessions/{sid}", json={"note": "x"}, headers=therapist.headers
    )
    assert r.status_code == 404
    stored = api.sql("SELECT patient_id, note FROM sessions WHERE id = %(i)s", {"i": sid})
    assert stored == [{"patient_id": theirs, "note": None}]


async def test_device_tokens_are_shown_once_stored_hashed_and_revocable(api: Api) -> None:
    therapist = await api.account("therapist")
    patient_id = await api.patient(therapist)
    patient = await api.account("patient", patient_id=patient_id)
    r = await api.client.post(
        f"/v1/patients/{patient_id}/devices", json={"label": "H10"}, headers=patient.headers
    )
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    device_id = r.json()["device_id"]
    assert re.fullmatch(r"stdev_[A-Za-z0-9_-]{43}", token)
    stored = api.sql("SELECT token_hash FROM devices WHERE id = %(i)s", {"i": device_id})
    assert bytes(stored[0]["token_hash"]) == hashlib.sha256(token.encode()).digest()
    dump = str(api.sql("SELECT * FROM devices")) + str(api.sql("SELECT * FROM audit_log"))
    assert token not in dump and token[6:] not in dump
    listed = await api.client.get(f"/v1/patients/{patient_id}/devices", headers=therapist.headers)
    assert listed.status_code == 200 and token not in listed.text
    assert listed.json()[0]["label"] == "H10" and listed.json()[0]["revoked_at"] is None
    # no body at all is fine too
    unlabeled = await api.client.post(
        f"/v1/patients/{patient_id}/devices", headers=therapist.headers
    )
    assert unlabeled.status_code == 201 and unlabeled.json()["label"] is None

    batch = {
        "batch_id": str(uuid.uuid4()),
        "beats": [{"t_ms": 1_767_000_000_000, "rr_ticks": 1000}],
    }
    ok = await api.client.post(
        "/v1/ingest/beats", json=batch, headers={"Authorization": f"Bearer {token}"}
    )
    assert ok.status_code == 200, ok.text
    stranger = await api.account("therapist")
    assert (
        await api.client.delete(f"/v1/devices/{device_id}", headers=stranger.headers)
    ).status_code == 404
    assert (
        await api.client.delete(f"/v1/devices/{device_id}", headers=therapist.headers)
    ).status_code == 204
    assert (
        await api.client.delete(f"/v1/devices/{device_id}", headers=therapist.headers)
    ).status_code == 204
    batch["batch_id"] = str(uuid.uuid4())
    revoked = await api.client.post(
        "/v1/ingest/beats", json=batch, headers={"Authorization": f"Bearer {token}"}
    )
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["error"]["message"]
    unknown = await api.client.post(
        "/v1/ingest/beats", json=batch, headers={"Authorization": "Bearer stdev_" + "A" * 43}
    )
    assert unknown.status_code == 401


async def test_audit_lists_patient_data_access_with_filters(api: Api) -> None:
    admin = await api.account("admin")
    therapist = await api.account("therapist")
    a = await api.patient(therapist)
    b = await api.patient(therapist)
    await api.client.get(f"/v1/patients/{a}/sessions", headers=therapist.headers)
    await api.client.get(f"/v1/patients/{b}/journal", headers=therapist.headers)
    r = await api.client.get("/v1/audit", params={"patient_id": str(a)}, headers=admin.headers)
    assert r.status_code == 200
    rows = r.json()
    assert {row["patient_id"] for row in rows} == {str(a)}
    read = [row for row in rows if row["resource"] == "GET /v1/patients/{patient_id}/sessions"]
    assert len(read) == 1
    assert read[0]["actor_id"] == str(therapist.id) and read[0]["actor_role"] == "therapist"
    assert read[0]["action"] == "read" and read[0]["client_addr"] == "203.0.113.7"
    limited = await api.client.get("/v1/audit", params={"limit": 1}, headers=admin.headers)
    assert len(limited.json()) == 1
    assert limited.json()[0]["resource"] == "GET /v1/patients/{patient_id}/journal"  # newest first
    later = await api.client.get(
        "/v1/audit", params={"since": "2099-01-01T00:00:00Z"}, headers=admin.headers
    )
    assert later.json() == []
    assert (await api.client.get("/v1/audit", headers=therapist.headers)).status_code == 403
    assert (
        await api.client.get("/v1/audit", params={"limit": 0}, headers=admin.headers)
    ).status_code == 422
    # a page cursor past the id column's range is a 422, not a database error (500)
    past = await api.client.get("/v1/audit", params={"before_id": 2**64}, headers=admin.headers)
    assert past.status_code == 422 and "before_id" in past.text


async def test_security_headers_body_limit_and_no_cors(api: Api) -> None:
    therapist = await api.account("therapist")
    r = await api.client.get("/v1/patients", headers=therapist.headers)
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    huge = await api.client.post(
        "/v1/patients",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={**therapist.headers, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    assert huge.headers["X-Frame-Options"] == "DENY"
    assert api.sql("SELECT count(*) AS n FROM patients") == [{"n": 0}]
    preflight = await api.client.options(
        "/v1/patients",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    r = await api.client.get(
        "/v1/patients", headers={**therapist.headers, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in r.headers
