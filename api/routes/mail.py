"""``/v1/mail``: the admin's view of e-mail delivery (settings, counts, failures), retry and a test.

Queueing and sending are ``api.mail``'s; messages never carry health information.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.auth.deps import Principal, get_app_settings, get_db, require_role
from api.db.queries import q
from api.errors import NotFound
from api.mail import messages, outbox
from api.routes.fields import Email
from api.routes.responses import AUTH_ERRORS, errors

router = APIRouter(prefix="/v1/mail", tags=["mail"])
admin_only = require_role("admin")


class MailProblem(BaseModel):
    id: int
    kind: str
    to_address: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class MailStatus(BaseModel):
    configured: bool = Field(description="SMTP settings present and usable")
    problem: str | None = Field(description="Why e-mail cannot be sent, when it cannot")
    public_url: str | None = Field(description="SOMATRACE_PUBLIC_URL, used for links")
    smtp_host: str | None
    counts: dict[str, int] = Field(
        description="Messages per state: queued, sent, retrying, failed, not_configured"
    )
    failures: list[MailProblem] = Field(
        description="Latest messages that are failed, retrying or not sent"
    )


class Queued(BaseModel):
    outbox_id: int


class TestMail(BaseModel):
    to: Email | None = Field(default=None, description="Address; default: your own")


@router.get("/status", response_model=MailStatus, responses=errors(*AUTH_ERRORS))
async def mail_status(request: Request, _: Principal = Depends(admin_only)) -> MailStatus:
    """Whether e-mail works: settings, counts per state, and the latest failures (admin)."""
    async with get_db(request).connection() as conn:
        return MailStatus.model_validate(await outbox.status(conn, get_app_settings(request)))


@router.post(
    "/outbox/{outbox_id}/retry",
    status_code=202,
    response_model=Queued,
    responses=errors(*AUTH_ERRORS, 404),
)
async def retry_mail(
    request: Request, outbox_id: int, _: Principal = Depends(admin_only)
) -> Queued:
    """Send a failed message again (admin)."""
    if not 0 < outbox_id < 2**63:
        raise NotFound("no failed message with this id", outbox_id=outbox_id)
    async with get_db(request).connection() as conn:
        if not await outbox.requeue(conn, outbox_id):
            raise NotFound("no failed message with this id", outbox_id=outbox_id)
    return Queued(outbox_id=outbox_id)


@router.post("/test", status_code=202, response_model=Queued, responses=errors(*AUTH_ERRORS))
async def test_mail(
    request: Request, body: TestMail, principal: Principal = Depends(admin_only)
) -> Queued:
    """Queue a test message to check the SMTP settings (admin); see /v1/mail/status for the outcome."""
    async with get_db(request).connection() as conn, conn.transaction():
        to = body.to
        if to is None:
            cur = await conn.execute(q("users_get"), {"id": principal.user_id})
            me = await cur.fetchone()
            assert me is not None
            to = str(me["email"])
        outbox_id = await outbox.enqueue(
            conn,
            messages.test_message(get_app_settings(request).public_url),
            to_address=to,
            to_user_id=principal.user_id if body.to is None else None,
        )
    return Queued(outbox_id=outbox_id)
