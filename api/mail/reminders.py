"""Who gets a reminder now: due questionnaires and the morning reading, for patients who opted in,
never in their quiet hours (in their own time zone), each reminder once.

Pure: choices, schedule points, the clock and what was already sent come in; reminder keys go out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.instruments.schedules import ScheduledPoint
from api.mail.messages import MailKind

#: A morning reminder is sent from the chosen time until this long after it, never later in the day.
MORNING_WINDOW = timedelta(hours=4)


@dataclass(frozen=True)
class ReminderChoice:
    """A patient's reminder choices; times are local to their zone."""

    questionnaires: bool
    morning: bool
    morning_at: time
    quiet_start: time
    quiet_end: time


@dataclass(frozen=True)
class Reminder:
    kind: MailKind
    #: Reminder-log keys this message covers (each is sent once).
    keys: tuple[str, ...]


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """True when ``local`` lies in [start, end), which may wrap past midnight; start == end: never."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def point_key(point: ScheduledPoint) -> str:
    """One reminder per point and state: once when it becomes due, once more when overdue."""
    return f"q:{point.key}:{point.instrument}:{point.state}"


def morning_key(local: datetime) -> str:
    return f"morning:{local.date().isoformat()}"


def plan(
    choice: ReminderChoice,
    points: Iterable[ScheduledPoint],
    *,
    now: datetime,
    zone: ZoneInfo,
    recorded_today: bool,
    already_sent: Collection[str],
) -> list[Reminder]:
    """The reminders to send at ``now`` (at most one of each kind)."""
    local = now.astimezone(zone)
    if in_quiet_hours(local.time(), choice.quiet_start, choice.quiet_end):
        return []
    out: list[Reminder] = []
    if choice.questionnaires:
        keys = tuple(
            dict.fromkeys(
                point_key(p)
                for p in points
                if p.state in ("due", "overdue") and point_key(p) not in already_sent
            )
        )
        if keys:
            out.append(Reminder("questionnaire_reminder", keys))
    if choice.morning and not recorded_today:
        start = datetime.combine(local.date(), choice.morning_at, tzinfo=zone)
        key = morning_key(local)
        if start <= local < start + MORNING_WINDOW and key not in already_sent:
            out.append(Reminder("morning_reminder", (key,)))
    return out


def candidate_keys(
    choice: ReminderChoice, points: Iterable[ScheduledPoint], now: datetime, zone: ZoneInfo
) -> list[str]:
    """Every key ``plan`` could use now (to look up which were already sent)."""
    keys = (
        [point_key(p) for p in points if p.state in ("due", "overdue")]
        if choice.questionnaires
        else []
    )
    if choice.morning:
        keys.append(morning_key(now.astimezone(zone)))
    return keys


def local_midnight(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)
