"""The ``somatrace`` CLI as a user runs it: version, bad configuration, and ``serve`` on the embedded database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-c", "from somatrace.cli import main; main()"]


def _run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOMATRACE_")}
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], setting: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error:") and setting in lines[0], lines[0]


def test_version() -> None:
    proc = _run(["--version"], _env())
    assert proc.returncode == 0
    assert proc.stdout.startswith("somatrace ")


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    proc = _run(
        ["db", "upgrade"], _env(SOMATRACE_DATABASE_URL="postgresql://postgres@127.0.0.1:1/nope")
    )
    _assert_one_line_error(proc, "SOMATRACE_DATABASE_URL")


def test_wrong_url_is_one_line() -> None:
    proc = _run(["db", "upgrade"], _env(SOMATRACE_DATABASE_URL="mysql://root@localhost/db"))
    _assert_one_line_error(proc, "SOMATRACE_DATABASE_URL")


def test_malformed_postgres_url_is_one_line() -> None:
    proc = _run(
        ["db", "upgrade"], _env(SOMATRACE_DATABASE_URL="postgresql://postgres@127.0.0.1:notaport/x")
    )
    _assert_one_line_error(proc, "SOMATRACE_DATABASE_URL")


def test_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = _run(["db", "upgrade"], _env(SOMATRACE_DATA_DIR=str(blocker / "data")))
    _assert_one_line_error(proc, "SOMATRACE_DATA_DIR")


def test_bad_port_setting_is_one_line() -> None:
    proc = _run(["serve"], _env(SOMATRACE_PORT="seventy"))
    _assert_one_line_error(proc, "SOMATRACE_PORT")


def test_serve_on_a_busy_port_is_one_line_before_the_database_starts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        proc = _run(["serve", "--port", str(port)], _env(SOMATRACE_DATA_DIR=str(data_dir)))
    _assert_one_line_error(proc, "SOMATRACE_PORT")
    assert f"127.0.0.1:{port}" in proc.stderr and "--port" in proc.stderr
    assert "listening" not in proc.stderr and "database ready" not in proc.stderr
    # the embedded PostgreSQL was never started (its lock and cluster are not there)
    assert not (data_dir / "pgdata").exists()
    assert [p.name for p in data_dir.iterdir()] in ([], ["secret_key"])


def test_upgrade_twice_via_cli(empty_db_url: str) -> None:
    env = _env(SOMATRACE_DATABASE_URL=empty_db_url)
    first = _run(["db", "upgrade"], env)
    second = _run(["db", "upgrade"], env)
    assert first.returncode == 0 and first.stdout.startswith("applied"), first.stderr
    assert second.returncode == 0 and second.stdout.startswith("schema is up to date"), (
        second.stderr
    )


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    data_dir = Path("/tmp") / f"somatrace-test-{os.getpid()}-{tmp_path.name}"
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=_env(SOMATRACE_DATA_DIR=str(data_dir)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, port, data_dir
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)


def _wait_healthy(port: int, proc: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("serve did not answer /healthz")


def test_serve_with_embedded_database(
    embedded_server: tuple[subprocess.Popen[str], int, Path],
) -> None:
    proc, port, data_dir = embedded_server
    response = _wait_healthy(port, proc)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["database"]["embedded"] is True
    assert body["database"]["timescaledb"] is False
    assert body["database"]["schema_version"] >= 2

    # A second serve on the same data dir fails clearly and leaves the first one running.
    second = _run(["serve", "--port", str(_free_port())], _env(SOMATRACE_DATA_DIR=str(data_dir)))
    _assert_one_line_error(second, str(data_dir))
    assert "in use" in second.stderr
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200

    # Ctrl-C stops the server and the embedded PostgreSQL.
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    pids = subprocess.run(
        ["pgrep", "-f", f"postgres.*{data_dir}"], capture_output=True, text=True, check=False
    )
    assert pids.stdout.strip() == ""


def test_user_create_while_serve_runs_on_the_embedded_database(
    embedded_server: tuple[subprocess.Popen[str], int, Path],
) -> None:
    proc, port, data_dir = embedded_server
    assert _wait_healthy(port, proc).status_code == 200
    made = subprocess.run(
        [
            *CLI,
            "user",
            "create",
            "--email",
            "first.admin@clinic.example",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="maple quarry lantern 9\n",
        env=_env(SOMATRACE_DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("created admin first.admin@clinic.example")
    # the running server sees the account at once: it is the same database
    r = httpx.post(
        f"http://127.0.0.1:{port}/v1/auth/token",
        data={"username": "first.admin@clinic.example", "password": "maple quarry lantern 9"},
        timeout=30,
    )
    assert r.status_code == 200, r.text


def test_user_create_on_a_data_dir_held_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    import fcntl

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with (data_dir / "somatrace.lock").open("w") as lock:  # what a starting server holds
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("12345")
        lock.flush()
        proc = subprocess.run(
            [
                *CLI,
                "user",
                "create",
                "--email",
                "a@clinic.example",
                "--role",
                "admin",
                "--password-stdin",
            ],
            input="maple quarry lantern 9\n",
            env=_env(SOMATRACE_DATA_DIR=str(data_dir)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    _assert_one_line_error(proc, str(data_dir))
    assert "not running yet" in proc.stderr and "try again" in proc.stderr
