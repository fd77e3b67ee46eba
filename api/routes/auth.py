"""``POST /v1/auth/token``: OAuth2 password login (dashboard, scripts) → a signed access token.

Throttled by ``api.auth.throttle`` (shared by replicas); every attempt is audited; the token rules
themselves live in ``api.auth``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, Literal, cast

import psycopg
from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from api.auth.deps import client_addr, get_app_settings, get_db, signing_secret
from api.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from api.auth.throttle import LoginThrottle, LoginThrottled
from api.auth.tokens import UserRole, issue_access_token
from api.db.queries import q
from api.errors import Unauthorized
from api.routes.fields import MAX_EMAIL_CHARS, is_storable_text
from api.routes.responses import errors

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str = Field(description="Send as Authorization: Bearer <access_token>")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the token expires")


def login_throttle(request: Request) -> LoginThrottle:
    """The app's login throttle (its counters are in the database, shared by every replica)."""
    throttle = getattr(request.app.state, "login_throttle", None)
    if not isinstance(throttle, LoginThrottle):
        throttle = LoginThrottle()
        request.app.state.login_throttle = throttle
    return throttle


class WrongCredentials(Unauthorized):
    code = "wrong_credentials"


#: ``resource`` of the audit rows of login attempts.
LOGIN_RESOURCE = "POST /v1/auth/token"


async def _audit_login(
    conn: psycopg.AsyncConnection[Any],
    row: Mapping[str, Any] | None,
    action: str,
    email: str,
    addr: str | None,
    **detail: object,
) -> None:
    """One audit row for a login attempt: who it named (the account, if it exists), from where."""
    await conn.execute(
        q("audit_insert"),
        {
            "actor_id": row["id"] if row is not None else None,
            "actor_role": str(row["role"]) if row is not None else "anonymous",
            "action": action,
            "resource": LOGIN_RESOURCE,
            "patient_id": None,
            "detail": Jsonb({"email": email[:MAX_EMAIL_CHARS], **detail}),
            "client_addr": addr,
        },
    )


@router.post("/token", response_model=Token, responses=errors(401, 422, 429))
async def issue_token(
    request: Request,
    form: OAuth2PasswordRequestForm = Depends(),
    throttle: LoginThrottle = Depends(login_throttle),
) -> Token:
    """Log in with ``username`` (the email) and ``password`` as an OAuth2 password form.

    Wrong credentials answer 401; repeated failures make further attempts of that account from
    that address (or of that address, or of that account from new addresses) wait a doubling
    delay: 429 with ``Retry-After``. Every failed or throttled attempt is written to the audit log.
    """
    email = form.username.strip()
    addr = client_addr(request)
    password = form.password
    readable = (
        is_storable_text(email)
        and is_storable_text(password)
        and len(email) <= MAX_EMAIL_CHARS
        and len(password) <= MAX_PASSWORD_LENGTH
    )
    if not readable:
        email = email.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
        password = ""  # never matches; still costs one verification like any other attempt
    db = get_db(request)
    async with db.connection() as conn:
        row = None
        if email and readable:
            cur = await conn.execute(q("auth_user_for_login"), {"email": email})
            row = await cur.fetchone()
        try:
            attempt = await throttle.begin(
                conn, email, addr, cast("uuid.UUID | None", row["id"]) if row else None
            )
        except LoginThrottled as exc:
            await _audit_login(
                conn,
                row,
                "login_throttled",
                email,
                addr,
                scope=exc.scope,
                retry_after_s=exc.retry_after_s,
            )
            logger.warning(
                "throttled login for %r from %s (%s, retry in %d s)",
                email[:MAX_EMAIL_CHARS],
                addr,
                exc.scope,
                exc.retry_after_s,
            )
            raise
    stored = str(row["password_hash"]) if row is not None else dummy_hash()
    matches = await to_thread.run_sync(verify_password, stored, password)
    if row is None or not matches or row["disabled_at"] is not None:
        reason = (
            "unknown_account"
            if row is None
            else ("wrong_password" if not matches else "account_disabled")
        )
        async with db.connection() as conn:
            await throttle.failed(conn)
            await _audit_login(conn, row, "login_failed", email, addr, reason=reason)
        logger.warning("failed login for %r from %s (%s)", email[:MAX_EMAIL_CHARS], addr, reason)
        raise WrongCredentials("wrong email or password")
    user_id = cast(uuid.UUID, row["id"])
    new_hash = (
        await to_thread.run_sync(hash_password, form.password) if needs_rehash(stored) else None
    )
    async with db.connection() as conn:
        await throttle.succeeded(conn, attempt, user_id)
        await _audit_login(conn, row, "login", email, addr)
        if new_hash is not None:
            await conn.execute(q("auth_user_rehash"), {"id": user_id, "password_hash": new_hash})
    ttl_s = get_app_settings(request).access_token_ttl_s
    token = issue_access_token(
        signing_secret(request),
        user_id,
        cast(UserRole, row["role"]),
        ttl_s,
        epoch=cast(int, row["session_epoch"]),
    )
    return Token(access_token=token, expires_in=ttl_s)
