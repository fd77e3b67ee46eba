"""E-mail texts carry no health or identifying information, and reminders respect quiet hours in the
patient's own time zone and go out once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.instruments.loader import load_catalog
from api.instruments.schedules import ScheduledPoint
from api.mail import messages
from api.mail.reminders import ReminderChoice, in_quiet_hours, plan, point_key
from api.mail.smtp import MailNotConfigured, build_message, smtp_config
from api.settings import Settings

TOKYO = ZoneInfo("Asia/Tokyo")


def health_words() -> set[str]:
    """Words that would reveal something about health: instrument names, titles, item texts, bands."""
    words = {
        "phq",
        "gad",
        "pcl",
        "depress",
        "anxi",
        "ptsd",
        "suicid",
        "self-harm",
        "harm",
        "score",
        "safety",
        "alert",
        "risk",
        "crisis",
        "answer",
        "questionnaire",
        "symptom",
        "ketamine",
    }
    for inst in load_catalog().instruments.values():
        words |= {inst.id, inst.short_title.lower(), inst.title.lower()}
        words |= {b.label.lower() for b in inst.bands}
    return words


@pytest.mark.parametrize("kind", sorted(messages.BUILDERS))
@pytest.mark.parametrize("url", [None, "https://clinic.example"])
def test_messages_hold_no_health_information(kind: str, url: str | None) -> None:
    message = messages.BUILDERS[kind](url)
    text = f"{message.subject}\n{message.body}".lower()
    found = [w for w in health_words() if w in text]
    assert not found, (kind, found)
    if url:
        assert "https://clinic.example/#/" in message.body
    else:
        assert "usual address" in message.body


def test_headers_mark_the_message_automatic() -> None:
    config = smtp_config(
        Settings(smtp_host="127.0.0.1", smtp_from="somatrace@clinic.example", _env_file=None)
    )
    assert config is not None
    msg = build_message(config, "t@clinic.example", "s", "b")
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"].endswith(
        "@clinic.example>"
    )


def test_smtp_settings_refuse_unsafe_or_incomplete_configuration() -> None:
    assert smtp_config(Settings(_env_file=None)) is None
    with pytest.raises(MailNotConfigured, match="SOMATRACE_SMTP_FROM"):
        smtp_config(Settings(smtp_host="mail.example", _env_file=None))
    with pytest.raises(MailNotConfigured, match="unencrypted"):
        smtp_config(
            Settings(
                smtp_host="mail.example",
                smtp_from="a@b.c",
                smtp_username="u",
                smtp_password="p",
                smtp_starttls=False,
                _env_file=None,
            )
        )
    ok = smtp_config(
        Settings(
            smtp_host="127.0.0.1",
            smtp_from="a@b.c",
            smtp_username="u",
            smtp_password="p",
            smtp_starttls=False,
            _env_file=None,
        )
    )
    assert ok is not None and ok.password == "p"


@pytest.mark.parametrize(
    ("local", "start", "end", "quiet"),
    [
        (time(22, 0), time(21, 0), time(7, 0), True),
        (time(3, 0), time(21, 0), time(7, 0), True),
        (time(7, 0), time(21, 0), time(7, 0), False),
        (time(20, 59), time(21, 0), time(7, 0), False),
        (time(13, 0), time(12, 0), time(14, 0), True),
        (time(14, 0), time(12, 0), time(14, 0), False),
        (time(9, 0), time(9, 0), time(9, 0), False),
    ],
)
def test_quiet_hours_wrap_past_midnight(local: time, start: time, end: time, quiet: bool) -> None:
    assert in_quiet_hours(local, start, end) is quiet


def _point(state: str) -> ScheduledPoint:
    opens = datetime(2026, 3, 3, tzinfo=TOKYO)
    return ScheduledPoint(
        "phq9",
        "s1:day 1",
        "after_session",
        "day 1",
        "s1",
        opens,
        opens + timedelta(days=1),
        opens + timedelta(days=1),
        "day 1",
        state=state,
    )  # type: ignore[arg-type]


CHOICE = ReminderChoice(True, True, time(7, 30), time(21, 0), time(7, 0))


def test_reminders_wait_for_the_end_of_quiet_hours_in_the_patients_zone() -> None:
    points = [_point("due"), _point("done")]
    night = datetime(2026, 3, 3, 6, 59, tzinfo=TOKYO).astimezone(UTC)  # 22:59 UTC the day before
    assert (
        plan(CHOICE, points, now=night, zone=TOKYO, recorded_today=False, already_sent=set()) == []
    )
    morning = datetime(2026, 3, 3, 7, 45, tzinfo=TOKYO)
    planned = plan(
        CHOICE, points, now=morning, zone=TOKYO, recorded_today=False, already_sent=set()
    )
    assert [r.kind for r in planned] == ["questionnaire_reminder", "morning_reminder"]
    assert planned[0].keys == (point_key(points[0]),)
    assert planned[1].keys == ("morning:2026-03-03",)
    # each once
    sent = {k for r in planned for k in r.keys}
    assert (
        plan(CHOICE, points, now=morning, zone=TOKYO, recorded_today=False, already_sent=sent) == []
    )
    # overdue is a new reminder
    again = plan(
        CHOICE,
        [_point("overdue")],
        now=morning,
        zone=TOKYO,
        recorded_today=False,
        already_sent=sent,
    )
    assert [r.kind for r in again] == ["questionnaire_reminder"]


def test_no_morning_reminder_after_a_reading_or_late_in_the_day() -> None:
    morning = datetime(2026, 3, 3, 8, 0, tzinfo=TOKYO)
    assert plan(CHOICE, [], now=morning, zone=TOKYO, recorded_today=True, already_sent=set()) == []
    noon = datetime(2026, 3, 3, 12, 0, tzinfo=TOKYO)
    assert plan(CHOICE, [], now=noon, zone=TOKYO, recorded_today=False, already_sent=set()) == []
    opted_out = ReminderChoice(False, False, time(7, 30), time(21, 0), time(7, 0))
    assert (
        plan(
            opted_out,
            [_point("due")],
            now=morning,
            zone=TOKYO,
            recorded_today=False,
            already_sent=set(),
        )
        == []
    )
