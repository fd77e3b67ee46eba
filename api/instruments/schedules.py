"""A patient's questionnaire schedule: the protocol's points turned into time windows anchored on
the patient's medicine sessions, matched with their responses.

Each point has a window: it opens (``opens_at``, the due date), is due until ``due_by``, is overdue
after that, and closes when the next point of the same instrument opens or the next medicine session
starts (then, unanswered, it is missed). Days are the patient's local calendar days. Pure: sessions,
responses and the clock come in as values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from api.instruments.protocol import Protocol

PointKind = Literal["baseline", "after_session", "monthly"]
PointState = Literal["done", "due", "overdue", "missed", "upcoming"]
#: States the due list shows (``missed`` and ``upcoming`` only appear in summaries).
DUE_LIST_STATES: frozenset[str] = frozenset({"done", "due", "overdue"})
#: How long the last point of a series stays answerable after it is overdue, when nothing follows.
LAST_POINT_GRACE = timedelta(days=7)
#: Most monthly points generated per session (ten years of monthly points).
MAX_MONTHLY_POINTS = 130


@dataclass(frozen=True)
class SessionRef:
    id: uuid.UUID | str
    kind: str
    started_at: datetime


@dataclass(frozen=True)
class ResponseRef:
    id: uuid.UUID | str
    instrument: str
    at: datetime
    total: int
    severity: str


@dataclass(frozen=True)
class ScheduledPoint:
    """One point of one instrument: its window, its state now, and the response that answered it."""

    instrument: str
    key: str
    kind: PointKind
    label: str
    session_id: uuid.UUID | str | None
    opens_at: datetime
    due_by: datetime | None
    closes_at: datetime | None
    reason: str
    state: PointState = "upcoming"
    response: ResponseRef | None = None
    #: A baseline is scored with its latest answer (closest to the session); other points with the first.
    prefers_latest: bool = False

    @property
    def due_at(self) -> datetime:
        return self.opens_at


def _long_date(day: date) -> str:
    """A calendar day inside a reason, as ``YYYY-MM-DD``: pages show it in the reader's date style."""
    return day.isoformat()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _baseline_points(
    protocol: Protocol,
    medicine: Sequence[SessionRef],
    created_at: datetime,
    now: datetime,
    zone: ZoneInfo,
) -> list[ScheduledPoint]:
    if protocol.baseline is None:
        return []
    window = timedelta(days=protocol.baseline.window_days)
    if medicine:
        first = medicine[0].started_at
        session_id: uuid.UUID | str | None = medicine[0].id
        opens, due_by, closes = first - window, first - timedelta(days=1), first
        reason = (
            f"baseline, before the first medicine session on {_long_date(_local_day(first, zone))}"
        )
    else:  # a rolling window until a session is recorded
        session_id, opens, due_by, closes = None, max(created_at, now - window), None, None
        reason = "baseline, before the first medicine session (none recorded yet)"
    points = [
        ScheduledPoint(
            instrument=instrument,
            key="baseline",
            kind="baseline",
            label="baseline",
            session_id=session_id,
            opens_at=opens,
            due_by=due_by,
            closes_at=closes,
            reason=reason,
            prefers_latest=True,
        )
        for instrument in protocol.baseline_instruments()
    ]
    return points


def _session_points(
    protocol: Protocol,
    session: SessionRef,
    next_start: datetime | None,
    integrations: Sequence[SessionRef],
    now: datetime,
    zone: ZoneInfo,
) -> list[ScheduledPoint]:
    """The after-session and monthly points of one medicine session (without ``closes_at`` yet)."""
    day0 = _local_day(session.started_at, zone)
    when = _long_date(day0)
    following = [
        i.started_at
        for i in integrations
        if i.started_at > session.started_at and (next_start is None or i.started_at < next_start)
    ]
    points: list[ScheduledPoint] = []
    for spec in protocol.after_session:
        opens = _midnight(day0 + timedelta(days=spec.from_day), zone)
        if next_start is not None and opens >= next_start:
            break
        due_by = _midnight(day0 + timedelta(days=spec.to_day + 1), zone)
        reason = f"{spec.label} after the medicine session on {when}"
        if spec.before_integration:
            inside = [t for t in following if opens < t < due_by]
            if inside:
                due_by = inside[0]
                reason += ", before the integration appointment"
        for instrument in protocol.point_instruments(spec):
            points.append(
                ScheduledPoint(
                    instrument=instrument,
                    key=f"{session.id}:{spec.label}",
                    kind="after_session",
                    label=spec.label,
                    session_id=session.id,
                    opens_at=opens,
                    due_by=due_by,
                    closes_at=None,
                    reason=reason,
                )
            )
    monthly = protocol.monthly
    if monthly is not None and protocol.after_session:
        last_day = max(p.from_day for p in protocol.after_session)
        for month in range(1, MAX_MONTHLY_POINTS + 1):
            opens = _midnight(day0 + timedelta(days=last_day + month * monthly.every_days), zone)
            if next_start is not None and opens >= next_start:
                break
            for instrument in protocol.monthly_instruments():
                points.append(
                    ScheduledPoint(
                        instrument=instrument,
                        key=f"{session.id}:month-{month}",
                        kind="monthly",
                        label=f"month {month}",
                        session_id=session.id,
                        opens_at=opens,
                        due_by=opens + timedelta(days=monthly.answer_within_days),
                        closes_at=None,
                        reason=f"monthly check-in {month} after the medicine session on {when}",
                    )
                )
            if opens > now:
                break  # one point beyond now, so the current one knows when it closes
    return points


