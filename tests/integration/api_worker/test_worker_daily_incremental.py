"""Daily values written day by day by the worker (each job rewrites only the days it touched) are
exactly what a full rebuild writes, also when a medicine session widens or narrows the table's span."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import psycopg
from psycopg.rows import dict_row

from api.worker.daily import recompute_daily
from api.worker.runner import run_until_idle_async

from .conftest import World, batches
from .test_worker_e2e import ingest_all

DAY_MS = 86_400_000


def _rows(conn: psycopg.Connection[Any], world: World) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT * FROM daily_values WHERE patient_id = %s ORDER BY day", (world.patient_id,)
    ).fetchall()
    return [{k: v for k, v in r.items() if k != "computed_at"} for r in rows]


def _stored(db_url: str, world: World) -> list[dict[str, Any]]:
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        return _rows(conn, world)


def _rebuilt(db_url: str, world: World) -> list[dict[str, Any]]:
    """The full rebuild's rows, computed in a transaction that is rolled back."""
    with (
        psycopg.connect(db_url, row_factory=dict_row) as conn,
        conn.transaction(force_rollback=True),
    ):
        recompute_daily(conn, world.patient_id, world.sim.tz)
        return _rows(conn, world)


async def test_day_by_day_jobs_write_what_a_full_rebuild_writes(
    client: httpx.AsyncClient, world: World, db_url: str
) -> None:
    sim = world.sim
    t_ms = sim.beats_t_ms
    day_index = (t_ms - t_ms[0]) // DAY_MS
    for day in np.unique(day_index):  # one worker run per recorded day, in order
        sel = day_index == day
        bodies = batches(t_ms[sel], sim.rr_ticks[sel], size=2_000)
        await ingest_all(client, world, bodies)
        status = await run_until_idle_async(db_url)
        assert status.problems == [] and status.dirty_patients == 0
        assert _stored(db_url, world) == _rebuilt(db_url, world), f"after day {day}"
    stored = _stored(db_url, world)
    assert len(stored) >= 6 and any(r["ln_rmssd"] is not None for r in stored)

    # a medicine session a week after the last recording: the span grows to its day (no beats there)
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        last = max(s.started_at for s in sim.sessions)
        row = conn.execute(
            "INSERT INTO sessions (patient_id, kind, started_at, ended_at, medicine, route)"
            " VALUES (%s, 'medicine', %s, %s, 'ketamine', 'im') RETURNING id",
            (world.patient_id, last + timedelta(days=9), last + timedelta(days=9, hours=2)),
        ).fetchone()
        assert row is not None
        session_id = row["id"]
        conn.commit()
    assert (await run_until_idle_async(db_url)).problems == []
    grown = _stored(db_url, world)
    assert len(grown) > len(stored)
    assert grown[-1]["source"] == "none"
    assert grown == _rebuilt(db_url, world)

    # ... and shrinks back when it is deleted
    with psycopg.connect(db_url) as conn:
        conn.execute("DELETE FROM sessions WHERE id = %s", (session_id,))
        conn.commit()
    assert (await run_until_idle_async(db_url)).problems == []
    assert _stored(db_url, world) == stored == _rebuilt(db_url, world)
