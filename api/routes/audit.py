"""``/v1/audit`` (admin): who read or changed what, of which patient, and when, newest first; filtered by
patient, actor, action and time; as JSON pages or a CSV download. Each entry says what happened in words.

Rows are written by ``api.auth.deps`` and ``api.audit.record``; this router only reads them.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from api.auth.deps import Principal, get_db, require_role
from api.db.queries import q
from api.errors import InvalidInput
from api.routes.fields import Tag, Time
from api.routes.responses import AUTH_ERRORS, errors

router = APIRouter(prefix="/v1/audit", tags=["audit"])
admin_only = require_role("admin")

#: Most rows one JSON request returns.
MAX_AUDIT_ROWS = 1000
#: Most rows one CSV download holds.
MAX_AUDIT_CSV_ROWS = 100_000
#: Largest audit id (bigserial).
MAX_AUDIT_ID = 2**63 - 1
#: Rows fetched per round trip for the CSV download.
CSV_FETCH_ROWS = 2000
#: Columns of the CSV download.
CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "actor_role",
    "action",
    "summary",
    "patient",
    "resource",
    "client_addr",
    "detail",
)

_KIND_WORDS = {
    "medicine": "a medicine session",
    "integration": "an integration appointment",
    "other": "an appointment",
}
_PAGE_WORDS = {
    "timeline": "the timeline",
    "daily": "the daily values",
    "windows": "the 5-minute windows",
    "beats": "the beats",
    "sessions": "the sessions",
    "journal": "the journal",
    "devices": "the straps",
    "consent": "the consent",
    "integration": "a session's integration analysis",
    "invites": "the invitations",
    "account": "the login",
    "password-link": "a password link",
}


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_id: uuid.UUID | None = Field(description="User id, or device id for devices")
    actor_role: str
    actor: str | None = Field(description="The actor's name and email, or the device's label")
    action: str = Field(
        description="read, write, denied, export, create, update, delete, consent, ..."
    )
    summary: str = Field(description="What happened, in words")
    resource: str = Field(description="Route, e.g. 'GET /v1/patients/{patient_id}'")
    patient_id: uuid.UUID | None
    patient_pseudonym: str | None = Field(description="The patient's pseudonym (never a name)")
    detail: dict[str, Any]
    client_addr: str | None


def _page(resource: str) -> str:
    """The thing a route is about, in words ("GET /v1/patients/{patient_id}/timeline" → "the timeline")."""
    path = resource.split(" ", 1)[-1]
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    for part in reversed(parts):
        if part in _PAGE_WORDS:
            return _PAGE_WORDS[part]
    if parts and parts[-1] == "patients":
        return "the patient" if path.endswith("}") else "the patient list"
    return path


def describe(row: dict[str, Any]) -> str:
    """What one audit row records, in words, for the audit page and its CSV."""
    action = str(row["action"])
    detail: dict[str, Any] = row.get("detail") or {}
    resource = str(row["resource"])
    method = resource.split(" ", 1)[0]
    if action in ("create", "update", "delete") and "/sessions" in resource:
        verb = {"create": "recorded", "update": "changed", "delete": "deleted"}[action]
        return f"{verb} {_KIND_WORDS.get(str(detail.get('kind')), 'a session')}"
    if action in ("create", "update", "delete") and "/journal" in resource:
        verb = {"create": "wrote", "update": "edited", "delete": "deleted"}[action]
        return f"{verb} a journal note"
    texts = {
        "create_user": f"created the {detail.get('role', '')} account {detail.get('email', '')}".replace(
            "  ", " "
        ),
        "deactivate": f"deactivated the account {detail.get('email', '')}",
        "reactivate": f"reactivated the account {detail.get('email', '')}",
        "password_link": f"made a link to set a password{' for ' + str(detail['email']) if detail.get('email') else ''}",
        "create_patient": f"added the patient {detail.get('pseudonym', '')}",
        "invite": f"invited the patient to a login ({detail.get('email', '')})",
        "withdraw_invite": "withdrew an invitation",
        "accept_invite": "accepted the invitation and set a password",
        "set_password": "set a new password with a link",
        "create_device": "made a strap pairing code",
        "revoke_device": "revoked a strap",
        "login": "signed in",
        "login_failed": f"failed to sign in as {detail.get('email', '')}",
        "login_throttled": f"was held back after repeated failed sign-ins as {detail.get('email', '')}",
        "assign": "assigned a therapist to the patient",
        "unassign": "ended a therapist's assignment to the patient",
    }
    if action in texts:
        return texts[action]
    if action == "consent":
        if not detail.get("research"):
            return "withdrew research consent"
        return "gave research consent" + (
            " with journal text" if detail.get("journal_text") else ""
        )
    if action == "export":
        if row.get("patient_id") is None:
            return f"finished a research export ({detail.get('patients', 0)} patients)"
        return f"exported the patient's data for research ({detail.get('format', '')})"
    if action == "read":
        return f"read {_page(resource)}"
    if action == "write":
        return f"changed {_page(resource)}" if method != "POST" else f"added to {_page(resource)}"
    if action == "denied":
        return f"was refused: {resource}"
    return f"{action}: {resource}"


def _actor(row: dict[str, Any]) -> str | None:
    if row.get("actor_role") == "device":
        return f"device {row['device_label']}" if row.get("device_label") else "device"
    email, name = row.get("actor_email"), row.get("actor_name")
    if email and name:
        return f"{name} <{email}>"
    return str(email) if email else None


def _entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        **{k: row[k] for k in ("id", "at", "actor_id", "actor_role", "action", "resource")},
        patient_id=row["patient_id"],
        patient_pseudonym=row["patient_pseudonym"],
        detail=row["detail"] or {},
        client_addr=row["client_addr"],
        actor=_actor(row),
        summary=describe(row),
    )


class AuditFilter:
    """The filters both views take (query parameters)."""

    def __init__(
        self,
        patient_id: uuid.UUID | None = Query(default=None, description="Only this patient (id)"),
        pseudonym: str | None = Query(
            default=None,
            max_length=32,
            pattern=r"^[A-Z0-9-]{6,32}$",
            description="Only this patient (pseudonym)",
        ),
        since: Time | None = Query(default=None, description="Entries at or after this time"),
        until: Time | None = Query(default=None, description="Entries before this time"),
        actor_id: uuid.UUID | None = Query(default=None, description="Only this actor"),
        action: Tag | None = Query(default=None, description="Only this action"),
    ) -> None:
        if since is not None and until is not None and until <= since:
            raise InvalidInput(
                "until must be after since",
                errors=[
                    {
                        "loc": ["query", "until"],
                        "msg": "The last day cannot be before the first day.",
                    }
                ],
            )
        self.params: dict[str, Any] = {
            "patient_id": patient_id,
            "pseudonym": pseudonym,
            "since": since,
            "until": until,
            "actor_id": actor_id,
            "action": action,
        }


@router.get("", response_model=list[AuditEntry], responses=errors(*AUTH_ERRORS))
async def list_audit(
    request: Request,
    filters: AuditFilter = Depends(),
    before_id: int | None = Query(
        default=None,
        ge=1,
        le=MAX_AUDIT_ID,
        description="Only entries older than this id (next page)",
    ),
    limit: int = Query(default=100, ge=1, le=MAX_AUDIT_ROWS),
    _: Principal = Depends(admin_only),
) -> list[AuditEntry]:
    """Audit entries, newest first, filtered by patient, time, actor or action."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("audit_list"), {**filters.params, "before_id": before_id, "limit": limit}
        )
        rows = await cur.fetchall()
    return [_entry(dict(r)) for r in rows]


