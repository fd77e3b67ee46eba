"""Runs the analysis queue: the procrastinate app and its tasks, supervised workers that ride out
database outages, stalled-job recovery on a schedule, ``run_until_idle`` and status.

A failing job is retried (``RETRY``) and stays in ``procrastinate_jobs`` as ``failed`` when retries
are exhausted (``job_status`` lists it); its dirty range is kept, so the next job for the patient
redoes it. A job whose worker died (kill -9, lost host) stays ``doing`` with a worker that no longer
sends heartbeats: the ``maintenance`` task, deferred every few seconds by every worker's periodic
deferrer, hands it back to the queue (or ends it when a follow-up job of the same patient already
waits), so no patient's analysis stops for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import procrastinate
import psycopg
from procrastinate import exceptions as procrastinate_errors
from procrastinate.jobs import Status
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
#: Queue and task of the periodic maintenance (stalled jobs, pruning old jobs).
MAINTENANCE_QUEUE: Final[str] = "maintenance"
MAINTENANCE_TASK: Final[str] = "somatrace.maintenance"
#: How often a worker tells the database it is alive, s (procrastinate's default).
HEARTBEAT_S: Final[float] = 10.0
#: A ``doing`` job whose worker sent no heartbeat for this long is stalled, s (6 heartbeats).
STALLED_AFTER_S: Final[float] = 60.0
#: Finished jobs are deleted after this long, h (the analysis queue gets one job per upload burst).
KEEP_FINISHED_H: Final[int] = 24
#: Backoff of a worker that lost the database, s (doubling from the first to the last).
RECONNECT_FIRST_S: Final[float] = 1.0
RECONNECT_MAX_S: Final[float] = 30.0
#: A worker that ran at least this long before failing starts its backoff from the beginning, s.
RECONNECT_RESET_S: Final[float] = 60.0


def check_interval_s(stalled_after_s: float) -> int:
    """Seconds between stalled-job checks: a quarter of the stall limit, 1-15 s."""
    return max(1, min(15, int(stalled_after_s // 4)))


async def recover_stalled(
    app: procrastinate.App, *, stalled_after_s: float = STALLED_AFTER_S
) -> list[int]:
    """Put the analysis and mail jobs of dead workers back in their queues; returns their ids.

    A stalled job is retried unless a follow-up job of the same patient already waits (then the
    stalled one is ended as failed: the follow-up reads the same dirty range). Either way the
    patient's lock is released.
    """
    recovered: list[int] = []
    stalled = [
        job
        for queue in (QUEUE, MAIL_QUEUE)
        for job in await app.job_manager.get_stalled_jobs(
            queue=queue, seconds_since_heartbeat=stalled_after_s
        )
    ]
    for job in stalled:
        assert job.id is not None
        try:
            await app.job_manager.retry_job(job)
            logger.warning(
                "retrying stalled job %d (%s %s)", job.id, job.task_name, job.task_kwargs
            )
        except procrastinate_errors.UniqueViolation:
            await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
            logger.warning("ended stalled job %d: a follow-up job of its patient waits", job.id)
        recovered.append(job.id)
    return recovered


def build_app(
    conninfo: str,
    *,
    stalled_after_s: float = STALLED_AFTER_S,
    pool_max: int = 4,
    settings: Settings | None = None,
) -> procrastinate.App:
    """The procrastinate app on ``conninfo`` with the recompute, maintenance and mail tasks."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo,
            min_size=1,
            max_size=pool_max,
            timeout=10.0,
            kwargs={"connect_timeout": 5},
        )
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

    every = check_interval_s(stalled_after_s)

    @app.periodic(cron=f"* * * * * */{every}", periodic_id="stalled")
    @app.task(name=MAINTENANCE_TASK, queue=MAINTENANCE_QUEUE, pass_context=True)
    async def maintenance(context: procrastinate.JobContext, timestamp: int) -> None:
        await recover_stalled(context.app, stalled_after_s=stalled_after_s)
        await context.app.job_manager.delete_old_jobs(
            nb_hours=KEEP_FINISHED_H, queue=MAINTENANCE_QUEUE, include_failed=True
        )
        await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_H, queue=QUEUE)
        await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_H, queue=MAIL_QUEUE)

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
    with psycopg.connect(
        conninfo, autocommit=True, row_factory=dict_row, connect_timeout=5
    ) as conn:
        return defer_pending_sync(conn)


async def run_worker(
    conninfo: str,
    *,
    wait: bool = True,
    concurrency: int = 1,
    name: str = "somatrace-worker",
    install_signal_handlers: bool = False,
    heartbeat_s: float = HEARTBEAT_S,
    stalled_after_s: float = STALLED_AFTER_S,
    settings: Settings | None = None,
) -> None:
    """Run a worker on the analysis and mail queues; with ``wait=False`` return once no job is ready.

    Stalled jobs of dead workers are recovered first, then on a schedule while it runs. A database
    error ends it (``run_worker_supervised`` reconnects).
    """
    await asyncio.to_thread(_reconcile, conninfo)
    app = build_app(conninfo, stalled_after_s=stalled_after_s, settings=settings)
    async with app.open_async():
        await recover_stalled(app, stalled_after_s=stalled_after_s)
        await app.run_worker_async(
            queues=[QUEUE, MAINTENANCE_QUEUE, MAIL_QUEUE],
            wait=wait,
            concurrency=concurrency + 1,  # room for the maintenance task beside the analysis
            name=name,
            install_signal_handlers=install_signal_handlers,
            listen_notify=wait,
            update_heartbeat_interval=heartbeat_s,
            stalled_worker_timeout=stalled_after_s,
        )


