"""``/v1/users``: accounts of admins, therapists and researchers (admin), and ``/v1/users/me``.

Patient logins are created under ``/v1/patients/{patient_id}/account`` (``api.routes.patients``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from api.auth.deps import Principal, current_user, get_db, require_role
from api.auth.passwords import check_password, hash_password
from api.db.queries import q
from api.errors import Conflict, NotFound
from api.routes.fields import Email, Name, Password
from api.routes.integrity import integrity_errors
from api.routes.responses import AUTH_ERRORS, errors

router = APIRouter(prefix="/v1/users", tags=["users"])
admin_only = require_role("admin")

StaffRole = Literal["admin", "therapist", "researcher"]
AnyUserRole = Literal["admin", "therapist", "patient", "researcher"]


class UserCreate(BaseModel):
    email: Email
    password: Password
    role: StaffRole
    display_name: Name | None = None


class User(BaseModel):
    id: uuid.UUID
    email: str
    role: AnyUserRole
    display_name: str | None
    patient_id: uuid.UUID | None
    created_at: datetime
    disabled_at: datetime | None


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


@router.post("", status_code=201, response_model=User, responses=errors(*AUTH_ERRORS, 409))
async def create_user(
    request: Request, body: UserCreate, _: Principal = Depends(admin_only)
) -> User:
    """Create an admin, therapist or researcher account (admin only)."""
    return await create_user_row(
        request,
        email=body.email,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
        patient_id=None,
    )


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


@router.delete("/{user_id}", status_code=204, responses=errors(*AUTH_ERRORS, 404, 409))
async def disable_user(
    request: Request, user_id: uuid.UUID, principal: Principal = Depends(admin_only)
) -> Response:
    """Disable an account (admin only): it can no longer log in and its tokens stop working."""
    if user_id == principal.user_id:
        raise Conflict("an admin cannot disable their own account")
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("users_disable"), {"id": user_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound("account not found", user_id=str(user_id))
    return Response(status_code=204)
