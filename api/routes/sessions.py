"""``/v1/patients/{patient_id}/sessions``: medicine sessions (medicine, route, dose, setting) and integration
appointments (CRUD). Fields follow ``api.form_rules`` ("session"); every write is audited with its kind.

Access and the audit row of each request are ``api.auth.deps``'s; a write marks the patient for recompute
(trigger of migration 0023); the per-session integration analysis is another router.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, cast

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from api.audit import record
from api.auth.deps import Principal, get_db, patient_reader, patient_writer, route_name
from api.db.queries import q
from api.errors import InvalidInput, NotFound
from api.form_rules import FORMS, blank_to_none, enforce, field_error, schema_extra
from api.routes.fields import Time
from api.routes.integrity import integrity_errors
from api.routes.responses import PATIENT_ERRORS, errors

router = APIRouter(prefix="/v1/patients/{patient_id}/sessions", tags=["sessions"])

SessionKind = Literal["medicine", "integration", "other"]
#: Fields of a session that a write sets (in the order of the form).
SESSION_FIELDS = (
    "kind",
    "started_at",
    "ended_at",
    "medicine",
    "route",
    "dose",
    "dose_unit",
    "setting",
    "note",
)
#: Fields only a medicine session has.
MEDICINE_FIELDS = ("medicine", "route", "dose", "dose_unit", "setting")


def _hint(name: str, description: str) -> Any:
    return Field(
        default=None, description=description, json_schema_extra=schema_extra("session", name)
    )


class SessionCreate(BaseModel):
    """A full session (``POST`` and ``PUT``); medicine sessions need ``medicine`` and ``route``."""

    kind: SessionKind
    started_at: datetime | None = Field(description="Start, ISO 8601 with offset")
    ended_at: datetime | None = _hint("ended_at", "End (after the start), ISO 8601 with offset")
    medicine: str | None = _hint("medicine", "ketamine | esketamine | other (medicine sessions)")
    route: str | None = _hint("route", "iv | im | intranasal | sublingual_oral (medicine sessions)")
    dose: float | None = _hint("dose", "Dose, above 0, with dose_unit (medicine sessions)")
    dose_unit: str | None = _hint("dose_unit", "mg | mg/kg (with dose)")
    setting: str | None = _hint(
        "setting", "Where and how the session took place (medicine sessions)"
    )
    note: str | None = _hint("note", "Free text")


class SessionPatch(BaseModel):
    """Fields to change (``PATCH``); the merged session must still follow the rules of a full one."""

    kind: SessionKind | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    medicine: str | None = None
    route: str | None = None
    dose: float | None = None
    dose_unit: str | None = None
    setting: str | None = None
    note: str | None = None


class Session(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: SessionKind
    started_at: datetime
    ended_at: datetime | None
    medicine: str | None = Field(description="null: not recorded (sessions from before 0050)")
    route: str | None
    dose: float | None
    dose_unit: str | None
    setting: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime


def _not_found(session_id: uuid.UUID) -> NotFound:
    return NotFound("session not found", session_id=str(session_id))


def _checked(values: dict[str, Any], untouched: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``values`` after the session form's rules, trimmed, with blanks as null; required fields in
    ``untouched`` may stay empty (a medicine session from before 0050 whose details a PATCH leaves alone)."""
    enforce("session", _as_json(values), may_stay_empty=untouched)
    out = dict(values)
    for name in ("medicine", "route", "dose_unit", "setting", "note"):
        out[name] = blank_to_none(out.get(name))
    return out


def _as_json(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _row(row: Any) -> Session:
    data = dict(row)
    if data.get("dose") is not None:
        data["dose"] = float(data["dose"])
    return Session.model_validate(data)


async def _audit(
    conn: Any,
    request: Request,
    principal: Principal,
    action: str,
    patient_id: uuid.UUID,
    session: Session | dict[str, Any],
) -> None:
    data = session.model_dump() if isinstance(session, Session) else session
    await record(
        conn,
        principal,
        action,
        route_name(request),
        patient_id,
        {"session_id": str(data["id"]), "kind": data["kind"], "medicine": data.get("medicine")},
    )


@router.post("", status_code=201, response_model=Session, responses=errors(*PATIENT_ERRORS))
async def create_session(
    request: Request,
    patient_id: uuid.UUID,
    body: SessionCreate,
    principal: Principal = Depends(patient_writer),
) -> Session:
    """Record a session (the patient's therapist or the patient)."""
    values = _checked(body.model_dump())
    async with get_db(request).connection() as conn, conn.transaction():
        with integrity_errors("duplicate session", missing="patient not found"):
            cur = await conn.execute(
                q("sessions_insert"),
                {"patient_id": patient_id, "created_by": principal.user_id, **values},
            )
            session = _row(await cur.fetchone())
        await _audit(conn, request, principal, "create", patient_id, session)
    return session


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
    return [_row(r) for r in rows]


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
    return _row(row)


async def _write(
    request: Request,
    principal: Principal,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    patch: dict[str, Any],
    *,
    partial: bool,
) -> Session:
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(
            q("sessions_get_for_update"), {"id": session_id, "patient_id": patient_id}
        )
        current = await cur.fetchone()
        if current is None:
            raise _not_found(session_id)
        merged = {k: current[k] for k in SESSION_FIELDS} | patch
        if merged["kind"] != "medicine" and "kind" in patch:
            # a session that stops being a medicine session loses the medicine fields it had
            for name in MEDICINE_FIELDS:
                if name not in patch:
                    merged[name] = None
        if merged.get("dose") is not None:
            merged["dose"] = float(cast(float, merged["dose"]))
        untouched = frozenset(
            n
            for n in ("medicine", "route")
            if current[n] is None and n not in patch and "kind" not in patch
        )
        values = _checked(merged, untouched if partial else frozenset())
        with integrity_errors("conflicting session"):
            cur = await conn.execute(
                q("sessions_update"), {"id": session_id, "patient_id": patient_id, **values}
            )
            session = _row(await cur.fetchone())
        await _audit(conn, request, principal, "update", patient_id, session)
    return session


@router.put("/{session_id}", response_model=Session, responses=errors(*PATIENT_ERRORS))
async def replace_session(
    request: Request,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    body: SessionCreate,
    principal: Principal = Depends(patient_writer),
) -> Session:
    """Replace a session entirely (fields left out become null)."""
    return await _write(
        request, principal, patient_id, session_id, body.model_dump(), partial=False
    )


@router.patch("/{session_id}", response_model=Session, responses=errors(*PATIENT_ERRORS))
async def update_session(
    request: Request,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    body: SessionPatch,
    principal: Principal = Depends(patient_writer),
) -> Session:
    """Change some fields of a session; ``kind`` and ``started_at`` cannot be null."""
    patch = body.model_dump(include=body.model_fields_set)
    for name in ("kind", "started_at"):
        if name in patch and patch[name] is None:
            message = FORMS["session"].fields[name].messages()["required"]
            raise InvalidInput(f"{name}: {message}", errors=field_error(name, message))
    return await _write(request, principal, patient_id, session_id, patch, partial=True)


@router.delete("/{session_id}", status_code=204, responses=errors(*PATIENT_ERRORS))
async def delete_session(
    request: Request,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    principal: Principal = Depends(patient_writer),
) -> Response:
    """Delete a session (the patient's verdicts are recomputed without it)."""
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(q("sessions_delete"), {"id": session_id, "patient_id": patient_id})
        row = await cur.fetchone()
        if row is None:
            raise _not_found(session_id)
        await _audit(conn, request, principal, "delete", patient_id, dict(row))
    return Response(status_code=204)
