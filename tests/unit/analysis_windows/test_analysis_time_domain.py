"""Grouped time-domain and Poincaré kernels: per-window values, successive pairs, bad indices."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.poincare import poincare_markers
from analysis.time_domain import WindowIndexError, time_domain_markers


def test_pairs_never_cross_windows_or_gaps():
    nn = np.array([800.0, 900.0, 800.0, 1000.0, 700.0, 760.0])
    win = np.array([0, 0, 0, 1, 1, 1], dtype=np.intp)
    succ = np.array([False, True, True, True, True, False])  # beat 5 follows a gap
    td = time_domain_markers(nn, win, 2, succ)
    # Window 0: diffs 100, -100 -> RMSSD 100; pNN50 = 2 / (2 + 1) * 100 (neurokit2's denominator).
    assert td.rmssd_ms[0] == pytest.approx(100.0)
    assert td.pnn50_pct[0] == pytest.approx(200.0 / 3.0)
    # Window 1: only the pair (1000, 700); (800, 1000) crosses windows, (700, 760) a gap.
    assert td.rmssd_ms[1] == pytest.approx(300.0)
    assert list(td.n_pairs) == [2, 1]
    assert td.sdnn_ms[1] == pytest.approx(np.std([1000.0, 700.0, 760.0], ddof=1))
    pc = poincare_markers(nn, win, 2, succ)
    assert pc.sd1_ms[0] == pytest.approx(np.std(np.array([-100.0, 100.0]) / np.sqrt(2), ddof=1))
    assert np.isnan(pc.sd1_ms[1])  # one pair: no spread


def test_empty_window_is_nan():
    td = time_domain_markers(np.array([800.0, 810.0]), np.array([0, 0], dtype=np.intp), 2)
    assert np.isnan(td.mean_nn_ms[1]) and np.isnan(td.rmssd_ms[1])
    assert td.n_beats[1] == 0


@pytest.mark.parametrize(
    ("win", "n"), [(np.array([0, 1, 2], dtype=np.intp), 2), (np.array([0, 0], dtype=np.intp), 1)]
)
def test_bad_window_indices_are_typed_errors(win, n):
    with pytest.raises(WindowIndexError):
        time_domain_markers(np.array([800.0, 810.0, 820.0]), win, n)
    with pytest.raises(WindowIndexError):
        poincare_markers(np.array([800.0, 810.0, 820.0]), win, n)


def test_successive_flags_must_match():
    nn = np.array([800.0, 810.0, 820.0])
    win = np.zeros(3, dtype=np.intp)
    with pytest.raises(WindowIndexError):
        time_domain_markers(nn, win, 1, np.array([True, True]))
