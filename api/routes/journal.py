"""``/v1/patients/{patient_id}/journal``: the patient's journal entries (CRUD).

Access and auditing are ``api.auth.deps``'s; exports of journal text follow consent elsewhere.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from api.audit import record
from api.auth.deps import Principal, get_db, patient_reader, patient_writer, route_name
from api.db.queries import q
from api.errors import InvalidInput, NotFound
from api.form_rules import FORMS, enforce, field_error, schema_extra
from api.routes.fields import Time
from api.routes.integrity import integrity_errors
from api.routes.responses import PATIENT_ERRORS, errors

router = APIRouter(prefix="/v1/patients/{patient_id}/journal", tags=["journal"])

#: Bounds of the mood and body scales.
SCALE_MIN = 0
SCALE_MAX = 10
#: Most tags per entry.
MAX_TAGS = 32
#: Fields of an entry that a write sets.
ENTRY_FIELDS = ("at", "text", "tags", "mood", "body")


def _hint(name: str, description: str, default: Any = None) -> Any:
    return Field(
        default=default, description=description, json_schema_extra=schema_extra("journal", name)
    )


class EntryCreate(BaseModel):
    """A full journal entry (``POST`` and ``PUT``); fields follow ``api.form_rules`` ("journal")."""

    at: datetime | None = Field(description="When, ISO 8601 with offset")
    text: str = _hint("text", "Free text", "")
    tags: list[str] = Field(default_factory=list, description=f"At most {MAX_TAGS} tags")
    mood: int | None = _hint("mood", "0 (worst) to 10 (best)")
    body: int | None = _hint("body", "0 (worst) to 10 (best) bodily state")


class EntryPatch(BaseModel):
    """Fields to change (``PATCH``); ``mood`` and ``body`` may be set to null."""

    at: datetime | None = None
    text: str | None = None
    tags: list[str] | None = None
    mood: int | None = None
    body: int | None = None


class Entry(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    at: datetime
    text: str
    tags: list[str]
    mood: int | None
    body: int | None
    created_at: datetime
    updated_at: datetime


def _not_found(entry_id: uuid.UUID) -> NotFound:
    return NotFound("journal entry not found", entry_id=str(entry_id))


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` after the journal form's rules, with trimmed tags."""
    enforce(
        "journal", {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
    )
    return {**values, "tags": [t.strip() for t in values.get("tags") or []]}


@router.post("", status_code=201, response_model=Entry, responses=errors(*PATIENT_ERRORS))
async def create_entry(
    request: Request,
    patient_id: uuid.UUID,
    body: EntryCreate,
    principal: Principal = Depends(patient_writer),
) -> Entry:
    """Write a journal entry (the patient or their therapist)."""
    values = _checked(body.model_dump())
    async with get_db(request).connection() as conn, conn.transaction():
        with integrity_errors("duplicate entry", missing="patient not found"):
            cur = await conn.execute(
                q("journal_insert"),
                {"patient_id": patient_id, "created_by": principal.user_id, **values},
            )
            entry = Entry.model_validate(await cur.fetchone())
        await _audit(conn, request, principal, "create", entry.id, patient_id)
    return entry


@router.get("", response_model=list[Entry], responses=errors(*PATIENT_ERRORS))
async def list_entries(
    request: Request,
    patient_id: uuid.UUID,
    start: Time | None = Query(default=None, description="Entries at or after"),
    end: Time | None = Query(default=None, description="Entries before"),
    _: Principal = Depends(patient_reader),
) -> list[Entry]:
    """The patient's journal in time order, optionally within [start, end)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("journal_list"), {"patient_id": patient_id, "start": start, "end": end}
        )
        rows = await cur.fetchall()
    return [Entry.model_validate(r) for r in rows]


@router.get("/{entry_id}", response_model=Entry, responses=errors(*PATIENT_ERRORS))
async def get_entry(
    request: Request,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    _: Principal = Depends(patient_reader),
) -> Entry:
    """One journal entry."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("journal_get"), {"id": entry_id, "patient_id": patient_id})
        row = await cur.fetchone()
    if row is None:
        raise _not_found(entry_id)
    return Entry.model_validate(row)


async def _audit(
    conn: Any,
    request: Request,
    principal: Principal,
    action: str,
    entry_id: uuid.UUID,
    patient_id: uuid.UUID,
) -> None:
    await record(
        conn, principal, action, route_name(request), patient_id, {"entry_id": str(entry_id)}
    )


async def _write(
    request: Request,
    principal: Principal,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    patch: dict[str, Any],
) -> Entry:
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(
            q("journal_get_for_update"), {"id": entry_id, "patient_id": patient_id}
        )
        current = await cur.fetchone()
        if current is None:
            raise _not_found(entry_id)
        merged = _checked({k: current[k] for k in ENTRY_FIELDS} | patch)
        with integrity_errors("conflicting entry"):
            cur = await conn.execute(
                q("journal_update"), {"id": entry_id, "patient_id": patient_id, **merged}
            )
            entry = Entry.model_validate(await cur.fetchone())
        await _audit(conn, request, principal, "update", entry_id, patient_id)
    return entry


@router.put("/{entry_id}", response_model=Entry, responses=errors(*PATIENT_ERRORS))
async def replace_entry(
    request: Request,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: EntryCreate,
    principal: Principal = Depends(patient_writer),
) -> Entry:
    """Replace a journal entry entirely."""
    return await _write(request, principal, patient_id, entry_id, body.model_dump())


@router.patch("/{entry_id}", response_model=Entry, responses=errors(*PATIENT_ERRORS))
async def update_entry(
    request: Request,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: EntryPatch,
    principal: Principal = Depends(patient_writer),
) -> Entry:
    """Change some fields; ``at``, ``text`` and ``tags`` cannot be null."""
    patch = body.model_dump(include=body.model_fields_set)
    for name in ("at", "text", "tags"):
        if name in patch and patch[name] is None:
            message = FORMS["journal"].fields[name].messages()["required"]
            raise InvalidInput(f"{name}: {message}", errors=field_error(name, message))
    return await _write(request, principal, patient_id, entry_id, patch)


@router.delete("/{entry_id}", status_code=204, responses=errors(*PATIENT_ERRORS))
async def delete_entry(
    request: Request,
    patient_id: uuid.UUID,
    entry_id: uuid.UUID,
    principal: Principal = Depends(patient_writer),
) -> Response:
    """Delete a journal entry."""
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(q("journal_delete"), {"id": entry_id, "patient_id": patient_id})
        if await cur.fetchone() is None:
            raise _not_found(entry_id)
        await _audit(conn, request, principal, "delete", entry_id, patient_id)
    return Response(status_code=204)
