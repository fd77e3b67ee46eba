"""analysis.reading: one morning reading's markers, grade and verdict against the usual range."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.reading import READING_LEVEL, ReadingInputError, UsualRange, judge_reading
from analysis.windows import compute_windows_timed

START_S = 1_780_000_000.0


def _reading(seed: int = 3, n: int = 400, mean_ms: float = 900.0, sd_ms: float = 40.0):
    """RR ticks-like values and their end times covering a 5-minute reading from START_S."""
    rng = np.random.default_rng(seed)
    rr = np.round((mean_ms + sd_ms * rng.standard_normal(n)) * 1.024) / 1.024
    t = START_S + np.cumsum(rr) / 1000.0
    keep = t < START_S + 300.0
    return t[keep], rr[keep]


def test_usual_range_is_the_prediction_interval_of_one_new_morning() -> None:
    usual = UsualRange(mean_ln_rmssd=4.0, sd_ln_rmssd=0.2, n_days=10)
    lo, hi = usual.interval()
    half = stats.t.ppf(0.95, 9) * 0.2 * math.sqrt(1 + 1 / 10)
    assert (lo, hi) == pytest.approx((4.0 - half, 4.0 + half))
    # a stable person's mornings fall inside at the stated rate (simulated)
    rng = np.random.default_rng(1)
    inside = []
    for _ in range(4000):
        days = 4.0 + 0.2 * rng.standard_normal(11)
        u = UsualRange(float(days[:10].mean()), float(days[:10].std(ddof=1)), 10)
        a, b = u.interval()
        inside.append(a <= days[10] <= b)
    assert abs(float(np.mean(inside)) - READING_LEVEL) < 0.02


def test_markers_are_the_window_markers_of_the_reading() -> None:
    t, rr = _reading()
    v = judge_reading(t, rr, start_s=START_S, end_s=START_S + 300, usual=None)
    row = compute_windows_timed(t, rr, window_s=300.0, origin_s=START_S).iloc[0]
    assert v.rmssd_ms == pytest.approx(float(row["rmssd_ms"]))
    assert v.mean_hr_bpm == pytest.approx(float(row["mean_hr_bpm"]))
    assert v.n_beats == int(row["n_beats"]) == t.size
    assert v.grade in ("good", "fair")


def test_without_a_usual_range_it_cannot_tell_and_says_why() -> None:
    t, rr = _reading()
    v = judge_reading(t, rr, start_s=START_S, end_s=START_S + 300, usual=None)
    assert v.state == "cannot_tell" and v.position is None
    assert "usual range needs 3 mornings" in v.reasons[0]
    short = UsualRange(4.0, 0.2, 2)
    assert judge_reading(t, rr, start_s=START_S, end_s=START_S + 300, usual=short).state == (
        "cannot_tell"
    )


@pytest.mark.parametrize(("offset", "position"), [(-1.0, "above"), (0.0, "within"), (1.0, "below")])
def test_position_against_the_usual_range(offset: float, position: str) -> None:
    t, rr = _reading()
    ln = judge_reading(t, rr, start_s=START_S, end_s=START_S + 300, usual=None).ln_rmssd
    usual = UsualRange(mean_ln_rmssd=ln + offset, sd_ln_rmssd=0.2, n_days=12, source="morning")
    v = judge_reading(t, rr, start_s=START_S, end_s=START_S + 300, usual=usual)
    assert v.state == "verdict" and v.position == position
    assert v.to_dict()["usual_low_ln"] == pytest.approx(usual.interval()[0])


def test_a_reading_too_short_or_empty_gets_no_verdict() -> None:
    t, rr = _reading()
    usual = UsualRange(4.0, 0.2, 12)
    few = judge_reading(t[:10], rr[:10], start_s=START_S, end_s=START_S + 300, usual=usual)
    assert few.state == "cannot_tell" and few.grade in ("poor", "insufficient")
    assert few.reasons and few.reasons[0].startswith("the signal was")
    empty = judge_reading([], [], start_s=START_S, end_s=START_S + 300, usual=usual)
    assert empty.state == "cannot_tell" and empty.n_beats == 0
    assert empty.to_dict()["rmssd_ms"] is None


def test_beats_outside_the_interval_are_ignored_and_bad_input_is_refused() -> None:
    t, rr = _reading()
    inner = judge_reading(t, rr, start_s=START_S, end_s=START_S + 150, usual=None)
    assert inner.n_beats == int(np.sum(t < START_S + 150))
    with pytest.raises(ReadingInputError):
        judge_reading(t, rr, start_s=START_S, end_s=START_S, usual=None)
    with pytest.raises(ReadingInputError):
        judge_reading(t[::-1], rr, start_s=START_S, end_s=START_S + 300, usual=None)
