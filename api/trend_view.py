"""The stored daily values of one patient judged for the patient's today: what counts, 7-day means,
band, badge and session verdicts (``analysis.trends``), for the routes and exports.

The worker stores one value per day (``api.worker.daily``); everything that depends on which day is
today (a day counts once it is over) is computed here, on read.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import psycopg

from analysis.trends import (
    DailyTrend,
    NormalBand,
    SessionReport,
    daily_trend,
    medicine_days_of,
    session_report,
    session_verdicts,
)
from api.db.queries import q

#: Stored ``daily_values`` columns, in ``daily_copy`` order (after patient_id).
DAILY_DB_COLUMNS: tuple[str, ...] = (
    "day",
    "source",
    "beat_source",
    "ln_rmssd",
    "rmssd_ms",
    "resting_hr_bpm",
    "stress_index",
    "n_windows",
    "wear_hours",
    "artifact_share",
    "quality",
)


def patient_today(tz: str, now: datetime | None = None) -> date:
    """The patient's local calendar date at ``now`` (default: the current time)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).date()


def daily_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Stored ``daily_values`` rows as the daily table ``analysis.trends`` reads."""
    frame = pd.DataFrame([dict(r) for r in rows], columns=list(DAILY_DB_COLUMNS))
    for col in ("ln_rmssd", "rmssd_ms", "resting_hr_bpm", "stress_index", "artifact_share"):
        frame[col] = frame[col].astype("float64")
    frame["wear_hours"] = frame["wear_hours"].astype("float64")
    return frame


@dataclass(frozen=True, eq=False)
class PatientDays:
    """A patient's stored days and medicine sessions, as read in one go."""

    tz: str
    today: date
    daily: pd.DataFrame
    medicine_days: list[date]

    def trend(self) -> DailyTrend:
        """What counts, rolling means, band and badge (``analysis.trends.daily_trend``)."""
        return daily_trend(self.daily, self.medicine_days, today=self.today)

    def report(self, session_day: date) -> SessionReport:
        """Baseline, band and the three verdicts of the session on ``session_day``."""
        return session_report(self.daily, self.medicine_days, session_day, today=self.today)

    def verdicts(self) -> pd.DataFrame:
        """Every period of every medicine session (``analysis.session_verdicts``)."""
        return session_verdicts(self.daily, self.medicine_days, today=self.today)


async def load_patient_days(
    conn: psycopg.AsyncConnection[Any], patient_id: uuid.UUID, tz: str
) -> PatientDays:
    """All stored daily values and medicine sessions of the patient (one connection)."""
    cur = await conn.execute(q("daily_all"), {"patient_id": patient_id})
    rows = await cur.fetchall()
    cur = await conn.execute(q("daily_sessions_all"), {"patient_id": patient_id})
    sessions = await cur.fetchall()
    return PatientDays(
        tz=tz,
        today=patient_today(tz),
        daily=daily_frame(rows),
        medicine_days=medicine_days_of(sessions, tz),
    )


async def judged_trend(days: PatientDays) -> DailyTrend:
    """:meth:`PatientDays.trend` off the event loop (numpy work of a few milliseconds)."""
    return await asyncio.to_thread(days.trend)


async def judged_report(days: PatientDays, session_day: date) -> SessionReport:
    """:meth:`PatientDays.report` off the event loop (the bootstrap takes tens of milliseconds)."""
    return await asyncio.to_thread(days.report, session_day)


def export_rows(trend: DailyTrend) -> list[dict[str, Any]]:
    """The judged daily table as export rows (NaN as None; the band's level and SD on every row)."""
    band = trend.band
    mean = band.mean_ln_rmssd if isinstance(band, NormalBand) else None
    sd = band.sd_ln_rmssd if isinstance(band, NormalBand) else None
    out: list[dict[str, Any]] = []
    for rec in trend.daily.to_dict("records"):
        row: dict[str, Any] = {
            str(k): (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in rec.items()
        }
        row["cv_pct"] = row.pop("cv_7d_pct")
        row["baseline_mean"], row["baseline_sd"] = mean, sd
        out.append(row)
    return out


async def judged_verdict_rows(days: PatientDays) -> list[dict[str, Any]]:
    """:meth:`PatientDays.verdicts` as export rows (NaN as None, ``judged_on`` = the patient's today),
    off the event loop."""
    table = await asyncio.to_thread(days.verdicts)
    out: list[dict[str, Any]] = []
    for rec in table.to_dict("records"):
        row: dict[str, Any] = {
            str(k): (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in rec.items()
        }
        row["reason"] = row["reason"] or None
        row["caveat"] = row["caveat"] or None
        row["judged_on"] = days.today
        out.append(row)
    return out
