"""FastAPI dependencies that authenticate callers and enforce the role rules, one per rule.

Every route depends on exactly one rule here; the patient-data rules also write the audit log, so
no route checks roles or audits by itself. Rules (issue 5): admin manages users and assignments but
sees no patient data; a therapist reaches their assigned patients; a patient reaches their own
data; a researcher reaches none of these routes; a device token reaches ingest only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer

from api.audit import record
from api.auth.device_tokens import hash_device_token, looks_like_device_token, token_matches
from api.auth.principal import Principal as Principal  # re-exported: routes name it from here
from api.auth.principal import Role
from api.auth.tokens import decode_access_token
from api.db.pool import Database
from api.db.queries import q
from api.errors import Forbidden, NotFound, Unauthorized
from api.settings import Settings

logger = logging.getLogger(__name__)

#: Roles that may read or write a patient's data (subject to assignment or identity).
PATIENT_DATA_ROLES: frozenset[str] = frozenset({"therapist", "patient"})

#: OpenAPI security scheme of people (dashboard, scripts): a JWT from ``POST /v1/auth/token``.
user_bearer = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token", scheme_name="UserToken", auto_error=False
)
#: OpenAPI security scheme of collectors: a device token (``stdev_...``).
device_bearer = HTTPBearer(
    scheme_name="DeviceToken",
    description="Device token from POST /v1/patients/{patient_id}/devices",
    auto_error=False,
)


def get_db(request: Request) -> Database:
    """The app's database pool."""
    return cast(Database, request.app.state.db)


def get_app_settings(request: Request) -> Settings:
    """The app's settings."""
    return cast(Settings, request.app.state.settings)


def signing_secret(request: Request) -> str:
    """The token signing secret, read once per app."""
    secret = getattr(request.app.state, "signing_secret", None)
    if not isinstance(secret, str):
        secret = get_app_settings(request).signing_secret()
        request.app.state.signing_secret = secret
    return secret


def client_addr(request: Request) -> str | None:
    """The client's address: the peer's, or what a trusted proxy forwarded (``api.proxies``)."""
    return request.client.host if request.client is not None else None


def route_name(request: Request) -> str:
    """``"METHOD /path/{template}"`` of the matched route, for audit rows."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return f"{request.method} {path}"


class BearerRequired(Unauthorized):
    """401 for a missing, invalid or expired credential; sent with ``WWW-Authenticate: Bearer``."""

    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 - read-only class constant


def _unauthorized(message: str) -> BearerRequired:
    return BearerRequired(message)


async def current_user(request: Request, token: str | None = Depends(user_bearer)) -> Principal:
    """The logged-in user from ``Authorization: Bearer <access token>``; 401 when absent or invalid.

    The account is looked up on every request, so a disabled or deleted account loses access
    at once, and so does every token issued before the account's session epoch was raised
    (deactivation, password change).
    """
    if not token:
        raise _unauthorized("log in first: send Authorization: Bearer <access token>")
    try:
        claims = decode_access_token(signing_secret(request), token)
    except Unauthorized as exc:
        raise _unauthorized(exc.message) from None
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("auth_user_by_id"), {"id": claims.user_id})
        row = await cur.fetchone()
    if row is None or row["disabled_at"] is not None:
        raise _unauthorized("this account no longer exists or is disabled")
    if row["session_epoch"] != claims.epoch:
        raise _unauthorized("this session has ended; log in again")
    return Principal(
        user_id=cast(uuid.UUID, row["id"]),
        role=cast(Role, row["role"]),
        patient_id=cast("uuid.UUID | None", row["patient_id"]),
        client_addr=client_addr(request),
    )


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting logged-in users whose role is one of ``roles`` (403 otherwise)."""
    allowed = frozenset(roles)
    wanted = " or ".join(roles)

    async def _require_role(principal: Principal = Depends(current_user)) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"this needs the {wanted} role", role=principal.role)
        return principal

    _require_role.__name__ = f"require_role_{'_'.join(roles)}"
    return _require_role


async def _may_reach_patient(
    conn: Any, principal: Principal, patient_id: uuid.UUID, *, therapist: bool, patient: bool
) -> bool:
    if principal.role == "therapist" and therapist:
        cur = await conn.execute(
            q("auth_therapist_assigned"),
            {"therapist_id": principal.user_id, "patient_id": patient_id},
        )
        row = await cur.fetchone()
        return bool(row is not None and row["assigned"])
    if principal.role == "patient" and patient:
        return principal.patient_id == patient_id
    return False


