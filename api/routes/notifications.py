"""``/v1/patients/{patient_id}/notifications``: the patient's e-mail reminder choices (opt-in) with
quiet hours in their time zone.

Deciding and sending reminders is ``api.mail``'s (the background worker).
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, StringConstraints

from api.auth.deps import (
    Principal,
    get_app_settings,
    get_db,
    patient_reader,
    patient_self_writer,
)
from api.db.queries import q
from api.errors import NotFound
from api.mail import outbox
from api.routes.responses import PATIENT_ERRORS, errors

router = APIRouter(tags=["notifications"])

#: A local wall-clock time, "HH:MM" (24 h), in the patient's zone (no offset: it follows the zone).
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
DEFAULT_MORNING_AT = "07:30"
DEFAULT_QUIET_START = "21:00"
DEFAULT_QUIET_END = "07:00"


class NotificationUpdate(BaseModel):
    questionnaire_reminders: bool = Field(description="E-mail when a questionnaire is due")
    morning_reminders: bool = Field(description="E-mail a reminder of the morning reading")
    morning_at: LocalTime = Field(
        default=DEFAULT_MORNING_AT, description="Local time of the morning reminder (HH:MM)"
    )
    quiet_start: LocalTime = Field(
        default=DEFAULT_QUIET_START, description="No e-mail from this local time (HH:MM)…"
    )
    quiet_end: LocalTime = Field(
        default=DEFAULT_QUIET_END, description="…until this one (may wrap past midnight)"
    )


class Notifications(NotificationUpdate):
    timezone: str = Field(description="The patient's zone these times are in")
    has_login: bool = Field(description="Reminders go to the patient's login e-mail")
    mail_configured: bool = Field(description="Whether this server sends e-mail at all")
    updated_at: datetime | None


async def _read(request: Request, conn: Any, patient_id: uuid.UUID) -> Notifications:
    cur = await conn.execute(q("q_schedule_patient"), {"patient_id": patient_id})
    patient = await cur.fetchone()
    if patient is None:
        raise NotFound("patient not found", patient_id=str(patient_id))
    cur = await conn.execute(q("notifications_get"), {"patient_id": patient_id})
    row = await cur.fetchone()
    cur = await conn.execute(q("notifications_account"), {"patient_id": patient_id})
    account = await cur.fetchone()
    values: dict[str, Any] = (
        dict(row)
        if row
        else {
            "questionnaire_reminders": False,
            "morning_reminders": False,
            "updated_at": None,
        }
    )
    for key in ("morning_at", "quiet_start", "quiet_end"):
        if isinstance(values.get(key), time):
            values[key] = values[key].strftime("%H:%M")
    return Notifications(
        **values,
        timezone=str(patient["timezone"]),
        has_login=bool(account and account["has_login"]),
        mail_configured=outbox.configuration_problem(get_app_settings(request)) is None,
    )


@router.get(
    "/v1/patients/{patient_id}/notifications",
    response_model=Notifications,
    responses=errors(*PATIENT_ERRORS),
)
async def get_notifications(
    request: Request, patient_id: uuid.UUID, _: Principal = Depends(patient_reader)
) -> Notifications:
    """The patient's reminder choices (all off until the patient opts in)."""
    async with get_db(request).connection() as conn:
        return await _read(request, conn, patient_id)


@router.put(
    "/v1/patients/{patient_id}/notifications",
    response_model=Notifications,
    responses=errors(*PATIENT_ERRORS),
)
async def set_notifications(
    request: Request,
    patient_id: uuid.UUID,
    body: NotificationUpdate,
    _: Principal = Depends(patient_self_writer),
) -> Notifications:
    """Opt in or out of reminders and set quiet hours (the patient only)."""
    async with get_db(request).connection() as conn, conn.transaction():
        await conn.execute(
            q("notifications_upsert"),
            {
                "patient_id": patient_id,
                **body.model_dump(),
                **{
                    k: time.fromisoformat(getattr(body, k))
                    for k in ("morning_at", "quiet_start", "quiet_end")
                },
            },
        )
        return await _read(request, conn, patient_id)
