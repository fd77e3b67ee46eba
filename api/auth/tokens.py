"""Signed access tokens: JWT HS256 with ``sub`` (user id), ``role``, ``ep`` (session epoch), ``iat``, ``exp``.

Whether the account still exists, is enabled and still has that session epoch (deactivation and password
changes raise it, ending every earlier session) is checked by ``api.auth.deps.current_user``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal, cast

import jwt

from api.errors import Unauthorized

#: The only signing algorithm issued and accepted.
ALGORITHM = "HS256"
#: Audience claim of access tokens, so other HS256 tokens signed with the same key are refused.
AUDIENCE = "somatrace-api"

UserRole = Literal["admin", "therapist", "patient", "researcher"]
USER_ROLES: tuple[UserRole, ...] = ("admin", "therapist", "patient", "researcher")


@dataclass(frozen=True)
class AccessClaims:
    """What a valid access token says."""

    user_id: uuid.UUID
    role: UserRole
    issued_at_s: int
    expires_at_s: int
    epoch: int = 0


def issue_access_token(
    secret: str,
    user_id: uuid.UUID,
    role: UserRole,
    ttl_s: int,
    *,
    now_s: float | None = None,
    epoch: int = 0,
) -> str:
    """A token for ``user_id`` valid for ``ttl_s`` seconds from ``now_s`` (default: now), bound to the
    account's session ``epoch`` (``users.session_epoch``)."""
    issued = int(time.time() if now_s is None else now_s)
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + ttl_s,
        "ep": epoch,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_access_token(secret: str, token: str) -> AccessClaims:
    """Verify signature, audience and expiry of ``token``.

    Raises
    ------
    Unauthorized
        If the token is malformed, forged, expired or lacks a claim.
    """
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "role", "exp", "iat", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the access token has expired; log in again") from None
    except jwt.PyJWTError:
        raise Unauthorized("the access token is invalid") from None
    expires = payload.get("exp")
    issued = payload.get("iat")
    if not isinstance(expires, int) or not isinstance(issued, int):
        raise Unauthorized("the access token is invalid")
    role = payload.get("role")
    if role not in USER_ROLES:
        raise Unauthorized("the access token is invalid")
    try:
        user_id = uuid.UUID(str(payload["sub"]))
    except ValueError:
        raise Unauthorized("the access token is invalid") from None
    epoch = payload.get("ep", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool):
        raise Unauthorized("the access token is invalid")
    return AccessClaims(
        user_id=user_id,
        role=cast(UserRole, role),
        issued_at_s=issued,
        expires_at_s=expires,
        epoch=epoch,
    )
