"""The quality grade reflects the expected residual error: corrections, rounding, ectopy, long windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from neurokit2.ecg.ecg_simulate import _ecg_simulate_rrprocess

from analysis import compute_windows, compute_windows_timed, split_quality
from analysis.bounds import CORRECTION_ERROR_PER_SHARE, ECTOPY_RMSSD_REL_MAX
from analysis.quality import expected_rmssd_error, grade_window
from analysis.simulate import beats_from_tachogram, round_beat_times

COMMON = {"window_s": 300.0, "min_beats": 3, "min_duration_s": 30.0}


def test_expected_error_by_hand() -> None:
    assert expected_rmssd_error(0.0, 40.0, 0.0) == 0.0
    assert expected_rmssd_error(0.03, math.nan, 0.0) == pytest.approx(
        CORRECTION_ERROR_PER_SHARE * 0.03
    )
    rounding = math.sqrt(1 + 7.8125**2 / (2 * 15.0**2)) - 1  # 1/128 s at RMSSD 15 ms
    assert expected_rmssd_error(0.0, 15.0, 7.8125) == pytest.approx(rounding)
    assert expected_rmssd_error(0.02, 15.0, 7.8125) == pytest.approx(math.hypot(0.04, rounding))


def test_grade_names_the_cause_of_the_expected_error() -> None:
    rounding = grade_window(
        n_beats=350,
        duration_s=299.0,
        artifact_share=0.0,
        rmssd_ms=14.0,
        mean_nn_ms=800.0,
        resolution_ms=7.8125,
        **COMMON,
    )
    assert rounding.startswith("fair: expected RMSSD error ±8% > 5% (RR rounded to 7.8 ms)")
    corrected = grade_window(
        n_beats=350,
        duration_s=299.0,
        artifact_share=0.04,
        rmssd_ms=40.0,
        mean_nn_ms=800.0,
        resolution_ms=1000 / 1024,
        **COMMON,
    )
    assert split_quality(corrected) == (
        "fair",
        ["expected RMSSD error ±8% > 5% (4.0% of beats corrected)"],
    )
    heavy = grade_window(
        n_beats=350,
        duration_s=299.0,
        artifact_share=0.12,
        rmssd_ms=40.0,
        mean_nn_ms=800.0,
        **COMMON,
    )
    assert split_quality(heavy)[0] == "poor"  # 12 % corrected: ±24 % expected
    fine = grade_window(
        n_beats=350,
        duration_s=299.0,
        artifact_share=0.01,
        rmssd_ms=40.0,
        mean_nn_ms=800.0,
        resolution_ms=1000 / 1024,
        **COMMON,
    )
    assert fine == "good"


def test_ectopy_dominated_window_is_poor_whatever_its_artifact_share() -> None:
    q = grade_window(
        n_beats=400,
        duration_s=299.0,
        artifact_share=0.0,
        rmssd_ms=420.0,
        mean_nn_ms=720.0,
        **COMMON,
    )
    grade, reasons = split_quality(q)
    assert grade == "poor"
    assert reasons == [
        f"RMSSD is 58% of the mean NN after correction (> {ECTOPY_RMSSD_REL_MAX:.0%}): "
        "not sinus rhythm, frequent ectopic beats?"
    ]


def test_cautions_keep_a_window_from_good() -> None:
    q = grade_window(
        n_beats=350, duration_s=299.0, artifact_share=0.0, cautions=["a gap"], **COMMON
    )
    assert split_quality(q) == ("fair", ["a gap"])


def test_pvc_recording_is_not_graded_good(nkref) -> None:
    """Issue 10: the Polar H10 recording whose RR alternates ~430/660/900 ms (PVCs)."""
    rr = nkref.polar_rr()
    for window_s in (300.0, 120.0, 60.0):
        frame = compute_windows(rr, window_s)
        grades = [split_quality(q)[0] for q in frame["quality"]]
        assert "good" not in grades, window_s
    frame = compute_windows(rr, 300.0)
    for q in frame["quality"]:
        grade, reasons = split_quality(q)
        assert grade == "poor"
        assert any("not sinus rhythm" in r for r in reasons)


def test_sinus_recordings_are_not_called_ectopic(nkref) -> None:
    for which in ("Long", "Short"):
        frame = compute_windows(nkref.pyhrv_rr(which))
        assert not frame["quality"].str.contains("not sinus rhythm").any()


def test_rounding_term_predicts_the_rmssd_inflation_it_warns_about() -> None:
    """Windows graded fair for their 1/128 s rounding really read higher than the unrounded truth."""
    rng = np.random.default_rng(21)
    tachogram = np.concatenate(
        [
            _ecg_simulate_rrprocess(hrmean=70, hrstd=sd, sfrr=1, n=3600, rng=rng)
            for sd in (0.8, 1.0, 1.3, 1.7, 2.2, 3.0, 4.0)
        ]
    )
    beats = beats_from_tachogram(tachogram)  # RMSSD from ~11 to ~50 ms, hour by hour
    t_q, rr_q = round_beat_times(beats, 1 / 128)
    rounded = compute_windows_timed(t_q, rr_q)
    truth = compute_windows_timed(beats[1:], np.diff(beats) * 1000.0, clean=False)
    n = min(len(rounded), len(truth))
    assert (rounded["window_start_s"].iloc[:n].to_numpy() == truth["window_start_s"].iloc[:n]).all()
    inflation = rounded["rmssd_ms"].to_numpy()[:n] / truth["rmssd_ms"].to_numpy()[:n] - 1
    warned = rounded["quality"].iloc[:n].str.contains("RR rounded").to_numpy()
    clean = (rounded["artifact_share"].iloc[:n] == 0).to_numpy()
    assert warned.sum() >= 10 and (~warned & clean).sum() >= 10
    assert np.median(inflation[warned & clean]) > 0.04
    assert np.median(inflation[~warned & clean]) < 0.03
    predicted = [expected_rmssd_error(0.0, r, 1000 / 128) for r in rounded["rmssd_ms"].iloc[:n]]
    ok = clean & np.isfinite(inflation)
    assert np.corrcoef(np.asarray(predicted)[ok], inflation[ok])[0, 1] > 0.8


def test_long_windows_warn_about_non_stationarity(nkref) -> None:
    rr = nkref.pyhrv_rr("Long")
    hour = compute_windows(rr, window_s=3600.0)
    grade, reasons = split_quality(hour["quality"].iloc[0])
    assert grade == "fair"
    assert "3600 s window > 600 s: spans changing states, markers assume stationarity" in reasons
    five = compute_windows(rr, window_s=300.0)
    assert not five["quality"].str.contains("stationarity").any()
