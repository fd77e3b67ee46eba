"""Daily values of a patient from their stored windows and sessions, via ``analysis.trends``.

``recompute_daily`` rebuilds ``daily_values`` (the worker); ``integration_changes`` compares the
periods after one medicine session with the baseline from the stored daily values (the integration
endpoint).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import psycopg

from analysis.trends import (
    Baseline,
    InsufficientData,
    baseline,
    compute_trends,
    primary_source,
    session_change,
)
from api.db.queries import q
from api.worker.recompute import MARKER_COLUMNS, windows_frame

#: ``daily_values`` columns written by the worker, in ``daily_copy`` order (after patient_id).
DAILY_DB_COLUMNS: tuple[str, ...] = (
    "day",
    "source",
    "ln_rmssd",
    "rmssd_ms",
    "resting_hr_bpm",
    "stress_index",
    "n_windows",
    "wear_hours",
    "artifact_share",
    "rolling_mean_7d",
    "baseline_mean",
    "baseline_sd",
    "band_low",
    "band_high",
    "cv_pct",
    "quality",
)


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

    Runs inside the caller's transaction. The whole table of one patient is rebuilt: a day's value
    moves the 7-day rolling means after it, and a baseline day moves the band of every day; ~90 days
    from ~26,000 windows take well under a second.
    """
    windows = windows_frame(conn, patient_id)
    if windows.empty:
        windows = _empty_windows()
    sessions = conn.execute(q("daily_sessions_all"), {"patient_id": patient_id}).fetchall()
    result = compute_trends(windows, tz, sessions)
    base = result.baseline
    base_mean = base.mean_ln_rmssd if isinstance(base, Baseline) else None
    base_sd = base.sd_ln_rmssd if isinstance(base, Baseline) else None
    conn.execute(q("daily_delete_patient"), {"patient_id": patient_id})
    daily = result.daily
    if daily.empty:
        return 0
    with conn.cursor() as cur, cur.copy(q("daily_copy")) as copy:
        for rec in daily.to_dict("records"):
            copy.write_row(
                (
                    patient_id,
                    rec["day"],
                    str(rec["source"]),
                    _num(rec["ln_rmssd"]),
                    _num(rec["rmssd_ms"]),
                    _num(rec["resting_hr_bpm"]),
                    _num(rec["stress_index"]),
                    int(rec["n_windows"]),
                    _num(rec["wear_hours"]) or 0.0,
                    _num(rec["artifact_share"]),
                    _num(rec["rolling_mean_7d"]),
                    _num(base_mean),
                    _num(base_sd),
                    _num(rec["band_low"]),
                    _num(rec["band_high"]),
                    _num(rec["cv_7d_pct"]),
                    str(rec["quality"]) if isinstance(rec["quality"], str) else "insufficient",
                )
            )
    return len(daily)


def daily_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Stored ``daily_values`` rows as the daily table ``analysis.trends`` reads."""
    frame = pd.DataFrame(list(rows), columns=list(DAILY_DB_COLUMNS))
    for col in ("ln_rmssd", "rmssd_ms", "resting_hr_bpm", "stress_index", "artifact_share"):
        frame[col] = frame[col].astype("float64")
    return frame


def integration_changes(
    daily_rows: Sequence[Mapping[str, Any]],
    medicine_starts: Sequence[datetime],
    session_started_at: datetime,
    tz: str,
) -> dict[str, Any]:
    """Days 1–3 / 4–14 / 15–28 after one medicine session against the baseline (JSON-friendly).

    Parameters
    ----------
    daily_rows:
        The patient's stored daily values.
    medicine_starts:
        Start times of all the patient's medicine sessions (the first one ends the baseline).
    session_started_at:
        Start of the session compared.
    tz:
        The patient's IANA time zone (local days).
    """
    zone = ZoneInfo(tz)
    daily = daily_frame(daily_rows)
    med_days = sorted({m.astimezone(zone).date() for m in medicine_starts})
    day = session_started_at.astimezone(zone).date()
    if daily.empty or not med_days:
        reason = "no daily values yet" if daily.empty else "no medicine session recorded"
        return {
            "session_day": day.isoformat(),
            "baseline": InsufficientData(reason).to_dict(),
            "periods": [],
        }
    src = primary_source(daily, before=med_days[0])
    base: Baseline | InsufficientData = baseline(daily, med_days[0], source=src)
    later: list[date] = [d for d in med_days if d > day]
    periods = session_change(daily, base, day, next_session_day=later[0] if later else None)
    return {
        "session_day": day.isoformat(),
        "baseline": base.to_dict(),
        "periods": [_jsonable(p.to_dict()) for p in periods],
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, date):
        return value.isoformat()
    return value
