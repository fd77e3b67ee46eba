"""Typed payloads of the trend endpoints: daily values with quality, the normal band, the badge,
and the session verdicts of ``/sessions/{sid}/integration``.

Built from ``analysis.trends`` results (``from_analysis`` constructors); the routes in
``api.routes.data`` serve them. The dashboard reads period names, states, quality and the band's
definition from here instead of copying the analysis' constants.
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from analysis.quality import split_quality
from analysis.trends import (
    BAND_LEVEL,
    FAMILY_ALPHA,
    FAMILY_METHOD,
    PERIODS,
    ROLLING_DAYS,
    ROLLING_MIN_DAYS,
    DailyTrend,
    InsufficientData,
    ModelSummary,
    NormalBand,
    PeriodVerdict,
    SessionReport,
)

Grade = Literal["good", "fair", "poor", "insufficient"]
BandPosition = Literal["above", "within", "below"]
PeriodName = Literal["days 1-3", "days 4-14", "days 15-28"]
PeriodState = Literal["verdict", "in_progress", "not_reached", "insufficient"]

#: Display labels of the periods (en dash), keyed by the analysis' period names.
PERIOD_LABELS: dict[str, str] = {name: f"Days {a}–{b}" for name, a, b in PERIODS}


def _num(value: Any) -> float | None:
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


class DailyOut(BaseModel):
    """One local day: its value, its quality, whether it counts, and its 7-day mean and band."""

    day: date
    source: str = Field(description="morning | night_median | day_median | none")
    beat_source: str | None = Field(
        description="Where the value's beats came from: collector, browser or an import format"
    )
    source_key: str | None = Field(
        description="The way of measuring compared across days ('morning', 'morning/browser')"
    )
    ln_rmssd: float | None
    rmssd_ms: float | None
    resting_hr_bpm: float | None
    stress_index: float | None
    n_windows: int
    wear_hours: float
    artifact_share: float | None = Field(description="Share (0-1) of corrected beats behind it")
    quality: str = Field(description="Grade and reasons, e.g. 'fair: coverage 84 %'")
    grade: Grade
    quality_notes: list[str]
    complete: bool = Field(description="The day is over (before the patient's today)")
    counted: bool = Field(
        description="Counts for the band and verdicts: complete, good or fair, primary source"
    )
    exclusion: str | None = Field(description="Why the day does not count (null if it does)")
    in_baseline: bool
    rolling_mean_7d: float | None = Field(
        description="Mean of the counted days in the 7 ending here"
    )
    rolling_days: int = Field(description="Counted days in that 7-day window")
    rolling_fair_days: int = Field(description="... of which fair")
    cv_pct: float | None = Field(description="CV of the counted days in the 7, %")
    band_low: float | None = Field(description="Normal band for this day's 7-day mean")
    band_high: float | None
    band_position: BandPosition | None = Field(description="The badge: 7-day mean vs band")

    @classmethod
    def rows(cls, trend: DailyTrend) -> list[DailyOut]:
        """One model per row of ``trend.daily``."""
        out: list[DailyOut] = []
        for rec in trend.daily.to_dict("records"):
            quality = str(rec.get("quality") or "insufficient")
            out.append(
                cls(
                    day=rec["day"],
                    source=str(rec.get("source") or "none"),
                    beat_source=rec.get("beat_source") or None,
                    source_key=rec.get("source_key") or None,
                    ln_rmssd=_num(rec.get("ln_rmssd")),
                    rmssd_ms=_num(rec.get("rmssd_ms")),
                    resting_hr_bpm=_num(rec.get("resting_hr_bpm")),
                    stress_index=_num(rec.get("stress_index")),
                    n_windows=int(rec.get("n_windows") or 0),
                    wear_hours=_num(rec.get("wear_hours")) or 0.0,
                    artifact_share=_num(rec.get("artifact_share")),
                    quality=quality,
                    grade=rec["grade"],
                    quality_notes=split_quality(quality)[1],
                    complete=bool(rec["complete"]),
                    counted=bool(rec["counted"]),
                    exclusion=rec["exclusion"],
                    in_baseline=bool(rec["in_baseline"]),
                    rolling_mean_7d=_num(rec["rolling_mean_7d"]),
                    rolling_days=int(rec["rolling_days"]),
                    rolling_fair_days=int(rec["rolling_fair_days"]),
                    cv_pct=_num(rec["cv_7d_pct"]),
                    band_low=_num(rec["band_low"]),
                    band_high=_num(rec["band_high"]),
                    band_position=rec["band_position"],
                )
            )
        return out


class BandOut(BaseModel):
    """The baseline and the band a stable person's 7-day means stay in (or why there is none)."""

    status: Literal["ok", "insufficient"]
    reason: str | None = Field(description="Why there is no band (status insufficient)")
    source: str | None = Field(description="Daily source of the baseline (one at a time)")
    first_day: date | None = Field(description="First calendar day searched")
    last_day: date | None
    n_days: int = Field(description="Counted baseline days")
    n_possible: int = Field(description="Calendar days in the baseline window")
    needed_days: int
    mean_ln_rmssd: float | None = Field(description="Baseline level (GLS mean, AR(1) errors)")
    sd_ln_rmssd: float | None = Field(description="Day-to-day SD")
    rho: float | None = Field(description="Day-to-day autocorrelation used for the band")
    level: float = Field(description="Share of a stable person's 7-day means inside the band")
    judged: str = Field(description="What the band judges")
    rolling_days: int
    rolling_min_days: int
    half_width_week: float | None = Field(description="Half-width for 7 counted days")
    low_week: float | None
    high_week: float | None
    n_fair: int
    fair_share: float | None
    artifact_share: float | None
    provisional: bool = Field(description="The first medicine session is still ahead")
    definition: str | None

    @classmethod
    def from_analysis(
        cls, band: NormalBand | InsufficientData, *, n_possible: int = 0, source: str | None
    ) -> BandOut:
        common: dict[str, Any] = {
            "level": BAND_LEVEL,
            "judged": f"7-day rolling mean of the counted days (at least {ROLLING_MIN_DAYS} of "
            f"{ROLLING_DAYS})",
            "rolling_days": ROLLING_DAYS,
            "rolling_min_days": ROLLING_MIN_DAYS,
        }
        if isinstance(band, InsufficientData):
            return cls(
                status="insufficient",
                reason=band.reason,
                source=source,
                first_day=None,
                last_day=None,
                n_days=band.n_days,
                n_possible=n_possible,
                needed_days=band.needed,
                mean_ln_rmssd=None,
                sd_ln_rmssd=None,
                rho=None,
                half_width_week=None,
                low_week=None,
                high_week=None,
                n_fair=0,
                fair_share=None,
                artifact_share=None,
                provisional=False,
                definition=None,
                **common,
            )
        return cls(
            status="ok",
            reason=None,
            source=band.source,
            first_day=band.first_day,
            last_day=band.last_day,
            n_days=band.n_days,
            n_possible=band.n_possible,
            needed_days=band.needed,
            mean_ln_rmssd=_num(band.mean_ln_rmssd),
            sd_ln_rmssd=_num(band.sd_ln_rmssd),
            rho=_num(band.rho),
            half_width_week=_num(band.half_width_week),
            low_week=_num(band.low_week),
            high_week=_num(band.high_week),
            n_fair=band.n_fair,
            fair_share=band.n_fair / band.n_days if band.n_days else None,
            artifact_share=_num(band.artifact_share),
            provisional=band.provisional,
            definition=band.definition(),
            **common,
        )


