"""Stores a scored response (raising its safety alert and queueing the alert's e-mails in the same
transaction), and reads what a patient's schedule needs (protocol, sessions, responses, zone).

Scoring and the schedule logic are ``scoring``'s, ``schedules``'s and ``change``'s; auditing is the
caller's.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from api.db.queries import q
from api.errors import NotFound
from api.instruments.change import SessionChange, session_changes
from api.instruments.definition import Instrument
from api.instruments.loader import Catalog
from api.instruments.protocol import Protocol, protocol_problems
from api.instruments.schedules import ResponseRef, ScheduledPoint, SessionRef, schedule
from api.instruments.scoring import Score, score
from api.mail.outbox import enqueue_alert_notices

logger = logging.getLogger(__name__)

Conn = psycopg.AsyncConnection[Any]


@dataclass(frozen=True)
class PatientProtocol:
    protocol: Protocol
    template: str
    customized: bool
    updated_at: datetime | None


@dataclass(frozen=True)
class PatientSchedule:
    protocol: PatientProtocol
    zone: ZoneInfo
    sessions: list[SessionRef]
    responses: list[ResponseRef]
    points: list[ScheduledPoint]

    def changes(self, catalog: Catalog) -> list[SessionChange]:
        return session_changes(
            self.protocol.protocol, catalog.instruments, self.sessions, self.responses, self.points
        )


def effective_protocol(catalog: Catalog, row: dict[str, Any] | None) -> PatientProtocol:
    """The patient's protocol from their stored row (or the clinic default when there is none).

    A stored protocol that no longer fits the catalog (an instrument file was removed) keeps its
    known instruments' points; a template that no longer exists falls back to the default.
    """
    template = cast("str | None", row["template"]) if row else None
    stored = row["protocol"] if row else None
    updated_at = cast("datetime | None", row.get("updated_at")) if row else None
    if stored is not None:
        try:
            protocol = Protocol.model_validate(stored)
            if not protocol_problems(protocol, catalog.instruments):
                return PatientProtocol(protocol, template or protocol.id, True, updated_at)
        except ValidationError:
            pass
        logger.warning(
            "a stored questionnaire protocol no longer fits the instruments; using its template"
        )
    if template is not None and template in catalog.templates:
        return PatientProtocol(catalog.templates[template], template, False, updated_at)
    return PatientProtocol(catalog.default_protocol, catalog.default_template, False, updated_at)


def _patient_schedule(
    catalog: Catalog,
    patient: dict[str, Any],
    sessions: list[SessionRef],
    responses: list[ResponseRef],
    now: datetime,
) -> PatientSchedule:
    protocol = effective_protocol(catalog, patient if patient["template"] is not None else None)
    zone = ZoneInfo(str(patient["timezone"]))
    points = [
        p
        for p in schedule(
            protocol.protocol,
            sessions,
            responses,
            now=now,
            zone=zone,
            created_at=patient["created_at"],
        )
        if p.instrument in catalog.instruments
    ]
    return PatientSchedule(protocol, zone, sessions, responses, points)


def _response_ref(r: dict[str, Any]) -> ResponseRef:
    return ResponseRef(r["id"], r["instrument"], r["at"], int(r["total"]), r["severity"])


async def load_schedule(
    conn: Conn, catalog: Catalog, patient_id: uuid.UUID, now: datetime
) -> PatientSchedule:
    """The patient's protocol, sessions, responses and every scheduled point at ``now``."""
    cur = await conn.execute(q("q_schedule_patient"), {"patient_id": patient_id})
    patient = await cur.fetchone()
    if patient is None:
        raise NotFound("patient not found", patient_id=str(patient_id))
    cur = await conn.execute(q("q_schedule_sessions"), {"patient_id": patient_id})
    sessions = [SessionRef(r["id"], r["kind"], r["started_at"]) for r in await cur.fetchall()]
    cur = await conn.execute(q("q_response_refs"), {"patient_id": patient_id})
    responses = [_response_ref(r) for r in await cur.fetchall()]
    return _patient_schedule(catalog, patient, sessions, responses, now)


async def load_schedules(
    conn: Conn, catalog: Catalog, patient_ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, PatientSchedule]:
    """``load_schedule`` for many patients in three queries (the therapist's patient list)."""
    if not patient_ids:
        return {}
    params = {"patient_ids": patient_ids}
    cur = await conn.execute(q("q_schedule_patients_many"), params)
    patients = {r["patient_id"]: r for r in await cur.fetchall()}
    sessions: dict[uuid.UUID, list[SessionRef]] = {pid: [] for pid in patients}
    cur = await conn.execute(q("q_schedule_sessions_many"), params)
    for r in await cur.fetchall():
        sessions[r["patient_id"]].append(SessionRef(r["id"], r["kind"], r["started_at"]))
    responses: dict[uuid.UUID, list[ResponseRef]] = {pid: [] for pid in patients}
    cur = await conn.execute(q("q_response_refs_many"), params)
    for r in await cur.fetchall():
        responses[r["patient_id"]].append(_response_ref(r))
    return {
        pid: _patient_schedule(catalog, row, sessions[pid], responses[pid], now)
        for pid, row in patients.items()
    }


@dataclass(frozen=True)
class RecordedResponse:
    row: dict[str, Any]
    score: Score
    alert_id: uuid.UUID | None
    notices_queued: int

    @property
    def id(self) -> uuid.UUID:
        return cast(uuid.UUID, self.row["id"])


async def record_response(
    conn: Conn,
    inst: Instrument,
    answers: list[int],
    *,
    patient_id: uuid.UUID,
    at: datetime,
    source: str,
    entered_by: uuid.UUID | None,
    public_url: str | None,
) -> RecordedResponse:
    """Score ``answers`` and store them; a met risk rule raises a safety alert and queues e-mail to the
    assigned therapists. Run inside the caller's transaction, so all of it is kept or none.

    Raises ``InvalidAnswers`` (422, naming each bad item) before anything is written.
    """
    result = score(inst, answers)
    cur = await conn.execute(
        q("q_response_insert"),
        {
            "patient_id": patient_id,
            "instrument": inst.id,
            "instrument_version": inst.version,
            "at": at,
            "answers": list(answers),
            "total": result.total,
            "severity": result.severity,
            "subscales": Jsonb(result.subscales),
            "source": source,
            "entered_by": entered_by,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    if not result.safety_alert:
        return RecordedResponse(dict(row), result, None, 0)
    rules = [{"id": r.id, "label": r.label} for r in result.risk_rules]
    cur = await conn.execute(
        q("safety_alert_insert"),
        {"patient_id": patient_id, "response_id": row["id"], "rules": Jsonb(rules)},
    )
    alert = await cur.fetchone()
    assert alert is not None
    alert_id = cast(uuid.UUID, alert["id"])
    notices = await enqueue_alert_notices(conn, public_url, patient_id, alert_id)
    return RecordedResponse(dict(row), result, alert_id, notices)
