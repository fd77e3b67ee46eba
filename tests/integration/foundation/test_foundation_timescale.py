"""Migrations on TimescaleDB (WASM PostgreSQL 17 + TimescaleDB 2.23 served on loopback by .ci/timescale).

The WASM server has ONE backend session: everything here uses one autocommit connection, no COPY.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.db.migrate import load_migrations, upgrade_connection

pytestmark = [pytest.mark.integration, pytest.mark.timescale]

HARNESS_DIR = Path(__file__).resolve().parents[3] / ".ci" / "timescale"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def timescale_url() -> Iterator[str]:
    """URL of a WASM TimescaleDB: SOMATRACE_TEST_TIMESCALE_URL, or one started here from .ci/timescale."""
    given = os.environ.get("SOMATRACE_TEST_TIMESCALE_URL")
    if given:
        yield given
        return
    node = shutil.which("node")
    if node is None or not (HARNESS_DIR / "node_modules").is_dir():
        pytest.fail(
            "WASM TimescaleDB not installed: run `npm ci --prefix .ci/timescale` (see .ci/run)"
        )
    port = _free_port()
    proc = subprocess.Popen(
        [node, "server.mjs", str(port)],
        cwd=HARNESS_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY"):
            pytest.fail(f"WASM TimescaleDB did not start: {line}{proc.stdout.read(2000)}")
        yield f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def ts_conn(timescale_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(timescale_url, autocommit=True, prepare_threshold=None) as conn:
        yield conn


@pytest.fixture(scope="module")
def migrated(ts_conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    report = upgrade_connection(ts_conn)
    assert report.timescaledb is True
    assert report.schema_version == max(m.version for m in load_migrations())
    assert "0002_timescale" in report.applied and "0002_plain_rollups" not in report.applied
    return ts_conn


def test_rerun_is_noop(migrated: psycopg.Connection[Any]) -> None:
    again = upgrade_connection(migrated)
    assert again.applied == []


def test_hypertables_exist(migrated: psycopg.Connection[Any]) -> None:
    rows = migrated.execute(
        "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables ORDER BY 1"
    ).fetchall()
    names = {r[0]: r[1] for r in rows}
    assert names.get("beats") is True
    assert names.get("hrv_windows") is True


def test_compression_segmented_by_patient(migrated: psycopg.Connection[Any]) -> None:
    rows = migrated.execute(
        "SELECT hypertable_name, attname FROM timescaledb_information.compression_settings "
        "WHERE segmentby_column_index IS NOT NULL ORDER BY 1, segmentby_column_index"
    ).fetchall()
    seg: dict[str, list[str]] = {}
    for table, column in rows:
        seg.setdefault(table, []).append(column)
    assert seg["beats"][0] == "patient_id"
    assert seg["hrv_windows"] == ["patient_id"]
    jobs = migrated.execute(
        "SELECT hypertable_name FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'"
    ).fetchall()
    assert {"beats", "hrv_windows"} <= {j[0] for j in jobs}


def test_continuous_aggregates_exist(migrated: psycopg.Connection[Any]) -> None:
    views = {
        r[0]
        for r in migrated.execute(
            "SELECT view_name FROM timescaledb_information.continuous_aggregates"
        )
    }
    assert {"daily_beat_rollups", "daily_window_rollups"} <= views


def test_rollup_answers_correctly(
    migrated: psycopg.Connection[Any],
    insert_rollup_beats: Callable[[psycopg.Connection[Any]], dict[str, Any]],
) -> None:
    expected = insert_rollup_beats(migrated)
    migrated.execute("CALL refresh_continuous_aggregate('daily_beat_rollups', NULL, NULL)")
    rows = migrated.execute(
        "SELECT day, n_beats, mean_rr_ms, wear_hours FROM daily_beat_rollups WHERE patient_id = %s ORDER BY day",
        (expected["patient_id"],),
    ).fetchall()
    assert [r[0] for r in rows] == list(expected["days"])
    for day, n_beats, mean_rr_ms, wear_hours in rows:
        want = expected["days"][day]
        assert n_beats == want["n_beats"]
        assert mean_rr_ms == pytest.approx(want["mean_rr_ms"], rel=1e-9)
        assert wear_hours == pytest.approx(want["wear_hours"], rel=1e-9)


def test_window_rollup_recreated_by_0031_carries_both_stress_scales(
    migrated: psycopg.Connection[Any],
) -> None:
    import uuid
    from datetime import UTC, datetime, timedelta

    patient = uuid.uuid4()
    migrated.execute(
        "INSERT INTO patients (id, pseudonym, display_name) VALUES (%s, %s, %s)",
        (patient, "ST-" + uuid.uuid4().hex[:8].upper(), "Stress Rollup"),
    )
    start = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
    for k, (kubios, raw) in enumerate(((8.0, 64.0), (10.0, 100.0))):
        migrated.execute(
            "INSERT INTO hrv_windows (patient_id, window_start, n_beats, stress_index, baevsky_si, "
            "quality) VALUES (%s, %s, 300, %s, %s, 'good')",
            (patient, start + timedelta(minutes=5 * k), kubios, raw),
        )
    migrated.execute("CALL refresh_continuous_aggregate('daily_window_rollups', NULL, NULL)")
    row = migrated.execute(
        "SELECT n_windows, mean_stress_index, mean_baevsky_si FROM daily_window_rollups "
        "WHERE patient_id = %s",
        (patient,),
    ).fetchone()
    assert row == (2, pytest.approx(9.0), pytest.approx(82.0))
    policies = migrated.execute(
        "SELECT count(*) FROM timescaledb_information.jobs "
        "WHERE proc_name = 'policy_refresh_continuous_aggregate' "
        "AND hypertable_name = 'daily_window_rollups'"
    ).fetchone()
    assert policies == (1,)  # the old view's policy went with it; the new one is in place
