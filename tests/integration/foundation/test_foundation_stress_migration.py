"""Migrations 0030/0031 on plain PostgreSQL: the stress index moves to Kubios' scale without losing data.

Stored windows and daily values written before 0030 (Baevsky's raw index in ``stress_index``) are
converted in place, every patient with beats is queued for a full recompute, and the roll-up view
carries both scales.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from api.db.migrate import load_migrations, upgrade, upgrade_connection

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _migrate_before(conn: psycopg.Connection[Any], version: int) -> None:
    """Apply the plain-PostgreSQL migrations older than ``version`` with the migrator's bookkeeping."""
    conn.execute(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
        "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for migration in load_migrations():
        if migration.version >= version or not migration.applies(False):
            continue
        with conn.transaction():
            conn.execute(sql.SQL(migration.sql_text))  # type: ignore[arg-type]
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )


def _old_rows(conn: psycopg.Connection[Any]) -> uuid.UUID:
    """A patient with beats, two windows and a daily value on the old (raw Baevsky) scale."""
    patient = uuid.uuid4()
    device = uuid.uuid4()
    conn.execute(
        "INSERT INTO patients (id, pseudonym, display_name) VALUES (%s, %s, %s)",
        (patient, "ST-" + uuid.uuid4().hex[:8].upper(), "Stress Scale"),
    )
    conn.execute(
        "INSERT INTO beats (patient_id, device_id, t, rr_ticks, rr_ms) VALUES "
        "(%s, %s, %s, 900, 878.90625), (%s, %s, %s, 910, 888.671875)",
        (patient, device, T0, patient, device, T0 + timedelta(hours=5)),
    )
    for k, raw in enumerate((100.0, None)):
        conn.execute(
            "INSERT INTO hrv_windows (patient_id, window_start, n_beats, stress_index, quality) "
            "VALUES (%s, %s, 300, %s, 'good')",
            (patient, T0 + timedelta(minutes=5 * k), raw),
        )
    conn.execute(
        "INSERT INTO daily_values (patient_id, day, source, stress_index) VALUES (%s, %s, 'morning', 64.0)",
        (patient, T0.date()),
    )
    return patient


def test_stored_values_move_to_kubios_scale_and_a_recompute_is_queued(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        _migrate_before(conn, 30)
        patient = _old_rows(conn)
        report = upgrade_connection(conn)
        assert "0030_stress_index_scale" in report.applied
        assert "0031_rollups_stress_plain" in report.applied
        assert "0031_rollups_stress_timescale" not in report.applied

        windows = conn.execute(
            "SELECT stress_index, baevsky_si FROM hrv_windows WHERE patient_id = %s ORDER BY window_start",
            (patient,),
        ).fetchall()
        assert windows[0] == (pytest.approx(10.0), pytest.approx(100.0))
        assert windows[1] == (None, None)
        daily = conn.execute(
            "SELECT stress_index, baevsky_si FROM daily_values WHERE patient_id = %s", (patient,)
        ).fetchone()
        assert daily == (pytest.approx(8.0), pytest.approx(64.0))

        dirty = conn.execute(
            "SELECT start_at, end_at FROM analysis_dirty WHERE patient_id = %s", (patient,)
        ).fetchone()
        assert dirty == (T0, T0 + timedelta(hours=5))
        jobs = conn.execute(
            "SELECT queue_name, task_name, args->>'patient_id' FROM procrastinate_jobs "
            "WHERE queueing_lock = %s AND status = 'todo'",
            (f"recompute:{patient}",),
        ).fetchall()
        assert jobs == [("analysis", "somatrace.recompute_patient", str(patient))]

        rollup = conn.execute(
            "SELECT n_windows, mean_stress_index, mean_baevsky_si FROM daily_window_rollups "
            "WHERE patient_id = %s",
            (patient,),
        ).fetchone()
        assert rollup == (2, pytest.approx(10.0), pytest.approx(100.0))


def test_daily_baevsky_is_always_the_square_of_the_daily_stress_index(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        patient = uuid.uuid4()
        conn.execute(
            "INSERT INTO patients (id, pseudonym, display_name) VALUES (%s, %s, %s)",
            (patient, "ST-" + uuid.uuid4().hex[:8].upper(), "Generated"),
        )
        conn.execute(
            "INSERT INTO daily_values (patient_id, day, source, stress_index) VALUES (%s, %s, 'morning', 9.5)",
            (patient, T0.date()),
        )
        (value,) = conn.execute(
            "SELECT baevsky_si FROM daily_values WHERE patient_id = %s", (patient,)
        ).fetchone() or (math.nan,)
        assert value == pytest.approx(90.25)
        with pytest.raises(psycopg.errors.GeneratedAlways):
            conn.execute("UPDATE daily_values SET baevsky_si = 1 WHERE patient_id = %s", (patient,))


def test_fresh_database_gets_the_same_columns(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        cols = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE column_name IN ('baevsky_si', 'mean_baevsky_si')"
            )
        }
    assert cols == {
        ("hrv_windows", "baevsky_si"),
        ("daily_values", "baevsky_si"),
        ("daily_window_rollups", "mean_baevsky_si"),
    }
