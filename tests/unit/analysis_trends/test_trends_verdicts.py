"""analysis.session_verdicts: the public contract, states, what counts, family-wise control, MDC."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

import analysis
from analysis.calibration import Cell, simulate_daily
from analysis.trends import BASELINE_MIN_DAYS, PERIODS, STATES, VERDICT_COLUMNS, TrendsError
from analysis.verdicts import _holm, _holm_adjusted, judge_sessions, period_needed_days

from .conftest import D0, daily_table

CONTRACT = (
    "session_day",
    "period",
    "state",
    "n_days",
    "diff_ln_rmssd",
    "ci_low",
    "ci_high",
    "mdc_ln_rmssd",
    "flagged",
    "reason",
)


def _patient(
    seed: int = 1,
    *,
    rho: float = 0.3,
    baseline_days: int = 28,
    effect_in: str = "none",
    missing: float = 0.0,
) -> tuple[pd.DataFrame, date, date]:
    cell = Cell(rho, 0.05, missing, False, baseline_days, effect_in)  # type: ignore[arg-type]
    return simulate_daily(cell, np.random.default_rng(seed))


def test_output_follows_the_contract() -> None:
    daily, s, today = _patient()
    out = analysis.session_verdicts(daily, [s], today=today)
    assert tuple(out.columns[: len(CONTRACT)]) == CONTRACT
    assert tuple(out.columns) == VERDICT_COLUMNS
    assert list(out["period"]) == ["days 1-3", "days 4-14", "days 15-28"]
    assert list(out["session_day"]) == [s] * 3
    assert set(out["state"]) <= set(STATES)
    assert out["state"].tolist() == ["verdict"] * 3
    assert out["flagged"].dtype == bool
    assert out["n_days"].tolist() == [3, 11, 14]
    for col in ("diff_ln_rmssd", "ci_low", "ci_high", "mdc_ln_rmssd"):
        assert out[col].dtype == np.float64 and out[col].notna().all()
    assert (out["ci_low"] < out["diff_ln_rmssd"]).all() and (
        out["diff_ln_rmssd"] < out["ci_high"]
    ).all()
    assert (out["mdc_ln_rmssd"] > 0).all()
    assert (out["reason"] == "").all()
    assert out["ci_level"].between(0.95, 1.0).all()


def test_two_sessions_give_six_rows_and_periods_stop_before_the_next_session() -> None:
    daily, s, today = _patient(baseline_days=28)
    second = s + timedelta(days=10)
    out = analysis.session_verdicts(daily, [second, s], today=today)
    assert list(out["session_day"]) == [s] * 3 + [second] * 3
    first = out.iloc[:3]
    assert first.iloc[1]["last_day"] == second - timedelta(days=1)  # days 4-9, not 4-14
    assert first.iloc[1]["n_possible"] == 6 and first.iloc[1]["n_days"] == 6
    assert first.iloc[2]["state"] == "insufficient"
    assert "next medicine session" in first.iloc[2]["reason"]
    assert first.iloc[2]["n_days"] == 0
    # the second session's days 15-28 (days 25-38 after the first) are under way on day 29
    assert out.iloc[5]["state"] == "in_progress"
    assert out.iloc[5]["reason"].startswith("under way: 4 of 14 days over, 4 valid so far")


def test_states_follow_today() -> None:
    daily, s, _ = _patient()
    on_day_2 = analysis.session_verdicts(daily, [s], today=s + timedelta(days=2))
    assert on_day_2["state"].tolist() == ["in_progress", "not_reached", "not_reached"]
    assert on_day_2.iloc[0]["n_days"] == 1  # day 1 is over, day 2 is today
    assert "under way" in on_day_2.iloc[0]["reason"]
    assert "judged after" in on_day_2.iloc[0]["reason"]
    assert on_day_2.iloc[1]["reason"].startswith("not begun: starts on")
    assert "(in 2 days)" in on_day_2.iloc[1]["reason"]
    assert not on_day_2["flagged"].any() and on_day_2["diff_ln_rmssd"].isna().all()
    on_day_4 = analysis.session_verdicts(daily, [s], today=s + timedelta(days=4))
    assert on_day_4["state"].tolist() == ["verdict", "not_reached", "not_reached"]
    assert on_day_4.iloc[1]["reason"].endswith("(today)")  # today's reading never counts
    on_day_5 = analysis.session_verdicts(daily, [s], today=s + timedelta(days=5))
    assert on_day_5["state"].tolist() == ["verdict", "in_progress", "not_reached"]
    before = analysis.session_verdicts(daily, [s], today=s - timedelta(days=3))
    assert before["state"].tolist() == ["not_reached"] * 3


def test_today_and_later_never_count() -> None:
    daily, s, _ = _patient(seed=4)
    today = s + timedelta(days=20)
    base = analysis.session_verdicts(daily, [s], today=today)
    changed = daily.copy()
    late = changed["day"] >= today
    changed.loc[late, "ln_rmssd"] = 9.9  # today's partial reading and anything after it
    changed.loc[late, "quality"] = "fair"
    again = analysis.session_verdicts(changed, [s], today=today)
    pd.testing.assert_frame_equal(base, again)


def test_poor_and_missing_days_never_count() -> None:
    daily, s, today = _patient(seed=5)
    poor_days = [s + timedelta(days=k) for k in (5, 6, 7)]
    marked = daily.assign(
        quality=[
            "poor: artifact share 30.0% > 20%" if d in poor_days else q
            for d, q in zip(daily["day"], daily["quality"], strict=True)
        ]
    )
    out = analysis.session_verdicts(marked, [s], today=today)
    moved = marked.copy()
    moved.loc[moved["day"].isin(poor_days), "ln_rmssd"] = 0.5  # a poor value is never used
    pd.testing.assert_frame_equal(out, analysis.session_verdicts(moved, [s], today=today))
    row = out.iloc[1]
    assert row["n_days"] == 8 and row["n_poor"] == 3
    assert "3 poor-signal day(s) left out" in row["caveat"]


def test_a_period_resting_mostly_on_fair_days_carries_a_caveat() -> None:
    daily, s, today = _patient(seed=6)
    fair = daily["day"] > s + timedelta(days=14)
    daily.loc[fair, "quality"] = "fair: beats cover 85% of the window < 90%"
    daily["artifact_share"] = np.where(fair, 0.08, 0.01)
    out = analysis.session_verdicts(daily, [s], today=today)
    assert out.iloc[0]["caveat"] == "" and out.iloc[0]["fair_share"] == 0.0
    last = out.iloc[2]
    assert last["n_fair"] == 14 and last["fair_share"] == 1.0
    assert last["artifact_share"] == pytest.approx(0.08)
    assert "rests mostly on fair-quality days (14 of 14)" in last["caveat"]
    assert "8% of beats were corrected artifacts" in last["caveat"]


def test_too_few_days_is_cannot_tell_yet_with_how_many_are_needed() -> None:
    daily, s, today = _patient(seed=7)
    gone = (daily["day"] >= s + timedelta(days=4)) & (daily["day"] <= s + timedelta(days=12))
    daily.loc[gone, "ln_rmssd"] = math.nan
    out = analysis.session_verdicts(daily, [s], today=today)
    row = out.iloc[1]
    assert row["state"] == "insufficient" and row["n_days"] == 2
    assert row["needed_days"] == period_needed_days(11) == 6
    assert row["reason"] == "cannot tell yet: 2 valid day(s) of 11, needs 6"
    assert math.isnan(row["diff_ln_rmssd"]) and not row["flagged"]
    assert out.iloc[0]["state"] == out.iloc[2]["state"] == "verdict"


def test_a_short_baseline_gives_no_verdict_and_says_why() -> None:
    daily, s, today = _patient(seed=8, baseline_days=BASELINE_MIN_DAYS - 1)
    out = analysis.session_verdicts(daily, [s], today=today)
    assert out["state"].tolist() == ["insufficient"] * 3
    assert all(
        r.startswith(f"cannot tell yet: the baseline has {BASELINE_MIN_DAYS - 1} valid day(s)")
        for r in out["reason"]
    )
    assert out["reason"].str.contains(f"needs {BASELINE_MIN_DAYS}").all()
    ok, s2, today2 = _patient(seed=8, baseline_days=BASELINE_MIN_DAYS)
    assert (analysis.session_verdicts(ok, [s2], today=today2)["state"] == "verdict").all()


def test_a_real_change_is_flagged_in_its_period_with_its_direction() -> None:
    daily, s, today = _patient(seed=9, rho=0.3, baseline_days=60, effect_in="days 4-14")
    daily.loc[
        (daily["day"] >= s + timedelta(days=4)) & (daily["day"] <= s + timedelta(days=14)),
        "ln_rmssd",
    ] += 0.5
    out = analysis.session_verdicts(daily, [s], today=today)
    row = out.iloc[1]
    assert row["flagged"] and row["ci_low"] > 0
    assert row["ci_low"] < 0.8 < row["ci_high"]  # 0.3 + 0.5 added
    assert row["p_adjusted"] <= 0.05
    flagged = out[out["flagged"]]
    assert ((flagged["ci_low"] > 0) | (flagged["ci_high"] < 0)).all()
    unflagged = out[~out["flagged"] & (out["state"] == "verdict")]
    assert ((unflagged["ci_low"] <= 0) & (unflagged["ci_high"] >= 0)).all()


def test_flagged_is_the_interval_excluding_zero_in_many_patients() -> None:
    for seed in range(40):
        daily, s, today = _patient(seed=seed, rho=0.5, effect_in="all", missing=0.2)
        for row in analysis.session_verdicts(daily, [s], today=today).itertuples():
            if row.state != "verdict":
                continue
            excludes = row.ci_low > 0.0 or row.ci_high < 0.0
            assert row.flagged == excludes
            assert row.flagged == (row.p_adjusted <= 0.05 + 1e-12)


def test_the_same_data_always_give_the_same_verdict() -> None:
    daily, s, today = _patient(seed=10, rho=0.7, missing=0.2)
    a = analysis.session_verdicts(daily, [s], today=today)
    b = analysis.session_verdicts(daily.copy(), [s], today=today)
    pd.testing.assert_frame_equal(a, b)


def test_more_days_see_smaller_changes() -> None:
    mdc = []
    for base in (14, 60):
        per_seed = []
        for k in range(12):
            daily, s, today = _patient(seed=k, baseline_days=base)
            out = analysis.session_verdicts(daily, [s], today=today)
            per_seed.append(out["mdc_ln_rmssd"].to_numpy())
        mdc.append(np.mean(per_seed, axis=0))
    assert (mdc[1] < mdc[0]).all()  # a longer baseline pins the level and trend down
    # the MDC is the change flagged with 80 % power: three times it is found nearly always
    found = 0
    for seed in range(30):
        daily, s, today = _patient(seed=100 + seed, baseline_days=60)
        period = (daily["day"] >= s + timedelta(days=4)) & (daily["day"] <= s + timedelta(days=14))
        daily.loc[period, "ln_rmssd"] += 2.0 * float(mdc[1][1])
        found += bool(analysis.session_verdicts(daily, [s], today=today).iloc[1]["flagged"])
    assert found >= 27


def test_a_drift_is_not_a_change() -> None:
    daily, s, today = _patient(seed=12, rho=0.0)
    offsets = np.array([(d - s).days for d in daily["day"]], dtype=float)
    steep = daily.assign(ln_rmssd=daily["ln_rmssd"] + 0.02 * offsets)  # +0.56 by day 28
    a = analysis.session_verdicts(daily, [s], today=today)
    b = analysis.session_verdicts(steep, [s], today=today)
    # the model holds a slow trend: a linear drift leaves every estimate where it was
    np.testing.assert_allclose(a["diff_ln_rmssd"], b["diff_ln_rmssd"], atol=1e-9)
    assert a["flagged"].tolist() == b["flagged"].tolist()


def test_one_source_at_a_time() -> None:
    morning = daily_table(D0, list(4.0 + 0.1 * np.sin(np.arange(40))))
    nights = morning.copy()
    night_days = morning["day"] >= D0 + timedelta(days=31)
    morning.loc[night_days, "source"] = "night_median"
    morning.loc[night_days, "ln_rmssd"] += 0.5  # asleep values are higher
    s = D0 + timedelta(days=30)
    out = analysis.session_verdicts(morning, [s], today=D0 + timedelta(days=40))
    assert out.iloc[0]["n_days"] == 0 and out.iloc[0]["state"] == "insufficient"
    assert len(nights) == 40
    judged = judge_sessions(morning, [s], today=D0 + timedelta(days=40))
    assert judged.source == "morning"


def test_holm_matches_statsmodels() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        p = rng.uniform(0, 0.1, size=3) ** rng.uniform(0.5, 2)
        reject, adjusted, _, _ = multipletests(p, alpha=0.05, method="holm")
        got, levels = _holm(p, 0.05)
        assert got.tolist() == reject.tolist()
        np.testing.assert_allclose(_holm_adjusted(p), adjusted)
        # each interval's level is that of its Holm step: it excludes 0 exactly when rejected
        assert all((p[k] <= levels[k]) == got[k] for k in range(3))


def test_bad_input_raises_typed_errors() -> None:
    daily, s, today = _patient()
    with pytest.raises(TrendsError):
        analysis.session_verdicts(daily.drop(columns=["ln_rmssd"]), [s], today=today)
    with pytest.raises(TrendsError):
        analysis.session_verdicts(daily.iloc[::-1], [s], today=today)
    with pytest.raises(TrendsError):
        analysis.session_verdicts(pd.concat([daily, daily]), [s], today=today)
    with pytest.raises(TrendsError):
        analysis.session_verdicts(daily, [datetime(2026, 3, 2, 10)], today=today)
    with pytest.raises(TrendsError):
        analysis.session_verdicts(daily.assign(quality="excellent"), [s], today=today)
    empty = analysis.session_verdicts(daily, [], today=today)
    assert empty.empty and tuple(empty.columns) == VERDICT_COLUMNS


def test_periods_are_the_documented_ones() -> None:
    assert PERIODS == (("days 1-3", 1, 3), ("days 4-14", 4, 14), ("days 15-28", 15, 28))
