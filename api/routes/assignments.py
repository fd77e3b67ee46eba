"""``/v1/assignments``: which therapist may see which patient (admin only; no patient data shown).

The rule that reads assignments is ``api.auth.deps.patient_reader``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from api.audit import record
from api.auth.deps import Principal, get_db, require_role, route_name
from api.db.queries import q
from api.errors import NotFound
from api.form_rules import enforce
from api.routes.responses import AUTH_ERRORS, errors

router = APIRouter(prefix="/v1/assignments", tags=["assignments"])
admin_only = require_role("admin")


class AssignmentCreate(BaseModel):
    therapist_id: str = Field(description="Id of a therapist's account")
    patient_id: str = Field(description="Id of a patient")


class Assignment(BaseModel):
    therapist_id: uuid.UUID
    patient_id: uuid.UUID
    assigned_at: datetime


class AssignmentListed(Assignment):
    pseudonym: str
    therapist_email: str
    therapist_name: str | None


class PatientForAssignment(BaseModel):
    """A patient as the admin sees them: pseudonym and assignments, never a name."""

    patient_id: uuid.UUID
    pseudonym: str
    created_at: datetime
    has_account: bool
    therapist_ids: list[uuid.UUID]


@router.post("", status_code=201, response_model=Assignment, responses=errors(*AUTH_ERRORS, 404))
async def assign(
    request: Request, body: AssignmentCreate, principal: Principal = Depends(admin_only)
) -> Assignment:
    """Give a therapist access to a patient (idempotent); 404 if either does not exist."""
    enforce("assignment", body.model_dump())
    therapist_id = uuid.UUID(body.therapist_id.strip())
    patient_id = uuid.UUID(body.patient_id.strip())
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(
            q("assignments_insert"),
            {"therapist_id": therapist_id, "patient_id": patient_id},
        )
        row = await cur.fetchone()
        if row is None:
            raise NotFound("no such therapist or patient")
        await record(
            conn,
            principal,
            "assign",
            route_name(request),
            patient_id,
            {"therapist_id": str(therapist_id)},
        )
    return Assignment.model_validate(row)


@router.get("", response_model=list[AssignmentListed], responses=errors(*AUTH_ERRORS))
async def list_assignments(
    request: Request,
    therapist_id: uuid.UUID | None = Query(default=None),
    patient_id: uuid.UUID | None = Query(default=None),
    _: Principal = Depends(admin_only),
) -> list[AssignmentListed]:
    """Assignments with the patient's pseudonym (never the name), optionally filtered."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("assignments_list"), {"therapist_id": therapist_id, "patient_id": patient_id}
        )
        rows = await cur.fetchall()
    return [AssignmentListed.model_validate(r) for r in rows]


@router.get("/patients", response_model=list[PatientForAssignment], responses=errors(*AUTH_ERRORS))
async def list_patients_for_assignment(
    request: Request, _: Principal = Depends(admin_only)
) -> list[PatientForAssignment]:
    """Every patient by pseudonym with the therapists assigned to them, oldest first (admin only)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("assignments_patients"))
        rows = await cur.fetchall()
    return [PatientForAssignment.model_validate(r) for r in rows]


@router.delete("/{therapist_id}/{patient_id}", status_code=204, responses=errors(*AUTH_ERRORS, 404))
async def unassign(
    request: Request,
    therapist_id: uuid.UUID,
    patient_id: uuid.UUID,
    principal: Principal = Depends(admin_only),
) -> Response:
    """Take a therapist's access to a patient away."""
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(
            q("assignments_delete"), {"therapist_id": therapist_id, "patient_id": patient_id}
        )
        if await cur.fetchone() is None:
            raise NotFound("no such assignment")
        await record(
            conn,
            principal,
            "unassign",
            route_name(request),
            patient_id,
            {"therapist_id": str(therapist_id)},
        )
    return Response(status_code=204)
