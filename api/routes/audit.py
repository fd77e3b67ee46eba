"""``GET /v1/audit`` (admin): who read or wrote which patient's data, and when, newest first.

Rows are written by ``api.auth.deps`` and ``api.audit.record``; this router only reads them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from api.auth.deps import Principal, get_db, require_role
from api.db.queries import q
from api.routes.fields import Tag, Time
from api.routes.responses import AUTH_ERRORS, errors

router = APIRouter(prefix="/v1/audit", tags=["audit"])
admin_only = require_role("admin")

#: Most rows one request returns.
MAX_AUDIT_ROWS = 1000


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_id: uuid.UUID | None = Field(description="User id, or device id for devices")
    actor_role: str
    action: str = Field(description="read, write, create, denied, assign, unassign, export")
    resource: str = Field(description="Route, e.g. 'GET /v1/patients/{patient_id}'")
    patient_id: uuid.UUID | None
    detail: dict[str, Any]
    client_addr: str | None


@router.get("", response_model=list[AuditEntry], responses=errors(*AUTH_ERRORS))
async def list_audit(
    request: Request,
    patient_id: uuid.UUID | None = Query(default=None),
    since: Time | None = Query(default=None, description="Entries at or after this time"),
    actor_id: uuid.UUID | None = Query(default=None),
    action: Tag | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=MAX_AUDIT_ROWS),
    _: Principal = Depends(admin_only),
) -> list[AuditEntry]:
    """Audit entries, newest first, filtered by patient, time, actor or action."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("audit_list"),
            {
                "patient_id": patient_id,
                "since": since,
                "actor_id": actor_id,
                "action": action,
                "limit": limit,
            },
        )
        rows = await cur.fetchall()
    return [AuditEntry.model_validate(r) for r in rows]
