"""The questionnaire contract against the real app and database: instruments, answering, bad answers
(422 naming each item, nothing stored), reads and their audit, who may read whom, due list anchored on
a medicine session, protocols, and change per session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .conftest import World


def count(world: World, table: str) -> int:
    return int(world.api.sql(f"SELECT count(*) AS n FROM {table}")[0]["n"])


async def test_instruments_list_their_items_options_licence_and_source(world: World) -> None:
    r = await world.api.client.get("/v1/instruments", headers=world.patient.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [i["id"] for i in body] == ["phq9", "gad7", "pcl5"]
    phq9 = body[0]
    assert phq9["max_total"] == 27 and len(phq9["items"]) == 9
    assert phq9["items"][8]["text"].startswith("Thoughts that you would be better off dead")
    assert phq9["items"][0]["options"] == [
        {"value": 0, "label": "Not at all"},
        {"value": 1, "label": "Several days"},
        {"value": 2, "label": "More than half the days"},
        {"value": 3, "label": "Nearly every day"},
    ]
    assert "No permission required" in phq9["licence"] and "Kroenke" in phq9["source"]
    assert body[2]["max_total"] == 80 and "Public domain" in body[2]["licence"]
    r = await world.api.client.get("/v1/instruments/gad7", headers=world.researcher.headers)
    assert r.status_code == 200 and r.json()["bands"][-1] == {
        "min": 15,
        "max": 21,
        "label": "severe",
    }
    assert (
        await world.api.client.get("/v1/instruments/nope", headers=world.patient.headers)
    ).status_code == 404
    assert (await world.api.client.get("/v1/instruments")).status_code == 401


async def test_patient_answers_and_reads_back(world: World) -> None:
    r = await world.answer(world.patient, "phq9", [1, 2, 1, 2, 1, 1, 2, 1, 0])
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["total"] == 11 and created["severity"] == "moderate"
    assert created["safety_alert"] is False and created["crisis_message"] is None
    assert created["source"] == "patient"
    r = await world.answer(world.patient, "pcl5", [2] * 20)
    assert r.json()["subscales"] == {"B": 10, "C": 4, "D": 14, "E": 12}
    r = await world.api.client.get(
        f"/v1/patients/{world.patient_id}/responses",
        params={"instrument": "phq9"},
        headers=world.therapist.headers,
    )
    assert r.status_code == 200
    [one] = r.json()
    assert one["answers"] == [1, 2, 1, 2, 1, 1, 2, 1, 0] and one["id"] == created["id"]
    r = await world.api.client.get(
        f"/v1/patients/{world.patient_id}/responses/{created['id']}", headers=world.patient.headers
    )
    assert r.status_code == 200 and r.json()["total"] == 11
    reads = world.api.audit_rows(
        actor_id=world.therapist.id,
        action="read",
        resource="GET /v1/patients/{patient_id}/responses",
    )
    assert [a["patient_id"] for a in reads] == [world.patient_id]
    created_rows = world.api.audit_rows(actor_id=world.patient.id, action="create")
    assert {a["detail"]["instrument"] for a in created_rows} == {"phq9", "pcl5"}


async def test_therapist_enters_answers_given_in_clinic(world: World) -> None:
    at = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    r = await world.answer(world.therapist, "gad7", [3, 3, 2, 2, 1, 1, 0], at=at.isoformat())
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "clinic" and r.json()["total"] == 12
    assert datetime.fromisoformat(r.json()["at"]) == at
    # a patient's answers are always dated now
    r = await world.answer(world.patient, "gad7", [0] * 7, at=at.isoformat())
    assert r.status_code == 422 and r.json()["error"]["fields"]["errors"][0]["loc"] == [
        "body",
        "at",
    ]


@pytest.mark.parametrize(
    ("answers", "bad"),
    [
        ([0] * 8, [["body", "answers"]]),
        ([0] * 10, [["body", "answers"]]),
        (
            [0, 4, 0, 0, -1, 0, 0, 0, 9],
            [["body", "answers", 1], ["body", "answers", 4], ["body", "answers", 8]],
        ),
        ([0, "2", 0, 0, 0, 0, 0, 0, 1.5], [["body", "answers", 1], ["body", "answers", 8]]),
        ([0, True, 0, 0, 0, 0, 0, 0, None], [["body", "answers", 1], ["body", "answers", 8]]),
    ],
)
async def test_bad_answers_are_422_naming_each_item_and_store_nothing(
    world: World, answers: list[object], bad: list[list[object]]
) -> None:
    r = await world.answer(world.patient, "phq9", answers)
    assert r.status_code == 422, r.text
    errors = r.json()["error"]["fields"]["errors"]
    assert [e["loc"] for e in errors] == bad
    assert count(world, "questionnaire_responses") == 0
    assert count(world, "safety_alerts") == 0 and count(world, "mail_outbox") == 0


async def test_unknown_instrument_is_422(world: World) -> None:
    r = await world.answer(world.patient, "bdi2", [0] * 21)
    assert r.status_code == 422 and "phq9" in r.text


async def test_a_patient_cannot_read_or_answer_for_another(world: World) -> None:
    r = await world.answer(world.patient, "phq9", [0] * 9)
    assert r.status_code == 201
    response_id = r.json()["id"]
    for path in (
        "responses",
        f"responses/{response_id}",
        "questionnaires/due",
        "questionnaires/change",
        "safety-alerts",
    ):
        r = await world.api.client.get(
            f"/v1/patients/{world.patient_id}/{path}", headers=world.other_patient.headers
        )
        assert r.status_code == 404, (path, r.text)
        assert "Robin" not in r.text
        r = await world.api.client.get(
            f"/v1/patients/{world.patient_id}/{path}", headers=world.other_therapist.headers
        )
        assert r.status_code == 404, (path, r.text)
        r = await world.api.client.get(
            f"/v1/patients/{world.patient_id}/{path}", headers=world.researcher.headers
        )
        assert r.status_code == 403, (path, r.text)
    r = await world.answer(world.other_patient, "phq9", [0] * 9)
    assert r.status_code == 404
    assert count(world, "questionnaire_responses") == 1
    denied = world.api.audit_rows(actor_id=world.other_patient.id, action="denied")
    assert denied and all(a["patient_id"] == world.patient_id for a in denied)


async def test_due_list_follows_the_medicine_session(world: World) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    today = datetime.now(berlin).date()
    started = datetime.combine(
        today - timedelta(days=1), datetime.min.time(), tzinfo=berlin
    ) + timedelta(hours=10)
    base = f"/v1/patients/{world.patient_id}"
    r = await world.api.client.get(f"{base}/questionnaires/due", headers=world.patient.headers)
    assert r.status_code == 200
    assert {(d["instrument"], d["state"]) for d in r.json()} == {
        ("phq9", "due"),
        ("gad7", "due"),
        ("pcl5", "due"),
    }
    assert all("none recorded yet" in d["reason"] for d in r.json())
    session_id = await world.medicine_session(started)
    due = (
        await world.api.client.get(f"{base}/questionnaires/due", headers=world.patient.headers)
    ).json()
    day1 = [d for d in due if d["label"] == "day 1"]
    assert {d["instrument"] for d in day1} == {"phq9", "gad7"}
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=berlin)
    assert all(datetime.fromisoformat(d["due_at"]) == midnight for d in day1)
    assert all(d["state"] == "due" and d["session_id"] == session_id for d in day1)
    # the therapist moves the session three days back (4 days ago): day 1 is missed, day 2–3 overdue
    r = await world.api.client.patch(
        f"{base}/sessions/{session_id}",
        json={"started_at": (started - timedelta(days=3)).isoformat()},
        headers=world.therapist.headers,
    )
    assert r.status_code == 200
    due = (
        await world.api.client.get(f"{base}/questionnaires/due", headers=world.patient.headers)
    ).json()
    assert {d["label"] for d in due} == {"day 2–3"}
    assert all(d["state"] == "overdue" for d in due)
    r = await world.answer(world.patient, "phq9", [1] * 9)
    due = (
        await world.api.client.get(f"{base}/questionnaires/due", headers=world.patient.headers)
    ).json()
    phq = [d for d in due if d["instrument"] == "phq9"]
    assert [(d["label"], d["state"], d["response_id"]) for d in phq] == [
        ("day 2–3", "done", r.json()["id"])
    ]
    # the therapist's list shows what is due
    r = await world.api.client.get("/v1/patients", headers=world.therapist.headers)
    me = next(p for p in r.json() if p["id"] == str(world.patient_id))
    assert me["questionnaires_overdue"] == 1 and me["questionnaires_due"] == 0


async def test_therapist_changes_the_protocol(world: World) -> None:
    base = f"/v1/patients/{world.patient_id}/questionnaires/protocol"
    r = await world.api.client.get(base, headers=world.patient.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["template"] == "standard" and body["customized"] is False
    assert [t["id"] for t in body["templates"]] == ["standard"]
    protocol = body["protocol"]
    protocol["instruments"] = ["phq9"]
    protocol["baseline"] = {"instruments": ["phq9"], "window_days": 14}
    protocol["monthly"] = None
    r = await world.api.client.put(
        base, json={"template": "standard", "protocol": protocol}, headers=world.patient.headers
    )
    assert r.status_code == 403
    r = await world.api.client.put(
        base, json={"template": "standard", "protocol": protocol}, headers=world.therapist.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["customized"] is True and r.json()["protocol"]["monthly"] is None
    due = (
        await world.api.client.get(
            f"/v1/patients/{world.patient_id}/questionnaires/due", headers=world.patient.headers
        )
    ).json()
    assert {d["instrument"] for d in due} == {"phq9"}
    bad = {**protocol, "instruments": ["phq9", "beck"]}
    r = await world.api.client.put(
        base, json={"template": "standard", "protocol": bad}, headers=world.therapist.headers
    )
    assert r.status_code == 422 and "beck" in r.text
    r = await world.api.client.put(
        base, json={"template": "standard"}, headers=world.therapist.headers
    )
    assert r.status_code == 200 and r.json()["customized"] is False
    assert world.api.audit_rows(
        actor_id=world.therapist.id,
        resource="PUT /v1/patients/{patient_id}/questionnaires/protocol",
        action="write",
    )


async def test_change_shows_response_and_remission_per_session(world: World) -> None:
    now = datetime.now(UTC)
    session = now - timedelta(days=8)
    base = f"/v1/patients/{world.patient_id}"
    session_id = await world.medicine_session(session)
    r = await world.answer(
        world.therapist,
        "phq9",
        [3, 3, 2, 2, 2, 2, 2, 2, 0],
        at=(session - timedelta(days=2)).isoformat(),
    )
    assert r.json()["total"] == 18
    r = await world.answer(world.patient, "phq9", [1, 1, 1, 0, 0, 0, 0, 1, 0])
    assert r.json()["total"] == 4
    r = await world.api.client.get(f"{base}/questionnaires/change", headers=world.therapist.headers)
    assert r.status_code == 200
    [item] = r.json()
    assert item["session_id"] == session_id
    phq9 = next(i for i in item["instruments"] if i["instrument"] == "phq9")
    assert phq9["baseline"]["total"] == 18 and phq9["baseline"]["source"] == "treatment_baseline"
    assert phq9["pre_session"]["total"] == 18
    latest = phq9["latest"]
    assert latest["score"]["total"] == 4 and latest["change"] == -14
    assert latest["response"] is True and latest["remission"] is True
    assert latest["change_pct"] == pytest.approx(-77.78, abs=0.01)
