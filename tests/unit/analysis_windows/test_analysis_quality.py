"""Quality grades and reasons; NaN markers always carry a reason."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import compute_windows, split_quality
from analysis.quality import QualityFormatError, format_quality, grade_window
from analysis.simulate import simulate_rr
from analysis.windows import COLUMNS

MARKERS = [
    c for c in COLUMNS if c not in ("window_start_s", "n_beats", "artifact_share", "quality")
]


def test_split_quality_round_trip():
    assert split_quality("good") == ("good", [])
    assert split_quality("fair: lf_ms2, lf_hf need >= 120 s") == (
        "fair",
        ["lf_ms2, lf_hf need >= 120 s"],
    )
    q = format_quality("poor", ["artifact share 25.0% > 20%", "sampen needs >= 100 beats"])
    assert split_quality(q) == ("poor", ["artifact share 25.0% > 20%", "sampen needs >= 100 beats"])
    with pytest.raises(QualityFormatError):
        split_quality("excellent")
    with pytest.raises(QualityFormatError):
        format_quality("good", ["a; b"])


def test_every_nan_marker_is_named_in_the_quality_reasons():
    # 24 min of simulated RR with artifacts, 90 s windows: many windows lack LF.
    frame = compute_windows(simulate_rr(1440, seed=5, ectopic_rate=0.02), window_s=90.0)
    checked = 0
    for _, row in frame.iterrows():
        grade, reasons = split_quality(row["quality"])
        text = "; ".join(reasons)
        for name in MARKERS:
            if np.isnan(row[name]):
                if grade != "insufficient":
                    assert name in text, (row["window_start_s"], name, row["quality"])
                checked += 1
    assert checked > 0


def test_short_window_lacks_lf_with_task_force_reason():
    frame = compute_windows(simulate_rr(90, seed=6, ectopic_rate=0.0, missed_rate=0.0))
    row = frame.iloc[0]
    assert np.isnan(row["lf_ms2"]) and np.isnan(row["lf_hf"])
    assert np.isfinite(row["hf_ms2"]) and np.isfinite(row["rmssd_ms"])
    grade, reasons = split_quality(row["quality"])
    assert grade in ("fair", "poor")
    assert "lf_ms2, lf_hf need >= 120 s" in reasons


def test_full_clean_window_is_good_and_tiny_window_insufficient():
    frame = compute_windows(simulate_rr(320, seed=8, ectopic_rate=0.0, missed_rate=0.0))
    assert frame.iloc[0]["quality"] == "good"
    last = frame.iloc[-1]
    assert split_quality(last["quality"])[0] == "insufficient"
    assert all(np.isnan(last[m]) for m in MARKERS)


def test_grades_follow_artifact_share_and_coverage():
    common = {"window_s": 300.0, "min_beats": 3, "min_duration_s": 30.0}
    assert grade_window(n_beats=350, duration_s=299.0, artifact_share=0.0, **common) == "good"
    assert grade_window(n_beats=350, duration_s=299.0, artifact_share=0.06, **common).startswith(
        "fair: artifact share 6.0% > 5%"
    )
    assert grade_window(n_beats=350, duration_s=299.0, artifact_share=0.3, **common).startswith(
        "poor"
    )
    assert grade_window(n_beats=100, duration_s=100.0, artifact_share=0.0, **common).startswith(
        "poor: beats cover 33%"
    )
    assert grade_window(n_beats=2, duration_s=1.6, artifact_share=0.0, **common).startswith(
        "insufficient"
    )
