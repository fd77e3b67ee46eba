"""``somatrace import FILE --server ...`` against a real server: the patient imports an Apple Health
zip, a re-run stores nothing twice, and a refused file ends as one line on stderr."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from api.auth.passwords import hash_password

from ...conftest import fresh_database
from ...unit.api_imports.samples import apple_health_zip, kubios_text
from ..conftest import serve_app

pytestmark = pytest.mark.integration
PASSWORD = "import-cli-password"


@pytest.fixture(scope="module")
def server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    with fresh_database(pg_admin_url, "somatrace_import_cli", migrated=True) as db_url:
        with psycopg.connect(db_url, autocommit=True) as conn:
            pid = conn.execute(
                "INSERT INTO patients (pseudonym, display_name) VALUES ('IMP-CLI-01', 'Cli') RETURNING id"
            ).fetchone()[0]  # type: ignore[index]
            conn.execute(
                "INSERT INTO users (email, password_hash, role, patient_id) VALUES (%s, %s, 'patient', %s)",
                ("cli-patient@example.org", hash_password(PASSWORD), pid),
            )
        with serve_app(db_url, tmp_path_factory.mktemp("import-cli")) as url:
            yield url, db_url


def _run(url: str, file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "somatrace.cli",
            "import",
            str(file),
            "--server",
            url,
            "--email",
            "cli-patient@example.org",
            *extra,
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_patient_imports_an_apple_health_zip_once(server: tuple[str, str], tmp_path: Path) -> None:
    url, db_url = server
    sample = apple_health_zip()
    file = tmp_path / sample.name
    file.write_bytes(sample.data)
    first = _run(url, file)
    assert first.returncode == 0, first.stderr
    assert f"apple_health — {sample.beats} beats ({sample.beats} new" in first.stdout
    second = _run(url, file)
    assert second.returncode == 0, second.stderr
    assert f"(0 new, {sample.beats} already stored" in second.stdout
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM beats").fetchone()[0] == sample.beats  # type: ignore[index]


def test_refused_file_is_one_line_on_stderr(server: tuple[str, str], tmp_path: Path) -> None:
    url, _ = server
    sample = kubios_text()
    file = tmp_path / sample.name
    file.write_bytes(sample.data)
    refused = _run(url, file)
    assert refused.returncode == 1
    assert "import refused (422)" in refused.stderr and "start" in refused.stderr
    assert "Traceback" not in refused.stderr
    ok = _run(url, file, "--start", sample.start or "")
    assert ok.returncode == 0, ok.stderr
    assert f"kubios — {sample.beats} beats" in ok.stdout
