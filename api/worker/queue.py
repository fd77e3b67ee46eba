"""Enqueueing re-analysis: widen a patient's dirty time range, defer one recompute job per patient.

Ingest does the same inside its one insert statement (``ingest_insert_beats``); ``mark_dirty`` is for
other changes that move a patient's values (e.g. a session added or moved changes the baseline).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

import orjson
import psycopg

from api.db.queries import q

#: procrastinate queue and task name of the recompute job.
QUEUE: Final[str] = "analysis"
TASK_NAME: Final[str] = "somatrace.recompute_patient"


def patient_lock(patient_id: uuid.UUID | str) -> str:
    """The procrastinate ``lock`` and ``queueing_lock`` of one patient's recompute jobs."""
    return f"recompute:{patient_id}"


def defer_params(patient_id: uuid.UUID | str) -> dict[str, Any]:
    return {
        "queue": QUEUE,
        "task": TASK_NAME,
        "lock": patient_lock(patient_id),
        "args": orjson.dumps({"patient_id": str(patient_id)}).decode(),
    }


async def mark_dirty(
    conn: psycopg.AsyncConnection[Any], patient_id: uuid.UUID, start: datetime, end: datetime
) -> None:
    """Record that ``patient_id``'s beats changed between ``start`` and ``end``; defer a job.

    Must run inside a transaction. A job already waiting for the patient is reused (it reads the
    widened range when it starts); procrastinate's unique index on the queueing lock of waiting jobs
    absorbs duplicates, also from concurrent transactions.
    """
    await conn.execute(
        q("worker_mark_dirty"), {"patient_id": patient_id, "start_at": start, "end_at": end}
    )
    await conn.execute(q("worker_defer_recompute"), defer_params(patient_id))


def mark_dirty_sync(
    conn: psycopg.Connection[Any], patient_id: uuid.UUID, start: datetime, end: datetime
) -> None:
    """``mark_dirty`` for synchronous connections (CLI, bulk loads); runs its own transaction."""
    with conn.transaction():
        conn.execute(
            q("worker_mark_dirty"), {"patient_id": patient_id, "start_at": start, "end_at": end}
        )
        conn.execute(q("worker_defer_recompute"), defer_params(patient_id))


def defer_pending_sync(conn: psycopg.Connection[Any]) -> int:
    """Defer a job for every patient with a dirty range and no waiting job; returns the dirty count.

    Workers call this when they start, so a dirty range can never be stranded without a job.
    """
    rows = conn.execute(q("worker_dirty_patients")).fetchall()
    for row in rows:
        patient_id = row["patient_id"] if isinstance(row, dict) else row[0]
        conn.execute(q("worker_defer_recompute"), defer_params(patient_id))
    return len(rows)
