"""A patient's login, given by their therapist: invitations (``/v1/patients/{patient_id}/invites``: a one-time
link, valid for ``SOMATRACE_INVITE_TTL_H`` hours, with which the patient sets their own password), the login
itself (``/account``) and a link to set a new password. Every change is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal, cast

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from api.account_links import issue_link
from api.audit import record
from api.auth.deps import (
    Principal,
    get_app_settings,
    get_db,
    patient_reader,
    patient_therapist_writer,
    route_name,
)
from api.db.queries import q
from api.errors import Conflict, NotFound
from api.form_rules import enforce, field_error, schema_extra
from api.routes.responses import PATIENT_ERRORS, errors
from api.routes.users import EMAIL_TAKEN, LinkOut, link_out, password_link_ttl

router = APIRouter(prefix="/v1/patients/{patient_id}", tags=["invites"])


class InviteCreate(BaseModel):
    email: str = Field(json_schema_extra=schema_extra("invite", "email"))


class Invite(BaseModel):
    """An invitation as the therapist sees it later (never its token)."""

    id: uuid.UUID
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    state: Literal["open", "accepted", "withdrawn", "expired"]


class InviteCreated(BaseModel):
    id: uuid.UUID
    email: str
    link: LinkOut


class PatientLogin(BaseModel):
    """The patient's login, if they have one."""

    has_login: bool
    email: str | None = None
    created_at: datetime | None = None
    disabled_at: datetime | None = None


@router.post(
    "/invites",
    status_code=201,
    response_model=InviteCreated,
    responses=errors(*PATIENT_ERRORS, 409),
)
async def create_invite(
    request: Request,
    patient_id: uuid.UUID,
    body: InviteCreate,
    principal: Principal = Depends(patient_therapist_writer),
) -> InviteCreated:
    """Invite the patient to set up their login (their therapist only); earlier open invitations of this
    patient are withdrawn. The link is shown once; 409 if the patient has a login or the email is taken."""
    enforce("invite", {"email": body.email})
    email = body.email.strip()
    ttl = timedelta(hours=get_app_settings(request).invite_ttl_h)
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(q("users_patient_login"), {"patient_id": patient_id})
        if await cur.fetchone() is not None:
            raise Conflict(
                "This patient already has a login; send a link to set a new password instead.",
                errors=field_error("email", "This patient already has a login."),
            )
        cur = await conn.execute(q("auth_user_for_login"), {"email": email})
        if await cur.fetchone() is not None:
            raise Conflict(EMAIL_TAKEN, errors=field_error("email", EMAIL_TAKEN))
        issued = await issue_link(
            conn,
            purpose="invite",
            ttl=ttl,
            created_by=principal.user_id,
            patient_id=patient_id,
            email=email,
        )
        await record(
            conn,
            principal,
            "invite",
            route_name(request),
            patient_id,
            {
                "invite_id": str(issued.id),
                "email": email,
                "expires_at": issued.expires_at.isoformat(),
            },
        )
    return InviteCreated(id=issued.id, email=email, link=link_out(request, issued))


@router.get("/invites", response_model=list[Invite], responses=errors(*PATIENT_ERRORS))
async def list_invites(
    request: Request, patient_id: uuid.UUID, _: Principal = Depends(patient_reader)
) -> list[Invite]:
    """The patient's invitations, newest first, with their state (open, accepted, withdrawn, expired)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("links_list_invites"), {"patient_id": patient_id})
        rows = await cur.fetchall()
    return [Invite.model_validate(r) for r in rows]


@router.delete("/invites/{invite_id}", status_code=204, responses=errors(*PATIENT_ERRORS))
async def withdraw_invite(
    request: Request,
    patient_id: uuid.UUID,
    invite_id: uuid.UUID,
    principal: Principal = Depends(patient_therapist_writer),
) -> Response:
    """Withdraw an invitation that was not accepted yet; its link stops working at once."""
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(
            q("links_revoke_invite"), {"id": invite_id, "patient_id": patient_id}
        )
        if await cur.fetchone() is None:
            raise NotFound("no open invitation with this id", invite_id=str(invite_id))
        await record(
            conn,
            principal,
            "withdraw_invite",
            route_name(request),
            patient_id,
            {"invite_id": str(invite_id)},
        )
    return Response(status_code=204)


@router.get("/account", response_model=PatientLogin, responses=errors(*PATIENT_ERRORS))
async def get_patient_login(
    request: Request, patient_id: uuid.UUID, _: Principal = Depends(patient_reader)
) -> PatientLogin:
    """Whether the patient has a login, with its email (never a password)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("users_patient_login"), {"patient_id": patient_id})
        row = await cur.fetchone()
    if row is None:
        return PatientLogin(has_login=False)
    return PatientLogin(
        has_login=True,
        email=row["email"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )


@router.post(
    "/account/password-link",
    status_code=201,
    response_model=LinkOut,
    responses=errors(*PATIENT_ERRORS, 409),
)
async def patient_password_link(
    request: Request,
    patient_id: uuid.UUID,
    principal: Principal = Depends(patient_therapist_writer),
) -> LinkOut:
    """A one-time link for the patient to set a new password (their therapist only)."""
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(q("users_patient_login"), {"patient_id": patient_id})
        login = await cur.fetchone()
        if login is None:
            raise Conflict("This patient has no login yet; invite them instead.")
        if login["disabled_at"] is not None:
            raise Conflict("This patient's login is deactivated; ask the administrator.")
        issued = await issue_link(
            conn,
            purpose="reset",
            ttl=password_link_ttl(request),
            created_by=principal.user_id,
            user_id=cast(uuid.UUID, login["id"]),
        )
        await record(
            conn,
            principal,
            "password_link",
            route_name(request),
            patient_id,
            {"user_id": str(login["id"])},
        )
    return link_out(request, issued)
