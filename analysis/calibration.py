"""Monte-Carlo calibration of the session verdicts and the normal band on simulated patients.

Simulates daily ln RMSSD (AR(1) day-to-day noise, missing days, slow drift, an optional change in
one or all periods), runs ``analysis.verdicts.judge_sessions`` and ``analysis.band.daily_trend``
exactly as the API does, and counts false positives, coverage, power, minimal detectable change
and how often the badge leaves the band. Printing and parallel runs are left to
``benchmarks/trends_calibration.py``; the seeded CI check is in ``tests/unit/analysis_trends``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final, Literal

import numpy as np
import pandas as pd

from analysis.band import daily_trend
from analysis.verdicts import PERIODS, RhoRule, judge_sessions

__all__ = [
    "DRIFT_PER_DAY",
    "EFFECT_LN_RMSSD",
    "MEAN_LN_RMSSD",
    "Cell",
    "CellResult",
    "run_cell",
    "simulate_daily",
]

#: Level of daily ln RMSSD (RMSSD ≈ 55 ms); CV is the day-to-day SD relative to it.
MEAN_LN_RMSSD: Final[float] = 4.0
#: Change whose power is measured, ln(ms) (+35 % RMSSD).
EFFECT_LN_RMSSD: Final[float] = 0.3
#: The slow drift of the drift cells, ln(ms) per day.
DRIFT_PER_DAY: Final[float] = 0.005
#: Days simulated after the session (the last period ends on day 28); today is the day after.
AFTER_DAYS: Final[int] = 28
#: First local date of every simulated medicine session (any date works: nothing is seasonal).
SESSION_DAY: Final[date] = date(2026, 3, 2)

EffectIn = Literal["none", "all", "days 1-3", "days 4-14", "days 15-28"]


@dataclass(frozen=True)
class Cell:
    """One simulation condition.

    Attributes
    ----------
    rho:
        Lag-1 day-to-day autocorrelation of the AR(1) noise.
    cv:
        Day-to-day SD as a share of :data:`MEAN_LN_RMSSD` (0.05 → SD 0.2).
    missing:
        Probability that a day has no value (independently per day).
    drift:
        Whether a slow drift of :data:`DRIFT_PER_DAY` runs through the whole series.
    baseline_days:
        Calendar days of baseline before the session.
    effect_in:
        Where a change of :data:`EFFECT_LN_RMSSD` is added (``"none"``: a null cell).
    """

    rho: float
    cv: float
    missing: float
    drift: bool
    baseline_days: int
    effect_in: EffectIn = "none"

    @property
    def sd(self) -> float:
        """Day-to-day SD of ln RMSSD."""
        return self.cv * MEAN_LN_RMSSD

    @property
    def is_null(self) -> bool:
        return self.effect_in == "none"

    def effect(self, period: str) -> float:
        """The true change in ``period``."""
        return EFFECT_LN_RMSSD if self.effect_in in ("all", period) else 0.0

    def label(self) -> str:
        return (
            f"ρ={self.rho:.1f} CV={self.cv:.0%} miss={self.missing:.0%} "
            f"drift={'yes' if self.drift else 'no'} base={self.baseline_days}"
        )


def simulate_daily(cell: Cell, rng: np.random.Generator) -> tuple[pd.DataFrame, date, date]:
    """One simulated patient: the daily table, the session's date and "today" (day 29).

    Days run from ``baseline_days`` before the session to day 28 after it; the AR(1) noise is
    stationary from the first day; the drift is ``DRIFT_PER_DAY × (days since the session)``.
    """
    offsets = np.arange(-cell.baseline_days, AFTER_DAYS + 1)
    n = offsets.size
    noise = np.empty(n)
    noise[0] = rng.standard_normal() * cell.sd
    innovations = rng.standard_normal(n) * cell.sd * math.sqrt(1.0 - cell.rho**2)
    for i in range(1, n):
        noise[i] = cell.rho * noise[i - 1] + innovations[i]
    y = MEAN_LN_RMSSD + noise + (DRIFT_PER_DAY * offsets if cell.drift else 0.0)
    for name, a, b in PERIODS:
        y[(offsets >= a) & (offsets <= b)] += cell.effect(name)
    y[rng.random(n) < cell.missing] = math.nan
    days = [SESSION_DAY + timedelta(days=int(k)) for k in offsets]
    daily = pd.DataFrame(
        {
            "day": days,
            "ln_rmssd": y,
            "quality": np.where(np.isfinite(y), "good", "insufficient"),
        }
    )
    return daily, SESSION_DAY, SESSION_DAY + timedelta(days=AFTER_DAYS + 1)


@dataclass
class CellResult:
    """Counts over the patients of one cell (per period in :data:`analysis.verdicts.PERIODS`)."""

    cell: Cell
    n_patients: int = 0
    any_flagged: int = 0
    flagged: list[int] = field(default_factory=lambda: [0] * len(PERIODS))
    verdicts: list[int] = field(default_factory=lambda: [0] * len(PERIODS))
    covered: list[int] = field(default_factory=lambda: [0] * len(PERIODS))
    mdc_sum: list[float] = field(default_factory=lambda: [0.0] * len(PERIODS))
    badge_days: int = 0
    badge_outside: int = 0
    badge_patients: int = 0
    rho_hat_sum: float = 0.0
    fits: int = 0

    def merge(self, other: CellResult) -> CellResult:
        """Counts of both (same cell)."""
        out = CellResult(self.cell)
        out.n_patients = self.n_patients + other.n_patients
        out.any_flagged = self.any_flagged + other.any_flagged
        for name in ("flagged", "verdicts", "covered", "mdc_sum"):
            setattr(
                out,
                name,
                [a + b for a, b in zip(getattr(self, name), getattr(other, name), strict=True)],
            )
        out.badge_days = self.badge_days + other.badge_days
        out.badge_outside = self.badge_outside + other.badge_outside
        out.badge_patients = self.badge_patients + other.badge_patients
        out.rho_hat_sum = self.rho_hat_sum + other.rho_hat_sum
        out.fits = self.fits + other.fits
        return out

    # --- rates -------------------------------------------------------------------------------
    @property
    def fwer(self) -> float:
        """Share of patients with at least one period flagged."""
        return self.any_flagged / self.n_patients if self.n_patients else math.nan

    def fwer_mc_se(self) -> float:
        """Monte-Carlo standard error of :attr:`fwer` (binomial)."""
        p = self.fwer
        return math.sqrt(max(p * (1.0 - p), 1e-12) / self.n_patients) if self.n_patients else 0.0

    def flag_rate(self, k: int) -> float:
        """Share of patients with period ``k`` flagged (FPR in null cells, power otherwise)."""
        return self.flagged[k] / self.n_patients if self.n_patients else math.nan

    def verdict_share(self, k: int) -> float:
        """Share of patients with a verdict (not "cannot tell") for period ``k``."""
        return self.verdicts[k] / self.n_patients if self.n_patients else math.nan

    def coverage(self, k: int) -> float:
        """Share of verdict intervals of period ``k`` holding the true change."""
        return self.covered[k] / self.verdicts[k] if self.verdicts[k] else math.nan

    def mdc(self, k: int) -> float:
        """Mean minimal detectable change of period ``k`` over its verdicts."""
        return self.mdc_sum[k] / self.verdicts[k] if self.verdicts[k] else math.nan

    @property
    def badge_rate(self) -> float:
        """Share of complete post-session days whose 7-day mean the badge puts outside the band."""
        return self.badge_outside / self.badge_days if self.badge_days else math.nan

    @property
    def rho_hat(self) -> float:
        """Mean REML estimate of ρ."""
        return self.rho_hat_sum / self.fits if self.fits else math.nan


def run_cell(
    cell: Cell,
    n_patients: int,
    seed: int | Iterable[int],
    *,
    rho_rule: RhoRule = "bootstrap",
    badge_patients: int | None = None,
    slow_trend: bool = True,
) -> CellResult:
    """Simulate ``n_patients`` of ``cell`` and judge each as the API does.

    Parameters
    ----------
    cell:
        The condition.
    n_patients:
        Simulated patients.
    seed:
        Seed (or seed sequence entropy) of the simulation; results are reproducible.
    rho_rule:
        Passed to :func:`analysis.verdicts.judge_sessions` (``"bootstrap"`` is the API's).
    badge_patients:
        How many of the patients also get the badge judged (:func:`analysis.band.daily_trend`
        over days 1–28 after the session); default all.
    slow_trend:
        Passed to :func:`analysis.verdicts.judge_sessions` (``True`` is the API's).
    """
    rng = np.random.default_rng(seed if isinstance(seed, int) else list(seed))
    result = CellResult(cell)
    n_badge = n_patients if badge_patients is None else min(badge_patients, n_patients)
    for k in range(n_patients):
        daily, session_day, today = simulate_daily(cell, rng)
        judged = judge_sessions(
            daily, [session_day], today=today, rho_rule=rho_rule, slow_trend=slow_trend
        )
        result.n_patients += 1
        any_flag = False
        for j, period in enumerate(judged.periods):
            if period.state != "verdict":
                continue
            result.verdicts[j] += 1
            truth = cell.effect(period.period)
            result.covered[j] += int(period.ci_low <= truth <= period.ci_high)
            result.mdc_sum[j] += period.mdc_ln_rmssd
            if period.flagged:
                result.flagged[j] += 1
                any_flag = True
        result.any_flagged += int(any_flag)
        if judged.model is not None:
            result.rho_hat_sum += judged.model.rho_hat
            result.fits += 1
        if k < n_badge:
            trend = daily_trend(daily, [session_day], today=today).daily
            after = trend[(trend["day"] > session_day) & trend["complete"].to_numpy(dtype=bool)]
            positions = after["band_position"].dropna()
            result.badge_days += len(positions)
            result.badge_outside += int((positions != "within").sum())
            result.badge_patients += 1
    return result
