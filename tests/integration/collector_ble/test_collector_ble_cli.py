"""The collector's commands against an emulated strap running as a separate process over TCP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from collector.cli import ConfigError, load_config, register
from collector.spool import Spool

pytestmark = pytest.mark.integration

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
ADDRESS = "C7:3A:1F:2B:00:01"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def emulator() -> Iterator[str]:
    """``python -m collector.emulation`` streaming tests/data/polar_h10_rr.csv in real time."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collector.emulation",
            "--port",
            str(port),
            "--rr-csv",
            str(DATA_DIR / "polar_h10_rr.csv"),
            "--ecg-npz",
            str(DATA_DIR / "polar_h10_ecg130hz.npz"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"emulator did not start: {out}")
            time.sleep(0.1)
        yield f"tcp-client:127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_scan_pair_record_and_morning_reading(
    app: typer.Typer, emulator: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    config = tmp_path / "collector.json"
    spool = tmp_path / "spool.sqlite3"

    result = runner.invoke(app, ["scan", "--timeout", "1", "--transport", emulator])
    assert result.exit_code == 0, result.output
    assert ADDRESS in result.output and "Polar H10" in result.output

    result = runner.invoke(
        app,
        [
            "pair",
            "--transport",
            emulator,
            "--timeout",
            "1",
            "--config",
            str(config),
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "tok-123",
        ],
    )
    assert result.exit_code == 0, result.output
    paired = load_config(config)
    assert (paired.strap, paired.server_url, paired.device_token) == (
        ADDRESS,
        "http://127.0.0.1:9",
        "tok-123",
    )
    assert config.stat().st_mode & 0o077 == 0

    result = runner.invoke(
        app,
        [
            "record",
            "--duration",
            "3",
            "--no-upload",
            "--ecg",
            "--config",
            str(config),
            "--spool",
            str(spool),
            "--transport",
            emulator,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Recorded" in result.output and "ECG:" in result.output
    stats = Spool(spool).stats()
    assert stats.spooled >= 1 and stats.pending == stats.spooled
    ecg_files = list((tmp_path / "ecg").glob("ecg-*.csv"))
    assert len(ecg_files) == 1 and ecg_files[0].stat().st_size > 100

    # A second run against the same emulator resumes the spool after a gap.
    result = runner.invoke(
        app,
        [
            "record",
            "--morning",
            "--duration",
            "3",
            "--no-upload",
            "--config",
            str(config),
            "--spool",
            str(spool),
            "--transport",
            emulator,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Morning reading:" in result.output and "Not a diagnosis" in result.output
    after = Spool(spool).stats()
    assert after.spooled > stats.spooled and after.gaps >= 1


def test_record_without_pairing_and_upload_without_server_fail_clearly(
    app: typer.Typer, tmp_path: Path
) -> None:
    runner = CliRunner()
    config = tmp_path / "none.json"
    result = runner.invoke(app, ["record", "--config", str(config), "--spool", str(tmp_path / "s")])
    assert isinstance(result.exception, ConfigError)
    assert "no strap paired" in str(result.exception)
    result = runner.invoke(app, ["upload", "--config", str(config), "--spool", str(tmp_path / "s")])
    assert isinstance(result.exception, ConfigError)
    result = runner.invoke(
        app, ["pair", "--config", str(config), "--server", "ftp://x", "--strap", ADDRESS]
    )
    assert isinstance(result.exception, ConfigError)


def test_bad_config_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "collector.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a JSON object"):
        load_config(path)
    path.write_text(json.dumps({"strap": 5}))
    with pytest.raises(ConfigError, match="strap must be a string"):
        load_config(path)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)


RECORD_CHILD = (
    "import typer; from collector.cli import register; app = typer.Typer(); register(app); app()"
)


def test_record_killed_with_sigkill_restarts_against_the_same_emulator(
    app: typer.Typer, emulator: str, tmp_path: Path
) -> None:
    """The demo's crash drill: SIGKILL a recording, start again, it reconnects and resumes."""
    spool_path = tmp_path / "spool.sqlite3"
    config = tmp_path / "collector.json"
    args = [
        "record",
        "--strap",
        ADDRESS,
        "--no-upload",
        "--config",
        str(config),
        "--spool",
        str(spool_path),
        "--transport",
        emulator,
    ]
    child = subprocess.Popen(
        [sys.executable, "-c", RECORD_CHILD, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        spooled = 0
        while spooled < 2:
            assert child.poll() is None, "recorder exited early"
            assert time.monotonic() < deadline, "recorder spooled nothing"
            time.sleep(0.2)
            if spool_path.exists():
                spooled = Spool(spool_path).stats().spooled
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    before = Spool(spool_path).stats()
    result = CliRunner().invoke(app, [*args, "--duration", "4"])
    assert result.exit_code == 0, result.output
    assert "1 connection(s)" in result.output
    after = Spool(spool_path).stats()
    assert after.spooled > before.spooled
    assert after.gaps == before.gaps + 1
