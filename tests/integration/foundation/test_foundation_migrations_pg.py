"""Migrations on the machine's plain PostgreSQL 15: idempotent, concurrent-safe, roll-up views correct."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from api.db.migrate import load_migrations, upgrade

pytestmark = pytest.mark.integration

EXPECTED_TABLES = {
    "patients",
    "users",
    "therapist_assignments",
    "devices",
    "beats",
    "ingest_batches",
    "recording_gaps",
    "hrv_windows",
    "daily_values",
    "sessions",
    "journal_entries",
    "audit_log",
    "schema_migrations",
}


def _latest_version() -> int:
    return max(m.version for m in load_migrations())


def test_upgrade_twice_is_a_noop(empty_db_url: str) -> None:
    first = upgrade(empty_db_url)
    assert first.timescaledb is False
    assert first.applied[0] == "0001_core"
    assert first.schema_version == _latest_version()
    second = upgrade(empty_db_url)
    assert second.applied == []
    assert second.schema_version == first.schema_version


def test_schema_has_the_data_model(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        tables = {
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        views = {
            r[0] for r in conn.execute("SELECT viewname FROM pg_views WHERE schemaname = 'public'")
        }
    assert tables >= EXPECTED_TABLES
    assert {"daily_beat_rollups", "daily_window_rollups"} <= views


def test_beats_are_unique_per_device_and_time(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO beats (patient_id, device_id, t, rr_ticks, rr_ms) "
            "VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000000001', '2026-01-01T00:00:00Z', 900, 878.90625)"
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO beats (patient_id, device_id, t, rr_ticks, rr_ms) "
                "VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000000001', '2026-01-01T00:00:00Z', 901, 879.8828125)"
            )


def test_concurrent_upgrades_leave_one_consistent_schema(empty_db_url: str) -> None:
    env = {**os.environ, "SOMATRACE_DATABASE_URL": empty_db_url}
    cmd = [sys.executable, "-c", "from somatrace.cli import main; main()", "db", "upgrade"]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert all(rc == 0 for _, _, rc in results), results
    applied_lines = [out for out, _, _ in results if out.startswith("applied")]
    assert len(applied_lines) == 1, results  # exactly one process did the work
    with psycopg.connect(empty_db_url) as conn:
        rows = conn.execute(
            "SELECT version, count(*) FROM schema_migrations GROUP BY version"
        ).fetchall()
    assert sorted(v for v, _ in rows) == sorted({m.version for m in load_migrations()})
    assert all(n == 1 for _, n in rows)


def test_failed_migration_leaves_nothing_behind(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.db import migrate
    from api.errors import MigrationError

    real = migrate.load_migrations()
    broken = [
        *real,
        migrate.Migration(999, "broken", "CREATE TABLE half_done (x int); SELECT 1/0;", None),
    ]
    monkeypatch.setattr(migrate, "load_migrations", lambda: broken)
    with pytest.raises(MigrationError, match="0999_broken"):
        migrate.upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('half_done')").fetchone() == (None,)
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == sorted({m.version for m in real})


def test_daily_rollups_on_plain_postgres(
    db_url: str, insert_rollup_beats: Callable[[psycopg.Connection[Any]], dict[str, Any]]
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        expected = insert_rollup_beats(conn)
        rows = conn.execute(
            "SELECT day, n_beats, mean_rr_ms, wear_hours FROM daily_beat_rollups WHERE patient_id = %s ORDER BY day",
            (expected["patient_id"],),
        ).fetchall()
    assert [r[0] for r in rows] == list(expected["days"])
    for day, n_beats, mean_rr_ms, wear_hours in rows:
        want = expected["days"][day]
        assert n_beats == want["n_beats"]
        assert mean_rr_ms == pytest.approx(want["mean_rr_ms"], rel=1e-12)
        assert wear_hours == pytest.approx(want["wear_hours"], rel=1e-12)
