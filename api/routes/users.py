"""``/v1/users``: accounts of admins, therapists and researchers (admin): create (with a one-time link to
set the first password), list, deactivate (ending the account's sessions), reactivate, password links;
and ``/v1/users/me``. Every change is audited.

Patient logins come from their therapist's invitation (``api.routes.invites``); links are
``api.account_links``'.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from api.account_links import IssuedLink, issue_link
from api.audit import record
from api.auth.deps import (
    Principal,
    current_user,
    get_app_settings,
    get_db,
    require_role,
    route_name,
)
from api.auth.passwords import check_password, hash_password
from api.db.queries import q
from api.errors import Conflict, NotFound
from api.form_rules import blank_to_none, enforce, enforce_password, field_error, schema_extra
from api.routes.integrity import integrity_errors
from api.routes.responses import AUTH_ERRORS, errors

router = APIRouter(prefix="/v1/users", tags=["users"])
admin_only = require_role("admin")

StaffRole = Literal["admin", "therapist", "researcher"]
AnyUserRole = Literal["admin", "therapist", "patient", "researcher"]
EMAIL_TAKEN = "An account with this email already exists."


class UserCreate(BaseModel):
    email: str = Field(json_schema_extra=schema_extra("account", "email"))
    display_name: str | None = Field(
        default=None, json_schema_extra=schema_extra("account", "display_name")
    )
    role: str = Field(description="admin | therapist | researcher")
    password: str | None = Field(
        default=None,
        description="Omit it to get a one-time setup link instead (the person sets their own password)",
    )


class User(BaseModel):
    id: uuid.UUID
    email: str
    role: AnyUserRole
    display_name: str | None
    patient_id: uuid.UUID | None
    created_at: datetime
    disabled_at: datetime | None
    password_set: bool = Field(description="False until a setup link has been used")
    patients: int = Field(default=0, description="Patients assigned (therapists)")


class LinkOut(BaseModel):
    """A one-time link; its token is in ``path`` and ``url`` and is shown only in this answer."""

    purpose: Literal["invite", "setup", "reset"]
    path: str = Field(description="Dashboard path that redeems it, e.g. /#/password/stlink_...")
    url: str = Field(description="The same on this server's address")
    expires_at: datetime


class UserCreated(User):
    setup_link: LinkOut | None = Field(
        description="When no password was given: the link to pass on (once) to set it"
    )


def link_out(request: Request, link: IssuedLink) -> LinkOut:
    """The answer for a freshly issued link."""
    return LinkOut(
        purpose=link.purpose,
        path=link.path,
        url=str(request.base_url).rstrip("/") + link.path,
        expires_at=link.expires_at,
    )


def password_link_ttl(request: Request) -> timedelta:
    return timedelta(hours=get_app_settings(request).password_link_ttl_h)


async def create_user_row(
    request: Request,
    *,
    email: str,
    password: str,
    role: AnyUserRole,
    display_name: str | None,
    patient_id: uuid.UUID | None,
) -> User:
    """Check the password against the policy (422), hash it off the event loop and insert the
    account; 409 if the email is taken."""
    check_password(password, email=email, personal=[display_name] if display_name else [])
    password_hash = await to_thread.run_sync(hash_password, password)
    async with get_db(request).connection() as conn:
        with integrity_errors("an account with this email already exists"):
            cur = await conn.execute(
                q("users_insert"),
                {
                    "email": email,
                    "password_hash": password_hash,
                    "role": role,
                    "display_name": display_name,
                    "patient_id": patient_id,
                },
            )
            row = await cur.fetchone()
    assert row is not None
    return User.model_validate(row)


async def _audit(
    conn: Any, request: Request, principal: Principal, action: str, user: dict[str, Any]
) -> None:
    await record(
        conn,
        principal,
        action,
        route_name(request),
        user.get("patient_id"),
        {"user_id": str(user["id"]), "email": user["email"], "role": user["role"]},
    )


@router.post("", status_code=201, response_model=UserCreated, responses=errors(*AUTH_ERRORS, 409))
async def create_user(
    request: Request, body: UserCreate, principal: Principal = Depends(admin_only)
) -> UserCreated:
    """Create an admin, therapist or researcher account (admin only).

    Without ``password`` the account waits for its owner to set one through ``setup_link``.
    """
    fields = {"email": body.email, "display_name": body.display_name, "role": body.role}
    enforce("account", fields)
    email = body.email.strip()
    name = blank_to_none(body.display_name)
    if body.password is not None:
        enforce_password(
            {"password": body.password, "password_confirm": body.password}, (email, name or "")
        )
    password_hash = (
        await to_thread.run_sync(hash_password, body.password)
        if body.password is not None
        else None
    )
    async with get_db(request).connection() as conn, conn.transaction():
        existing = await conn.execute(q("auth_user_for_login"), {"email": email})
        if await existing.fetchone() is not None:
            raise Conflict(EMAIL_TAKEN, errors=field_error("email", EMAIL_TAKEN))
        with integrity_errors(EMAIL_TAKEN):
            cur = await conn.execute(
                q("users_insert") if password_hash is not None else q("users_insert_pending"),
                {
                    "email": email,
                    "password_hash": password_hash,
                    "role": body.role,
                    "display_name": name,
                    "patient_id": None,
                },
            )
            row = await cur.fetchone()
        assert row is not None
        link = None
        if password_hash is None:
            issued = await issue_link(
                conn,
                purpose="setup",
                ttl=password_link_ttl(request),
                created_by=principal.user_id,
                user_id=cast(uuid.UUID, row["id"]),
            )
            link = link_out(request, issued)
        await _audit(conn, request, principal, "create_user", dict(row))
    return UserCreated(**User.model_validate(row).model_dump(), setup_link=link)


@router.get("", response_model=list[User], responses=errors(*AUTH_ERRORS))
async def list_users(
    request: Request,
    role: AnyUserRole | None = Query(default=None, description="Only accounts with this role"),
    _: Principal = Depends(admin_only),
) -> list[User]:
    """All accounts, oldest first (admin only)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("users_list"), {"role": role})
        rows = await cur.fetchall()
    return [User.model_validate(r) for r in rows]


