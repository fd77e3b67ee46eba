"""Batched LF/HF/LF-HF equal neurokit2's hrv_frequency(interpolation_rate=4, normalize=False)."""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np
import pytest

from analysis.errors import AnalysisError
from analysis.frequency import frequency_markers, resample_tachograms
from analysis.kernel_input import MarkerInputError

RTOL = 1e-6


def assert_frequency_equal(kref, nn_windows, t_windows):
    result = frequency_markers(nn_windows, t_windows)
    assert result.lf_ms2.shape == (len(nn_windows),)
    compared = 0
    for k, (nn, t) in enumerate(zip(nn_windows, t_windows, strict=True)):
        expected = kref.nk_frequency(nn, t)
        got = (result.lf_ms2[k], result.hf_ms2[k], result.lf_hf[k])
        for name, e, g in zip(("lf_ms2", "hf_ms2", "lf_hf"), expected, got, strict=True):
            if np.isnan(e):
                assert np.isnan(g), f"window {k} {name}: nk NaN, got {g}"
                assert any(r.startswith(f"{name}: ") for r in result.reasons[k])
            else:
                assert g == pytest.approx(e, rel=RTOL), f"window {k} {name}"
                assert not any(r.startswith(f"{name}: ") for r in result.reasons[k])
                compared += 1
    return result, compared


@pytest.mark.parametrize("window_s", [300.0, 120.0])
def test_pyhrv_long_windows_equal_nk(kref, window_s):
    nn_windows, t_windows = kref.split_windows(kref.pyhrv_nn("Long"), window_s)
    result, compared = assert_frequency_equal(kref, nn_windows, t_windows)
    # 60 min: every full window has all three markers.
    assert compared >= 3 * (len(nn_windows) - 1)
    assert np.all(result.lf_ms2[:-1] > 0) and np.all(result.hf_ms2[:-1] > 0)


def test_pyhrv_short_one_window_equals_nk(kref):
    nn = kref.pyhrv_nn("Short")
    _, compared = assert_frequency_equal(kref, [nn], [np.cumsum(nn) / 1000.0])
    assert compared == 3


def test_polar_h10_raw_rr_with_ectopics_equals_nk(kref):
    # Uncleaned strap RR: PVC couplets give large spikes the spline must follow.
    nn_windows, t_windows = kref.split_windows(kref.polar_rr(), 60.0)
    _, compared = assert_frequency_equal(kref, nn_windows, t_windows)
    assert compared > 10


def test_random_realistic_series_of_many_lengths_equal_nk(kref):
    lengths = [3, 4, 7, 15, 30, 45, 70, 100, 140, 200, 260, 351, 420]
    nn_windows = [kref.realistic_rr(n, seed=n, integer=n % 2 == 0) for n in lengths]
    # Epoch-second beat times (as the API worker passes) and relative ones.
    t_windows = [
        np.cumsum(nn) / 1000.0 + (1.7e9 if k % 3 == 0 else 0.0) for k, nn in enumerate(nn_windows)
    ]
    result, compared = assert_frequency_equal(kref, nn_windows[1:], t_windows[1:])
    assert compared > 20
    # Windows that equal-length resamples group together give the same values alone.
    alone = frequency_markers([nn_windows[-1]], [t_windows[-1]])
    assert alone.hf_ms2[0] == pytest.approx(result.hf_ms2[-1], rel=1e-12)


def test_beat_times_with_a_gap_equal_nk(kref):
    nn = kref.realistic_rr(300, seed=7)
    t = np.cumsum(nn) / 1000.0
    t[150:] += 12.0  # 12 s without beats (strap lost contact)
    _, compared = assert_frequency_equal(kref, [nn], [t])
    assert compared == 3


def test_fewer_than_three_beats_is_nan_with_reason(kref):
    nn = np.array([800.0, 810.0])
    with warnings.catch_warnings(), pytest.raises(ValueError):
        warnings.simplefilter("ignore")
        kref.nk_frequency(nn, np.cumsum(nn) / 1000.0)  # neurokit2 itself fails here
    result = frequency_markers([nn, np.array([]), nn[:1]], [np.cumsum(nn) / 1000.0, [], [0.8]])
    assert np.all(np.isnan(result.lf_ms2)) and np.all(np.isnan(result.hf_ms2))
    assert np.all(np.isnan(result.lf_hf))
    for reasons in result.reasons:
        assert any("needs >= 3 beats" in r for r in reasons)


