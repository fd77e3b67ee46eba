"""``/v1/patients``: create (therapist), list, read and rename patients; their login and consent.

Who may reach which patient is decided by ``api.auth.deps``; pseudonyms are random, never derived.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any, Literal, cast

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.audit import record
from api.auth.deps import (
    Principal,
    get_db,
    patient_reader,
    patient_self_writer,
    patient_therapist_writer,
    patient_writer,
    require_role,
    route_name,
)
from api.db.queries import q
from api.errors import Conflict, NotFound, SomatraceError
from api.form_rules import enforce, schema_extra
from api.routes.fields import Email, Password
from api.routes.questionnaires import get_catalog, patient_flags
from api.routes.responses import AUTH_ERRORS, PATIENT_ERRORS, errors
from api.routes.users import User, create_user_row

router = APIRouter(prefix="/v1/patients", tags=["patients"])
therapist_only = require_role("therapist")
therapist_or_patient = require_role("therapist", "patient")

#: Pseudonym characters: no 0/O, 1/I/L, so they can be read aloud and typed back.
PSEUDONYM_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PSEUDONYM_PREFIX = "ST-"
PSEUDONYM_LENGTH = 8
#: Date shift of research exports: a whole number of weeks within ± this many weeks, never 0.
MAX_DATE_SHIFT_WEEKS = 52


def new_pseudonym() -> str:
    """``ST-`` and 8 random characters of ``PSEUDONYM_ALPHABET`` (about 40 bits)."""
    return PSEUDONYM_PREFIX + "".join(
        secrets.choice(PSEUDONYM_ALPHABET) for _ in range(PSEUDONYM_LENGTH)
    )


def new_date_shift_days() -> int:
    """A secret shift of whole weeks in [-52, 52] weeks, never zero (weekday is kept)."""
    weeks = secrets.randbelow(MAX_DATE_SHIFT_WEEKS) + 1
    return 7 * weeks * (1 if secrets.randbelow(2) else -1)


class PatientCreate(BaseModel):
    display_name: str = Field(
        description="How the therapist refers to the patient",
        json_schema_extra=schema_extra("patient", "display_name"),
    )
    timezone: str = Field(
        default="UTC",
        description="IANA zone of the patient's days",
        json_schema_extra=schema_extra("patient", "timezone"),
    )


class PatientUpdate(BaseModel):
    display_name: str | None = Field(
        default=None, json_schema_extra=schema_extra("patient", "display_name")
    )
    timezone: str | None = Field(
        default=None, json_schema_extra=schema_extra("patient", "timezone")
    )


class Patient(BaseModel):
    id: uuid.UUID
    pseudonym: str
    display_name: str
    timezone: str
    research_consent: bool
    journal_text_consent: bool
    consent_updated_at: datetime | None
    created_at: datetime
    has_account: bool = Field(description="Whether the patient has a login")
    last_seen_at: datetime | None = Field(description="Last upload from any of their devices")
    invite_state: Literal["open", "accepted", "withdrawn", "expired"] | None = Field(
        default=None, description="State of the latest invitation to a login, if any"
    )
    open_safety_alerts: int = Field(default=0, description="Safety alerts not yet acknowledged")
    questionnaires_due: int = Field(default=0, description="Questionnaires due now")
    questionnaires_overdue: int = Field(default=0, description="Questionnaires overdue now")


class AccountCreate(BaseModel):
    email: Email
    password: Password


class ConsentUpdate(BaseModel):
    research: bool = Field(description="Consent to pseudonymised research exports")
    journal_text: bool | None = Field(
        default=None,
        description="Also export journal text (only with research consent); omitted: unchanged",
    )


class Consent(BaseModel):
    research: bool
    journal_text: bool
    updated_at: datetime | None


async def _get_patient(conn: Any, patient_id: uuid.UUID) -> Patient:
    cur = await conn.execute(q("patients_get"), {"id": patient_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFound("patient not found", patient_id=str(patient_id))
    return Patient.model_validate(row)


@router.post("", status_code=201, response_model=Patient, responses=errors(*AUTH_ERRORS))
async def create_patient(
    request: Request, body: PatientCreate, principal: Principal = Depends(therapist_only)
) -> Patient:
    """Create a patient with a random pseudonym, assigned to the calling therapist."""
    enforce("patient", {"display_name": body.display_name, "timezone": body.timezone})
    async with get_db(request).connection() as conn, conn.transaction():
        for _attempt in range(5):
            cur = await conn.execute(
                q("patients_insert"),
                {
                    "pseudonym": new_pseudonym(),
                    "display_name": body.display_name.strip(),
                    "timezone": body.timezone,
                    "date_shift_days": new_date_shift_days(),
                    "created_by": principal.user_id,
                },
            )
            row = await cur.fetchone()
            if row is not None:
                break
        else:
            raise SomatraceError("could not find a free pseudonym; try again")
        patient_id = cast(uuid.UUID, row["id"])
        await conn.execute(
            q("patients_assign_creator"),
            {"therapist_id": principal.user_id, "patient_id": patient_id},
        )
        patient = await _get_patient(conn, patient_id)
        await record(
            conn,
            principal,
            "create_patient",
            route_name(request),
            patient_id,
            {"pseudonym": patient.pseudonym},
        )
        return patient


@router.get("", response_model=list[Patient], responses=errors(*AUTH_ERRORS))
async def list_patients(
    request: Request, principal: Principal = Depends(therapist_or_patient)
) -> list[Patient]:
    """A therapist's assigned patients, or, for a patient, just themself. Each one is audited."""
    async with get_db(request).connection() as conn, conn.transaction():
        if principal.role == "patient":
            assert principal.patient_id is not None
            patients = [await _get_patient(conn, principal.patient_id)]
        else:
            cur = await conn.execute(
                q("patients_list_for_therapist"), {"therapist_id": principal.user_id}
            )
            patients = [Patient.model_validate(r) for r in await cur.fetchall()]
        # questionnaire flags; patients with open safety alerts come first
        flags = await patient_flags(conn, get_catalog(request), [p.id for p in patients])
        patients = sorted(
            (p.model_copy(update=flags.get(p.id, {})) for p in patients),
            key=lambda p: -p.open_safety_alerts,
        )
        if patients:
            await conn.execute(
                q("patients_audit_reads"),
                {
                    "actor_id": principal.user_id,
                    "actor_role": principal.role,
                    "resource": route_name(request),
                    "client_addr": principal.client_addr,
                    "patient_ids": [p.id for p in patients],
                },
            )
    return patients


