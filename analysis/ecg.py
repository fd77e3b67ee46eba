"""ECG to RR intervals: neurokit2 R-peak detection on a chest-strap ECG (Polar H10, 130 Hz, µV).

Returns beat times and RR intervals only; artifact correction and markers are left to
``analysis.clean`` and ``analysis.windows``, reading files to the CLI adapter.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.errors import AnalysisError

logger = logging.getLogger(__name__)

#: Polar H10 PMD ECG nominal sampling rate, in Hz (the strap's clock runs about 0.1 % fast).
POLAR_H10_ECG_RATE_HZ: float = 130.0
#: R-peak detector: neurokit2's default gradient method. On the Polar H10 recording in
#: tests/data it matches the strap's own RR best (median |difference| 2.3 ms, 100 % of 785
#: pairs within 10 ms; Pan-Tompkins 20.8 ms / 33 %, Hamilton 14.6 ms / 34 %, Elgendi
#: 4.2 ms / 94 %, Kalidas 12.4 ms / 42 %; Engzee 2.5 ms / 100 % but 15x slower).
R_PEAK_METHOD: str = "neurokit"
#: Shortest ECG accepted, in s: a few beats are needed for the detector's thresholds.
MIN_ECG_DURATION_S: float = 5.0


class EcgError(AnalysisError):
    """The ECG cannot be turned into RR intervals (fields: ``reason`` and context)."""


@dataclass(frozen=True)
class EcgRR:
    """RR intervals derived from an ECG.

    Attributes
    ----------
    rr_ms:
        Intervals between successive R peaks, ms (length ``n_peaks - 1``).
    r_peak_times_s:
        Time of each R peak, s: from the first sample, or on the caller's sample clock when
        ``sample_times_s`` was given. ``rr_ms[i]`` ends at ``r_peak_times_s[i + 1]``.
    r_peak_samples:
        Sample index of each R peak.
    sampling_rate_hz:
        Rate used for filtering and detection, Hz.
    """

    rr_ms: NDArray[np.float64]
    r_peak_times_s: NDArray[np.float64]
    r_peak_samples: NDArray[np.int64]
    sampling_rate_hz: float


def _as_signal(ecg_uv: ArrayLike) -> NDArray[np.float64]:
    try:
        signal = np.asarray(ecg_uv, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EcgError("ECG samples are not numeric", reason="not numeric") from exc
    if signal.ndim != 1:
        raise EcgError(f"ECG must be one-dimensional, got shape {signal.shape}", reason="shape")
    if not np.all(np.isfinite(signal)):
        bad = int(np.flatnonzero(~np.isfinite(signal))[0])
        raise EcgError(f"ECG sample {bad} is NaN or infinite", reason="non-finite", sample=bad)
    return signal


def ecg_to_rr(
    ecg_uv: ArrayLike,
    sampling_rate_hz: float = POLAR_H10_ECG_RATE_HZ,
    *,
    sample_times_s: ArrayLike | None = None,
) -> EcgRR:
    """Detect R peaks in an ECG and return the RR intervals between them.

    Parameters
    ----------
    ecg_uv:
        ECG samples, µV (any linear unit works; the detector is scale-free).
    sampling_rate_hz:
        Sampling rate, Hz (130 for the Polar H10).
    sample_times_s:
        Optional time stamp of every sample, s (e.g. the H10's ``t_offset_us / 1e6``). When
        given, peak times and RR come from these stamps instead of ``index / rate``, which
        removes the strap's clock drift (about 0.1 % for the H10).

    Returns
    -------
    EcgRR
        RR intervals (ms) and R-peak times (s). Every detected R peak is kept: no artifact
        correction, so ectopic beats stay visible to ``analysis.clean``.

    Raises
    ------
    EcgError
        Non-numeric, non-finite or multi-dimensional samples; a rate that is not positive;
        shorter than 5 s; ``sample_times_s`` of another length or not increasing; fewer than
        two R peaks found (flat or non-ECG signal); or a neurokit2 failure.

    Notes
    -----
    The signal is cleaned with ``nk.ecg_clean(method="neurokit")`` (0.5 Hz high-pass
    Butterworth, order 5, and power-line filtering) and R peaks are found with
    ``nk.ecg_peaks(method="neurokit", correct_artifacts=False)`` (QRS slopes from the smoothed
    absolute gradient, peak = maximum of the cleaned signal within each QRS).

    References
    ----------
    Makowski D et al. (2021). NeuroKit2: A Python toolbox for neurophysiological signal
    processing. Behavior Research Methods 53:1689-1696.
    """
    signal = _as_signal(ecg_uv)
    rate = float(sampling_rate_hz)
    if not np.isfinite(rate) or rate <= 0:
        raise EcgError(
            f"sampling rate must be a positive number of Hz, got {sampling_rate_hz}",
            reason="sampling rate",
        )
    duration_s = signal.size / rate
    if duration_s < MIN_ECG_DURATION_S:
        raise EcgError(
            f"ECG of {duration_s:.1f} s is too short, needs >= {MIN_ECG_DURATION_S:.0f} s",
            reason="too short",
            duration_s=duration_s,
        )
    times: NDArray[np.float64] | None = None
    if sample_times_s is not None:
        times = np.asarray(sample_times_s, dtype=np.float64)
        if times.shape != signal.shape:
            raise EcgError(
                f"{signal.size} ECG samples but {times.size} sample times",
                reason="sample times length",
            )
        if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise EcgError(
                "sample times must be finite and strictly increasing", reason="sample times"
            )

    import neurokit2 as nk

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cleaned = nk.ecg_clean(signal, sampling_rate=rate, method=R_PEAK_METHOD)
            _, info = nk.ecg_peaks(
                cleaned, sampling_rate=rate, method=R_PEAK_METHOD, correct_artifacts=False
            )
    except (ValueError, IndexError, ZeroDivisionError) as exc:
        raise EcgError(f"R-peak detection failed: {exc}", reason="detector") from exc
    peaks = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
    if peaks.size < 2:
        raise EcgError(
            f"found {peaks.size} R peak(s) in {duration_s:.0f} s of ECG; is it an ECG?",
            reason="no beats",
            n_peaks=int(peaks.size),
        )
    peak_times = times[peaks] if times is not None else peaks / rate
    rr_ms = np.diff(peak_times) * 1000.0
    logger.debug("ecg_to_rr: %d R peaks in %.0f s", peaks.size, duration_s)
    return EcgRR(
        rr_ms=rr_ms,
        r_peak_times_s=np.asarray(peak_times, dtype=np.float64),
        r_peak_samples=peaks,
        sampling_rate_hz=rate,
    )