@router.get("/me", response_model=User, responses=errors(401))
async def me(request: Request, principal: Principal = Depends(current_user)) -> User:
    """The logged-in account (any role), e.g. for the dashboard to know whom it shows."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("users_get"), {"id": principal.user_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound("account not found")
    return User.model_validate(row)


async def _get_user(conn: Any, user_id: uuid.UUID) -> dict[str, Any]:
    cur = await conn.execute(q("users_get"), {"id": user_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFound("account not found", user_id=str(user_id))
    return dict(row)


@router.delete("/{user_id}", status_code=204, responses=errors(*AUTH_ERRORS, 404, 409))
async def disable_user(
    request: Request, user_id: uuid.UUID, principal: Principal = Depends(admin_only)
) -> Response:
    """Deactivate an account (admin only): it can no longer log in, every session and open link of it
    ends at once. Its records stay; reactivation restores the login."""
    if user_id == principal.user_id:
        raise Conflict("an admin cannot deactivate their own account")
    async with get_db(request).connection() as conn, conn.transaction():
        user = await _get_user(conn, user_id)
        if user["role"] == "admin" and user["disabled_at"] is None:
            cur = await conn.execute(q("users_count_admins_active"))
            active = await cur.fetchone()
            if active is not None and int(cast(int, active["n"])) <= 1:
                raise Conflict("the last active admin cannot be deactivated")
        await conn.execute(q("users_disable"), {"id": user_id})
        await conn.execute(q("links_revoke_for_user"), {"user_id": user_id})
        await _audit(conn, request, principal, "deactivate", user)
    return Response(status_code=204)


@router.post("/{user_id}/reactivate", response_model=User, responses=errors(*AUTH_ERRORS, 404))
async def reactivate_user(
    request: Request, user_id: uuid.UUID, principal: Principal = Depends(admin_only)
) -> User:
    """Let a deactivated account log in again (admin only); its old sessions stay ended."""
    async with get_db(request).connection() as conn, conn.transaction():
        user = await _get_user(conn, user_id)
        await conn.execute(q("users_enable"), {"id": user_id})
        await _audit(conn, request, principal, "reactivate", user)
        return User.model_validate(await _get_user(conn, user_id))


@router.post(
    "/{user_id}/password-link",
    status_code=201,
    response_model=LinkOut,
    responses=errors(*AUTH_ERRORS, 404, 409),
)
async def password_link(
    request: Request, user_id: uuid.UUID, principal: Principal = Depends(admin_only)
) -> LinkOut:
    """A one-time link to set a new password (admin only); it replaces earlier open links of the
    account. The old password works until the link is used; using it ends every other session."""
    async with get_db(request).connection() as conn, conn.transaction():
        user = await _get_user(conn, user_id)
        if user["disabled_at"] is not None:
            raise Conflict("this account is deactivated; reactivate it first")
        issued = await issue_link(
            conn,
            purpose="reset" if user["password_set"] else "setup",
            ttl=password_link_ttl(request),
            created_by=principal.user_id,
            user_id=user_id,
        )
        await _audit(conn, request, principal, "password_link", user)
    return link_out(request, issued)
