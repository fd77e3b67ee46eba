"""Batched DFA α1 and sample entropy equal neurokit2's hrv_nonlinear within 1e-9 relative."""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np
import pytest

from analysis.errors import AnalysisError
from analysis.kernel_input import MarkerInputError
from analysis.nonlinear import (
    DFA_MIN_BOX_VARIANCE,
    _box_residual_variance,
    dfa_alpha1_batch,
    sampen_batch,
)

RTOL = 1e-9


def assert_nonlinear_equal(kref, windows):
    dfa = dfa_alpha1_batch(windows)
    sampen = sampen_batch(windows)
    defined = 0
    for k, nn in enumerate(windows):
        for name, batch, expected in (
            ("dfa_alpha1", dfa, kref.nk_dfa_alpha1(nn)),
            ("sampen", sampen, kref.nk_sampen(nn)),
        ):
            got = batch.values[k]
            if np.isfinite(expected):
                assert got == pytest.approx(expected, rel=RTOL, abs=1e-13), f"window {k} {name}"
                assert batch.reasons[k] is None
                defined += 1
            else:  # nk NaN or +-inf: never a number here, always a reason
                assert np.isnan(got), f"window {k} {name}: nk {expected}, got {got}"
                assert batch.reasons[k] is not None
                assert batch.reasons[k].startswith(f"{name}: ")
    return dfa, sampen, defined


def test_reference_helpers_are_what_hrv_nonlinear_reports(kref):
    nn = kref.pyhrv_nn("Short")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = nk.hrv_nonlinear({"RRI": nn, "RRI_Time": np.cumsum(nn) / 1000.0})
    assert kref.nk_dfa_alpha1(nn) == full["HRV_DFA_alpha1"][0]
    assert kref.nk_sampen(nn) == full["HRV_SampEn"][0]
    assert dfa_alpha1_batch([nn]).values[0] == pytest.approx(full["HRV_DFA_alpha1"][0], rel=RTOL)
    assert sampen_batch([nn]).values[0] == pytest.approx(full["HRV_SampEn"][0], rel=RTOL)


@pytest.mark.parametrize("window_s", [300.0, 60.0])
def test_pyhrv_long_windows_equal_nk(kref, window_s):
    windows, _ = kref.split_windows(kref.pyhrv_nn("Long"), window_s)
    _, _, defined = assert_nonlinear_equal(kref, windows)
    assert defined >= 2 * (len(windows) - 1)


def test_polar_h10_raw_rr_with_ectopics_equals_nk(kref):
    windows, _ = kref.split_windows(kref.polar_rr(), 120.0)
    _, _, defined = assert_nonlinear_equal(kref, windows)
    assert defined >= 8


def test_random_series_of_many_lengths_equal_nk(kref):
    lengths = [4, 5, 8, 11, 12, 13, 16, 23, 40, 77, 128, 199, 300, 451, 600]
    windows = [kref.realistic_rr(n, seed=n, integer=n % 3 != 0) for n in lengths]
    _, _, defined = assert_nonlinear_equal(kref, windows)
    assert defined >= 16


def test_heavily_tied_integer_series_equal_nk(kref):
    # Few distinct values: many template distances equal r or 0 exactly (Chebyshev <= r).
    rng = np.random.default_rng(11)
    windows = [
        800.0 + rng.integers(0, k, size=n).astype(np.float64) * 5.0
        for k, n in ((2, 50), (3, 120), (4, 200), (6, 333), (10, 90))
    ]
    # r = 0.2 SD is exactly 5.0 ms here and 42 ordered pairs lie exactly r apart: a template
    # at Chebyshev distance r matches (<=), as in neurokit2's KDTree.query_radius.
    boundary = np.array(
        [760, 830, 840, 780, 805, 780, 805, 810, 835, 800, 810, 805, 835, 775, 775, 785, 770],
        dtype=np.float64,
    )
    assert 0.2 * np.std(boundary, ddof=1) == 5.0
    assert np.sum(np.abs(boundary[:, None] - boundary[None, :]) == 5.0) == 42
    windows.append(boundary)
    assert_nonlinear_equal(kref, windows)


def test_batch_result_does_not_depend_on_neighbours(kref):
    windows = [kref.realistic_rr(n, seed=50 + n) for n in (30, 250, 90, 400)]
    dfa = dfa_alpha1_batch(windows)
    sampen = sampen_batch(windows)
    order = [2, 0, 3, 1]
    dfa_perm = dfa_alpha1_batch([windows[i] for i in order])
    sampen_perm = sampen_batch([windows[i] for i in order])
    for pos, i in enumerate(order):
        assert dfa_perm.values[pos] == pytest.approx(dfa.values[i], rel=1e-12)
        np.testing.assert_equal(sampen_perm.values[pos], sampen.values[i])
        assert sampen_perm.reasons[pos] == sampen.reasons[i]


def test_too_few_beats_is_nan_with_reason():
    windows = [np.array([800.0, 810.0, 790.0]), np.full(11, 800.0) + np.arange(11)]
    dfa = dfa_alpha1_batch(windows)
    assert np.all(np.isnan(dfa.values))
    assert dfa.reasons == (
        "dfa_alpha1: needs >= 12 beats, got 3",
        "dfa_alpha1: needs >= 12 beats, got 11",
    )
    sampen = sampen_batch(windows[:1])
    assert np.isnan(sampen.values[0])
    assert sampen.reasons[0] == "sampen: needs >= 4 beats, got 3"


def test_sampen_without_length2_matches_is_nan_where_nk_gives_minus_inf(kref):
    nn = np.array([600.0, 1000.0, 700.0, 1100.0, 800.0, 1200.0, 900.0])
    assert kref.nk_sampen(nn) == -np.inf
    sampen = sampen_batch([nn])
    assert np.isnan(sampen.values[0])
    assert sampen.reasons[0] == "sampen: undefined, no templates match at length 2"


