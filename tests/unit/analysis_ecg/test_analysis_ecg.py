"""ECG → RR: neurokit2 R peaks on the Polar H10 ECG agree with the strap's own RR intervals."""

from __future__ import annotations

import warnings
from pathlib import Path

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest

from analysis.ecg import EcgError, ecg_to_rr
from analysis.errors import AnalysisError

DATA = Path(__file__).resolve().parents[2] / "data"


def load_h10():
    """Polar H10 ECG and RR of the same recording (kbroman/detectPVC, MIT; tests/data)."""
    ecg = np.load(DATA / "polar_h10_ecg130hz.npz")
    sample_times_s = ecg["t_offset_us"].astype(np.float64) / 1e6
    rr = pd.read_csv(DATA / "polar_h10_rr.csv")["rr_ms"].to_numpy(dtype=np.float64)
    return ecg["ecg_uV"], sample_times_s, rr


def agreement(peak_times_s, strap_rr_ms, max_offset_s=5.0, match_s=0.04):
    """Align strap beats (cumulative RR) to ECG peaks by the best constant shift; compare RR.

    Returns (shift_s, n_pairs, differences_ms) over strap intervals whose two ends both match
    consecutive ECG peaks within ``match_s``.
    """
    beats = np.cumsum(strap_rr_ms) / 1000.0

    def nearest(shift):
        b = beats + shift
        idx = np.clip(np.searchsorted(peak_times_s, b), 1, peak_times_s.size - 1)
        left_closer = np.abs(peak_times_s[idx - 1] - b) < np.abs(peak_times_s[idx] - b)
        j = np.where(left_closer, idx - 1, idx)
        return j, np.abs(peak_times_s[j] - b)

    shifts = np.arange(-max_offset_s, max_offset_s, 0.005)
    counts = [(nearest(s)[1] < match_s).sum() for s in shifts]
    shift = float(shifts[int(np.argmax(counts))])
    j, dist = nearest(shift)
    ok = dist < match_s
    pair = ok[1:] & ok[:-1] & (np.diff(j) == 1)
    ecg_rr = np.diff(peak_times_s[j]) * 1000.0
    return shift, int(pair.sum()), ecg_rr[pair] - strap_rr_ms[1:][pair]


def test_h10_ecg_rr_agrees_with_the_straps_own_rr():
    ecg_uv, sample_times_s, strap_rr = load_h10()
    rate = (sample_times_s.size - 1) / sample_times_s[-1]
    result = ecg_to_rr(ecg_uv, rate, sample_times_s=sample_times_s)
    shift, n_pairs, diff_ms = agreement(result.r_peak_times_s, strap_rr)
    # 798 strap intervals; nearly all (incl. the PVC couplets) pair with ECG intervals.
    assert n_pairs >= 0.97 * strap_rr.size
    # Measured: median |difference| 2.3 ms, 100 % of 785 pairs within 10 ms (130 Hz ECG,
    # 7.7 ms sample spacing, against the strap's 1/1024 s RR).
    assert np.median(np.abs(diff_ms)) <= 4.0
    assert np.mean(np.abs(diff_ms) <= 10.0) >= 0.99
    assert abs(np.mean(diff_ms)) < 1.0  # no systematic clock bias with the sample stamps
    assert -3.0 < shift < 0.0


def test_nominal_rate_without_stamps_stretches_intervals_by_the_clock_error():
    ecg_uv, sample_times_s, _ = load_h10()
    result = ecg_to_rr(ecg_uv)  # 130 Hz nominal
    assert result.sampling_rate_hz == 130.0
    np.testing.assert_allclose(result.r_peak_times_s, result.r_peak_samples / 130.0)
    # The H10's ECG clock runs ~0.12 % fast: 78,096 samples span 599.99 s, not 600.74 s.
    true_rate = (sample_times_s.size - 1) / sample_times_s[-1]
    stretch = np.sum(result.rr_ms) / (np.ptp(sample_times_s[result.r_peak_samples]) * 1000.0)
    assert stretch == pytest.approx(true_rate / 130.0, rel=1e-6)  # stamps are whole µs
    assert 1.0005 < stretch < 1.002


def test_peaks_are_neurokit2s_and_rr_their_spacing():
    ecg_uv, _, _ = load_h10()
    ecg = ecg_uv[: 130 * 60].astype(np.float64)
    result = ecg_to_rr(ecg, 130.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cleaned = nk.ecg_clean(ecg, sampling_rate=130.0, method="neurokit")
        _, info = nk.ecg_peaks(cleaned, sampling_rate=130.0, method="neurokit")
    np.testing.assert_array_equal(result.r_peak_samples, info["ECG_R_Peaks"])
    np.testing.assert_allclose(result.rr_ms, np.diff(info["ECG_R_Peaks"]) / 130.0 * 1000.0)
    assert result.rr_ms.size == result.r_peak_times_s.size - 1


def test_simulated_ecg_gives_its_heart_rate():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ecg = nk.ecg_simulate(duration=60, sampling_rate=130, heart_rate=72, random_state=3)
    result = ecg_to_rr(ecg * 1000.0, 130.0)
    assert 60000.0 / np.mean(result.rr_ms) == pytest.approx(72.0, abs=2.0)
    assert 68 <= result.r_peak_samples.size <= 74


@pytest.mark.parametrize(
    ("ecg", "kwargs", "reason"),
    [
        (np.zeros((2, 1000)), {}, "shape"),
        (np.r_[np.zeros(999), np.nan], {}, "non-finite"),
        (["x"] * 1000, {}, "not numeric"),
        (np.zeros(1000), {"sampling_rate_hz": 0.0}, "sampling rate"),
        (np.zeros(300), {}, "too short"),
        (np.zeros(1000), {"sample_times_s": np.arange(999.0)}, "sample times length"),
        (np.zeros(1000), {"sample_times_s": np.zeros(1000)}, "sample times"),
        (np.zeros(2000), {}, "no beats"),
    ],
)
def test_bad_ecg_raises_typed_error(ecg, kwargs, reason):
    with pytest.raises(EcgError) as info:
        ecg_to_rr(ecg, **kwargs)
    assert isinstance(info.value, AnalysisError)
    assert info.value.fields["reason"] == reason