@router.get("/{patient_id}", response_model=Patient, responses=errors(*PATIENT_ERRORS))
async def get_patient(
    request: Request, patient_id: uuid.UUID, _: Principal = Depends(patient_reader)
) -> Patient:
    """One patient (their therapist or the patient)."""
    async with get_db(request).connection() as conn:
        patient = await _get_patient(conn, patient_id)
        flags = await patient_flags(conn, get_catalog(request), [patient_id])
    return patient.model_copy(update=flags.get(patient_id, {}))


@router.patch("/{patient_id}", response_model=Patient, responses=errors(*PATIENT_ERRORS))
async def update_patient(
    request: Request,
    patient_id: uuid.UUID,
    body: PatientUpdate,
    _: Principal = Depends(patient_writer),
) -> Patient:
    """Change the display name or time zone (fields left out stay as they are)."""
    async with get_db(request).connection() as conn, conn.transaction():
        current = await _get_patient(conn, patient_id)
        merged = {"display_name": current.display_name, "timezone": current.timezone}
        merged |= {k: v for k, v in body.model_dump().items() if k in body.model_fields_set}
        enforce("patient", merged)
        cur = await conn.execute(
            q("patients_update"),
            {
                "id": patient_id,
                "display_name": str(merged["display_name"]).strip(),
                "timezone": merged["timezone"],
            },
        )
        if await cur.fetchone() is None:
            raise NotFound("patient not found", patient_id=str(patient_id))
        return await _get_patient(conn, patient_id)


@router.post(
    "/{patient_id}/account",
    status_code=201,
    response_model=User,
    responses=errors(*PATIENT_ERRORS, 409),
)
async def create_patient_account(
    request: Request,
    patient_id: uuid.UUID,
    body: AccountCreate,
    _: Principal = Depends(patient_therapist_writer),
) -> User:
    """Give the patient a login (their therapist only); 409 if they have one or email is taken."""
    async with get_db(request).connection() as conn:
        patient = await _get_patient(conn, patient_id)
    if patient.has_account:
        raise Conflict("this patient already has a login")
    return await create_user_row(
        request,
        email=body.email,
        password=body.password,
        role="patient",
        display_name=None,
        patient_id=patient_id,
    )


@router.get("/{patient_id}/consent", response_model=Consent, responses=errors(*PATIENT_ERRORS))
async def get_consent(
    request: Request, patient_id: uuid.UUID, _: Principal = Depends(patient_reader)
) -> Consent:
    """The patient's research consent."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("patients_get_consent"), {"id": patient_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound("patient not found", patient_id=str(patient_id))
    return Consent(
        research=bool(row["research_consent"]),
        journal_text=bool(row["journal_text_consent"]),
        updated_at=row["consent_updated_at"],
    )


@router.put("/{patient_id}/consent", response_model=Consent, responses=errors(*PATIENT_ERRORS))
async def set_consent(
    request: Request,
    patient_id: uuid.UUID,
    body: ConsentUpdate,
    principal: Principal = Depends(patient_self_writer),
) -> Consent:
    """Give or withdraw research consent (the patient only). Without it, journal text is off too."""
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(
            q("patients_set_consent"),
            {"id": patient_id, "research": body.research, "journal_text": body.journal_text},
        )
        row = await cur.fetchone()
        if row is None:
            raise NotFound("patient not found", patient_id=str(patient_id))
        await record(
            conn,
            principal,
            "consent",
            route_name(request),
            patient_id,
            {
                "research": bool(row["research_consent"]),
                "journal_text": bool(row["journal_text_consent"]),
            },
        )
    return Consent(
        research=bool(row["research_consent"]),
        journal_text=bool(row["journal_text_consent"]),
        updated_at=row["consent_updated_at"],
    )
