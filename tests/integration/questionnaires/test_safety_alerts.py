"""The safety net end to end on the real app, database, worker and a real SMTP server: an item 9
answer raises an alert, shows the crisis message, puts the patient first, e-mails the assigned
therapist without health information, survives a failing mail server, and is acknowledged with an
audited note."""

from __future__ import annotations

import time
from typing import Any

from api.mail.tasks import MAIL_MAX_RETRIES
from api.routes.safety import DEFAULT_CRISIS_MESSAGE, crisis_message
from api.settings import Settings
from api.worker.runner import run_worker

from .conftest import CRISIS, SmtpServer, World

ITEM9 = [0, 1, 0, 1, 0, 0, 0, 0, 1]


def outbox(world: World) -> list[dict[str, Any]]:
    return world.api.sql("SELECT * FROM mail_outbox ORDER BY id")


def mail_jobs(world: World) -> list[dict[str, Any]]:
    return world.api.sql(
        "SELECT id, status::text AS status, attempts, scheduled_at FROM procrastinate_jobs "
        "WHERE queue_name = 'mail' AND task_name = 'somatrace.send_mail' ORDER BY id"
    )


async def work(world: World) -> None:
    await run_worker(world.api.db_url, wait=False, settings=world.settings)


def assert_no_health_information(world: World, text: str) -> None:
    lowered = text.lower()
    for secret in (
        "robin",
        "questionnaire",
        "phq",
        "gad",
        "pcl",
        "item",
        "dead",
        "hurting",
        "safety",
        "alert",
        "suicid",
        "score",
        "total",
        "severe",
        "moderate",
        "mild",
        "minimal",
        "depress",
        "anxi",
    ):
        assert secret not in lowered, secret
    pseudonym = world.api.sql(
        "SELECT pseudonym FROM patients WHERE id = %(p)s", {"p": world.patient_id}
    )[0]["pseudonym"]
    assert pseudonym.lower() not in lowered
    assert str(world.patient_id) not in lowered


