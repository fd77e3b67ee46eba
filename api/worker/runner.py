"""Runs the analysis queue: the procrastinate app and its task, workers, ``run_until_idle`` and
status.

A failing job is retried (``RETRY``) and stays in ``procrastinate_jobs`` as ``failed`` when retries
are exhausted (``job_status`` lists it); its dirty range is kept, so the next job for the patient
redoes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import procrastinate
import psycopg
from psycopg.rows import dict_row

from api.db.queries import q
from api.errors import DatabaseUnavailable
from api.mail.outbox import MAIL_QUEUE
from api.mail.tasks import register_mail_tasks
from api.settings import Settings, get_settings
from api.worker.queue import QUEUE, TASK_NAME, defer_pending_sync
from api.worker.recompute import RecomputeReport, recompute_patient

logger = logging.getLogger(__name__)

#: Retries of a failing recompute: procrastinate retries while fewer than ``max_attempts`` retries
#: were made, i.e. 6 runs in all, waiting 5 + 2^(n+1) s before retry n (about 2 minutes in all).
RETRY: Final[procrastinate.RetryStrategy] = procrastinate.RetryStrategy(
    max_attempts=5, wait=5, exponential_wait=2
)


def build_app(conninfo: str, settings: Settings | None = None) -> procrastinate.App:
    """The procrastinate app on ``conninfo`` with the recompute and mail tasks registered."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo, min_size=1, max_size=4)
    )

    @app.task(name=TASK_NAME, queue=QUEUE, retry=RETRY)
    def recompute(patient_id: str) -> None:
        report = run_recompute(conninfo, uuid.UUID(patient_id))
        if report is not None:
            logger.info(
                "recomputed patient %s %s..%s: %d windows, %d days",
                patient_id,
                report.start.isoformat(),
                report.end.isoformat(),
                report.windows_written,
                report.days_written,
            )

    register_mail_tasks(app, conninfo, settings or get_settings())
    return app


def run_recompute(conninfo: str, patient_id: uuid.UUID) -> RecomputeReport | None:
    """One recompute job on its own connection (procrastinate runs it in a worker thread)."""
    try:
        conn = psycopg.connect(conninfo, autocommit=True, row_factory=dict_row, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"worker cannot connect: {exc}") from exc
    with conn:
        return recompute_patient(conn, patient_id)


def _reconcile(conninfo: str) -> int:
    """Defer a job for each dirty patient without one (e.g. after a crash); returns their count."""
    with psycopg.connect(conninfo, autocommit=True, row_factory=dict_row) as conn:
        return defer_pending_sync(conn)


async def run_worker(
    conninfo: str,
    *,
    wait: bool = True,
    concurrency: int = 1,
    name: str = "somatrace-worker",
    install_signal_handlers: bool = False,
    settings: Settings | None = None,
) -> None:
    """Run a worker on the analysis and mail queues; with ``wait=False`` return once no job is ready."""
    await asyncio.to_thread(_reconcile, conninfo)
    app = build_app(conninfo, settings)
    async with app.open_async():
        await app.run_worker_async(
            queues=[QUEUE, MAIL_QUEUE],
            wait=wait,
            concurrency=concurrency,
            name=name,
            install_signal_handlers=install_signal_handlers,
            listen_notify=wait,
        )


async def run_until_idle_async(conninfo: str) -> JobStatus:
    """Process every ready job, then return the queue status (see ``run_until_idle``)."""
    await run_worker(conninfo, wait=False)
    return await asyncio.to_thread(job_status, conninfo)


def run_until_idle(conninfo: str) -> JobStatus:
    """Process all pending analysis jobs synchronously, then return the queue status.

    For demos, tests and bulk loads: windows and daily values are up to date when it returns, except
    for jobs that failed (listed in the returned status; retries scheduled later are not waited
    for).
    """
    return asyncio.run(run_until_idle_async(conninfo))


@dataclass(frozen=True)
class JobStatus:
    """Counts of jobs per status, patients still dirty, and failed or retrying jobs."""

    counts: dict[str, int] = field(default_factory=dict)
    dirty_patients: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "dirty_patients": self.dirty_patients,
            "problems": self.problems,
        }


def job_status(conninfo: str, limit: int = 50) -> JobStatus:
    """The analysis queue's state: how many jobs per status, and the failed / retrying ones."""
    with psycopg.connect(conninfo, autocommit=True, row_factory=dict_row) as conn:
        counts: dict[str, int] = {}
        for row in conn.execute(q("worker_job_counts")).fetchall():
            if row["task_name"] == TASK_NAME:
                counts[str(row["status"])] = int(row["n"])
        dirty = conn.execute(q("worker_dirty_patients")).fetchall()
        problems = [
            {
                "id": int(r["id"]),
                "task": r["task_name"],
                "status": r["status"],
                "patient_id": (r["args"] or {}).get("patient_id"),
                "attempts": int(r["attempts"]),
                "retry_at": r["scheduled_at"].isoformat() if r["scheduled_at"] else None,
                "last_event_at": r["last_event_at"].isoformat() if r["last_event_at"] else None,
            }
            for r in conn.execute(q("worker_problem_jobs"), {"limit": limit}).fetchall()
        ]
    return JobStatus(counts=counts, dirty_patients=len(dirty), problems=problems)


class InProcessWorker:
    """A worker running as a task of the API's event loop (``serve`` with the embedded database)."""

    def __init__(self, conninfo: str, settings: Settings | None = None) -> None:
        self.conninfo = conninfo
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(
            run_worker(
                self.conninfo, wait=True, name="somatrace-in-process", settings=self.settings
            ),
            name="analysis worker",
        )
        self._task.add_done_callback(self._report_end)

    @staticmethod
    def _report_end(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("the in-process analysis worker stopped: %s", task.exception())

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._task = None


def start_in_process_worker(settings: Settings, conninfo: str) -> InProcessWorker | None:
    """Start a worker in the running event loop if configured (default: embedded database only)."""
    enabled = settings.worker_in_process
    if enabled is None:
        enabled = settings.embedded
    if not enabled:
        return None
    worker = InProcessWorker(conninfo, settings)
    worker.start()
    logger.info("analysis worker running in-process")
    return worker