@router.get("/actions", response_model=list[str], responses=errors(*AUTH_ERRORS))
async def list_actions(request: Request, _: Principal = Depends(admin_only)) -> list[str]:
    """The actions that occur in the log (for the filter), alphabetically."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("audit_actions"))
        rows = await cur.fetchall()
    return [str(r["action"]) for r in rows]


def _csv_values(r: dict[str, Any]) -> list[Any]:
    return [
        r["id"],
        r["at"].isoformat(),
        _actor(r) or "",
        r["actor_role"],
        r["action"],
        describe(r),
        r["patient_pseudonym"] or "",
        r["resource"],
        r["client_addr"] or "",
        json.dumps(r["detail"] or {}, sort_keys=True),
    ]


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


@router.get(
    "/csv",
    summary="The filtered audit log as CSV (newest first)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **errors(*AUTH_ERRORS),
    },
)
async def audit_csv(
    request: Request,
    filters: AuditFilter = Depends(),
    limit: int = Query(default=MAX_AUDIT_CSV_ROWS, ge=1, le=MAX_AUDIT_CSV_ROWS),
    _: Principal = Depends(admin_only),
) -> StreamingResponse:
    """Up to ``limit`` entries matching the filters, one CSV row each, streamed."""
    db = get_db(request)
    params = {**filters.params, "before_id": None, "limit": limit}

    async def rows() -> AsyncIterator[bytes]:
        yield _csv_line(list(CSV_COLUMNS)).encode()
        cursor_name = f"audit_{uuid.uuid4().hex}"
        async with (
            db.connection() as conn,
            conn.transaction(),
            conn.cursor(name=cursor_name, row_factory=dict_row) as cur,
        ):
            await cur.execute(q("audit_list"), params)
            while batch := await cur.fetchmany(CSV_FETCH_ROWS):
                yield "".join(_csv_line(_csv_values(r)) for r in batch).encode()

    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="somatrace-audit-{stamp}.csv"'},
    )
