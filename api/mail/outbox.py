"""The mail outbox: messages are written, with their delivery job, in the caller's transaction, so a
decision to send (an alert, a reminder) is never lost and never waits for the mail server.

Delivery is ``tasks``'s; this module also answers the admin's "is e-mail working?".
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Final

import psycopg

from api.db.queries import q
from api.mail import messages
from api.mail.messages import Message
from api.mail.smtp import MailNotConfigured, smtp_config
from api.settings import Settings

logger = logging.getLogger(__name__)

#: procrastinate queue of every mail job, and the task names on it.
MAIL_QUEUE: Final[str] = "mail"
SEND_TASK: Final[str] = "somatrace.send_mail"
REMINDER_TASK: Final[str] = "somatrace.mail_reminders"

Conn = psycopg.AsyncConnection[Any]


async def enqueue(
    conn: Conn,
    message: Message,
    *,
    to_address: str,
    to_user_id: uuid.UUID | None,
    alert_id: uuid.UUID | None = None,
) -> int:
    """Queue ``message`` for ``to_address`` with its delivery job; returns the outbox id."""
    cur = await conn.execute(
        q("mail_enqueue"),
        {
            "kind": message.kind,
            "to_user_id": to_user_id,
            "to_address": to_address,
            "subject": message.subject,
            "body": message.body,
            "alert_id": alert_id,
            "queue": MAIL_QUEUE,
            "task": SEND_TASK,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["outbox_id"])


async def enqueue_alert_notices(
    conn: Conn, public_url: str | None, patient_id: uuid.UUID, alert_id: uuid.UUID
) -> int:
    """Tell every active therapist assigned to ``patient_id`` about an alert (or, with none, the
    admins, asking them to assign one). Returns how many messages were queued."""
    cur = await conn.execute(q("safety_assigned_therapists"), {"patient_id": patient_id})
    recipients = await cur.fetchall()
    message = messages.safety_alert(public_url)
    if not recipients:
        logger.warning(
            "safety alert %s: no active therapist is assigned; telling the admins", alert_id
        )
        cur = await conn.execute(q("safety_active_admins"))
        recipients = await cur.fetchall()
        message = messages.unassigned_alert(public_url)
    for row in recipients:
        await enqueue(
            conn, message, to_address=str(row["email"]), to_user_id=row["id"], alert_id=alert_id
        )
    return len(recipients)


async def requeue(conn: Conn, outbox_id: int) -> bool:
    """Give a failed message a new delivery job (admin's retry); False when it is not failed."""
    async with conn.transaction():
        cur = await conn.execute(q("mail_requeue"), {"id": outbox_id})
        if await cur.fetchone() is None:
            return False
        await conn.execute(
            q("mail_defer"), {"queue": MAIL_QUEUE, "task": SEND_TASK, "outbox_id": outbox_id}
        )
    return True


async def defer_stranded(conn: Conn) -> int:
    """A new job for each queued or retrying message that has none; returns how many."""
    cur = await conn.execute(q("mail_stranded"))
    ids = [int(r["id"]) for r in await cur.fetchall()]
    for outbox_id in ids:
        await conn.execute(
            q("mail_defer"), {"queue": MAIL_QUEUE, "task": SEND_TASK, "outbox_id": outbox_id}
        )
    return len(ids)


def configuration_problem(settings: Settings) -> str | None:
    """Why e-mail cannot work with these settings, in one sentence; None when it can."""
    try:
        config = smtp_config(settings)
    except MailNotConfigured as exc:
        return exc.message
    if config is None:
        return "SOMATRACE_SMTP_HOST is not set: no e-mail is sent"
    return None


async def status(conn: Conn, settings: Settings, limit: int = 50) -> dict[str, Any]:
    """Counts per delivery state and the latest problems (for the admin)."""
    cur = await conn.execute(q("mail_counts"))
    counts = {str(r["status"]): int(r["n"]) for r in await cur.fetchall()}
    cur = await conn.execute(q("mail_problems"), {"limit": limit})
    problems = list(await cur.fetchall())
    return {
        "configured": configuration_problem(settings) is None,
        "problem": configuration_problem(settings),
        "public_url": settings.public_url,
        "smtp_host": settings.smtp_host,
        "counts": counts,
        "failures": problems,
    }
