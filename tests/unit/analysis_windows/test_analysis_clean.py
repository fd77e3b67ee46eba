"""Artifact correction equals neurokit2 Kubios (signal_fixpeaks) on real and simulated RR."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.bounds import RR_MAX_MS, RR_MIN_MS
from analysis.clean import (
    RULE_MISSED,
    RULE_NAMES,
    InvalidRRError,
    _merge_fragments,
    _rolling_quantiles,
    _update_indices,
    clean_rr,
)
from analysis.simulate import simulate_rr


@pytest.mark.parametrize("source", ["polar", "Long", "Short"])
def test_clean_equals_nk_on_real_data(nkref, source):
    rr = nkref.polar_rr() if source == "polar" else nkref.pyhrv_rr(source)
    result = clean_rr(rr)
    expected = nkref.peaks_clean(rr)
    np.testing.assert_array_equal(result.nn_ms, expected)
    assert result.n_impossible_removed == 0
    assert result.mask.shape == result.nn_ms.shape
    flagged = result.mask != 0
    # Every interval that differs from the recording is flagged.
    if result.nn_ms.size == rr.size:
        assert np.all(flagged[result.nn_ms != rr])


def test_clean_polar_finds_the_pvcs(nkref):
    rr = nkref.polar_rr()
    result = clean_rr(rr)
    counts = result.counts()
    assert counts["ectopic"] > 0  # the wearer's PVCs: short-long pairs such as 421 / 379 / 1073
    assert 0.0 < result.artifact_share < 0.2
    assert result.artifact_share == pytest.approx(np.count_nonzero(result.mask) / result.nn_ms.size)
    assert set(counts) == set(RULE_NAMES)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_equals_nk_on_simulated_artifacts(nkref, seed):
    rr = np.round(simulate_rr(1800, seed=seed, ectopic_rate=0.01, missed_rate=0.005))
    np.testing.assert_array_equal(clean_rr(rr).nn_ms, nkref.peaks_clean(rr))


def test_clean_classifies_missed_beat_and_flags_split_beat(nkref):
    rng = np.random.default_rng(0)
    i = np.arange(700)
    rr = np.round(900 + 40 * np.sin(2 * np.pi * i / 4.3) + 25 * np.sin(2 * np.pi * i / 11))
    rr = rr + np.round(rng.normal(0, 8, i.size))
    # A missed beat: two intervals merged into one (the strap did not detect a beat).
    broken = np.concatenate((rr[:200], [rr[200] + rr[201]], rr[202:]))
    # A split beat: one interval cut 30 / 70 (noise detected as a beat).
    a = np.floor(broken[400] * 0.3)
    broken = np.concatenate((broken[:400], [a, broken[400] - a], broken[401:]))
    result = clean_rr(broken)
    np.testing.assert_array_equal(result.nn_ms, nkref.peaks_clean(broken))
    assert set(result.mask[199:202].tolist()) == {0, RULE_MISSED}
    # Corrected (by whichever rule neurokit2 picks); the missed-beat fix shifted indices by one.
    assert np.count_nonzero(result.mask[399:405]) >= 2
    assert not result.mask[:195].any()
    # Total duration is kept: corrections move beats, never lose time.
    assert result.nn_ms.sum() == pytest.approx(broken.sum())


def test_impossible_values_removed_and_fragments_merged():
    """A dropout (> RR_MAX_MS) is removed; a fragment (< RR_MIN_MS) is merged, keeping time."""
    rr = np.full(300, 800.0)
    rr[10] = RR_MAX_MS + 500.0
    rr = np.concatenate((rr[:150], [150.0, 650.0], rr[151:]))  # noise split one beat
    result = clean_rr(rr)
    assert result.n_impossible_removed == 1
    np.testing.assert_array_equal(result.keep_index, np.delete(np.arange(301), [10]))
    np.testing.assert_array_equal(result.nn_ms, np.full(299, 800.0))  # the correction merged it
    assert 1 <= np.count_nonzero(result.mask) <= 2


def test_fragments_are_merged_without_correction_too():
    rr = np.array([800.0, 810.0, 120.0, 690.0, 805.0, 795.0, 90.0, 100.0, 610.0, 800.0])
    result = clean_rr(rr, correct=False)
    assert result.n_impossible_removed == 0
    assert result.nn_ms.sum() == rr.sum()  # the time axis is kept
    assert result.nn_ms.min() >= RR_MIN_MS
    np.testing.assert_array_equal(result.nn_ms, [800.0, 810.0, 810.0, 805.0, 795.0, 800.0, 800.0])
    assert result.mask.tolist() == [0, 0, 3, 0, 0, 3, 0]


def test_lone_fragment_in_a_segment_is_removed():
    rr = np.array([800.0, 810.0, 805.0, 120.0, 800.0, 790.0])
    breaks = np.array([False, False, False, True, True, False])
    result = clean_rr(rr, breaks=breaks)
    assert result.n_impossible_removed == 1
    np.testing.assert_array_equal(result.nn_ms, [800.0, 810.0, 805.0, 800.0, 790.0])


def test_nk_leaves_fragments_that_we_merge(nkref):
    """Deliberate difference from neurokit2: a fragment its rules leave is merged afterwards."""
    rng = np.random.default_rng(0)
    rr = np.round(simulate_rr(600, seed=100, ectopic_rate=0.06, missed_rate=0.03))
    for k in np.sort(rng.integers(5, rr.size - 5, size=rr.size // 40))[::-1]:
        a = np.floor(rr[k] * rng.uniform(0.35, 0.5))
        rr = np.concatenate((rr[:k], [a, rr[k] - a], rr[k + 1 :]))
    theirs = nkref.peaks_clean(rr)
    ours = clean_rr(rr).nn_ms
    assert (theirs < RR_MIN_MS).sum() == 1  # neurokit2 keeps a 2xx ms "beat"
    assert ours.min() >= RR_MIN_MS
    assert ours.sum() == theirs.sum() == rr.sum()
    merged, _ = _merge_fragments(theirs, np.zeros(theirs.size, dtype=np.int8))
    np.testing.assert_array_equal(ours, merged)


def test_breaks_keep_correction_within_segments(nkref):
    a = np.round(simulate_rr(600, seed=11, ectopic_rate=0.01))
    b = np.round(simulate_rr(600, seed=12, ectopic_rate=0.01))
    breaks = np.zeros(a.size + b.size, dtype=bool)
    breaks[a.size] = True
    result = clean_rr(np.concatenate((a, b)), breaks=breaks)
    expected = np.concatenate((nkref.peaks_clean(a), nkref.peaks_clean(b)))
    np.testing.assert_array_equal(result.nn_ms, expected)
    assert result.segment_id[0] == 0
    assert result.segment_id[-1] == 1


def test_no_correction_mode_only_removes_impossible(nkref):
    rr = nkref.polar_rr()
    result = clean_rr(np.concatenate((rr, [5000.0])), correct=False)
    np.testing.assert_array_equal(result.nn_ms, rr)
    assert not result.mask.any()
    assert result.n_impossible_removed == 1


@pytest.mark.parametrize(
    "bad", [[800.0, np.nan, 810.0], [[800.0, 810.0]], ["a", "b"], [800.0, np.inf]]
)
def test_bad_input_is_a_typed_error(bad):
    with pytest.raises(InvalidRRError):
        clean_rr(bad)


def test_breaks_of_wrong_length_rejected():
    with pytest.raises(InvalidRRError, match="breaks"):
        clean_rr([800.0, 810.0, 820.0], breaks=[False, True])


def test_short_and_empty_series_pass_through():
    assert clean_rr([]).nn_ms.size == 0
    np.testing.assert_array_equal(clean_rr([800.0, 900.0]).nn_ms, [800.0, 900.0])
    assert clean_rr([5000.0]).artifact_share == 1.0


@pytest.mark.parametrize("seed", range(8))
def test_clean_equals_nk_under_heavy_artifacts(nkref, seed):
    """Dense ectopic, missed and extra beats exercise chained candidates and every rule."""
    rng = np.random.default_rng(seed)
    rr = np.round(simulate_rr(600, seed=100 + seed, ectopic_rate=0.06, missed_rate=0.03))
    for k in np.sort(rng.integers(5, rr.size - 5, size=rr.size // 40))[::-1]:
        a = np.floor(rr[k] * rng.uniform(0.35, 0.5))
        rr = np.concatenate((rr[:k], [a, rr[k] - a], rr[k + 1 :]))
    result = clean_rr(rr)
    # Fragments neurokit2's rules leave are merged afterwards (test_nk_leaves_fragments_...).
    theirs = nkref.peaks_clean(rr)
    expected, _ = _merge_fragments(theirs, np.zeros(theirs.size, dtype=np.int8))
    np.testing.assert_array_equal(result.nn_ms, expected)
    assert result.counts()["none"] < result.nn_ms.size
    if seed == 1:  # this series holds every kind of artifact
        assert all(result.counts()[rule] > 0 for rule in RULE_NAMES)


@pytest.mark.parametrize(("n", "window"), [(500, 91), (60, 91), (7, 11), (1000, 11)])
def test_rolling_quantiles_bit_identical_to_pandas(n, window):
    rng = np.random.default_rng(n)
    x = np.round(np.abs(rng.normal(size=n)), 2)  # rounding makes ties
    frame = pd.DataFrame({"s": x}).rolling(window, center=True, min_periods=1)
    for q in (0.25, 0.5, 0.75):
        (ours,) = _rolling_quantiles(x, window, (q,))
        np.testing.assert_array_equal(ours, frame.quantile(q)["s"].to_numpy())


def test_index_updates_equal_neurokit_loop():
    """The vectorised index shift equals neurokit2's sequential loop, ties and duplicates included."""
    from neurokit2.signal.signal_fixpeaks import _update_indices as nk_update

    rng = np.random.default_rng(3)
    for _ in range(3000):
        high = int(rng.integers(1, 40))
        source = rng.integers(0, high, int(rng.integers(0, 15))).tolist()
        if rng.random() < 0.9:
            source.sort()
        update = rng.integers(0, high, int(rng.integers(0, 15))).tolist()
        for shift in (-1, 1):
            expected = [int(v) for v in nk_update(source, update, shift)]
            assert _update_indices(source, update, shift) == expected, (source, update, shift)
