"""The worker's daily values: one regulation value per local day of a patient, from their stored
windows and sessions (``analysis.trends.daily_table``), written to ``daily_values``.

Only what does not depend on the date of reading is stored; what counts, 7-day means, the band and the
session verdicts are judged on read (``api.trend_view``).
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import pandas as pd
import psycopg

from analysis.trends import daily_table
from api.db.queries import q
from api.worker.window_frame import MARKER_COLUMNS, windows_frame


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


def recompute_daily(conn: psycopg.Connection[Any], patient_id: uuid.UUID, tz: str) -> int:
    """Replace all of the patient's daily values; returns the number of days written.

    Runs inside the caller's transaction. Days span the first to the last window or medicine session;
    ~90 days from ~26,000 windows take well under a second.
    """
    windows = windows_frame(conn, patient_id)
    if windows.empty:
        windows = _empty_windows()
    sessions = conn.execute(q("daily_sessions_all"), {"patient_id": patient_id}).fetchall()
    daily = daily_table(windows, tz, sessions)
    conn.execute(q("daily_delete_patient"), {"patient_id": patient_id})
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