async def _authorize_patient(
    request: Request,
    principal: Principal,
    patient_id: uuid.UUID,
    action: str,
    *,
    therapist: bool,
    patient: bool,
) -> Principal:
    """Admit ``principal`` to ``patient_id``'s data and audit it, or audit the refusal and raise.

    Roles that never reach patient data get 403; a therapist or patient outside their scope gets
    404, the same answer as for a patient that does not exist, so ids cannot be probed.
    """
    resource = route_name(request)
    async with get_db(request).connection() as conn:
        allowed = await _may_reach_patient(
            conn, principal, patient_id, therapist=therapist, patient=patient
        )
        await record(
            conn,
            principal,
            action if allowed else "denied",
            resource,
            patient_id,
            {"path": request.url.path},
        )
    if allowed:
        return principal
    if principal.role not in PATIENT_DATA_ROLES:
        raise Forbidden(f"the {principal.role} role has no access to patient data")
    if principal.role == "therapist" and not therapist:
        raise Forbidden("only the patient can do this")
    if principal.role == "patient" and not patient:
        raise Forbidden("only the patient's therapist can do this")
    raise NotFound("patient not found", patient_id=str(patient_id))


async def patient_reader(
    request: Request, patient_id: uuid.UUID, principal: Principal = Depends(current_user)
) -> Principal:
    """Read ``patient_id``'s data: an assigned therapist or the patient; audited as ``read``."""
    return await _authorize_patient(
        request, principal, patient_id, "read", therapist=True, patient=True
    )


async def patient_writer(
    request: Request, patient_id: uuid.UUID, principal: Principal = Depends(current_user)
) -> Principal:
    """Write ``patient_id``'s data: an assigned therapist or the patient; audited as ``write``."""
    return await _authorize_patient(
        request, principal, patient_id, "write", therapist=True, patient=True
    )


async def patient_therapist_writer(
    request: Request, patient_id: uuid.UUID, principal: Principal = Depends(current_user)
) -> Principal:
    """Write access for the patient's assigned therapist only (e.g. the patient's login)."""
    return await _authorize_patient(
        request, principal, patient_id, "write", therapist=True, patient=False
    )


async def patient_self_writer(
    request: Request, patient_id: uuid.UUID, principal: Principal = Depends(current_user)
) -> Principal:
    """Write access for the patient themself only (e.g. research consent)."""
    return await _authorize_patient(
        request, principal, patient_id, "write", therapist=False, patient=True
    )


async def device_owner_writer(
    request: Request, device_id: uuid.UUID, principal: Principal = Depends(current_user)
) -> Principal:
    """Write access to ``device_id``: ``patient_writer``'s rule for the device's patient.

    An unknown device answers 404 like a device of someone else's patient.
    """
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("auth_device_patient"), {"device_id": device_id})
        row = await cur.fetchone()
    if row is None:
        if principal.role not in PATIENT_DATA_ROLES:
            raise Forbidden(f"the {principal.role} role has no access to patient data")
        raise NotFound("device not found", device_id=str(device_id))
    try:
        return await _authorize_patient(
            request,
            principal,
            cast(uuid.UUID, row["patient_id"]),
            "write",
            therapist=True,
            patient=True,
        )
    except NotFound:
        raise NotFound("device not found", device_id=str(device_id)) from None


async def require_device(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(device_bearer)
) -> Principal:
    """The device from ``Authorization: Bearer stdev_...``; unknown or revoked tokens get 401.

    The request is audited as a ``write`` to the device's patient in the same round trip.
    """
    if credentials is None or not credentials.credentials:
        raise _unauthorized("send Authorization: Bearer <device token>")
    token = credentials.credentials
    if not looks_like_device_token(token):
        raise _unauthorized("this is not a device token")
    addr = client_addr(request)
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("auth_device_by_token_hash"),
            {
                "token_hash": hash_device_token(token),
                "resource": route_name(request),
                "client_addr": addr,
            },
        )
        row = await cur.fetchone()
    if row is None or not token_matches(token, cast(bytes, row["token_hash"])):
        raise _unauthorized("unknown device token")
    if row["revoked_at"] is not None:
        raise _unauthorized("this device token has been revoked")
    return Principal(
        user_id=None,
        role="device",
        patient_id=cast(uuid.UUID, row["patient_id"]),
        device_id=cast(uuid.UUID, row["id"]),
        client_addr=addr,
    )
