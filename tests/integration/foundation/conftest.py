"""Fixtures for the foundation tests: a known beat set for checking the daily roll-ups on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

#: Start of the synthetic recording (UTC midnight), so daily buckets are easy to predict.
ROLLUP_START = datetime(2026, 3, 1, tzinfo=UTC)


def _insert_rollup_beats(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Insert 3 days x 1,200 beats of one patient (RR cycling 800/1000/1200 ticks) and return expectations."""
    patient_id = uuid.uuid4()
    device_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO patients (id, pseudonym, display_name) VALUES (%s, %s, %s)",
        (patient_id, "ST-" + uuid.uuid4().hex[:8].upper(), "Rollup Test"),
    )
    ticks_cycle = [800, 1000, 1200]
    times, ticks, ms = [], [], []
    expected: dict[datetime, dict[str, float]] = {}
    for day in range(3):
        t = ROLLUP_START + timedelta(days=day, hours=8)
        day_ms: list[float] = []
        for i in range(1200):
            tick = ticks_cycle[i % 3]
            t += timedelta(milliseconds=tick * 1000 / 1024)
            times.append(t)
            ticks.append(tick)
            ms.append(tick * 1000 / 1024)
            day_ms.append(tick * 1000 / 1024)
        expected[ROLLUP_START + timedelta(days=day)] = {
            "n_beats": 1200,
            "mean_rr_ms": sum(day_ms) / len(day_ms),
            "wear_hours": sum(day_ms) / 3_600_000,
        }
    conn.execute(
        """
        INSERT INTO beats (patient_id, device_id, t, rr_ticks, rr_ms)
        SELECT %s, %s, t, k, m FROM unnest(%s::timestamptz[], %s::int[], %s::float8[]) AS u(t, k, m)
        """,
        (patient_id, device_id, times, ticks, ms),
    )
    return {"patient_id": patient_id, "days": expected}


@pytest.fixture
def insert_rollup_beats() -> Callable[[psycopg.Connection[Any]], dict[str, Any]]:
    return _insert_rollup_beats
