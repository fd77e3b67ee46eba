"""LF and HF spectral power (ms²) and LF/HF of many NN windows at once, equal to neurokit2.

Reproduces ``nk.hrv_frequency(..., interpolation_rate=4, normalize=False)`` (Welch PSD of the
quadratic-spline-resampled tachogram); minimum-duration policies are left to ``analysis.windows``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import welch

from analysis.kernel_input import check_windows

logger = logging.getLogger(__name__)

#: Resampling rate of the tachogram, in Hz (Kubios and ``interpolation_rate=4`` in neurokit2).
INTERPOLATION_RATE_HZ: int = 4
#: Low-frequency band [lower, upper) in Hz (Task Force 1996).
LF_BAND_HZ: tuple[float, float] = (0.04, 0.15)
#: High-frequency band [lower, upper) in Hz (Task Force 1996).
HF_BAND_HZ: tuple[float, float] = (0.15, 0.4)
#: Highest frequency neurokit2 keeps in the spectrum (upper edge of its VHF band), in Hz.
MAX_FREQUENCY_HZ: float = 0.5
#: A quadratic spline needs three knots; neurokit2 fails below that.
MIN_BEATS_SPECTRUM: int = 3


@dataclass(frozen=True)
class FrequencyMarkers:
    """Frequency-domain markers of ``n`` windows.

    Attributes
    ----------
    lf_ms2, hf_ms2, lf_hf:
        Float arrays of length ``n``; NaN where the marker is undefined for that window.
    reasons:
        For each window, a tuple of ``"<marker>: <why>"`` strings explaining every NaN (empty when
        all three markers are defined).
    """

    lf_ms2: NDArray[np.float64]
    hf_ms2: NDArray[np.float64]
    lf_hf: NDArray[np.float64]
    reasons: tuple[tuple[str, ...], ...]


def resample_tachogram(nn_ms: NDArray[np.float64], t_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """Resample an NN series at 4 Hz with a quadratic spline, exactly as neurokit2 does.

    Parameters
    ----------
    nn_ms:
        NN intervals, ms (at least 3).
    t_s:
        End time of each interval, s, strictly increasing.

    Returns
    -------
    numpy.ndarray
        Tachogram in ms on the grid ``arange(t_s[0], t_s[-1] + 1/4, 1/4)``; grid points past the
        last beat repeat the last interval (``interp1d`` fill value in ``nk.signal_interpolate``).

    References
    ----------
    neurokit2 0.2.13 ``intervals_process`` and ``signal_interpolate(method="quadratic")``.
    """
    from scipy.interpolate import make_interp_spline

    step = 1 / INTERPOLATION_RATE_HZ
    grid = np.arange(t_s[0], t_s[-1] + step, step)
    spline = make_interp_spline(t_s, nn_ms, k=2, check_finite=False)
    out = np.asarray(spline(grid), dtype=np.float64)
    out[grid > t_s[-1]] = nn_ms[-1]
    out[grid < t_s[0]] = nn_ms[0]
    return out


def _segment_length(n_samples: int) -> int:
    """Welch segment length that neurokit2's ``signal_psd`` picks for ``n_samples``."""
    rate = INTERPOLATION_RATE_HZ
    min_frequency = 2 * rate / (n_samples / 2)
    nperseg = int(2 / min_frequency * rate)
    if nperseg > n_samples / 2:
        nperseg = int(n_samples / 2)
    return nperseg


def _band_powers(
    tachograms: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], int, int]:
    """Integrate Welch PSDs of equally long tachograms over LF and HF (trapezoid, ms²)."""
    n_samples = tachograms.shape[1]
    rate = INTERPOLATION_RATE_HZ
    nperseg = _segment_length(n_samples)
    centred = tachograms - tachograms.mean(axis=1, keepdims=True)
    freq, psd = welch(
        centred,
        fs=rate,
        scaling="density",
        detrend=False,
        nfft=2 * nperseg,
        average="mean",
        nperseg=nperseg,
        window="hann",
        axis=-1,
    )
    min_frequency = 2 * rate / (n_samples / 2)
    keep = (freq >= min_frequency) & (freq <= MAX_FREQUENCY_HZ)
    freq = freq[keep]
    psd = psd[:, keep]
    lf_in = (freq >= LF_BAND_HZ[0]) & (freq < LF_BAND_HZ[1])
    hf_in = (freq >= HF_BAND_HZ[0]) & (freq < HF_BAND_HZ[1])
    lf = np.trapezoid(psd[:, lf_in], x=freq[lf_in], axis=1)
    hf = np.trapezoid(psd[:, hf_in], x=freq[hf_in], axis=1)
    return lf, hf, int(lf_in.sum()), int(hf_in.sum())