def _close_windows(
    points: list[ScheduledPoint], hard_ends: dict[str, datetime | None]
) -> list[ScheduledPoint]:
    """Set ``closes_at`` per instrument: the next point's opening or the series' hard end."""
    out: list[ScheduledPoint] = []
    by_instrument: dict[str, list[ScheduledPoint]] = {}
    for p in points:
        by_instrument.setdefault(p.instrument, []).append(p)
    for series in by_instrument.values():
        series.sort(key=lambda p: p.opens_at)
        for i, p in enumerate(series):
            if p.kind == "baseline":
                out.append(p)
                continue
            ends = [t for t in (hard_ends.get(str(p.session_id)),) if t is not None]
            if i + 1 < len(series):
                ends.append(series[i + 1].opens_at)
            closes = min(ends) if ends else (p.due_by or p.opens_at) + LAST_POINT_GRACE
            if p.due_by is not None and closes < p.due_by:
                p = replace(p, due_by=closes)
            out.append(replace(p, closes_at=closes))
    return out


def _match(
    points: list[ScheduledPoint], responses: Iterable[ResponseRef], now: datetime
) -> list[ScheduledPoint]:
    by_instrument: dict[str, list[ResponseRef]] = {}
    for r in sorted(responses, key=lambda r: r.at):
        by_instrument.setdefault(r.instrument, []).append(r)
    out = []
    for p in points:
        inside = [
            r
            for r in by_instrument.get(p.instrument, [])
            if r.at >= p.opens_at and (p.closes_at is None or r.at < p.closes_at)
        ]
        if inside:
            out.append(
                replace(p, state="done", response=inside[-1] if p.prefers_latest else inside[0])
            )
        elif now < p.opens_at:
            out.append(replace(p, state="upcoming"))
        elif p.closes_at is not None and now >= p.closes_at:
            out.append(replace(p, state="missed"))
        elif p.due_by is not None and now >= p.due_by:
            out.append(replace(p, state="overdue"))
        else:
            out.append(replace(p, state="due"))
    return out


def schedule(
    protocol: Protocol,
    sessions: Sequence[SessionRef],
    responses: Iterable[ResponseRef],
    *,
    now: datetime,
    zone: ZoneInfo,
    created_at: datetime,
) -> list[ScheduledPoint]:
    """Every point of the patient's protocol with its state at ``now``, in due-date order.

    Parameters
    ----------
    protocol:
        The patient's protocol (a template or their changed copy).
    sessions:
        All the patient's sessions; medicine sessions anchor the points, integration appointments
        move a ``before_integration`` point's deadline.
    responses:
        The patient's responses (any instruments).
    now, zone, created_at:
        The clock, the patient's time zone, and when the patient was created (the earliest a
        baseline without any medicine session can open).
    """
    ordered = sorted(sessions, key=lambda s: s.started_at)
    medicine = [s for s in ordered if s.kind == "medicine"]
    integrations = [s for s in ordered if s.kind == "integration"]
    points = _baseline_points(protocol, medicine, created_at, now, zone)
    hard_ends: dict[str, datetime | None] = {}
    for k, session in enumerate(medicine):
        next_start = medicine[k + 1].started_at if k + 1 < len(medicine) else None
        hard_ends[str(session.id)] = next_start
        points.extend(_session_points(protocol, session, next_start, integrations, now, zone))
    matched = _match(_close_windows(points, hard_ends), responses, now)
    return sorted(matched, key=lambda p: (p.opens_at, p.instrument))


def due_list(points: Iterable[ScheduledPoint]) -> list[ScheduledPoint]:
    """The points a due list shows: answered ones and those open now (due or overdue)."""
    return [p for p in points if p.state in DUE_LIST_STATES]
