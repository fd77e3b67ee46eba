"""Shared fixtures of the windowed-marker tests: real recordings and the neurokit2 reference."""

from __future__ import annotations

import warnings
from pathlib import Path

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest
from neurokit2.hrv.hrv_nonlinear import _hrv_dfa, _hrv_nonlinear_poincare
from neurokit2.hrv.hrv_utils import _hrv_format_input
from numpy.typing import NDArray

DATA = Path(__file__).resolve().parents[2] / "data"

#: Markers compared against neurokit2 and their relative tolerances (issue 4).
TOLERANCE: dict[str, float] = {
    "mean_nn_ms": 1e-9,
    "sdnn_ms": 1e-9,
    "rmssd_ms": 1e-9,
    "pnn50_pct": 1e-9,
    "sd1_ms": 1e-9,
    "sd2_ms": 1e-9,
    "sd1_sd2": 1e-9,
    "dfa_alpha1": 1e-9,
    "sampen": 1e-9,
    "lf_ms2": 1e-6,
    "hf_ms2": 1e-6,
    "lf_hf": 1e-6,
}


def polar_rr() -> NDArray[np.float64]:
    """Polar H10 RR with PVCs (kbroman/detectPVC, MIT; tests/data/PROVENANCE.md)."""
    return pd.read_csv(DATA / "polar_h10_rr.csv")["rr_ms"].to_numpy(dtype=np.float64)


def pyhrv_rr(which: str) -> NDArray[np.float64]:
    """pyhrv 0.5.0 sample NN series, ``Long`` (60 min) or ``Short`` (5 min) (BSD-3-Clause)."""
    return np.load(DATA / f"pyhrv_SampleNNISeries{which}.npy").astype(np.float64)


def nk_peaks_clean(rr_ms: NDArray[np.float64]) -> NDArray[np.float64]:
    """neurokit2's Kubios correction of an RR series as peaks at 1 kHz, back to NN (ms)."""
    peaks = np.concatenate(([0], np.cumsum(rr_ms))).astype(int)
    _, clean = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="kubios", iterative=True)
    return np.diff(clean).astype(np.float64)


def nk_markers(nn_ms: NDArray[np.float64], t_s: NDArray[np.float64]) -> dict[str, float]:
    """neurokit2's value of every compared marker for one window.

    Time domain and frequency come from ``nk.hrv_time`` and ``nk.hrv_frequency``; the nonlinear
    ones from the exact calls ``nk.hrv_nonlinear`` makes (Poincaré, DFA, SampEn), which skips its
    ~20 other slow indices; ``test_nk_nonlinear_shortcut_matches`` checks that equivalence.
    """
    data = {"RRI": nn_ms, "RRI_Time": t_s}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        td = nk.hrv_time(data)
        fd = nk.hrv_frequency(data, interpolation_rate=4, normalize=False)
        rri, rri_time, rri_missing = _hrv_format_input(data)
        nl = _hrv_nonlinear_poincare(rri, rri_time=rri_time, rri_missing=rri_missing, out={})
        nl = _hrv_dfa(rri, nl)
        tolerance = 0.2 * np.std(rri, ddof=1)
        sampen, _ = nk.entropy_sample(rri, delay=1, dimension=2, tolerance=tolerance)
    return {
        "mean_nn_ms": float(td["HRV_MeanNN"].iloc[0]),
        "sdnn_ms": float(td["HRV_SDNN"].iloc[0]),
        "rmssd_ms": float(td["HRV_RMSSD"].iloc[0]),
        "pnn50_pct": float(td["HRV_pNN50"].iloc[0]),
        "sd1_ms": float(nl["SD1"]),
        "sd2_ms": float(nl["SD2"]),
        "sd1_sd2": float(nl["SD1SD2"]),
        "dfa_alpha1": float(nl["DFA_alpha1"]),
        "sampen": float(sampen),
        "lf_ms2": float(fd["HRV_LF"].iloc[0]),
        "hf_ms2": float(fd["HRV_HF"].iloc[0]),
        "lf_hf": float(fd["HRV_LFHF"].iloc[0]),
    }


def assert_matches_nk(
    frame: pd.DataFrame, nn_ms: NDArray[np.float64], t_s: NDArray[np.float64], window_s: float
) -> int:
    """Every finite marker of every window equals neurokit2 on that window's intervals.

    Returns the number of (window, marker) values compared.
    """
    k = np.floor(t_s / window_s).astype(int)
    assert list(frame["window_start_s"]) == [float(x) * window_s for x in np.unique(k)]
    compared = 0
    for _, row in frame.iterrows():
        sel = k == round(row["window_start_s"] / window_s)
        assert row["n_beats"] == sel.sum()
        assert row["mean_hr_bpm"] == pytest.approx(
            60000.0 / row["mean_nn_ms"], rel=1e-12, nan_ok=True
        )
        assert row["ln_rmssd"] == pytest.approx(np.log(row["rmssd_ms"]), rel=1e-12, nan_ok=True)
        ref = nk_markers(nn_ms[sel], t_s[sel])
        for name, tol in TOLERANCE.items():
            ours = float(row[name])
            if np.isnan(ours):
                continue  # a NaN marker is checked by the quality tests: it must carry a reason
            assert ours == pytest.approx(ref[name], rel=tol), (row["window_start_s"], name)
            compared += 1
    return compared


class NkReference:
    """The helpers above, handed to tests as one fixture (test modules cannot import conftest)."""

    tolerance = TOLERANCE
    polar_rr = staticmethod(polar_rr)
    pyhrv_rr = staticmethod(pyhrv_rr)
    peaks_clean = staticmethod(nk_peaks_clean)
    markers = staticmethod(nk_markers)
    assert_matches = staticmethod(assert_matches_nk)


@pytest.fixture(scope="session")
def nkref() -> type[NkReference]:
    """neurokit2 reference helpers and the real recordings of tests/data."""
    return NkReference
