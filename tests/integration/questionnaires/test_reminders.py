"""Reminders: the patient opts in (and only they can), reminders wait out quiet hours in their own
zone, go out once, carry no health information, and the morning one is skipped after a reading."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.instruments.loader import load_catalog
from api.mail.tasks import scan_reminders
from api.worker.runner import run_worker

from .conftest import SmtpServer, World

BERLIN = ZoneInfo("Europe/Berlin")


def at_local(hour: int, minute: int = 0) -> datetime:
    """Tomorrow at this Berlin time (after the patient was created, whatever the clock says now)."""
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


async def opt_in(world: World, **choices: object) -> dict[str, object]:
    body = {
        "questionnaire_reminders": True,
        "morning_reminders": False,
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        **choices,
    }
    r = await world.api.client.put(
        f"/v1/patients/{world.patient_id}/notifications", json=body, headers=world.patient.headers
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def scan(world: World, now: datetime) -> int:
    return await scan_reminders(world.api.db_url, world.settings, load_catalog(), now)


async def test_only_the_patient_opts_in(world: World) -> None:
    path = f"/v1/patients/{world.patient_id}/notifications"
    r = await world.api.client.get(path, headers=world.therapist.headers)
    assert r.status_code == 200
    assert r.json()["questionnaire_reminders"] is False and r.json()["morning_reminders"] is False
    assert r.json()["has_login"] is True and r.json()["mail_configured"] is True
    assert r.json()["timezone"] == "Europe/Berlin"
    body = {"questionnaire_reminders": True, "morning_reminders": True}
    assert (
        await world.api.client.put(path, json=body, headers=world.therapist.headers)
    ).status_code == 403
    saved = await opt_in(world, morning_reminders=True, morning_at="06:45")
    assert saved["morning_at"] == "06:45" and saved["quiet_end"] == "08:00"
    assert (
        await world.api.client.put(
            path, json={**body, "morning_at": "25:00"}, headers=world.patient.headers
        )
    ).status_code == 422


async def test_questionnaire_reminder_after_quiet_hours_once(
    world: World, smtp_server: SmtpServer
) -> None:
    await opt_in(world)
    assert await scan(world, at_local(7, 30)) == 0  # quiet until 08:00 Berlin time
    assert await scan(world, at_local(9, 0)) == 1  # the baseline is due
    assert await scan(world, at_local(9, 5)) == 0  # once
    await run_worker(world.api.db_url, wait=False, settings=world.settings)
    [message] = smtp_server.inbox.to("robin@home.example")
    text = f"{message['Subject']} {message.get_payload(decode=True).decode()}".lower()
    assert "https://clinic.example/#/me" in text
    for secret in ("robin", "phq", "gad", "pcl", "baseline", "questionnaire", "depress", "score"):
        assert secret not in text, secret
    # answered: nothing left to remind of
    for instrument, n in (("phq9", 9), ("gad7", 7), ("pcl5", 20)):
        assert (await world.answer(world.patient, instrument, [0] * n)).status_code == 201
    assert await scan(world, at_local(12, 0) + timedelta(days=1)) == 0


async def test_morning_reminder_unless_a_reading_was_taken(world: World) -> None:
    await opt_in(world, questionnaire_reminders=False, morning_reminders=True, morning_at="08:15")
    assert await scan(world, at_local(8, 0)) == 0  # before the chosen time
    assert await scan(world, at_local(13, 0)) == 0  # too late for a morning reminder
    assert await scan(world, at_local(8, 20)) == 1
    assert await scan(world, at_local(8, 25)) == 0
    [row] = world.api.sql("SELECT kind, to_address FROM mail_outbox")
    assert row == {"kind": "morning_reminder", "to_address": "robin@home.example"}
    # the next day, with a reading already recorded, no reminder
    tomorrow = at_local(8, 20) + timedelta(days=1)
    device = world.api.sql(
        "INSERT INTO devices (patient_id, token_hash) VALUES (%(p)s, decode(repeat('ab', 32), 'hex')) RETURNING id",
        {"p": world.patient_id},
    )[0]["id"]
    world.api.sql(
        "INSERT INTO beats (patient_id, device_id, t, rr_ticks, rr_ms) VALUES (%(p)s, %(d)s, %(t)s, 1000, 976.5625)",
        {"p": world.patient_id, "d": device, "t": tomorrow - timedelta(minutes=30)},
    )
    assert await scan(world, tomorrow) == 0


async def test_no_reminders_without_opting_in(world: World) -> None:
    assert await scan(world, at_local(10, 0)) == 0
    assert world.api.sql("SELECT * FROM mail_outbox") == []
