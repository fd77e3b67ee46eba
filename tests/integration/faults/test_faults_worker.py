"""The analysis worker under faults, on a private PostgreSQL: killed with SIGKILL mid-job (issue 14
finding 1) and through a database outage (finding 2). Windows are computed after either."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from api.app import create_app

from ..conftest import serve_in_thread
from .conftest import (
    T0_MS,
    Device,
    WorkerProcess,
    beats_body,
    body_end_ms,
    cli,
    new_device,
    settings_for,
    sql,
    wait_for,
)
from .private_pg import PrivatePostgres

HEARTBEAT_S = 1.0
STALLED_S = 4.0


@pytest.fixture(scope="module")
def api_url(private_pg: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(settings_for(private_pg.url, tmp_path_factory.mktemp("api")), private_pg.url)
    with serve_in_thread(app) as url:
        yield url


def upload(api_url: str, device: Device, body: dict) -> None:
    with httpx.Client(base_url=api_url, timeout=30) as http:
        for _ in range(60):  # the API answers 503 while the database is away
            r = http.post("/v1/ingest/beats", json=body, headers=device.headers)
            if r.status_code == 200:
                return
            assert r.status_code == 503, r.text
            time.sleep(0.5)
    pytest.fail("upload never acknowledged")


def windows_until(url: str, device: Device) -> int:
    """Epoch ms of the end of the patient's last window (0 without windows)."""
    row = sql(
        url,
        "SELECT coalesce(max(extract(epoch FROM window_start) * 1000 + window_s * 1000), 0) AS t "
        "FROM hrv_windows WHERE patient_id = %s",
        (device.patient_id,),
    )[0]
    return int(float(str(row["t"])))


def jobs(url: str, device: Device) -> list[dict[str, object]]:
    return sql(
        url,
        "SELECT id, status::text AS status FROM procrastinate_jobs WHERE lock = %s ORDER BY id",
        (f"recompute:{device.patient_id}",),
    )


def status(worker_env: dict[str, str]) -> tuple[int, dict]:
    done = cli(worker_env, "worker", "--check")
    return done.returncode, json.loads(done.stdout)


def test_a_worker_killed_mid_job_does_not_stop_the_patients_analysis(
    private_pg: PrivatePostgres, api_url: str, tmp_path: Path
) -> None:
    device = new_device(private_pg.url)
    first = beats_body(T0_MS, 1_500)
    upload(api_url, device, first)
    # hold the windows table so the job is certainly mid-way (it has taken its dirty range and
    # computed, and waits to write) when the worker is killed
    blocker = psycopg.connect(private_pg.url)
    blocker.execute("LOCK TABLE hrv_windows IN ACCESS EXCLUSIVE MODE")
    worker = WorkerProcess(
        private_pg.url,
        tmp_path,
        tmp_path / "worker1.log",
        heartbeat_s=HEARTBEAT_S,
        stalled_s=STALLED_S,
    )
    try:
        wait_for(
            lambda: any(j["status"] == "doing" for j in jobs(private_pg.url, device)),
            60,
            "the job to start",
        )
        second = beats_body(body_end_ms(first), 1_500, seed=1)
        upload(api_url, device, second)  # its follow-up job waits behind the same lock
        worker.kill()
    finally:
        blocker.rollback()
        blocker.close()
        worker.stop()
    assert [j["status"] for j in jobs(private_pg.url, device)] == ["doing", "todo"]
    time.sleep(STALLED_S + 1)
    code, report = status(worker.env)
    assert code == 1 and not report["healthy"]  # --status / --check report the stalled job
    assert [s["patient_id"] for s in report["stalled"]] == [str(device.patient_id)]
    assert report["stalled"][0]["blocked_jobs"] == 1

    again = WorkerProcess(
        private_pg.url,
        tmp_path,
        tmp_path / "worker2.log",
        heartbeat_s=HEARTBEAT_S,
        stalled_s=STALLED_S,
    )
    try:
        wait_for(
            lambda: (
                windows_until(private_pg.url, device) >= body_end_ms(second) - 300_000
                and not sql(
                    private_pg.url,
                    "SELECT 1 FROM analysis_dirty WHERE patient_id = %s",
                    (device.patient_id,),
                )
            ),
            90,
            "windows of both uploads after the restart",
        )
        wait_for(lambda: status(again.env)[0] == 0, 30, "a healthy worker status")
        statuses = [j["status"] for j in jobs(private_pg.url, device)]
        assert "doing" not in statuses and "todo" not in statuses, statuses
    finally:
        again.stop()


def test_the_worker_rides_out_a_database_outage(
    private_pg: PrivatePostgres, api_url: str, tmp_path: Path
) -> None:
    device = new_device(private_pg.url)
    worker = WorkerProcess(
        private_pg.url,
        tmp_path,
        tmp_path / "worker.log",
        heartbeat_s=HEARTBEAT_S,
        stalled_s=STALLED_S,
    )
    try:
        first = beats_body(T0_MS + 86_400_000, 800)
        upload(api_url, device, first)
        wait_for(lambda: windows_until(private_pg.url, device) > 0, 90, "windows before the outage")
        private_pg.stop()
        time.sleep(15)  # many heartbeats and listener reconnects fail meanwhile
        assert worker.alive(), worker.log.read_text()[-3000:]
        private_pg.start()
        second = beats_body(body_end_ms(first) + 3_600_000, 800, seed=2)
        upload(api_url, device, second)
        wait_for(
            lambda: windows_until(private_pg.url, device) >= body_end_ms(second) - 300_000,
            120,
            "windows of the upload after the outage, from the same worker process",
        )
        assert worker.alive()
        assert "starting again" in worker.log.read_text()
    finally:
        if not private_pg.running():
            private_pg.start()
        worker.stop()
