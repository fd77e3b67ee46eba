"""Stress indices: Baevsky's SI with a trimmed range, Kubios' stress index = its square root."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import compute_windows
from analysis.stress import stress_indices
from analysis.time_domain import WindowIndexError


def one_window(nn):
    nn = np.asarray(nn, dtype=np.float64)
    return stress_indices(nn, np.zeros(nn.size, dtype=np.intp), 1)


def test_by_hand_with_the_trimmed_range():
    # 10 intervals: six in the 800-850 ms bin; sorted 700 760 ... 900 950, one trimmed each end.
    si = one_window([800.0, 810, 820, 830, 840, 845, 700, 760, 900, 950])
    amo, mo, mxdmn = 60.0, 0.825, 0.900 - 0.760
    assert si.baevsky_si[0] == pytest.approx(amo / (2 * mo * mxdmn), rel=1e-12)
    assert si.stress_index[0] == pytest.approx(np.sqrt(amo / (2 * mo * mxdmn)), rel=1e-12)


def test_trim_is_one_percent_of_the_intervals():
    rng = np.random.default_rng(3)
    nn = np.round(800 + 40 * rng.standard_normal(450))
    ordered = np.sort(nn)
    k = 4  # floor(0.01 * 450)
    mxdmn = (ordered[-1 - k] - ordered[k]) / 1000.0
    hist = np.bincount(np.floor(nn / 50).astype(int))
    mo = (np.argmax(hist) * 50 + 25) / 1000.0
    amo = hist.max() / nn.size * 100
    assert one_window(nn).baevsky_si[0] == pytest.approx(amo / (2 * mo * mxdmn), rel=1e-12)


def test_one_outlying_beat_cannot_move_it():
    rng = np.random.default_rng(7)
    nn = np.round(850 + 35 * np.sin(np.arange(320) / 3) + 10 * rng.standard_normal(320))
    base = one_window(nn)
    spiked = nn.copy()
    spiked[100] = 1450.0  # one missed beat left uncorrected
    hit = one_window(spiked)
    assert hit.baevsky_si[0] == pytest.approx(base.baevsky_si[0], rel=0.05)
    # Baevsky's max - min would have roughly halved it.
    full_range = (spiked.max() - spiked.min()) / (nn.max() - nn.min())
    assert full_range > 1.9


def test_bounded_when_the_series_barely_varies():
    """One 8 ms deviation in a constant series: the range floors at one 50 ms bin."""
    nn = np.full(300, 800.0)
    nn[150] = 808.0
    si = one_window(nn)
    mo = 0.825
    assert si.baevsky_si[0] == pytest.approx(100.0 / (2 * mo * 0.05), rel=1e-12)
    assert si.baevsky_si[0] <= 1000.0 / mo
    assert si.stress_index[0] == pytest.approx(np.sqrt(100.0 / (2 * mo * 0.05)))


def test_kubios_scale_is_the_square_root_and_resting_values_are_plausible(nkref):
    frame = compute_windows(nkref.pyhrv_rr("Long"))
    full = frame[frame["n_beats"] > 300]
    np.testing.assert_allclose(full["stress_index"] ** 2, full["baevsky_si"], rtol=1e-12)
    # Kubios' typical resting range is 7-12 (Baevsky's 50-150); a healthy recording lies near it.
    assert 4.0 < full["stress_index"].median() < 16.0


def test_per_window_ties_and_undefined():
    nn = np.array([800.0, 900.0, 700.0, 700.0, 700.0])
    win = np.array([0, 0, 1, 1, 1], dtype=np.intp)
    si = stress_indices(nn, win, 3)
    # Window 0: tie between the 800 and 900 bins -> the lower one, Mo = 0.825 s, AMo = 50 %;
    # two intervals: the range is theirs (100 ms).
    assert si.baevsky_si[0] == pytest.approx(50.0 / (2 * 0.825 * 0.1))
    assert np.isnan(si.baevsky_si[1]) and np.isnan(si.stress_index[1])  # no variability
    assert np.isnan(si.baevsky_si[2])  # empty
    with pytest.raises(WindowIndexError):
        stress_indices(nn, win[:3], 3)
    with pytest.raises(WindowIndexError, match="non-decreasing"):
        stress_indices(nn, win[::-1].copy(), 3)
