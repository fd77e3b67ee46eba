"""compute_windows equals neurokit2 per window on real recordings and simulations (issue 4)."""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np
import pytest

from analysis import COLUMNS, compute_windows
from analysis.simulate import simulate_rr

EXPECTED_COLUMNS = [
    "window_start_s",
    "n_beats",
    "artifact_share",
    "mean_nn_ms",
    "mean_hr_bpm",
    "sdnn_ms",
    "rmssd_ms",
    "ln_rmssd",
    "pnn50_pct",
    "sd1_ms",
    "sd2_ms",
    "sd1_sd2",
    "lf_ms2",
    "hf_ms2",
    "lf_hf",
    "dfa_alpha1",
    "sampen",
    "stress_index",
    "baevsky_si",
    "quality",
]


def test_columns_are_the_contract():
    assert list(COLUMNS) == EXPECTED_COLUMNS
    frame = compute_windows(np.full(100, 800.0))
    assert list(frame.columns) == EXPECTED_COLUMNS


def _real(nkref, source):
    return nkref.polar_rr() if source == "polar" else nkref.pyhrv_rr(source)


@pytest.mark.parametrize("source", ["polar", "Long", "Short"])
def test_no_clean_equals_nk_per_window_on_real_data(nkref, source):
    rr = _real(nkref, source)
    frame = compute_windows(rr, clean=False)
    compared = nkref.assert_matches(frame, rr, np.cumsum(rr) / 1000.0, 300.0)
    assert compared >= 10 * (len(frame) - 1)


@pytest.mark.parametrize("source", ["polar", "Long"])
def test_clean_equals_nk_on_cleaned_nn_per_window(nkref, source):
    rr = _real(nkref, source)
    frame = compute_windows(rr, clean=True)
    nn = nkref.peaks_clean(rr)  # neurokit2's own correction of the whole recording
    nkref.assert_matches(frame, nn, np.cumsum(nn) / 1000.0, 300.0)
    assert (frame["artifact_share"] > 0).any()


@pytest.mark.parametrize(("seed", "window_s"), [(21, 300.0), (22, 120.0), (23, 60.0)])
def test_equals_nk_on_simulations(nkref, seed, window_s):
    rr = simulate_rr(1500, seed=seed, ectopic_rate=0.005, missed_rate=0.002)
    raw = compute_windows(rr, window_s=window_s, clean=False)
    nkref.assert_matches(raw, rr, np.cumsum(rr) / 1000.0, window_s)
    # Correction is compared on whole-ms input, where neurokit2's 1 kHz peak grid is exact.
    rr_ms = np.round(rr)
    nn = nkref.peaks_clean(rr_ms)
    cleaned = compute_windows(rr_ms, window_s=window_s, clean=True)
    nkref.assert_matches(cleaned, nn, np.cumsum(nn) / 1000.0, window_s)


def test_nk_nonlinear_shortcut_matches(nkref):
    """The reference helper's nonlinear values are exactly what nk.hrv_nonlinear reports."""
    rr = nkref.pyhrv_rr("Short")
    t = np.cumsum(rr) / 1000.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = nk.hrv_nonlinear({"RRI": rr, "RRI_Time": t})
    ref = nkref.markers(rr, t)
    for ours, theirs in [
        ("sd1_ms", "HRV_SD1"),
        ("sd2_ms", "HRV_SD2"),
        ("sd1_sd2", "HRV_SD1SD2"),
        ("dfa_alpha1", "HRV_DFA_alpha1"),
        ("sampen", "HRV_SampEn"),
    ]:
        assert ref[ours] == float(full[theirs].iloc[0])


def test_window_membership_by_end_time():
    # 1000 ms beats: beat k ends at k+1 s; the beat ending at exactly 300 s opens window 1.
    frame = compute_windows(np.full(900, 1000.0), clean=False)
    assert list(frame["n_beats"]) == [299, 300, 300, 1]
    assert list(frame["window_start_s"]) == [0.0, 300.0, 600.0, 900.0]