def test_sampen_without_length3_matches_is_nan_where_nk_gives_plus_inf(kref):
    nn = np.array([1000.0, 1000.0, 500.0, 900.0, 1000.0, 1000.0, 1500.0])
    assert kref.nk_sampen(nn) == np.inf
    sampen = sampen_batch([nn])
    assert np.isnan(sampen.values[0])
    assert sampen.reasons[0] == "sampen: undefined, no templates match at length 3"


def test_constant_nn_sampen_zero_and_dfa_nan(kref):
    nn = np.full(120, 800.0)
    assert kref.nk_sampen(nn) == 0.0
    sampen = sampen_batch([nn])
    assert sampen.values[0] == 0.0 and np.signbit(sampen.values[0]) == np.False_
    dfa = dfa_alpha1_batch([nn])
    assert np.isnan(dfa.values[0])
    assert dfa.reasons[0] == (
        "dfa_alpha1: no fluctuation left after detrending in boxes of 4, 5, 6, 7, 8, 9, 10, 11 beats"
    )


def test_dfa_with_some_straight_box_sizes_is_nan_like_nk(kref):
    nn = np.array([800.0] * 11 + [900.0, 850.0])
    # Boxes start at range(0, n - s, s // 2); the profile is a straight line up to beat 10.
    flat = [s for s in range(4, 12) if max(range(0, nn.size - s, s // 2)) + s <= 11]
    assert flat == [5, 7, 9, 10, 11]
    assert np.isnan(kref.nk_dfa_alpha1(nn))
    dfa = dfa_alpha1_batch([nn])
    assert np.isnan(dfa.values[0])
    assert dfa.reasons[0] == (
        "dfa_alpha1: no fluctuation left after detrending in boxes of 5, 7, 9, 10, 11 beats"
    )


def test_empty_batch_gives_empty_arrays():
    assert dfa_alpha1_batch([]).values.shape == (0,)
    assert sampen_batch([]).reasons == ()


@pytest.mark.parametrize("kernel", [dfa_alpha1_batch, sampen_batch])
@pytest.mark.parametrize(
    ("nn", "reason"),
    [
        ([800.0, np.inf, 790.0] * 5, "non-finite"),
        ([800.0, 0.0, 790.0] * 5, "non-positive"),
        ([[800.0, 810.0]] * 8, "shape"),
    ],
)
def test_bad_input_raises_typed_error(kernel, nn, reason):
    with pytest.raises(MarkerInputError) as info:
        kernel([np.full(20, 800.0), nn])
    assert isinstance(info.value, AnalysisError)
    assert info.value.fields == {"window": 1, "reason": reason}


def test_sampen_chunking_gives_the_same_counts(kref, monkeypatch):
    import analysis.nonlinear as nonlinear

    windows = [kref.realistic_rr(n, seed=200 + n) for n in (500, 40, 260)]
    whole = sampen_batch(windows)
    monkeypatch.setattr(nonlinear, "_SAMPEN_CHUNK_PAIRS", 997)  # many chunks, split windows
    chunked = sampen_batch(windows)
    np.testing.assert_array_equal(chunked.values, whole.values)
    for nn, value in zip(windows, chunked.values, strict=True):
        assert value == pytest.approx(kref.nk_sampen(nn), rel=RTOL)


def test_plateaus_of_equal_intervals_equal_nk(kref):
    # Runs of identical RR make linear profile boxes (variance ~0, dropped below 1e-8 as in nk)
    # and many exact template ties.
    rng = np.random.default_rng(5)
    windows = [
        np.repeat(rng.integers(780, 820, size=12).astype(np.float64), 25),
        np.repeat([800.0, 810.0], [150, 150]),
        np.r_[np.full(100, 800.0), 800.0 + rng.normal(0.0, 20.0, 100)],
    ]
    _, _, defined = assert_nonlinear_equal(kref, windows)
    assert defined == 6


def test_straight_boxes_far_from_the_mean_are_dropped_like_nk(kref):
    """Plateaus 1,300-1,600 ms off the window mean: straight profile boxes with steep slopes, whose
    residual the closed-form variance cannot resolve (detrended explicitly instead)."""
    rng = np.random.default_rng(9)
    windows = [
        np.r_[np.full(30, 2450.0), 700.0 + rng.normal(0.0, 1.0, 200)],
        np.r_[np.full(40, 2400.0), np.full(150, 850.0) + np.round(rng.normal(0.0, 0.6, 150))],
        np.r_[np.full(24, 400.0), 1000.0 + rng.normal(0.0, 5.0, 90), np.full(24, 2450.0)],
    ]
    for nn in windows:
        expected = kref.nk_dfa_alpha1(nn)
        got = dfa_alpha1_batch([nn]).values[0]
        assert got == pytest.approx(expected, rel=RTOL, nan_ok=True)


def test_straight_box_with_a_steep_slope_is_detrended_explicitly():
    """A run of equal intervals 1,660 ms off the mean: the closed-form residual variance has lost
    its digits (above the 1e-8 cut-off); the explicit residual is ~0, so the box is dropped."""
    profile = np.cumsum(np.r_[-10791.186540413717, np.full(10, -1659.4791773545485)])
    box = profile[None, :]
    centred = box - box.mean(axis=1, keepdims=True)
    x = np.arange(11) - 5.0
    along = centred @ x
    closed_form = (np.einsum("ij,ij->i", centred, centred) - along * along / float(x @ x)) / 11
    assert closed_form[0] > DFA_MIN_BOX_VARIANCE
    assert _box_residual_variance(box.copy(), x)[0] < DFA_MIN_BOX_VARIANCE
