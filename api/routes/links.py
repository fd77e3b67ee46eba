"""``/v1/links``: what a one-time account link is for, and redeeming it with a new password, which signs its
holder in. Public (the link is the credential); tokens travel in request bodies, never in URLs the server
logs. Issuing links is ``api.routes.users`` and ``api.routes.invites``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, cast

from anyio import to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.account_links import look_up, redeem_link
from api.audit import record
from api.auth.deps import Principal, client_addr, get_app_settings, get_db, signing_secret
from api.auth.passwords import MAX_PASSWORD_LENGTH, hash_password
from api.auth.tokens import UserRole, issue_access_token
from api.form_rules import enforce_password
from api.routes.responses import errors

router = APIRouter(prefix="/v1/links", tags=["links"])

#: Longest token accepted in a request (real ones have 50 characters).
MAX_TOKEN_CHARS = 200


class LinkToken(BaseModel):
    token: str = Field(
        max_length=MAX_TOKEN_CHARS, description="The token from the link (stlink_...)"
    )


class LinkInfo(BaseModel):
    purpose: Literal["invite", "setup", "reset"]
    email: str = Field(description="The login the link is for")
    display_name: str | None
    expires_at: datetime


class LinkRedeem(BaseModel):
    token: str = Field(max_length=MAX_TOKEN_CHARS)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH * 4)
    password_confirm: str = Field(max_length=MAX_PASSWORD_LENGTH * 4)


class SignedIn(BaseModel):
    access_token: str = Field(description="Send as Authorization: Bearer <access_token>")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int
    role: Literal["admin", "therapist", "patient", "researcher"]
    user_id: uuid.UUID


@router.post("/check", response_model=LinkInfo, responses=errors(410, 422))
async def check_link(request: Request, body: LinkToken) -> LinkInfo:
    """What the link is for and whom, while it can be used; 410 says why it cannot (used, expired...)."""
    async with get_db(request).connection() as conn:
        row = await look_up(conn, body.token)
    return LinkInfo(
        purpose=row["purpose"],
        email=row["email"],
        display_name=row["display_name"],
        expires_at=row["expires_at"],
    )


@router.post("/redeem", response_model=SignedIn, responses=errors(409, 410, 422))
async def redeem(request: Request, body: LinkRedeem) -> SignedIn:
    """Set the password the link is for (an invitation creates the patient's login) and sign in.

    The link works once; every other session of the account ends.
    """
    async with get_db(request).connection() as conn:
        info = await look_up(conn, body.token)
    data = {"password": body.password, "password_confirm": body.password_confirm}
    enforce_password(data, (str(info["email"]), str(info["display_name"] or "")))
    password_hash = await to_thread.run_sync(hash_password, body.password)
    async with get_db(request).connection() as conn, conn.transaction():
        account = await redeem_link(conn, body.token, password_hash)
        principal = Principal(
            user_id=account.user_id,
            role=cast(UserRole, account.role),
            patient_id=account.patient_id,
            client_addr=client_addr(request),
        )
        await record(
            conn,
            principal,
            "accept_invite" if account.purpose == "invite" else "set_password",
            "POST /v1/links/redeem",
            account.patient_id,
            {"user_id": str(account.user_id), "email": account.email, "purpose": account.purpose},
        )
    ttl_s = get_app_settings(request).access_token_ttl_s
    token = issue_access_token(
        signing_secret(request),
        account.user_id,
        cast(UserRole, account.role),
        ttl_s,
        epoch=account.session_epoch,
    )
    return SignedIn(
        access_token=token,
        expires_in=ttl_s,
        role=cast(UserRole, account.role),
        user_id=account.user_id,
    )
