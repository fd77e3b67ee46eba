"""Past one process (issue 14 deliverable 4): ``somatrace serve --workers 2`` behind the shipped
Caddyfile on a real Caddy with its local CA: HTTPS, forwarded headers believed from Caddy only, login
throttling shared by both processes (it lives in PostgreSQL), /metrics kept inside, JSON logs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from .conftest import SECRET, sql
from .private_pg import free_port

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Stack:
    direct: str
    proxied: str
    serve: subprocess.Popen[bytes]
    serve_log: Path
    db_url: str


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args} exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2, verify=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} never answered: {log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture
def stack(db_url: str, tmp_path: Path) -> Iterator[Stack]:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.fail("caddy is not installed (.ci/run installs it with apt-get)")
    api_port, https_port, http_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "SOMATRACE_ENVIRONMENT": "production",
        "SOMATRACE_DATABASE_URL": db_url,
        "SOMATRACE_SECRET_KEY": SECRET,
        "SOMATRACE_DATA_DIR": str(tmp_path / "data"),
        "SOMATRACE_TRUSTED_PROXIES": "127.0.0.1",
        "SOMATRACE_LOG_FORMAT": "json",
        "SOMATRACE_WORKER_IN_PROCESS": "false",
    }
    serve_log = tmp_path / "serve.log"
    with serve_log.open("wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "somatrace.cli", "serve", "--workers", "2",
             "--host", "127.0.0.1", "--port", str(api_port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    caddy_log = tmp_path / "caddy.log"
    caddy_env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "caddy-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "caddy-config"),
        "SOMATRACE_DOMAIN": "localhost",
        "SOMATRACE_HTTPS_PORT": str(https_port),
        "SOMATRACE_HTTP_PORT": str(http_port),
        "SOMATRACE_API_HOST": "localhost",
        "SOMATRACE_API_PORT": str(api_port),
    }
    proxy: subprocess.Popen[bytes] | None = None
    try:
        _wait_http(f"http://127.0.0.1:{api_port}/healthz", serve, serve_log)
        with caddy_log.open("wb") as out:
            proxy = subprocess.Popen(
                [caddy, "run", "--config", str(ROOT / "Caddyfile"), "--adapter", "caddyfile"],
                env=caddy_env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
            )  # fmt: skip
        _wait_http(f"https://localhost:{https_port}/healthz", proxy, caddy_log)
        yield Stack(
            f"http://127.0.0.1:{api_port}",
            f"https://localhost:{https_port}",
            serve,
            serve_log,
            db_url,
        )
    finally:
        if proxy is not None:
            _stop(proxy)
        _stop(serve)


def test_two_processes_behind_caddy_share_everything_through_postgresql(stack: Stack) -> None:
    children = [
        p for p in psutil.Process(stack.serve.pid).children(recursive=True) if "python" in p.name()
    ]
    assert len(children) >= 2, children  # the supervisor's two uvicorn workers

    with httpx.Client(base_url=stack.proxied, verify=False, timeout=30) as https:
        health = https.get("/healthz")
        assert health.status_code == 200
        # Caddy said the client used HTTPS, and the API believes its trusted proxy
        assert "strict-transport-security" in health.headers
        assert https.get("/metrics").status_code == 404  # metrics stay inside

        email = f"nobody-{uuid.uuid4().hex[:6]}@example.org"
        statuses = [
            https.post(
                "/v1/auth/token",
                data={"username": email, "password": "guess-guess-1"},
                headers={"X-Forwarded-For": "6.6.6.6"},  # a client's forgery: Caddy drops it
            ).status_code
            for _ in range(8)
        ]
    # one counter for both processes: after 5 free failures the back-off answers 429
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:], statuses
    rows = sql(
        stack.db_url,
        "SELECT client_addr, action FROM audit_log WHERE detail->>'email' = %s",
        (email,),
    )
    assert {r["client_addr"] for r in rows} == {"127.0.0.1"}  # Caddy's view of the client
    assert {r["action"] for r in rows} == {"login_failed", "login_throttled"}

    metrics = httpx.get(f"{stack.direct}/metrics").text  # any process answers for both
    assert 'route="/v1/auth/token",status="401"' in metrics

    lines = [line for line in stack.serve_log.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert any(
        r.get("logger") == "api.routes.auth" and "failed login" in r["message"] for r in records
    )
    assert {r["process"] for r in records if r.get("logger") == "api.routes.auth"}
