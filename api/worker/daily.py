"""The worker's daily values: one regulation value per local day of a patient, from their stored
windows and sessions (``analysis.daily.daily_values``), written to ``daily_values``; a job rewrites
only the days its changed beats touch (and days the table's span gained or lost).

Only what does not depend on the date of reading is stored; what counts, 7-day means, the band and the
session verdicts are judged on read (``api.trend_view``).
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import pandas as pd
import psycopg

from analysis.daily import daily_values, patient_zone
from analysis.trends import medicine_days_of
from api.db.queries import q
from api.worker.window_frame import MARKER_COLUMNS, windows_frame

#: Local days either side of a changed range that are rewritten too: a window near midnight (or a
#: time-zone offset change) can belong to the neighbouring local date.
DAY_MARGIN: Final[timedelta] = timedelta(days=1)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def _empty_windows() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "window_start": pd.Series([], dtype="datetime64[ns, UTC]"),
            "n_beats": pd.Series([], dtype="int64"),
            "quality": pd.Series([], dtype="object"),
        }
    )
    for col in MARKER_COLUMNS:
        frame[col] = pd.Series([], dtype="float64")
    return frame


def _day_span(
    conn: psycopg.Connection[Any], patient_id: uuid.UUID, tz: str, sessions: list[Any]
) -> tuple[date, date] | None:
    """The table's span: the first to the last local day with a window or a medicine session."""
    zone = patient_zone(tz)
    span = conn.execute(q("windows_span"), {"patient_id": patient_id}).fetchone()
    days: list[date] = []
    if span is not None and span["first_at"] is not None:
        days += [span["first_at"].astimezone(zone).date(), span["last_at"].astimezone(zone).date()]
    med = medicine_days_of(sessions, tz)
    if med:
        days += [med[0], med[-1]]
    return (min(days), max(days)) if days else None


def _local_midnight_utc(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=patient_zone(tz)).astimezone(UTC)


def _days_to_rewrite(
    conn: psycopg.Connection[Any],
    patient_id: uuid.UUID,
    tz: str,
    span: tuple[date, date],
    changed: tuple[datetime, datetime],
) -> tuple[date, date]:
    """``(lo, hi)``: the hull of the days ``changed`` touches and the days the span gained since the
    stored table was written (empty when ``hi < lo``)."""
    first, last = span
    zone = patient_zone(tz)
    parts = [
        (
            max(first, changed[0].astimezone(zone).date() - DAY_MARGIN),
            min(last, changed[1].astimezone(zone).date() + DAY_MARGIN),
        )
    ]
    stored = conn.execute(q("daily_span"), {"patient_id": patient_id}).fetchone()
    if stored is None or stored["first_day"] is None:
        return first, last
    one = timedelta(days=1)
    parts += [(first, stored["first_day"] - one), (stored["last_day"] + one, last)]
    parts = [(a, b) for a, b in parts if a <= b]
    if not parts:
        return last, first
    return min(a for a, _ in parts), max(b for _, b in parts)


def recompute_daily(
    conn: psycopg.Connection[Any],
    patient_id: uuid.UUID,
    tz: str,
    changed: tuple[datetime, datetime] | None = None,
) -> int:
    """Rewrite the patient's daily values that beats changed in ``changed`` (``[start, end]``, UTC)
    can move, or all of them when ``changed`` is ``None``; returns the number of days written.

    A day's value rests on that local day's windows only (``analysis.daily.daily_values``), so a
    live upload rewrites the days around it, whatever the length of the history. Days the span
    (first to last day with a window or medicine session) lost are deleted; days it gained are
    written as well, so the stored table is always what a full rebuild would write. Runs inside the
    caller's transaction.
    """
    sessions = conn.execute(q("daily_sessions_all"), {"patient_id": patient_id}).fetchall()
    span = _day_span(conn, patient_id, tz, sessions)
    if span is None:
        conn.execute(q("daily_delete_patient"), {"patient_id": patient_id})
        return 0
    first, last = span
    lo, hi = first, last
    if changed is not None:
        lo, hi = _days_to_rewrite(conn, patient_id, tz, span, changed)
    conn.execute(
        q("daily_delete_outside"), {"patient_id": patient_id, "first_day": first, "last_day": last}
    )
    if hi < lo:
        return 0
    if (lo, hi) == (first, last):
        windows = windows_frame(conn, patient_id)
    else:
        windows = windows_frame(
            conn,
            patient_id,
            _local_midnight_utc(lo, tz),
            _local_midnight_utc(hi + timedelta(days=1), tz),
        )
    if windows.empty:
        windows = _empty_windows()
    daily = daily_values(windows, tz, first_day=lo, last_day=hi)
    conn.execute(
        q("daily_delete_range"), {"patient_id": patient_id, "first_day": lo, "last_day": hi}
    )
    if daily.empty:
        return 0
    with conn.cursor() as cur, cur.copy(q("daily_copy")) as copy:
        for rec in daily.to_dict("records"):
            copy.write_row(
                (
                    patient_id,
                    rec["day"],
                    str(rec["source"]),
                    rec["beat_source"] if isinstance(rec["beat_source"], str) else None,
                    _num(rec["ln_rmssd"]),
                    _num(rec["rmssd_ms"]),
                    _num(rec["resting_hr_bpm"]),
                    _num(rec["stress_index"]),
                    int(rec["n_windows"]),
                    _num(rec["wear_hours"]) or 0.0,
                    _num(rec["artifact_share"]),
                    str(rec["quality"]) if isinstance(rec["quality"], str) else "insufficient",
                )
            )
    return len(daily)