def test_short_window_has_hf_but_no_lf(kref):
    nn = kref.realistic_rr(30, seed=3)  # about 25 s: HF bins exist, LF bins do not
    t = np.cumsum(nn) / 1000.0
    lf, hf, _ = kref.nk_frequency(nn, t)
    assert np.isnan(lf) and hf > 0
    result = frequency_markers([nn], [t])
    assert np.isnan(result.lf_ms2[0]) and result.hf_ms2[0] == pytest.approx(hf, rel=RTOL)
    assert np.isnan(result.lf_hf[0])
    assert any(r.startswith("lf_ms2: ") and "too short" in r for r in result.reasons[0])
    assert any(r.startswith("lf_hf: ") for r in result.reasons[0])


def test_constant_nn_is_nan_not_rounding_noise(kref):
    nn = np.full(400, 800.0)
    t = np.cumsum(nn) / 1000.0
    lf, hf, _ = kref.nk_frequency(nn, t)
    assert lf < 1e-20 and hf < 1e-20  # neurokit2 integrates rounding noise
    result = frequency_markers([nn], [t])
    assert np.isnan(result.lf_ms2[0]) and np.isnan(result.hf_ms2[0])
    assert np.isnan(result.lf_hf[0])
    assert any("constant NN" in r for r in result.reasons[0])


def test_resampled_tachogram_equals_nk_signal_interpolate(kref):
    windows = []
    for n in (3, 4, 9, 250):
        nn = kref.realistic_rr(n, seed=100 + n, integer=False)
        windows.append((nn, np.cumsum(nn) / 1000.0 + 12345.678))
    got = resample_tachograms(windows)
    for (nn, t), tach in zip(windows, got, strict=True):
        grid = np.arange(t[0], t[-1] + 0.25, 0.25)
        expected = nk.signal_interpolate(t, nn, x_new=grid, method="quadratic")
        assert tach.shape == grid.shape
        np.testing.assert_allclose(tach, expected, rtol=1e-9)


def test_empty_batch_gives_empty_arrays():
    result = frequency_markers([], [])
    assert result.lf_ms2.shape == (0,) and result.reasons == ()


@pytest.mark.parametrize(
    ("nn", "t", "reason"),
    [
        ([800.0, 810.0, 790.0], [0.8, 1.61], "length"),
        ([800.0, 810.0, 790.0], [0.8, 0.8, 2.4], "times"),
        ([800.0, np.nan, 790.0], [0.8, 1.6, 2.4], "non-finite"),
        ([800.0, -810.0, 790.0], [0.8, 1.6, 2.4], "non-positive"),
        ([[800.0, 810.0, 790.0]], [0.8, 1.6, 2.4], "shape"),
        (["a", "b", "c"], [0.8, 1.6, 2.4], "not numeric"),
    ],
)
def test_bad_input_raises_typed_error(nn, t, reason):
    with pytest.raises(MarkerInputError) as info:
        frequency_markers([np.array([800.0, 800.0, 800.0]), nn], [np.array([1.0, 2.0, 3.0]), t])
    assert isinstance(info.value, AnalysisError)
    assert info.value.fields == {"window": 1, "reason": reason}


def test_window_count_mismatch_raises():
    with pytest.raises(MarkerInputError, match="2 NN windows but 1 time windows"):
        frequency_markers([np.ones(5), np.ones(5)], [np.arange(5.0)])


def test_times_only_need_to_increase_within_a_window(kref):
    nn = kref.realistic_rr(200, seed=21)
    t = np.cumsum(nn) / 1000.0
    # An empty window first, then a window whose times precede the next window's.
    result = frequency_markers([np.array([]), nn, nn], [np.array([]), t + 500.0, t])
    assert np.isnan(result.hf_ms2[0])
    assert result.hf_ms2[1] == pytest.approx(kref.nk_frequency(nn, t + 500.0)[1], rel=RTOL)
    assert result.hf_ms2[2] == pytest.approx(kref.nk_frequency(nn, t)[1], rel=RTOL)
    with pytest.raises(MarkerInputError) as info:
        frequency_markers([np.array([]), nn, nn], [np.array([]), t, t[::-1]])
    assert info.value.fields == {"window": 2, "reason": "times"}
