"""Session writes enqueue a recompute (trigger of migration 0023): the baseline follows the sessions."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from psycopg.rows import dict_row

from api.worker.queue import TASK_NAME, patient_lock
from api.worker.runner import run_until_idle_async

from .conftest import World


def _queue(db_url: str, world: World) -> tuple[int, int]:
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        dirty = conn.execute(
            "SELECT count(*) AS n FROM analysis_dirty WHERE patient_id = %s", (world.patient_id,)
        ).fetchone()
        todo = conn.execute(
            "SELECT count(*) AS n FROM procrastinate_jobs"
            " WHERE status = 'todo' AND task_name = %s AND queueing_lock = %s",
            (TASK_NAME, patient_lock(world.patient_id)),
        ).fetchone()
        assert dirty is not None and todo is not None
        return int(dirty["n"]), int(todo["n"])


def _days(db_url: str, world: World) -> int:
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM daily_values WHERE patient_id = %s", (world.patient_id,)
        ).fetchone()
    return int(row["n"]) if row is not None else -1


async def test_session_insert_move_and_delete_enqueue_one_recompute(
    world: World, db_url: str
) -> None:
    assert _queue(db_url, world) == (1, 1)  # the fixture inserted the simulated sessions
    assert (await run_until_idle_async(db_url)).problems == []
    assert _queue(db_url, world) == (0, 0)
    assert _days(db_url, world) == 1  # no beats yet: the medicine session's day
    with psycopg.connect(db_url, autocommit=True) as conn:
        sid = conn.execute(
            "SELECT id FROM sessions WHERE patient_id = %s AND kind = 'medicine'",
            (world.patient_id,),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "UPDATE sessions SET started_at = started_at + %s, ended_at = ended_at + %s"
            " WHERE id = %s",
            (timedelta(days=1), timedelta(days=1), sid),
        )
        assert _queue(db_url, world) == (1, 1)
        conn.execute("UPDATE sessions SET note = 'only the note' WHERE id = %s", (sid,))
        conn.execute("DELETE FROM sessions WHERE id = %s", (sid,))
        assert _queue(db_url, world) == (1, 1)  # still one waiting job for the patient
    assert (await run_until_idle_async(db_url)).problems == []
    # nothing worn and no medicine session left: the rebuilt table holds no day at all
    assert _days(db_url, world) == 0


async def test_deleting_a_patient_with_sessions_still_works(world: World, db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM patients WHERE id = %s", (world.patient_id,))
        row = conn.execute("SELECT count(*) FROM analysis_dirty").fetchone()
        assert row is not None and row[0] == 0
    status = await run_until_idle_async(db_url)  # the patient's waiting job finds nothing to do
    assert status.problems == [] and status.counts.get("succeeded") == 1