async def test_item9_alert_crisis_message_list_mail_and_acknowledgement(
    world: World, smtp_server: SmtpServer
) -> None:
    api = world.api
    later = await api.patient(world.therapist, "Second Patient")
    before = (await api.client.get("/v1/patients", headers=world.therapist.headers)).json()
    assert [p["id"] for p in before] == [str(world.patient_id), str(later)]
    assert all(p["open_safety_alerts"] == 0 for p in before)
    started = time.perf_counter()
    r = await api.client.post(
        f"/v1/patients/{later}/responses",
        json={"instrument": "phq9", "answers": ITEM9},
        headers=world.therapist.headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["safety_alert"] is True and body["crisis_message"] == CRISIS
    assert body["total"] == 3 and body["severity"] == "minimal"  # an alert whatever the total
    assert time.perf_counter() - started < 30  # never waits for mail
    after = (await api.client.get("/v1/patients", headers=world.therapist.headers)).json()
    assert [p["id"] for p in after] == [str(later), str(world.patient_id)]
    assert after[0]["open_safety_alerts"] == 1
    [alert] = (
        await api.client.get(f"/v1/patients/{later}/safety-alerts", headers=world.therapist.headers)
    ).json()
    assert alert["rules"][0]["id"] == "phq9-item9" and alert["acknowledged_at"] is None
    assert (
        api.audit_rows(action="safety_alert", patient_id=later)[0]["detail"]["alert_id"]
        == alert["id"]
    )
    [queued] = outbox(world)
    assert queued["kind"] == "safety_alert" and queued["to_address"] == "therapist@clinic.example"
    assert queued["status"] == "queued"

    await work(world)
    [(rcpt, message)] = [(r, m) for r, m in smtp_server.inbox.messages]
    assert rcpt == ["therapist@clinic.example"]
    assert (
        message["From"] == "somatrace@clinic.example"
        and message["Auto-Submitted"] == "auto-generated"
    )
    text = f"{message['Subject']}\n{message.get_payload(decode=True).decode()}"
    assert "https://clinic.example/#/patients" in text
    assert_no_health_information(world, text)
    assert "second" not in text.lower()
    assert outbox(world)[0]["status"] == "sent"

    ack = f"/v1/patients/{later}/safety-alerts/{alert['id']}/acknowledge"
    other = await api.account("patient", patient_id=later)
    assert (
        await api.client.post(ack, json={"note": "x"}, headers=other.headers)
    ).status_code == 403
    assert (
        await api.client.post(ack, json={"note": "x"}, headers=world.other_therapist.headers)
    ).status_code == 404
    assert (
        await api.client.post(ack, json={"note": "   "}, headers=world.therapist.headers)
    ).status_code == 422
    note = "Called at 14:10; safe, safety plan reviewed, appointment tomorrow."
    r = await api.client.post(ack, json={"note": note}, headers=world.therapist.headers)
    assert r.status_code == 200, r.text
    assert r.json()["note"] == note and r.json()["acknowledged_by"] == str(world.therapist.id)
    [audited] = api.audit_rows(action="acknowledge")
    assert audited["detail"]["note"] == note and audited["detail"]["alert_id"] == alert["id"]
    assert audited["actor_id"] == world.therapist.id and audited["patient_id"] == later
    assert (
        await api.client.post(ack, json={"note": note}, headers=world.therapist.headers)
    ).status_code == 409
    final = (await api.client.get("/v1/patients", headers=world.therapist.headers)).json()
    assert [p["open_safety_alerts"] for p in final] == [0, 0]
    assert [p["id"] for p in final] == [str(world.patient_id), str(later)]


async def test_a_failing_mail_server_never_blocks_or_loses_the_alert(
    world: World, smtp_server: SmtpServer
) -> None:
    api = world.api
    smtp_server.stop()
    r = await world.answer(world.patient, "phq9", ITEM9)
    assert r.status_code == 201 and r.json()["safety_alert"] is True
    await work(world)
    [message] = outbox(world)
    assert message["status"] == "retrying" and message["attempts"] == 1
    assert "cannot send through 127.0.0.1" in message["last_error"]
    [job] = mail_jobs(world)
    assert job["status"] == "todo" and job["attempts"] == 1
    listed = (await api.client.get("/v1/patients", headers=world.therapist.headers)).json()
    assert listed[0]["open_safety_alerts"] == 1
    status = await api.client.get("/v1/mail/status", headers=world.admin.headers)
    assert status.status_code == 200
    assert status.json()["configured"] is True and status.json()["counts"] == {"retrying": 1}
    assert status.json()["failures"][0]["to_address"] == "therapist@clinic.example"
    assert (
        await api.client.get("/v1/mail/status", headers=world.therapist.headers)
    ).status_code == 403

    # the server comes back; the retry (made due now instead of in 8 s) delivers
    smtp_server.start()
    api.sql("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = %(i)s", {"i": job["id"]})
    await work(world)
    assert outbox(world)[0]["status"] == "sent" and outbox(world)[0]["attempts"] == 2
    assert len(smtp_server.inbox.to("therapist@clinic.example")) == 1


async def test_exhausted_retries_are_failed_for_the_admin_who_can_retry(
    world: World, smtp_server: SmtpServer
) -> None:
    api = world.api
    smtp_server.stop()
    await world.answer(world.patient, "phq9", ITEM9)
    [job] = mail_jobs(world)
    api.sql(
        "UPDATE procrastinate_jobs SET attempts = %(n)s WHERE id = %(i)s",
        {"n": MAIL_MAX_RETRIES, "i": job["id"]},
    )
    await work(world)
    [message] = outbox(world)
    assert message["status"] == "failed"
    assert mail_jobs(world)[0]["status"] == "failed"
    status = (await api.client.get("/v1/mail/status", headers=world.admin.headers)).json()
    assert status["counts"] == {"failed": 1} and status["failures"][0]["status"] == "failed"
    # the alert itself is untouched
    assert (await api.client.get("/v1/patients", headers=world.therapist.headers)).json()[0][
        "open_safety_alerts"
    ] == 1
    smtp_server.start()
    r = await api.client.post(f"/v1/mail/outbox/{message['id']}/retry", headers=world.admin.headers)
    assert r.status_code == 202
    assert (
        await api.client.post(f"/v1/mail/outbox/{message['id']}/retry", headers=world.admin.headers)
    ).status_code == 404
    await work(world)
    assert outbox(world)[0]["status"] == "sent"
    assert len(smtp_server.inbox.to("therapist@clinic.example")) == 1


async def test_without_an_assigned_therapist_the_admins_are_told(
    world: World, smtp_server: SmtpServer
) -> None:
    api = world.api
    r = await api.client.delete(
        f"/v1/assignments/{world.therapist.id}/{world.patient_id}", headers=world.admin.headers
    )
    assert r.status_code == 204
    r = await world.answer(world.patient, "phq9", ITEM9)
    assert r.status_code == 201 and r.json()["safety_alert"] is True
    [message] = outbox(world)
    assert message["kind"] == "unassigned_alert" and message["to_address"] == "admin@clinic.example"
    await work(world)
    [mail] = smtp_server.inbox.to("admin@clinic.example")
    assert_no_health_information(world, mail.get_payload(decode=True).decode())


async def test_crisis_message_default_and_public_notice(world: World) -> None:
    assert crisis_message(Settings(_env_file=None)) == DEFAULT_CRISIS_MESSAGE
    assert "emergency" in DEFAULT_CRISIS_MESSAGE and "now" in DEFAULT_CRISIS_MESSAGE
    r = await world.api.client.get("/v1/crisis-message")
    assert r.status_code == 200
    assert r.json()["crisis_message"] == CRISIS
    assert "may not read" in r.json()["reading_notice"]


async def test_no_alert_no_mail_for_item9_zero(world: World) -> None:
    r = await world.answer(world.patient, "phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert r.json()["safety_alert"] is False and r.json()["severity"] == "severe"
    assert outbox(world) == [] and world.api.sql("SELECT * FROM safety_alerts") == []
