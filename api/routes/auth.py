"""``POST /v1/auth/token``: OAuth2 password login (dashboard, scripts) → a signed access token.

Throttled per account and per client address; the token rules themselves live in ``api.auth``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Literal, cast

from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.auth.deps import client_addr, get_app_settings, get_db, signing_secret
from api.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from api.auth.throttle import LoginThrottle
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
    """The app's login throttle (one per API process, created on first use)."""
    throttle = getattr(request.app.state, "login_throttle", None)
    if not isinstance(throttle, LoginThrottle):
        throttle = LoginThrottle()
        request.app.state.login_throttle = throttle
    return throttle


class WrongCredentials(Unauthorized):
    code = "wrong_credentials"


@router.post("/token", response_model=Token, responses=errors(401, 422, 429))
async def issue_token(
    request: Request,
    form: OAuth2PasswordRequestForm = Depends(),
    throttle: LoginThrottle = Depends(login_throttle),
) -> Token:
    """Log in with ``username`` (the email) and ``password`` as an OAuth2 password form.

    Wrong credentials answer 401; after repeated failures for an account or from an address,
    429 with ``Retry-After``.
    """
    email = form.username.strip()
    addr = client_addr(request)
    throttle.check(email, addr)
    row = None
    if (
        email
        and is_storable_text(email)
        and is_storable_text(form.password)
        and len(email) <= MAX_EMAIL_CHARS
        and len(form.password) <= MAX_PASSWORD_LENGTH
    ):
        async with get_db(request).connection() as conn:
            cur = await conn.execute(q("auth_user_for_login"), {"email": email})
            row = await cur.fetchone()
    stored = str(row["password_hash"]) if row is not None else dummy_hash()
    password = form.password
    if not is_storable_text(password) or len(password) > MAX_PASSWORD_LENGTH:
        password = ""  # never matches; still costs one verification like any other attempt
    matches = await to_thread.run_sync(verify_password, stored, password)
    if row is None or not matches or row["disabled_at"] is not None:
        throttle.record_failure(email, addr)
        logger.info("failed login for %r from %s", email[:MAX_EMAIL_CHARS], addr)
        raise WrongCredentials("wrong email or password")
    throttle.record_success(email)
    user_id = cast(uuid.UUID, row["id"])
    if needs_rehash(stored):
        new_hash = await to_thread.run_sync(hash_password, form.password)
        async with get_db(request).connection() as conn:
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