def frequency_markers(
    nn_ms: Sequence[NDArray[np.float64]], t_s: Sequence[NDArray[np.float64]]
) -> FrequencyMarkers:
    """LF power, HF power and LF/HF for each window, vectorised over windows.

    Parameters
    ----------
    nn_ms:
        One array of NN intervals (ms) per window.
    t_s:
        Matching arrays of beat end times (s, strictly increasing), e.g. ``cumsum(nn_ms) / 1000``
        or epoch seconds.

    Returns
    -------
    FrequencyMarkers
        ``lf_ms2`` (0.04-0.15 Hz), ``hf_ms2`` (0.15-0.4 Hz) and ``lf_hf``, each equal within 1e-6
        relative to ``nk.hrv_frequency({"RRI": nn, "RRI_Time": t}, interpolation_rate=4,
        normalize=False)``. Where neurokit2 returns NaN (band without spectral bins, zero power)
        or fails (fewer than 3 beats) the value is NaN and ``reasons`` says why.

    Raises
    ------
    analysis.errors.MarkerInputError
        Mismatched lengths, non-finite or non-positive intervals, or non-increasing times.

    Notes
    -----
    The tachogram is resampled at 4 Hz with a quadratic spline, centred, and its Welch PSD is
    taken with Hann segments of half the resampled length (50 % overlap, zero-padded FFT of twice
    the segment length, density scaling); band power is the trapezoid integral of the PSD over
    the bins in [lower, upper). Windows with equally many samples share one batched Welch call.

    References
    ----------
    Task Force of the ESC and NASPE (1996). Heart rate variability: standards of measurement.
    Circulation 93:1043-1065. neurokit2 0.2.13 ``hrv_frequency``, ``signal_psd``, ``signal_power``.
    """
    windows = check_windows(nn_ms, t_s)
    n_windows = len(windows)
    lf_out = np.full(n_windows, np.nan)
    hf_out = np.full(n_windows, np.nan)
    reasons: list[list[str]] = [[] for _ in range(n_windows)]

    groups: dict[int, list[tuple[int, NDArray[np.float64]]]] = {}
    for index, (nn, t) in enumerate(windows):
        if nn.size < MIN_BEATS_SPECTRUM:
            why = f"needs >= {MIN_BEATS_SPECTRUM} beats for the 4 Hz resampling, got {nn.size}"
            reasons[index] += [f"lf_ms2: {why}", f"hf_ms2: {why}"]
            continue
        tachogram = resample_tachogram(nn, t)
        groups.setdefault(tachogram.size, []).append((index, tachogram))

    for n_samples, members in groups.items():
        indices = np.array([index for index, _ in members])
        lf, hf, n_lf_bins, n_hf_bins = _band_powers(np.stack([tach for _, tach in members]))
        duration_s = n_samples / INTERPOLATION_RATE_HZ
        for name, power, n_bins, target in (
            ("lf_ms2", lf, n_lf_bins, lf_out),
            ("hf_ms2", hf, n_hf_bins, hf_out),
        ):
            target[indices] = np.where(power == 0.0, np.nan, power)
            for index, value in zip(indices.tolist(), power.tolist(), strict=True):
                if value != 0.0:
                    continue
                if n_bins < 2:
                    reasons[index].append(
                        f"{name}: a {duration_s:.0f} s window gives {n_bins} spectral bin(s) "
                        "in the band, too short"
                    )
                else:
                    reasons[index].append(f"{name}: no power in the band (constant NN)")

    with np.errstate(divide="ignore", invalid="ignore"):
        lf_hf = lf_out / hf_out
    for index in range(n_windows):
        if np.isnan(lf_hf[index]):
            missing = [r.split(":", 1)[0] for r in reasons[index]]
            reasons[index].append(f"lf_hf: {' and '.join(missing)} undefined")
    return FrequencyMarkers(
        lf_ms2=lf_out,
        hf_ms2=hf_out,
        lf_hf=lf_hf,
        reasons=tuple(tuple(r) for r in reasons),
    )
