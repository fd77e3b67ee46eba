"""compute_windows_timed: given beat times, clock-aligned origins, gaps never bridged."""

from __future__ import annotations

import warnings

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest

from analysis import compute_windows, compute_windows_timed
from analysis.clean import InvalidRRError
from analysis.simulate import simulate_rr
from analysis.windows import STAGES, WindowInputError

EPOCH = 1_780_000_200.0  # a clock-aligned epoch second (multiple of 300)


def test_compute_windows_is_timed_with_cumulative_times(nkref):
    rr = nkref.polar_rr()
    for clean in (True, False):
        a = compute_windows(rr, clean=clean)
        b = compute_windows_timed(np.cumsum(rr) / 1000.0, rr, clean=clean)
        pd.testing.assert_frame_equal(a, b)


def test_epoch_origin_shifts_window_starts_only(nkref):
    rr = nkref.pyhrv_rr("Long")
    base = compute_windows(rr)
    timed = compute_windows_timed(EPOCH + np.cumsum(rr) / 1000.0, rr, origin_s=EPOCH)
    assert list(timed["window_start_s"]) == [EPOCH + s for s in base["window_start_s"]]
    markers = [c for c in base.columns if c not in ("window_start_s", "lf_ms2", "hf_ms2", "lf_hf")]
    pd.testing.assert_frame_equal(timed[markers], base[markers], rtol=1e-9)
    # Frequency markers use absolute beat times; the tachogram grid moves with them.
    for col in ("lf_ms2", "hf_ms2", "lf_hf"):
        np.testing.assert_allclose(timed[col], base[col], rtol=1e-6)


def test_only_windows_with_beats_are_returned_and_gaps_are_not_bridged(nkref):
    a = np.round(simulate_rr(900, seed=31, ectopic_rate=0.01))
    b = np.round(simulate_rr(600, seed=32, ectopic_rate=0.01))
    t_a = EPOCH + np.cumsum(a) / 1000.0
    t_b = EPOCH + 3600.0 + np.cumsum(b) / 1000.0  # one hour later
    frame = compute_windows_timed(
        np.concatenate((t_a, t_b)), np.concatenate((a, b)), origin_s=EPOCH
    )
    starts = list(frame["window_start_s"] - EPOCH)
    assert starts == [0.0, 300.0, 600.0, 3600.0, 3900.0]
    # Each side equals the segment analysed on its own: correction stopped at the gap.
    alone_a = compute_windows_timed(t_a, a, origin_s=EPOCH)
    alone_b = compute_windows_timed(t_b, b, origin_s=EPOCH)
    pd.testing.assert_frame_equal(
        frame, pd.concat([alone_a, alone_b], ignore_index=True), check_exact=False, rtol=1e-12
    )


def test_gap_inside_a_window_excludes_the_spanning_difference():
    rr = np.round(simulate_rr(400, seed=41, ectopic_rate=0.0, missed_rate=0.0))
    t = np.cumsum(rr) / 1000.0
    t[200:] += 20.0  # the strap lost contact for 20 s inside window 0
    frame = compute_windows_timed(t, rr, clean=False)
    sel = t < 300.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_time({"RRI": rr[sel], "RRI_Time": t[sel]})  # nk detects the missing beats
    row = frame.iloc[0]
    assert row["rmssd_ms"] == pytest.approx(float(ref["HRV_RMSSD"].iloc[0]), rel=1e-9)
    assert row["pnn50_pct"] == pytest.approx(float(ref["HRV_pNN50"].iloc[0]), rel=1e-9)
    assert row["sdnn_ms"] == pytest.approx(float(ref["HRV_SDNN"].iloc[0]), rel=1e-9)
    diffs = np.diff(rr[sel])
    spanning = np.delete(diffs, 199)
    assert row["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(spanning**2)), rel=1e-12)


def test_impossible_values_count_in_artifact_share_and_are_excluded():
    rr = np.full(400, 750.0)
    rr[::2] += 20.0
    rr[100] = 3100.0  # a dropout: longer than RR_MAX_MS
    frame = compute_windows(rr, clean=True)
    first = frame.iloc[0]
    assert first["artifact_share"] > 0
    assert first["mean_nn_ms"] < 800.0  # the 3.1 s value did not enter the mean
    # The dropout is a gap (3.1 s): no difference spans it, so RMSSD stays exactly 20 ms.
    assert first["rmssd_ms"] == pytest.approx(20.0, rel=1e-12)


def test_window_with_only_impossible_values_is_marked_not_hidden():
    rr = np.concatenate((np.full(370, 790.0), [2600.0] * 100))  # 292 s, then 260 s of dropouts
    frame = compute_windows(rr)
    assert len(frame) == 2
    last = frame.iloc[-1]
    assert last["n_beats"] == 0
    assert last["artifact_share"] == 1.0
    assert last["quality"].startswith("insufficient")


def test_progress_callback_sees_every_stage():
    seen: list[str] = []
    compute_windows(simulate_rr(600, seed=3), progress=seen.append)
    assert seen == list(STAGES)


@pytest.mark.parametrize(
    ("t", "rr", "kwargs", "error"),
    [
        ([1.0, 2.0, 2.0], [800.0, 800.0, 800.0], {}, WindowInputError),
        ([1.0, 2.0], [800.0, 800.0, 800.0], {}, InvalidRRError),
        ([1.0, 2.0], [800.0, np.nan], {}, InvalidRRError),
        ([1.0, 2.0], [800.0, 800.0], {"window_s": 0.0}, WindowInputError),
        ([1.0, 2.0], [800.0, 800.0], {"window_s": float("nan")}, WindowInputError),
        ([1.0, 2.0], [800.0, 800.0], {"origin_s": float("inf")}, WindowInputError),
    ],
)
def test_bad_input_is_a_typed_error(t, rr, kwargs, error):
    with pytest.raises(error):
        compute_windows_timed(t, rr, **kwargs)


def test_empty_recording_gives_empty_table():
    frame = compute_windows([])
    assert len(frame) == 0
    assert len(frame.columns) == 20
