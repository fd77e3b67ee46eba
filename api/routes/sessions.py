"""``/v1/patients/{patient_id}/sessions``: medicine sessions and integration appointments (CRUD).

Access and auditing are ``api.auth.deps``'s; the per-session integration analysis is another router.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, cast

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, model_validator
from pydantic.json_schema import SkipJsonSchema

from api.auth.deps import Principal, get_db, patient_reader, patient_writer
from api.db.queries import q
from api.errors import InvalidInput, NotFound
from api.routes.fields import Text, Time
from api.routes.integrity import integrity_errors
from api.routes.responses import PATIENT_ERRORS, errors

router = APIRouter(prefix="/v1/patients/{patient_id}/sessions", tags=["sessions"])

SessionKind = Literal["medicine", "integration", "other"]


class SessionCreate(BaseModel):
    """A full session (``POST`` and ``PUT``)."""

    kind: SessionKind
    started_at: Time
    ended_at: Time | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> SessionCreate:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        return self


class SessionPatch(BaseModel):
    """Fields to change (``PATCH``); ``ended_at`` and ``note`` may be set to null."""

    kind: SessionKind | SkipJsonSchema[None] = None
    started_at: Time | SkipJsonSchema[None] = None
    ended_at: Time | None = None
    note: Text | None = None


class Session(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: SessionKind
    started_at: datetime
    ended_at: datetime | None
    note: str | None
    created_at: datetime
    updated_at: datetime


def _not_found(session_id: uuid.UUID) -> NotFound:
    return NotFound("session not found", session_id=str(session_id))


@router.post("", status_code=201, response_model=Session, responses=errors(*PATIENT_ERRORS))
async def create_session(
    request: Request,
    patient_id: uuid.UUID,
    body: SessionCreate,
    principal: Principal = Depends(patient_writer),
) -> Session:
    """Record a session (the patient's therapist or the patient)."""
    async with get_db(request).connection() as conn:
        with integrity_errors("duplicate session", missing="patient not found"):
            cur = await conn.execute(
                q("sessions_insert"),
                {"patient_id": patient_id, "created_by": principal.user_id, **body.model_dump()},
            )
            row = await cur.fetchone()
    return Session.model_validate(row)


@router.get("", response_model=list[Session], responses=errors(*PATIENT_ERRORS))
async def list_sessions(
    request: Request,
    patient_id: uuid.UUID,
    start: Time | None = Query(default=None, description="Sessions starting at or after"),
    end: Time | None = Query(default=None, description="Sessions starting before"),
    _: Principal = Depends(patient_reader),
) -> list[Session]:
    """The patient's sessions in time order, optionally within [start, end)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("sessions_list"), {"patient_id": patient_id, "start": start, "end": end}
        )
        rows = await cur.fetchall()
    return [Session.model_validate(r) for r in rows]


@router.get("/{session_id}", response_model=Session, responses=errors(*PATIENT_ERRORS))
async def get_session(
    request: Request,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    _: Principal = Depends(patient_reader),
) -> Session:
    """One session."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("sessions_get"), {"id": session_id, "patient_id": patient_id})
        row = await cur.fetchone()
    if row is None:
        raise _not_found(session_id)
    return Session.model_validate(row)


async def _write(
    request: Request, patient_id: uuid.UUID, session_id: uuid.UUID, patch: dict[str, Any]
) -> Session:
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(
            q("sessions_get_for_update"), {"id": session_id, "patient_id": patient_id}
        )
        current = await cur.fetchone()
        if current is None:
            raise _not_found(session_id)
        merged = {k: current[k] for k in ("kind", "started_at", "ended_at", "note")} | patch
        started = cast(datetime, merged["started_at"])
        ended = cast("datetime | None", merged["ended_at"])
        if ended is not None and ended < started:
            raise InvalidInput(
                "ended_at must not be before started_at",
                errors=[{"loc": ["body", "ended_at"], "msg": "before started_at"}],
            )
        with integrity_errors("conflicting session"):
            cur = await conn.execute(
                q("sessions_update"), {"id": session_id, "patient_id": patient_id, **merged}
            )
            row = await cur.fetchone()
    return Session.model_validate(row)


@router.put("/{session_id}", response_model=Session, responses=errors(*PATIENT_ERRORS))
async def replace_session(
    request: Request,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    body: SessionCreate,
    _: Principal = Depends(patient_writer),
) -> Session:
    """Replace a session entirely."""
    return await _write(request, patient_id, session_id, body.model_dump())


@router.patch("/{session_id}", response_model=Session, responses=errors(*PATIENT_ERRORS))
async def update_session(
    request: Request,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    body: SessionPatch,
    _: Principal = Depends(patient_writer),
) -> Session:
    """Change some fields of a session; ``kind`` and ``started_at`` cannot be null."""
    patch = body.model_dump(include=body.model_fields_set)
    for name in ("kind", "started_at"):
        if name in patch and patch[name] is None:
            raise InvalidInput(f"{name} cannot be null", errors=[{"loc": ["body", name]}])
    return await _write(request, patient_id, session_id, patch)


@router.delete("/{session_id}", status_code=204, responses=errors(*PATIENT_ERRORS))
async def delete_session(
    request: Request,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    _: Principal = Depends(patient_writer),
) -> Response:
    """Delete a session."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("sessions_delete"), {"id": session_id, "patient_id": patient_id})
        if await cur.fetchone() is None:
            raise _not_found(session_id)
    return Response(status_code=204)
