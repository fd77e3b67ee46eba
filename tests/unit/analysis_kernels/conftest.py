"""Fixtures of the batched-kernel tests: real NN series split into windows, neurokit2 references."""

from __future__ import annotations

import warnings
from pathlib import Path

import neurokit2 as nk
import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray

DATA = Path(__file__).resolve().parents[2] / "data"

Array = NDArray[np.float64]


def polar_rr() -> Array:
    """Polar H10 RR with PVCs, not cleaned (kbroman/detectPVC, MIT; tests/data/PROVENANCE.md)."""
    return pd.read_csv(DATA / "polar_h10_rr.csv")["rr_ms"].to_numpy(dtype=np.float64)


def pyhrv_nn(which: str) -> Array:
    """pyhrv 0.5.0 sample NN series, ``"Long"`` (60 min) or ``"Short"`` (5 min); BSD-3-Clause."""
    return np.load(DATA / f"pyhrv_SampleNNISeries{which}.npy").astype(np.float64)


def split_windows(rr_ms: Array, window_s: float) -> tuple[list[Array], list[Array]]:
    """Split an RR series into windows by beat end time (cumulative sum), as issue 4 defines."""
    t_s = np.cumsum(rr_ms) / 1000.0
    k = np.floor(t_s / window_s).astype(np.int64)
    cuts = np.flatnonzero(np.diff(k)) + 1
    return np.split(rr_ms, cuts), np.split(t_s, cuts)


def realistic_rr(n: int, seed: int, mean_ms: float = 850.0, integer: bool = True) -> Array:
    """A seeded RR series with respiratory (0.25 Hz) and LF (0.1 Hz) rhythms and noise, in ms."""
    rng = np.random.default_rng(seed)
    rr = np.empty(n)
    t = 0.0
    for i in range(n):
        rr[i] = (
            mean_ms
            + 40.0 * np.sin(2 * np.pi * 0.25 * t)
            + 30.0 * np.sin(2 * np.pi * 0.1 * t + 1.0)
            + 15.0 * rng.standard_normal()
        )
        t += rr[i] / 1000.0
    return np.round(rr) if integer else rr


def nk_frequency(rr_ms: Array, t_s: Array) -> tuple[float, float, float]:
    """neurokit2 reference: LF, HF (ms²) and LF/HF as issue 4 specifies."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = nk.hrv_frequency(
            {"RRI": rr_ms, "RRI_Time": t_s}, interpolation_rate=4, normalize=False
        )
    return float(out["HRV_LF"][0]), float(out["HRV_HF"][0]), float(out["HRV_LFHF"][0])


def nk_dfa_alpha1(rr_ms: Array) -> float:
    """neurokit2 reference for DFA α1: what ``_hrv_dfa`` calls inside ``hrv_nonlinear``."""
    if rr_ms.size < 12:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alpha, _ = nk.fractal_dfa(rr_ms, multifractal=False, scale=np.arange(4, 12))
    return float(alpha)


def nk_sampen(rr_ms: Array) -> float:
    """neurokit2 reference for SampEn: what ``hrv_nonlinear`` calls (m = 2, r = 0.2 SD)."""
    tolerance = 0.2 * np.std(rr_ms, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):  # nk divides 0/0 for 3 beats
        value, _ = nk.entropy_sample(rr_ms, delay=1, dimension=2, tolerance=tolerance)
    return float(value)


class KernelReference:
    """The helpers above, handed to tests as one fixture (test modules cannot import conftest)."""

    polar_rr = staticmethod(polar_rr)
    pyhrv_nn = staticmethod(pyhrv_nn)
    split_windows = staticmethod(split_windows)
    realistic_rr = staticmethod(realistic_rr)
    nk_frequency = staticmethod(nk_frequency)
    nk_dfa_alpha1 = staticmethod(nk_dfa_alpha1)
    nk_sampen = staticmethod(nk_sampen)


@pytest.fixture(scope="session")
def kref() -> type[KernelReference]:
    """Data loaders and neurokit2 references for the kernel tests."""
    return KernelReference
