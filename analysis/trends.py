"""Trends of one patient behind one façade: daily values, baseline and band, session verdicts.

The jobs live in their own modules: ``analysis.daily`` (one value per local day from the
windows), ``analysis.trend_days`` (which days count: grade, completeness, one source at a
time), ``analysis.band`` (baseline, 7-day rolling mean and its normal band, the badge),
``analysis.verdicts`` (change after each medicine session, calibrated) and ``analysis.ar1``
(the AR(1) regression they share). This module re-exports their public names and combines
them for callers: :func:`compute_trends` (windows to everything, e.g. the worker and the CLI)
and :func:`session_report` (one session against the baseline, e.g. the integration endpoint).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import pandas as pd

from analysis.band import (
    BAND_LEVEL,
    BASELINE_MIN_DAYS,
    ROLLING_DAYS,
    ROLLING_MIN_DAYS,
    TREND_COLUMNS,
    DailyTrend,
    NormalBand,
    daily_trend,
    normal_band,
)
from analysis.bounds import DEFAULT_WINDOW_S
from analysis.daily import DAILY_COLUMNS, aware, daily_values, patient_zone
from analysis.trend_days import (
    BASELINE_MAX_DAYS,
    InsufficientData,
    TrendsError,
    counted_days,
    primary_source,
)
from analysis.verdicts import (
    FAMILY_ALPHA,
    FAMILY_METHOD,
    PERIODS,
    STATES,
    VERDICT_COLUMNS,
    ModelSummary,
    PeriodVerdict,
    SessionJudgement,
    judge_sessions,
    period_needed_days,
    session_verdicts,
)

__all__ = [
    "BAND_LEVEL",
    "BASELINE_MAX_DAYS",
    "BASELINE_MIN_DAYS",
    "DAILY_COLUMNS",
    "FAMILY_ALPHA",
    "FAMILY_METHOD",
    "PERIODS",
    "ROLLING_DAYS",
    "ROLLING_MIN_DAYS",
    "STATES",
    "TREND_COLUMNS",
    "VERDICT_COLUMNS",
    "DailyTrend",
    "InsufficientData",
    "ModelSummary",
    "NormalBand",
    "PeriodVerdict",
    "SessionJudgement",
    "SessionLike",
    "SessionReport",
    "TrendResult",
    "TrendsError",
    "compute_trends",
    "counted_days",
    "daily_table",
    "daily_trend",
    "daily_values",
    "judge_sessions",
    "medicine_days_of",
    "normal_band",
    "period_needed_days",
    "primary_source",
    "session_report",
    "session_verdicts",
]


class SessionLike(Protocol):
    """Anything with a ``kind`` and a tz-aware ``started_at`` (e.g. ``SimSession``, a DB row)."""

    @property
    def kind(self) -> str: ...

    @property
    def started_at(self) -> datetime: ...


def _session_fields(s: SessionLike | Mapping[str, Any]) -> tuple[str, datetime]:
    if isinstance(s, Mapping):
        kind, started = s.get("kind"), s.get("started_at")
    else:
        kind, started = getattr(s, "kind", None), getattr(s, "started_at", None)
    if not isinstance(kind, str) or not isinstance(started, datetime):
        raise TrendsError("a session needs a str kind and a datetime started_at", session=repr(s))
    return kind, aware(started, "session started_at")


def medicine_days_of(sessions: Sequence[SessionLike | Mapping[str, Any]], tz: str) -> list[date]:
    """Local dates (in ``tz``) of the ``kind == "medicine"`` sessions, sorted and distinct."""
    zone = patient_zone(tz)
    return sorted(
        {
            started.astimezone(zone).date()
            for kind, started in map(_session_fields, sessions)
            if kind == "medicine"
        }
    )


@dataclass(frozen=True, eq=False)
class TrendResult:
    """Everything the dashboard shows for one patient.

    Attributes
    ----------
    trend:
        The daily table with what counts, rolling means, band and badge (:class:`DailyTrend`).
    verdicts:
        Every period of every medicine session (:class:`SessionJudgement`).
    tz:
        The patient's IANA time zone.
    """

    trend: DailyTrend
    verdicts: SessionJudgement
    tz: str

    @property
    def daily(self) -> pd.DataFrame:
        """The daily table (:data:`DAILY_COLUMNS` plus :data:`TREND_COLUMNS`)."""
        return self.trend.daily


@dataclass(frozen=True, eq=False)
class SessionReport:
    """One medicine session against the baseline: what the integration endpoint returns.

    Attributes
    ----------
    session_day:
        Local date of the session.
    today:
        The date it was judged on.
    source:
        The daily source used.
    band:
        Baseline and normal band, or why there is none.
    periods:
        Days 1–3, 4–14 and 15–28 of this session.
    model:
        The fitted model, or ``None`` when none could be fitted.
    baseline_days, baseline_possible:
        Counted and possible baseline days (also when there is no band).
    """

    session_day: date
    today: date
    source: str | None
    band: NormalBand | InsufficientData
    periods: tuple[PeriodVerdict, ...]
    model: ModelSummary | None
    baseline_days: int
    baseline_possible: int


def session_report(
    daily: pd.DataFrame, medicine_days: Sequence[date], session_day: date, *, today: date
) -> SessionReport:
    """The baseline, its band and the three verdicts of the session on ``session_day``.

    Parameters
    ----------
    daily:
        The stored daily values (``analysis.daily.daily_values`` columns).
    medicine_days:
        Local dates of all the patient's medicine sessions (the first ends the baseline; the
        next one after ``session_day`` ends its periods).
    session_day:
        Local date of the session reported; must be one of ``medicine_days``.
    today:
        The patient's local date now (today never counts).
    """
    if session_day not in set(medicine_days):
        raise TrendsError(
            f"{session_day.isoformat()} is not a medicine session day", day=str(session_day)
        )
    trend = daily_trend(daily, medicine_days, today=today)
    judged = judge_sessions(daily, medicine_days, today=today, source=trend.source)
    return SessionReport(
        session_day=session_day,
        today=today,
        source=trend.source,
        band=trend.band,
        periods=judged.for_session(session_day),
        model=judged.model,
        baseline_days=judged.baseline_days,
        baseline_possible=judged.baseline_possible,
    )


def daily_table(
    windows: pd.DataFrame,
    tz: str,
    sessions: Sequence[SessionLike | Mapping[str, Any]],
    morning_readings: Sequence[tuple[datetime, datetime]] | None = None,
    *,
    fallbacks: Sequence[str] = ("night_median",),
    window_s: float = DEFAULT_WINDOW_S,
) -> pd.DataFrame:
    """:func:`analysis.daily.daily_values` from the first to the last day with windows or a
    medicine session (so that a session's day is in the table even when nothing was worn).

    What is stored per day: nothing here depends on which day is today.
    """
    zone = patient_zone(tz)
    med_days = medicine_days_of(sessions, tz)
    first_day = last_day = None
    if (
        len(windows)
        and "window_start" in windows.columns
        and isinstance(windows["window_start"].dtype, pd.DatetimeTZDtype)
    ):
        local = windows["window_start"].dt.tz_convert(zone)
        first_day, last_day = local.min().date(), local.max().date()
    if med_days:
        first_day = min(first_day or med_days[0], med_days[0])
        last_day = max(last_day or med_days[-1], med_days[-1])
    return daily_values(
        windows,
        tz,
        morning_readings,
        fallbacks=fallbacks,
        window_s=window_s,
        first_day=first_day,
        last_day=last_day,
    )


def compute_trends(
    windows: pd.DataFrame,
    tz: str,
    sessions: Sequence[SessionLike | Mapping[str, Any]],
    morning_readings: Sequence[tuple[datetime, datetime]] | None = None,
    *,
    today: date,
    fallbacks: Sequence[str] = ("night_median",),
    window_s: float = DEFAULT_WINDOW_S,
) -> TrendResult:
    """Daily values, what counts, rolling means, band and session verdicts for one patient.

    Parameters
    ----------
    windows:
        Per-window markers (see :func:`analysis.daily.daily_values`).
    tz:
        The patient's IANA time zone.
    sessions:
        Sessions with ``kind`` and tz-aware ``started_at`` (objects or mappings); only
        ``kind == "medicine"`` ones define the baseline and the periods.
    morning_readings:
        Explicit morning-reading intervals, or ``None`` to detect them.
    today:
        The patient's local date now (today and later never count).
    fallbacks, window_s:
        As :func:`analysis.daily.daily_values`.

    Raises
    ------
    TrendsError
        On malformed input.
    """
    med_days = medicine_days_of(sessions, tz)
    daily = daily_table(
        windows, tz, sessions, morning_readings, fallbacks=fallbacks, window_s=window_s
    )
    trend = daily_trend(daily, med_days, today=today)
    verdicts = judge_sessions(daily, med_days, today=today, source=trend.source)
    return TrendResult(trend=trend, verdicts=verdicts, tz=tz)