class BadgeOut(BaseModel):
    """The latest complete 7-day mean against the band, with the quality it rests on."""

    day: date | None = Field(description="Last complete day with a 7-day mean")
    rolling_mean_7d: float | None
    rolling_days: int = Field(description="Counted days in that window (of 7)")
    rolling_fair_days: int
    band_low: float | None
    band_high: float | None
    position: BandPosition | None
    reason: str | None = Field(description="Why there is no badge")

    @classmethod
    def from_trend(cls, trend: DailyTrend) -> BadgeOut:
        row = trend.latest()
        if row is None:
            return cls(
                day=None,
                rolling_mean_7d=None,
                rolling_days=0,
                rolling_fair_days=0,
                band_low=None,
                band_high=None,
                position=None,
                reason=f"no 7-day mean yet (needs {ROLLING_MIN_DAYS} counted days in 7)",
            )
        position = row["band_position"]
        reason = None
        if position is None:
            reason = (
                trend.band.reason if isinstance(trend.band, InsufficientData) else "no band yet"
            )
        return cls(
            day=row["day"],
            rolling_mean_7d=_num(row["rolling_mean_7d"]),
            rolling_days=int(row["rolling_days"]),
            rolling_fair_days=int(row["rolling_fair_days"]),
            band_low=_num(row["band_low"]),
            band_high=_num(row["band_high"]),
            position=position,
            reason=reason,
        )


class DailyTrendOut(BaseModel):
    """``GET /daily`` with ``?with_band=true`` and the daily part of the timeline."""

    today: date = Field(description="The patient's local date the days were judged on")
    source: str | None
    band: BandOut
    badge: BadgeOut
    daily: list[DailyOut]


class PeriodQualityOut(BaseModel):
    """The quality of the days a period rests on."""

    n_good: int
    n_fair: int
    n_poor: int = Field(description="Poor-signal days in the period, left out")
    n_missing: int = Field(description="Days of the period so far without a counted value")
    fair_share: float | None
    artifact_share: float | None
    caveat: str | None = Field(description="Shown beside the verdict when the data are weak")


