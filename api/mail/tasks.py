"""The mail jobs of the background worker (procrastinate): deliver one outbox message with retries,
and every few minutes queue the reminders that are due.

A failing mail server delays delivery, never an answer: messages wait in the outbox, retried with a
growing pause (``MAIL_RETRY``); when retries run out the message is ``failed`` for the admin to see
(``GET /v1/mail/status``) and retry. ``api.worker.runner`` registers these tasks beside its own.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Final

import procrastinate
import psycopg
from psycopg.rows import dict_row

from api.db.queries import q
from api.errors import DatabaseUnavailable
from api.instruments.loader import Catalog, load_catalog
from api.instruments.store import load_schedule
from api.mail import messages, outbox, reminders
from api.mail.outbox import MAIL_QUEUE, REMINDER_TASK, SEND_TASK
from api.mail.smtp import MailError, MailNotConfigured, send, smtp_config
from api.settings import Settings

logger = logging.getLogger(__name__)

#: Most retries of one message: waits of 5 + 3^(n+1) s, i.e. 8 s, 14 s, 32 s, 86 s, 4 min, 12 min,
#: 37 min, 1.8 h: about 2.7 hours of outage are bridged before the admin has to step in.
MAIL_MAX_RETRIES: Final[int] = 8
#: How often the reminder scan runs (cron).
REMINDER_CRON: Final[str] = "*/5 * * * *"


class MailRetryLater(Exception):
    """Raised by the delivery job so procrastinate retries it (transient failures only)."""


MAIL_RETRY: Final = procrastinate.RetryStrategy(
    max_attempts=MAIL_MAX_RETRIES, wait=5, exponential_wait=3, retry_exceptions=[MailRetryLater]
)


async def _connect(conninfo: str) -> psycopg.AsyncConnection[dict[str, Any]]:
    try:
        return await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, row_factory=dict_row, connect_timeout=10
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"mail worker cannot connect: {exc}") from exc


async def _mark(
    conn: psycopg.AsyncConnection[Any], outbox_id: int, status: str, error: str, attempted: int
) -> None:
    await conn.execute(
        q("mail_mark_failed"),
        {"id": outbox_id, "status": status, "error": error[:2000], "attempted": attempted},
    )


async def deliver(conninfo: str, settings: Settings, outbox_id: int, *, attempt: int = 0) -> str:
    """Send outbox message ``outbox_id`` once; returns its new status.

    ``attempt`` counts earlier attempts (procrastinate's ``job.attempts``). Raises ``MailRetryLater``
    after a transient failure while retries remain, and on the last one too, so the job is failed.
    """
    conn = await _connect(conninfo)
    async with conn:
        cur = await conn.execute(q("mail_take"), {"id": outbox_id})
        row = await cur.fetchone()
        if row is None or row["status"] == "sent":
            return "sent" if row is not None else "gone"
        try:
            config = smtp_config(settings)
        except MailNotConfigured as exc:
            await _mark(conn, outbox_id, "not_configured", exc.message, 0)
            logger.error("e-mail %d not sent: %s", outbox_id, exc.message)
            return "not_configured"
        if config is None:
            await _mark(conn, outbox_id, "not_configured", "SOMATRACE_SMTP_HOST is not set", 0)
            logger.warning(
                "e-mail %d (%s) not sent: SOMATRACE_SMTP_HOST is not set", outbox_id, row["kind"]
            )
            return "not_configured"
        try:
            await asyncio.to_thread(
                send, config, str(row["to_address"]), str(row["subject"]), str(row["body"])
            )
        except MailError as exc:
            last = attempt >= MAIL_MAX_RETRIES
            if exc.transient and not last:
                await _mark(conn, outbox_id, "retrying", exc.message, 1)
                logger.warning(
                    "e-mail %d: %s (attempt %d, will retry)", outbox_id, exc.message, attempt + 1
                )
                raise MailRetryLater(exc.message) from exc
            await _mark(conn, outbox_id, "failed", exc.message, 1)
            logger.error("e-mail %d failed for good: %s", outbox_id, exc.message)
            if exc.transient:
                raise MailRetryLater(exc.message) from exc
            return "failed"
        await conn.execute(q("mail_mark_sent"), {"id": outbox_id})
        logger.info("e-mail %d (%s) sent", outbox_id, row["kind"])
        return "sent"


async def scan_reminders(
    conninfo: str, settings: Settings, catalog: Catalog, now: datetime | None = None
) -> int:
    """Queue every reminder due at ``now`` (default: the clock); returns how many were queued.

    Also gives a delivery job to any queued message that lost its own.
    """
    now = now or datetime.now(UTC)
    queued = 0
    conn = await _connect(conninfo)
    async with conn:
        stranded = await outbox.defer_stranded(conn)
        if stranded:
            logger.warning("re-deferred %d e-mail(s) without a delivery job", stranded)
        cur = await conn.execute(q("reminders_candidates"))
        for row in await cur.fetchall():
            choice = reminders.ReminderChoice(
                questionnaires=bool(row["questionnaire_reminders"]),
                morning=bool(row["morning_reminders"]),
                morning_at=row["morning_at"],
                quiet_start=row["quiet_start"],
                quiet_end=row["quiet_end"],
            )
            patient_id = row["patient_id"]
            async with conn.transaction():
                sched = await load_schedule(conn, catalog, patient_id, now)
                keys = reminders.candidate_keys(choice, sched.points, now, sched.zone)
                if not keys:
                    continue
                cur2 = await conn.execute(
                    q("reminders_sent_keys"), {"patient_id": patient_id, "keys": keys}
                )
                sent = {str(r["key"]) for r in await cur2.fetchall()}
                cur2 = await conn.execute(
                    q("reminders_beats_since"),
                    {"patient_id": patient_id, "since": reminders.local_midnight(now, sched.zone)},
                )
                beats = await cur2.fetchone()
                planned = reminders.plan(
                    choice,
                    sched.points,
                    now=now,
                    zone=sched.zone,
                    recorded_today=bool(beats and beats["recorded"]),
                    already_sent=sent,
                )
                for reminder in planned:
                    build = (
                        messages.questionnaire_reminder
                        if reminder.kind == "questionnaire_reminder"
                        else messages.morning_reminder
                    )
                    await outbox.enqueue(
                        conn,
                        build(settings.public_url),
                        to_address=str(row["email"]),
                        to_user_id=row["user_id"],
                    )
                    await conn.execute(
                        q("reminders_log"), {"patient_id": patient_id, "keys": list(reminder.keys)}
                    )
                    queued += 1
    return queued


def register_mail_tasks(app: procrastinate.App, conninfo: str, settings: Settings) -> None:
    """Add the delivery job and the periodic reminder scan to the worker's procrastinate ``app``."""

    @app.task(name=SEND_TASK, queue=MAIL_QUEUE, retry=MAIL_RETRY, pass_context=True)
    async def send_mail(context: procrastinate.JobContext, outbox_id: int) -> None:
        attempts = context.job.attempts if context.job is not None else 0
        await deliver(conninfo, settings, int(outbox_id), attempt=attempts)

    @app.periodic(cron=REMINDER_CRON, periodic_id="mail-reminders")
    @app.task(name=REMINDER_TASK, queue=MAIL_QUEUE, queueing_lock="mail-reminders")
    async def mail_reminders(timestamp: int) -> None:
        catalog = load_catalog(settings.instruments_dir, settings.questionnaire_template)
        queued = await scan_reminders(
            conninfo, settings, catalog, datetime.fromtimestamp(timestamp, UTC)
        )
        if queued:
            logger.info("queued %d reminder(s)", queued)
