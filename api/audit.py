"""The audit log: one row per read or write of a patient's data (who, what, when, which patient).

Rows are written by the authorization dependencies in ``api.auth.deps``;
``GET /v1/audit`` reads them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from psycopg.types.json import Jsonb

from api.auth.principal import Principal
from api.db.queries import q

if TYPE_CHECKING:
    import psycopg

AuditAction = Literal["read", "write", "create", "delete", "denied", "export"]


async def record(
    conn: psycopg.AsyncConnection[Any],
    principal: Principal,
    action: str,
    resource: str,
    patient_id: uuid.UUID | None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one audit row for ``principal`` doing ``action`` on ``resource`` of ``patient_id``.

    ``resource`` is the route (``"GET /v1/patients/{patient_id}/sessions"``); ``detail`` is
    stored as JSON. Runs on ``conn`` so a caller's transaction covers it.
    """
    await conn.execute(
        q("audit_insert"),
        {
            "actor_id": principal.user_id if principal.user_id is not None else principal.device_id,
            "actor_role": principal.role,
            "action": action,
            "resource": resource,
            "patient_id": patient_id,
            "detail": Jsonb(dict(detail or {})),
            "client_addr": principal.client_addr,
        },
    )
