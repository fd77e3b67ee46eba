"""``somatrace demo`` on a port that is taken: one line naming ``--port``, before the embedded
PostgreSQL (or anything else slow) starts."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SOMATRACE = Path(sys.executable).with_name("somatrace")


def test_a_busy_port_fails_before_the_database_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(SOMATRACE), "demo", "--port", str(port), "--days", "7"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path), "TERM": "dumb"},
            timeout=300,
        )
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert f"127.0.0.1:{port}" in out and "--port" in out, out
    assert "PostgreSQL" not in out, out  # nothing slow was started
    assert not list(tmp_path.rglob("PG_VERSION")), "a database was created"