class PeriodOut(BaseModel):
    """One period after a medicine session: its state, and the verdict when there is one."""

    period: PeriodName
    label: str
    first_offset: int = Field(description="First day after the session (day 0 = session date)")
    last_offset: int
    first_day: date = Field(description="Local dates covered (cut before the next session)")
    last_day: date
    state: PeriodState
    n_days: int = Field(description="Counted days")
    n_possible: int = Field(description="Calendar days in the period")
    needed_days: int = Field(description="Counted days needed for a verdict")
    diff_ln_rmssd: float | None = Field(description="Change against the baseline level and trend")
    ci_low: float | None
    ci_high: float | None
    ci_level: float | None = Field(description="Level of the interval (Holm step)")
    mdc_ln_rmssd: float | None = Field(description="Smallest change these days could show")
    p_value: float | None
    p_adjusted: float | None = Field(description="Holm-adjusted p-value")
    rmssd_change_pct: float | None
    flagged: bool = Field(description="Interval excludes 0 after the family-wise adjustment")
    direction: Literal["higher", "lower"] | None
    reason: str | None = Field(description="Why there is no verdict (other states)")
    quality: PeriodQualityOut

    @classmethod
    def from_analysis(cls, p: PeriodVerdict, *, today: date) -> PeriodOut:
        offsets = {name: (a, b) for name, a, b in PERIODS}[p.period]
        elapsed = max(0, min((today - p.first_day).days, p.n_possible))
        diff = _num(p.diff_ln_rmssd)
        return cls(
            period=p.period,
            label=PERIOD_LABELS[p.period],
            first_offset=offsets[0],
            last_offset=offsets[1],
            first_day=p.first_day,
            last_day=p.last_day,
            state=p.state,
            n_days=p.n_days,
            n_possible=p.n_possible,
            needed_days=p.needed_days,
            diff_ln_rmssd=diff,
            ci_low=_num(p.ci_low),
            ci_high=_num(p.ci_high),
            ci_level=_num(p.ci_level),
            mdc_ln_rmssd=_num(p.mdc_ln_rmssd),
            p_value=_num(p.p_value),
            p_adjusted=_num(p.p_adjusted),
            rmssd_change_pct=_num(p.rmssd_change_pct) if diff is not None else None,
            flagged=p.flagged,
            direction=(
                None if not p.flagged or diff is None else "higher" if diff > 0 else "lower"
            ),
            reason=p.reason or None,
            quality=PeriodQualityOut(
                n_good=p.n_good,
                n_fair=p.n_fair,
                n_poor=p.n_poor,
                n_missing=max(0, elapsed - p.n_days - p.n_poor),
                fair_share=_num(p.fair_share),
                artifact_share=_num(p.artifact_share),
                caveat=p.caveat or None,
            ),
        )


class ModelOut(BaseModel):
    """The model the verdicts come from."""

    n_obs: int = Field(description="Counted days in the model")
    rho_hat: float = Field(description="Day-to-day autocorrelation (REML)")
    sd_ln_rmssd: float
    trend_per_day: float = Field(description="Slow trend, ln ms per day")
    df_resid: int
    method: str

    @classmethod
    def from_analysis(cls, m: ModelSummary) -> ModelOut:
        return cls(
            n_obs=m.n_obs,
            rho_hat=float(np.round(m.rho_hat, 4)),
            sd_ln_rmssd=m.sd_ln_rmssd,
            trend_per_day=m.trend_per_day,
            df_resid=m.df_resid,
            method=m.method,
        )


class FamilyOut(BaseModel):
    """How the periods of a session are controlled as one family."""

    method: Literal["holm"] = "holm"
    alpha: float = FAMILY_ALPHA
    description: str = FAMILY_METHOD
    primary_period: PeriodName | None = Field(
        default=None, description="Always null: no period is primary, Holm covers all three"
    )


class IntegrationOut(BaseModel):
    """One medicine session against the baseline: band, model and days 1–3, 4–14, 15–28."""

    session_id: uuid.UUID
    kind: str
    started_at: datetime
    status: Literal["ok", "insufficient_data", "not_a_medicine_session"]
    session_day: date | None = None
    today: date | None = Field(default=None, description="The patient's date it was judged on")
    source: str | None = None
    baseline: BandOut | None = None
    periods: list[PeriodOut] = []
    model: ModelOut | None = None
    family: FamilyOut = FamilyOut()

    @classmethod
    def from_report(
        cls, session_id: uuid.UUID, kind: str, started_at: datetime, report: SessionReport
    ) -> IntegrationOut:
        band = BandOut.from_analysis(
            report.band, n_possible=report.baseline_possible, source=report.source
        )
        return cls(
            session_id=session_id,
            kind=kind,
            started_at=started_at,
            status="ok" if band.status == "ok" else "insufficient_data",
            session_day=report.session_day,
            today=report.today,
            source=report.source,
            baseline=band,
            periods=[PeriodOut.from_analysis(p, today=report.today) for p in report.periods],
            model=ModelOut.from_analysis(report.model) if report.model is not None else None,
        )
