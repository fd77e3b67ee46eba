"""The safety net: the clinic's crisis message, a patient's safety alerts, and their acknowledgement
with a note by an assigned therapist (audited, note included).

Alerts are raised by ``api.routes.questionnaires`` when a response meets a risk rule.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from api.audit import record
from api.auth.deps import (
    Principal,
    get_app_settings,
    get_db,
    patient_reader,
    patient_therapist_writer,
    route_name,
)
from api.db.queries import q
from api.errors import Conflict, NotFound
from api.routes.fields import is_storable_text
from api.routes.responses import PATIENT_ERRORS, errors
from api.settings import Settings

router = APIRouter(tags=["safety"])

#: What a patient sees at once when an answer raises an alert, until the clinic sets its own message.
DEFAULT_CRISIS_MESSAGE = (
    "If you are thinking about ending your life or harming yourself, or you are in danger now, "
    "contact your local emergency services now: call your emergency number (112 in Europe, 911 in "
    "North America, 999 in the UK) or go to the nearest emergency department. Do not wait for a "
    "reply here."
)
#: The plain words on the journal and questionnaire pages.
READING_NOTICE = (
    "Your clinic may not read what you write or answer here right away; sometimes not for days. "
    "Somatrace is not a way to reach anyone in an emergency."
)
#: Longest acknowledgement note, in characters.
MAX_NOTE_CHARS = 4000


def crisis_message(settings: Settings) -> str:
    """The clinic's crisis message (``SOMATRACE_CRISIS_MESSAGE``), or the safe default."""
    return settings.crisis_message or DEFAULT_CRISIS_MESSAGE


def _storable(value: str) -> str:
    if not is_storable_text(value):
        raise ValueError("must be valid Unicode text without NUL characters")
    if not value.strip():
        raise ValueError("must not be blank: say what was done")
    return value.strip()


Note = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_NOTE_CHARS), AfterValidator(_storable)
]


class CrisisInfo(BaseModel):
    crisis_message: str = Field(description="What to do in a crisis (the clinic's words)")
    reading_notice: str = Field(description="That entries may not be read right away")


class RuleOut(BaseModel):
    id: str
    label: str


class SafetyAlert(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    response_id: uuid.UUID
    instrument: str
    rules: list[RuleOut] = Field(description="The risk rules the answers met")
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None
    note: str | None


class Acknowledge(BaseModel):
    note: Note = Field(
        description="What was done (e.g. 'called the patient; safety plan reviewed')"
    )


@router.get("/v1/crisis-message", response_model=CrisisInfo, responses=errors())
async def get_crisis_message(request: Request) -> CrisisInfo:
    """The crisis message and reading notice the pages show (public: also before signing in)."""
    return CrisisInfo(
        crisis_message=crisis_message(get_app_settings(request)), reading_notice=READING_NOTICE
    )


@router.get(
    "/v1/patients/{patient_id}/safety-alerts",
    response_model=list[SafetyAlert],
    responses=errors(*PATIENT_ERRORS),
)
async def list_alerts(
    request: Request,
    patient_id: uuid.UUID,
    open_only: bool = Query(
        default=False, alias="open", description="Only alerts not yet acknowledged"
    ),
    _: Principal = Depends(patient_reader),
) -> list[SafetyAlert]:
    """The patient's safety alerts, open ones first, newest first."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("safety_alerts_list"), {"patient_id": patient_id, "open_only": open_only}
        )
        rows = await cur.fetchall()
    return [SafetyAlert.model_validate(r) for r in rows]


@router.post(
    "/v1/patients/{patient_id}/safety-alerts/{alert_id}/acknowledge",
    response_model=SafetyAlert,
    responses=errors(*PATIENT_ERRORS, 409),
)
async def acknowledge_alert(
    request: Request,
    patient_id: uuid.UUID,
    alert_id: uuid.UUID,
    body: Acknowledge,
    principal: Principal = Depends(patient_therapist_writer),
) -> SafetyAlert:
    """Acknowledge an alert with a note (an assigned therapist); 409 if it already was."""
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(
            q("safety_alert_acknowledge"),
            {
                "id": alert_id,
                "patient_id": patient_id,
                "user_id": principal.user_id,
                "note": body.note,
            },
        )
        done = await cur.fetchone()
        cur = await conn.execute(q("safety_alert_get"), {"id": alert_id, "patient_id": patient_id})
        row: dict[str, Any] | None = await cur.fetchone()
        if row is None:
            raise NotFound("safety alert not found", alert_id=str(alert_id))
        if done is None:
            raise Conflict(
                "this alert was already acknowledged",
                acknowledged_at=row["acknowledged_at"].isoformat(),
            )
        await record(
            conn,
            principal,
            "acknowledge",
            route_name(request),
            patient_id,
            {"alert_id": str(alert_id), "response_id": str(row["response_id"]), "note": body.note},
        )
    return SafetyAlert.model_validate(row)


async def open_alert_counts(conn: Any, patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Unacknowledged alerts per patient (patients without any are left out)."""
    if not patient_ids:
        return {}
    cur = await conn.execute(q("safety_open_counts"), {"patient_ids": patient_ids})
    return {r["patient_id"]: int(r["n"]) for r in await cur.fetchall()}
