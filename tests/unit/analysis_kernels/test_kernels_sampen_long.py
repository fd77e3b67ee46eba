"""SampEn of long windows (bit-set kernel) equals neurokit2 and the exact pair counts."""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np
import pytest

from analysis.nonlinear import (
    SAMPEN_BITSET_MIN_TEMPLATES,
    _count_template_matches,
    _count_template_matches_bitset,
    _match_bounds,
    sampen_batch,
    sampen_stretches,
)
from analysis.simulate import simulate_rr


def brute_counts(x: np.ndarray, valid: np.ndarray, r: float) -> tuple[float, float]:
    i = np.flatnonzero(valid)
    t2 = np.column_stack((x[i], x[i + 1]))
    t3 = np.column_stack((t2, x[i + 2]))
    out = []
    for t in (t2, t3):
        d = np.max(np.abs(t[:, None, :] - t[None, :, :]), axis=2)
        out.append((np.count_nonzero(d <= r) - i.size) / 2)
    return out[0], out[1]


@pytest.mark.parametrize("n_beats", [1600, 4000])
@pytest.mark.parametrize("ticks", [False, True])
def test_long_windows_equal_neurokit(n_beats: int, ticks: bool) -> None:
    rr = simulate_rr(n_beats * 0.9, seed=n_beats, mean_hr_bpm=66.0)
    rr = np.round(rr * 1.024) / 1.024 if ticks else np.round(rr)
    assert rr.size - 2 > SAMPEN_BITSET_MIN_TEMPLATES
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, _ = nk.entropy_sample(
            rr, delay=1, dimension=2, tolerance=0.2 * np.std(rr, ddof=1)
        )
    got = sampen_batch([rr, rr[:300]])  # one long (bit sets), one short (grid)
    assert got.values[0] == pytest.approx(expected, rel=1e-12)
    assert got.reasons[0] is None


def test_match_bounds_are_exact_at_ties() -> None:
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(900, 40, 3000))  # whole ms: many pairs exactly r = 12 ms apart
    s = np.sort(x)
    lo, hi = _match_bounds(s, x, 12.0)
    for a in rng.choice(x.size, 300, replace=False):
        inside = np.flatnonzero(np.abs(x[a] - s) <= 12.0)
        assert (lo[a], hi[a]) == (inside[0], inside[-1] + 1)


@pytest.mark.parametrize("r", [7.0, 12.0, 19.5])
def test_bitset_counts_equal_brute_force_with_ties_and_gaps(r: float) -> None:
    rng = np.random.default_rng(int(r))
    x = np.round(rng.normal(900, 30, 1800))
    valid = np.ones(x.size, dtype=bool)
    valid[-2:] = False
    valid[[597, 598, 1203, 1204]] = False  # two gaps: no template spans them
    assert _count_template_matches_bitset(x, valid, r) == brute_counts(x, valid, r)
    starts = np.flatnonzero(valid)
    b, a = _count_template_matches(
        x, starts, np.zeros(starts.size, dtype=np.int64), 1, np.array([r])
    )
    assert (b[0], a[0]) == brute_counts(x, valid, r)


def test_long_multi_stretch_window_pools_templates_across_stretches() -> None:
    x = np.round(simulate_rr(1700, seed=3))
    cut = x.size // 2
    starts = np.array([0, cut])
    lengths = np.array([cut, x.size - cut])
    got = sampen_stretches(x, starts, lengths, np.zeros(2, dtype=np.int64), 1)
    valid = np.ones(x.size, dtype=bool)
    valid[[cut - 2, cut - 1, x.size - 2, x.size - 1]] = False
    b, a = brute_counts(x, valid, 0.2 * np.std(x, ddof=1))
    assert got.values[0] == pytest.approx(-np.log(a / b), rel=1e-12)