async def run_worker_supervised(
    conninfo: str,
    *,
    concurrency: int = 1,
    name: str = "somatrace-worker",
    install_signal_handlers: bool = False,
    heartbeat_s: float = HEARTBEAT_S,
    stalled_after_s: float = STALLED_AFTER_S,
    settings: Settings | None = None,
) -> None:
    """``run_worker`` until it is stopped, reconnecting after database outages of any length.

    A worker that loses the database (heartbeat or listener fails, or it cannot connect) is started
    again after a backoff (``RECONNECT_FIRST_S`` doubling to ``RECONNECT_MAX_S``); jobs it had running
    are recovered as stalled by whichever worker runs next.
    """
    delay = RECONNECT_FIRST_S
    while True:
        started = time.monotonic()
        try:
            await run_worker(
                conninfo,
                wait=True,
                concurrency=concurrency,
                name=name,
                install_signal_handlers=install_signal_handlers,
                heartbeat_s=heartbeat_s,
                stalled_after_s=stalled_after_s,
                settings=settings,
            )
            return  # stopped on purpose (signal)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if time.monotonic() - started >= RECONNECT_RESET_S:
                delay = RECONNECT_FIRST_S
            database = isinstance(
                exc, psycopg.Error | procrastinate_errors.ConnectorException | DatabaseUnavailable
            )
            logger.log(
                logging.WARNING if database else logging.ERROR,
                "analysis worker stopped (%s: %s); starting again in %.0f s",
                type(exc).__name__,
                str(exc).strip().splitlines()[0] if str(exc).strip() else "",
                delay,
                exc_info=not database,
            )
            await asyncio.sleep(delay)
            delay = min(RECONNECT_MAX_S, delay * 2)


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
    """Counts of analysis jobs per status, patients still dirty, failed, retrying and stalled jobs,
    and the live workers."""

    counts: dict[str, int] = field(default_factory=dict)
    dirty_patients: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    stalled: list[dict[str, Any]] = field(default_factory=list)
    live_workers: int = 0

    @property
    def healthy(self) -> bool:
        """A worker is alive and no job is stalled."""
        return self.live_workers > 0 and not self.stalled

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "dirty_patients": self.dirty_patients,
            "problems": self.problems,
            "stalled": self.stalled,
            "live_workers": self.live_workers,
            "healthy": self.healthy,
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def job_status(
    conninfo: str, limit: int = 50, *, stalled_after_s: float = STALLED_AFTER_S
) -> JobStatus:
    """The analysis queue's state: jobs per status, failed / retrying / stalled ones, live workers."""
    with psycopg.connect(
        conninfo, autocommit=True, row_factory=dict_row, connect_timeout=5
    ) as conn:
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
                "retry_at": _iso(r["scheduled_at"]),
                "last_event_at": _iso(r["last_event_at"]),
            }
            for r in conn.execute(q("worker_problem_jobs"), {"limit": limit}).fetchall()
        ]
        params = {"stalled_after_s": stalled_after_s, "queue": QUEUE, "limit": limit}
        stalled = [
            {
                "id": int(r["id"]),
                "status": "stalled",
                "patient_id": (r["args"] or {}).get("patient_id"),
                "attempts": int(r["attempts"]),
                "worker_id": r["worker_id"],
                "last_heartbeat": _iso(r["last_heartbeat"]),
                "started_at": _iso(r["started_at"]),
                "blocked_jobs": int(r["blocked_jobs"]),
            }
            for r in conn.execute(q("worker_stalled_jobs"), params).fetchall()
        ]
        live = conn.execute(q("worker_live_count"), params).fetchone()
    return JobStatus(
        counts=counts,
        dirty_patients=len(dirty),
        problems=problems + stalled,
        stalled=stalled,
        live_workers=int(live["n"]) if live is not None else 0,
    )


class InProcessWorker:
    """A worker running as a task of the API's event loop (``serve`` with the embedded database)."""

    def __init__(self, conninfo: str, settings: Settings | None = None) -> None:
        self.conninfo = conninfo
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        heartbeat = self.settings.worker_heartbeat_s if self.settings else HEARTBEAT_S
        stalled = self.settings.worker_stalled_after_s if self.settings else STALLED_AFTER_S
        self._task = asyncio.create_task(
            run_worker_supervised(
                self.conninfo,
                name="somatrace-in-process",
                heartbeat_s=heartbeat,
                stalled_after_s=stalled,
                settings=self.settings,
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
