"""The analysis queue: failing jobs retried and visible, CLI status, in-process worker for serve."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg

from api.app import create_app
from api.settings import Settings
from api.worker.queue import TASK_NAME
from api.worker.runner import RETRY, job_status, run_until_idle_async

from .conftest import SECRET, World, batches


async def _ingest(client: httpx.AsyncClient, world: World, n: int = 3_000) -> None:
    for body in batches(world.sim.beats_t_ms[:n], world.sim.rr_ticks[:n], size=1_000):
        resp = await client.post("/v1/ingest/beats", json=body, headers=world.device_headers)
        assert resp.status_code == 200, resp.text


def _windows(db_url: str, world: World) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM hrv_windows WHERE patient_id = %s", (world.patient_id,)
        ).fetchone()
        return int(row[0]) if row else 0


async def test_failing_job_is_retried_visible_and_recovers(
    client: httpx.AsyncClient, world: World, db_url: str
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE patients SET timezone = 'Nowhere/Nocity' WHERE id = %s", (world.patient_id,)
        )
    await _ingest(client, world)
    status = await run_until_idle_async(db_url)
    assert status.dirty_patients == 1  # the work is kept, not dropped
    assert len(status.problems) == 1
    problem = status.problems[0]
    assert problem["task"] == TASK_NAME and problem["patient_id"] == str(world.patient_id)
    assert problem["status"] == "todo" and problem["attempts"] == 1 and problem["retry_at"]
    assert _windows(db_url, world) == 0  # the failed transaction left nothing half-written

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE patients SET timezone = 'Europe/Berlin' WHERE id = %s", (world.patient_id,)
        )
        conn.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")
    status = await run_until_idle_async(db_url)
    assert status.problems == [] and status.dirty_patients == 0
    assert status.counts.get("succeeded") == 1
    assert _windows(db_url, world) > 0


async def test_exhausted_retries_end_as_failed_and_listed(
    client: httpx.AsyncClient, world: World, db_url: str
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE patients SET timezone = 'Nowhere/Nocity' WHERE id = %s", (world.patient_id,)
        )
    await _ingest(client, world, 500)
    runs = (RETRY.max_attempts or 0) + 1  # the first run and its retries; each made due at once
    for _ in range(runs):
        await run_until_idle_async(db_url)
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")
    status = job_status(db_url)
    assert status.counts.get("failed") == 1
    assert [p["status"] for p in status.problems] == ["failed"]
    assert status.problems[0]["attempts"] == runs
    assert status.dirty_patients == 1


async def test_cli_status_and_once(
    client: httpx.AsyncClient, world: World, db_url: str, tmp_path: Path
) -> None:
    await _ingest(client, world, 1_000)
    env = {**os.environ, "SOMATRACE_DATABASE_URL": db_url, "SOMATRACE_DATA_DIR": str(tmp_path)}
    cli = [sys.executable, "-m", "somatrace.cli", "worker"]
    before = subprocess.run([*cli, "--status"], env=env, capture_output=True, text=True, check=True)
    assert json.loads(before.stdout)["counts"] == {"todo": 1}
    once = subprocess.run([*cli, "--once"], env=env, capture_output=True, text=True, check=False)
    assert once.returncode == 0, once.stderr
    assert json.loads(once.stdout)["counts"] == {"succeeded": 1}
    assert _windows(db_url, world) > 0


async def test_in_process_worker_processes_ingest(
    world: World, db_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=db_url, data_dir=tmp_path, secret_key=SECRET, worker_in_process=True
    )
    app = create_app(settings, db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await _ingest(client, world, 1_000)
            for _ in range(600):  # wait for the worker (bounded; not a timing assertion)
                status = job_status(db_url)
                if _windows(db_url, world) and status.dirty_patients == 0:
                    break
                await asyncio.sleep(0.1)
    status = job_status(db_url)
    assert status.problems == [] and status.dirty_patients == 0
    assert set(status.counts) == {"succeeded"}
    assert _windows(db_url, world) > 0
