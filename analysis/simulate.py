"""Seeded, reproducible simulation of RR intervals.

Builds physiologically shaped RR series (respiratory sinus arrhythmia, Mayer waves, 1/f drift,
circadian and sleep changes, ectopic and missed beats) for tests, benchmarks and the demo; the
demo's patient story (wear, sessions, journal) is ``somatrace.demo.story``, and computing markers is
left to ``analysis.windows``.

Model
-----
The RR tachogram follows the spectral model of ECGSYN (McSharry et al. 2003): the beat-to-beat
variability is the sum of a low-frequency component (a Gaussian band around ``lf_hz`` = 0.1 Hz,
SD 0.01 Hz, the Mayer/baroreflex rhythm) and a high-frequency component at the breathing rate
(respiratory sinus arrhythmia; the breathing rate wanders slowly, amplitude modulated by 20 %),
each generated with random phases by an inverse FFT, plus a small white component. A 1/f
component below 0.04 Hz adds the slow (VLF/ULF) drift seen in long recordings (Kobayashi & Musha
1982). Beat times come from an integrate-and-fire model of the slowly varying mean heart period
(the instantaneous heart rate is integrated and a beat fires at every whole cycle), and the
variability is then added to each interval, so beat times are always the cumulative sum of the
intervals.

Amplitudes are calibrated per beat so that RMSSD equals ``exp(ln_rmssd)``: the RMSSD of each
unit-variance component on the actual beat grid is measured and the sum is scaled to the target.

Circadian and sleep effects (when a local start hour is given): sleep from 23:00 to 07:00 with
15-minute logistic edges lowers heart rate by 8 bpm, raises ln RMSSD by 0.35, lowers LF/HF from
1.5 to 0.7 and slows breathing by 0.03 Hz (Trinder et al. 2001; Boudreau et al. 2013); a circadian
cosine of 2 bpm amplitude peaks at 17:00 (Scheer et al. 1999). The "active" daytime state adds
12 bpm, lowers ln RMSSD by 0.35 and raises LF/HF to 2.5.

Artefacts: an ectopic beat is a premature interval (55–75 % of the normal one) followed by a
compensatory pause (the pair keeps its sum); a missed beat merges two intervals into one; an
extra (false) beat splits one interval in two (poor-quality recordings only).

References
----------
McSharry PE, Clifford GD, Tarassenko L, Smith LA (2003). A dynamical model for generating
synthetic electrocardiogram signals. IEEE Trans Biomed Eng 50(3):289-294.
Task Force of the ESC and NASPE (1996). Heart rate variability: standards of measurement.
Circulation 93:1043-1065.
Kobayashi M, Musha T (1982). 1/f fluctuation of heartbeat period. IEEE Trans Biomed Eng 29:456-457.
Scheer FA et al. (1999). Day/night variation of heart rate. Am J Physiol 277:H1770.
Trinder J et al. (2001). Autonomic activity during human sleep as a function of time and sleep
stage. J Sleep Res 10:253-264.
Boudreau P et al. (2013). Circadian variation of heart rate variability across sleep stages.
Sleep 36(12):1919-1928.
Plews DJ et al. (2013). Training adaptation and heart rate variability in elite endurance
athletes. Sports Med 43:773-781 (day-to-day variation of ln RMSSD).
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from analysis.errors import AnalysisError

__all__ = [
    "SimState",
    "SimulationError",
    "beats_from_tachogram",
    "check_rate",
    "round_beat_times",
    "simulate_ecgsyn_beats",
    "simulate_rr",
    "simulate_segment_rr",
    "simulate_strap_recording",
]

logger = logging.getLogger(__name__)

#: Resolution of the RR field of the Bluetooth Heart Rate Measurement, ticks per second (the
#: wire contract's ``RR_TICKS_PER_S``; analysis does not import the wire package).
STRAP_TICKS_PER_S = 1024

# Physiological clipping of simulated intervals (ms): 30–200 bpm.
SIM_RR_MIN_MS = 300.0
SIM_RR_MAX_MS = 2000.0

_GRID_HZ = 1.0  # grid of the band-limited components (Hz); breathing is evaluated per beat
_PROFILE_STEP_S = 10.0  # step of the slowly varying state profiles (s)
_LF_SD_HZ = 0.01  # spectral width of the Mayer wave band (ECGSYN c1)
_RESP_WANDER_HZ = 0.015  # SD of the slow wandering of the breathing rate
_VLF_CUTOFF_HZ = 0.04  # 1/f drift is confined below this frequency
_WHITE_WEIGHT = 0.25  # white beat-to-beat noise relative to the HF component
_DRIFT_SD_PER_RMSSD = 1.0  # SD of the 1/f drift as a multiple of the target RMSSD

# Sleep and circadian effects (see module docstring).
_SLEEP_ONSET_H = 23.0
_SLEEP_OFFSET_H = 7.0
_SLEEP_EDGE_H = 0.25
_SLEEP_HR_DROP_BPM = 8.0
_SLEEP_LN_RMSSD_RISE = 0.35
_SLEEP_RESP_DROP_HZ = 0.03
_CIRCADIAN_HR_AMP_BPM = 2.0
_CIRCADIAN_PEAK_H = 17.0
_LF_HF_AWAKE = 1.5
_LF_HF_ASLEEP = 0.7
_ACTIVE_HR_RISE_BPM = 12.0
_ACTIVE_LN_RMSSD_DROP = 0.35
_LF_HF_ACTIVE = 2.5

#: Physiological state of a simulated stretch: still rest, the circadian/sleep model, or daytime activity.
SimState = Literal["rest", "circadian", "active"]


class SimulationError(AnalysisError):
    """Invalid simulation parameters (the offending parameter is in ``fields``)."""


# --------------------------------------------------------------------------------------------
# Continuous-signal building blocks


def _spectral_noise(
    n: int, rng: np.random.Generator, amplitude: NDArray[np.float64], n_fft: int
) -> NDArray[np.float64]:
    """Unit-variance real noise of length ``n`` with the given rfft amplitude profile."""
    nz = np.flatnonzero(amplitude > 1e-12 * float(amplitude.max(initial=0.0)))
    if nz.size == 0:
        return np.zeros(n, dtype=np.float64)
    spec = np.zeros(amplitude.size, dtype=np.complex128)
    spec[nz] = amplitude[nz] * (rng.standard_normal(nz.size) + 1j * rng.standard_normal(nz.size))
    x: NDArray[np.float64] = np.asarray(scipy.fft.irfft(spec, n_fft)[:n], dtype=np.float64)
    x = x - x.mean()
    sd = float(x.std())
    if sd <= 0.0 or not np.isfinite(sd):
        return np.zeros(n, dtype=np.float64)
    return x / sd


def _sleep_level(hour: NDArray[np.float64]) -> NDArray[np.float64]:
    """0 (awake) to 1 (asleep) for local clock hours, sleep 23:00–07:00 with logistic edges."""
    since_onset = np.mod(hour - _SLEEP_ONSET_H + 12.0, 24.0) - 12.0
    since_offset = np.mod(hour - _SLEEP_OFFSET_H + 12.0, 24.0) - 12.0
    a = 1.0 / (1.0 + np.exp(-since_onset / _SLEEP_EDGE_H))
    b = 1.0 / (1.0 + np.exp(since_offset / _SLEEP_EDGE_H))
    out: NDArray[np.float64] = a * b
    return out


def _profiles(
    t_s: NDArray[np.float64],
    *,
    state: SimState,
    start_hour_local: float,
    mean_hr_bpm: float,
    ln_rmssd: float,
    resp_rate_hz: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Heart rate (bpm), target ln RMSSD, LF/HF power ratio and breathing rate (Hz) over time."""
    ones = np.ones_like(t_s)
    if state == "rest":
        return mean_hr_bpm * ones, ln_rmssd * ones, _LF_HF_AWAKE * ones, resp_rate_hz * ones
    hour = np.mod(start_hour_local + t_s / 3600.0, 24.0)
    sleep = _sleep_level(hour)
    circ = _CIRCADIAN_HR_AMP_BPM * np.cos(2.0 * np.pi * (hour - _CIRCADIAN_PEAK_H) / 24.0)
    hr = mean_hr_bpm + circ - _SLEEP_HR_DROP_BPM * sleep
    ln = ln_rmssd + _SLEEP_LN_RMSSD_RISE * sleep
    lf_hf = _LF_HF_AWAKE + (_LF_HF_ASLEEP - _LF_HF_AWAKE) * sleep
    resp = resp_rate_hz - _SLEEP_RESP_DROP_HZ * sleep
    if state == "active":
        awake = 1.0 - sleep
        hr = hr + _ACTIVE_HR_RISE_BPM * awake
        ln = ln - _ACTIVE_LN_RMSSD_DROP * awake
        lf_hf = lf_hf + (_LF_HF_ACTIVE - _LF_HF_AWAKE) * awake
    return hr, ln, lf_hf, resp


def _rmssd_unit(x: NDArray[np.float64]) -> float:
    if x.size < 2:
        return 0.0
    return float(np.sqrt(np.mean(np.diff(x) ** 2)))


def simulate_segment_rr(
    duration_s: float,
    rng: np.random.Generator,
    *,
    state: SimState,
    start_hour_local: float,
    mean_hr_bpm: float,
    ln_rmssd: float,
    resp_rate_hz: float,
    lf_hz: float,
    ectopic_rate: float,
    missed_rate: float,
    extra_rate: float,
) -> NDArray[np.float64]:
    """RR intervals (ms) of one stretch whose cumulative sum stays within ``duration_s``.

    The building block of :func:`simulate_rr` and of the demo's multi-day patient story: the caller
    owns ``rng`` (so consecutive stretches continue one reproducible stream) and passes every rate
    already checked. ``extra_rate`` is the probability per beat of a false extra beat (an interval
    split in two), used for poor-quality recordings. See the module docstring for the model.

    References
    ----------
    McSharry et al. (2003) IEEE Trans Biomed Eng 50:289 (ECGSYN RR model).
    """
    margin_s = 5.0
    n = int(np.ceil((duration_s + margin_s) * _GRID_HZ)) + 1
    dt = 1.0 / _GRID_HZ
    t = np.arange(n, dtype=np.float64) * dt
    n_fft = scipy.fft.next_fast_len(n, real=True)
    f = scipy.fft.rfftfreq(n_fft, dt)

    # The state profiles change over minutes: evaluate them every 10 s and interpolate.
    t_coarse = np.arange(0.0, t[-1] + _PROFILE_STEP_S, _PROFILE_STEP_S)
    profiles = _profiles(
        t_coarse,
        state=state,
        start_hour_local=start_hour_local,
        mean_hr_bpm=mean_hr_bpm,
        ln_rmssd=ln_rmssd,
        resp_rate_hz=resp_rate_hz,
    )
    hr, ln_target, lf_hf, resp = (np.interp(t, t_coarse, p) for p in profiles)
    period_s = 60.0 / np.clip(hr, 60000.0 / SIM_RR_MAX_MS, 60000.0 / SIM_RR_MIN_MS)

    # Integrate-and-fire on the slowly varying mean heart period.
    cycles = np.concatenate(([0.0], np.cumsum(dt / period_s[:-1])))
    k = np.arange(1.0, np.floor(cycles[-1]) + 1.0)
    t_beat = np.interp(k, cycles, t)

    # Respiratory sinus arrhythmia: a sine at a slowly wandering breathing rate.
    low = np.where(f > 0.0, np.exp(-0.5 * (f / 0.005) ** 2), 0.0)
    wander = _spectral_noise(n, rng, low, n_fft)
    f_resp = np.clip(resp + _RESP_WANDER_HZ * wander, 0.1, 0.45)
    # The breathing phase is smooth: interpolate it (not the sine) at the beats.
    phase = 2.0 * np.pi * np.concatenate(([0.0], np.cumsum(f_resp[:-1]) * dt))
    phase += rng.uniform(0.0, 2.0 * np.pi)
    amp_mod = 1.0 + 0.2 * _spectral_noise(n, rng, low, n_fft)
    # Mayer waves: ECGSYN Gaussian band around lf_hz.
    lf_band = np.exp(-0.5 * ((f - lf_hz) / _LF_SD_HZ) ** 2)
    lf_grid = _spectral_noise(n, rng, lf_band, n_fft)
    # 1/f drift below the LF band.
    pink_amp = np.zeros_like(f)
    pos = f > 0.0
    pink_amp[pos] = f[pos] ** -0.5 / (1.0 + (f[pos] / _VLF_CUTOFF_HZ) ** 4)
    pink_grid = _spectral_noise(n, rng, pink_amp, n_fft)

    hf = np.sqrt(2.0) * np.sin(np.interp(t_beat, t, phase)) * np.interp(t_beat, t, amp_mod)
    lf = np.interp(t_beat, t, lf_grid)
    pink = np.interp(t_beat, t, pink_grid)
    white = rng.standard_normal(t_beat.size)
    lf_hf_b = np.interp(t_beat, t, lf_hf)
    target_rmssd = np.exp(np.interp(t_beat, t, ln_target))

    r_hf, r_lf, r_pink, r_white = (_rmssd_unit(x) for x in (hf, lf, pink, white))
    # LF/HF is a power ratio: the LF component's variance is lf_hf times the HF component's.
    w_lf = np.sqrt(lf_hf_b)
    fast = hf + w_lf * lf + _WHITE_WEIGHT * white
    r_fast = np.sqrt(r_hf**2 + (w_lf * r_lf) ** 2 + (_WHITE_WEIGHT * r_white) ** 2)
    drift_share = min((_DRIFT_SD_PER_RMSSD * r_pink) ** 2, 0.5)
    scale = target_rmssd * np.sqrt(1.0 - drift_share) / np.where(r_fast > 0.0, r_fast, 1.0)
    rr = (
        1000.0 * np.interp(t_beat, t, period_s)
        + scale * fast
        + _DRIFT_SD_PER_RMSSD * target_rmssd * pink
    )
    rr = np.clip(rr, SIM_RR_MIN_MS, SIM_RR_MAX_MS)
    rr = _add_artefacts(rr, rng, ectopic_rate, missed_rate, extra_rate)
    keep = np.cumsum(rr) <= duration_s * 1000.0
    out: NDArray[np.float64] = rr[keep]
    return out


def _add_artefacts(
    rr: NDArray[np.float64],
    rng: np.random.Generator,
    ectopic_rate: float,
    missed_rate: float,
    extra_rate: float,
) -> NDArray[np.float64]:
    """Insert ectopic short-long pairs, missed beats (merged) and extra beats (split)."""
    n = rr.size
    if n < 4 or ectopic_rate + missed_rate + extra_rate <= 0.0:
        return rr
    u = rng.random(n)
    ectopic = u < ectopic_rate
    missed = (u >= ectopic_rate) & (u < ectopic_rate + missed_rate)
    extra = (u >= ectopic_rate + missed_rate) & (u < ectopic_rate + missed_rate + extra_rate)
    chosen = ectopic | missed | extra
    chosen[-1] = False  # each artefact may touch the following interval
    # No two artefacts on neighbouring intervals (drop the later of a pair).
    clash = chosen & np.concatenate(([False], chosen[:-1]))
    chosen &= ~clash
    chosen &= ~np.concatenate(([False], chosen[:-1]))
    ectopic &= chosen
    missed &= chosen
    extra &= chosen
    out = rr.copy()
    i = np.flatnonzero(ectopic)
    if i.size:
        c = rng.uniform(0.55, 0.75, i.size)
        short = out[i] * c
        out[i + 1] += out[i] - short
        out[i] = short
    j = np.flatnonzero(missed)
    if j.size:
        out[j] += out[j + 1]
    h = np.flatnonzero(extra)
    if h.size:
        a = rng.uniform(0.3, 0.7, h.size)
        first = out[h] * a
        out[h] -= first
        out = np.insert(out, h, first)
        j = j + np.searchsorted(h, j, side="right")
    if j.size:
        out = np.delete(out, j + 1)
    return out


def check_rate(name: str, value: float) -> None:
    if not (0.0 <= value <= 0.5) or not np.isfinite(value):
        raise SimulationError(
            f"{name} must lie in [0, 0.5], got {value}", parameter=name, value=value
        )


def simulate_rr(
    duration_s: float,
    *,
    seed: int,
    mean_hr_bpm: float = 62.0,
    ln_rmssd: float = 3.8,
    resp_rate_hz: float = 0.25,
    lf_hz: float = 0.1,
    ectopic_rate: float = 0.002,
    missed_rate: float = 0.001,
    start_hour_local: float | None = None,
) -> NDArray[np.float64]:
    """Simulate a continuous RR-interval series.

    Parameters
    ----------
    duration_s:
        Length of the recording in seconds; the intervals' sum does not exceed it.
    seed:
        Seed of the ``numpy.random.Generator``; equal seeds give identical series.
    mean_hr_bpm:
        Resting awake heart rate, beats per minute (20–200).
    ln_rmssd:
        Target natural log of RMSSD (ln ms) at rest and awake; RMSSD of clean output is
        ``exp(ln_rmssd)`` within sampling error (2–6).
    resp_rate_hz:
        Mean breathing rate, Hz (0.1–0.5), drives respiratory sinus arrhythmia.
    lf_hz:
        Centre of the Mayer-wave band, Hz (0.04–0.15).
    ectopic_rate:
        Probability per beat of an ectopic short-long pair (0–0.5).
    missed_rate:
        Probability per beat of a missed beat, giving one double-length interval (0–0.5).
    start_hour_local:
        Local clock hour at the start (0–24). When given, circadian and sleep changes apply
        (sleep 23:00–07:00: lower HR, higher ln RMSSD); when ``None`` the series is stationary.

    Returns
    -------
    numpy.ndarray
        RR intervals in ms (float64), clipped to [300, 2000] ms before artefacts are inserted.

    Raises
    ------
    SimulationError
        On a parameter outside its range.

    References
    ----------
    McSharry et al. (2003) IEEE Trans Biomed Eng 50:289 (ECGSYN RR model); Task Force (1996)
    Circulation 93:1043; see the module docstring for the sleep and circadian model.
    """
    if not np.isfinite(duration_s) or duration_s <= 0.0 or duration_s > 40 * 86400:
        raise SimulationError(
            f"duration_s must be in (0, 40 days], got {duration_s}", parameter="duration_s"
        )
    if not 20.0 <= mean_hr_bpm <= 200.0:
        raise SimulationError(
            f"mean_hr_bpm must be in [20, 200], got {mean_hr_bpm}", parameter="mean_hr_bpm"
        )
    if not 2.0 <= ln_rmssd <= 6.0:
        raise SimulationError(f"ln_rmssd must be in [2, 6], got {ln_rmssd}", parameter="ln_rmssd")
    if not 0.1 <= resp_rate_hz <= 0.5:
        raise SimulationError(
            f"resp_rate_hz must be in [0.1, 0.5], got {resp_rate_hz}", parameter="resp_rate_hz"
        )
    if not 0.04 <= lf_hz <= 0.15:
        raise SimulationError(f"lf_hz must be in [0.04, 0.15], got {lf_hz}", parameter="lf_hz")
    check_rate("ectopic_rate", ectopic_rate)
    check_rate("missed_rate", missed_rate)
    if start_hour_local is not None and not 0.0 <= start_hour_local <= 24.0:
        raise SimulationError(
            f"start_hour_local must be in [0, 24], got {start_hour_local}",
            parameter="start_hour_local",
        )
    rng = np.random.default_rng(seed)
    return simulate_segment_rr(
        float(duration_s),
        rng,
        state="rest" if start_hour_local is None else "circadian",
        start_hour_local=0.0 if start_hour_local is None else float(start_hour_local),
        mean_hr_bpm=mean_hr_bpm,
        ln_rmssd=ln_rmssd,
        resp_rate_hz=resp_rate_hz,
        lf_hz=lf_hz,
        ectopic_rate=ectopic_rate,
        missed_rate=missed_rate,
        extra_rate=0.0,
    )


def simulate_strap_recording(
    duration_s: float,
    *,
    seed: int,
    mean_hr_bpm: float = 64.0,
    ln_rmssd: float = 3.6,
    start_hour_local: float = 8.0,
    ectopic_rate: float = 0.003,
    missed_rate: float = 0.002,
    extra_rate: float = 0.001,
    dropouts_per_hour: float = 2.0,
    dropout_s: tuple[float, float] = (2.0, 120.0),
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A long chest-strap recording as the server stores it: 1/1024 s RR, gaps and artefacts.

    The circadian/sleep model of :func:`simulate_rr` starting at ``start_hour_local``, with ectopic,
    missed and extra (split) beats; every interval is rounded to the Bluetooth Heart Rate
    Measurement's 1/1024 s; beat times are the cumulative sum of the rounded intervals; then
    contact losses remove all beats of randomly placed stretches (a Poisson number with
    ``dropouts_per_hour`` per hour, each uniformly ``dropout_s`` long), leaving real gaps.

    Parameters
    ----------
    duration_s:
        Length, s (at most 40 days).
    seed:
        Seed of the random generator.
    mean_hr_bpm, ln_rmssd:
        Resting awake heart rate (bpm) and ln RMSSD (ln ms), as :func:`simulate_rr`.
    start_hour_local:
        Local clock hour at the start (0-24).
    ectopic_rate, missed_rate, extra_rate:
        Probabilities per beat of each artefact (0-0.5).
    dropouts_per_hour:
        Mean number of contact losses per hour (>= 0).
    dropout_s:
        Shortest and longest contact loss, s.

    Returns
    -------
    (beat_t_s, rr_ms)
        End time of each kept interval (s from the start) and the interval (ms, a multiple of
        1000/1024).

    Raises
    ------
    SimulationError
        On a parameter outside its range.
    """
    if not np.isfinite(duration_s) or not 0.0 < duration_s <= 40 * 86400:
        raise SimulationError(
            f"duration_s must be in (0, 40 days], got {duration_s}", parameter="duration_s"
        )
    for name, rate in (
        ("ectopic_rate", ectopic_rate),
        ("missed_rate", missed_rate),
        ("extra_rate", extra_rate),
    ):
        check_rate(name, rate)
    if not (np.isfinite(dropouts_per_hour) and dropouts_per_hour >= 0):
        raise SimulationError(
            f"dropouts_per_hour must be >= 0, got {dropouts_per_hour}",
            parameter="dropouts_per_hour",
        )
    lo, hi = dropout_s
    if not 0.0 < lo <= hi:
        raise SimulationError(
            f"dropout_s must satisfy 0 < lo <= hi, got {dropout_s}", parameter="dropout_s"
        )
    if not 0.0 <= start_hour_local <= 24.0:
        raise SimulationError(
            f"start_hour_local must be in [0, 24], got {start_hour_local}",
            parameter="start_hour_local",
        )
    rng = np.random.default_rng(seed)
    rr = simulate_segment_rr(
        float(duration_s),
        rng,
        state="circadian",
        start_hour_local=float(start_hour_local),
        mean_hr_bpm=mean_hr_bpm,
        ln_rmssd=ln_rmssd,
        resp_rate_hz=0.25,
        lf_hz=0.1,
        ectopic_rate=ectopic_rate,
        missed_rate=missed_rate,
        extra_rate=extra_rate,
    )
    ticks = np.maximum(np.round(rr * STRAP_TICKS_PER_S / 1000.0), 1.0)
    rr_ms: NDArray[np.float64] = ticks * (1000.0 / STRAP_TICKS_PER_S)
    t = np.cumsum(rr_ms) / 1000.0
    keep = np.ones(t.size, dtype=bool)
    n_drop = int(rng.poisson(dropouts_per_hour * duration_s / 3600.0))
    for start, length in zip(
        rng.uniform(0.0, float(duration_s), n_drop).tolist(),
        rng.uniform(lo, hi, n_drop).tolist(),
        strict=True,
    ):
        keep[(t >= start) & (t < start + length)] = False
    return t[keep], rr_ms[keep]


def beats_from_tachogram(rr_s: NDArray[np.float64], rate_hz: float = 1.0) -> NDArray[np.float64]:
    """Beat times (s) of an RR tachogram sampled at ``rate_hz``, as ECGSYN places its beats.

    Each beat follows the previous one by the tachogram's value at the previous beat's time
    (``t[k+1] = t[k] + rr(t[k])``, sample-and-hold), starting at 0, until the tachogram ends.
    Used with neurokit2's ECGSYN RR process to build long clean recordings.

    Raises
    ------
    SimulationError
        Tachogram values not all positive and finite, or a rate that is not positive.

    References
    ----------
    McSharry et al. (2003) IEEE Trans Biomed Eng 50:289 (ECGSYN); neurokit2 ``ecg_simulate``.
    """
    rr = np.asarray(rr_s, dtype=np.float64)
    if rr.ndim != 1 or rr.size == 0 or not np.all(np.isfinite(rr) & (rr > 0)):
        raise SimulationError(
            "rr_s must be a non-empty series of positive seconds", parameter="rr_s"
        )
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise SimulationError(f"rate_hz must be positive, got {rate_hz}", parameter="rate_hz")
    end = rr.size / rate_hz
    beats = [0.0]
    t = 0.0
    while True:
        t += float(rr[min(int(t * rate_hz), rr.size - 1)])
        if t >= end:
            break
        beats.append(t)
    return np.asarray(beats, dtype=np.float64)


def round_beat_times(
    beat_t_s: NDArray[np.float64], step_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Beat times rounded to a sampling step and the RR intervals between them.

    A recording sampled at ``1 / step_s`` (an ECG at 128 Hz: ``step_s = 1/128``) knows each beat to
    the nearest sample; its RR intervals are differences of rounded times.

    Returns
    -------
    (beat_t_s, rr_ms)
        Rounded end time of every interval after the first beat (s) and the intervals (ms).

    Raises
    ------
    SimulationError
        A step that is not positive.
    """
    if not (np.isfinite(step_s) and step_s > 0):
        raise SimulationError(f"step_s must be positive, got {step_s}", parameter="step_s")
    rounded = np.round(np.asarray(beat_t_s, dtype=np.float64) / step_s) * step_s
    rr_ms: NDArray[np.float64] = np.diff(rounded) * 1000.0
    return rounded[1:], rr_ms


def simulate_ecgsyn_beats(hours: float, *, seed: int) -> NDArray[np.float64]:
    """Beat times (s) of a clean recording from neurokit2's ECGSYN RR process, an hour at a time.

    Each hour draws its own mean heart rate and variability (awake 62-80 bpm with 1-3 bpm SD and
    LF/HF 1.5; the last third of the hours asleep, 52-60 bpm, 2-4 bpm SD, LF/HF 0.7), so a long
    recording is not stationary; there are no artefacts. An independent reference for artifact
    correction: neurokit2's RR model, not this module's.

    Parameters
    ----------
    hours:
        Length, h (0-960).
    seed:
        Seed of the random generator.

    Raises
    ------
    SimulationError
        ``hours`` out of range.

    References
    ----------
    McSharry et al. (2003) IEEE Trans Biomed Eng 50:289; neurokit2 0.2.13
    ``ecg_simulate._ecg_simulate_rrprocess`` (the RR process behind ``ecg_simulate(method="ecgsyn")``).
    """
    from neurokit2.ecg.ecg_simulate import _ecg_simulate_rrprocess

    if not (np.isfinite(hours) and 0.0 < hours <= 960.0):
        raise SimulationError(f"hours must be in (0, 960], got {hours}", parameter="hours")
    rng = np.random.default_rng(seed)
    n_hours = int(np.ceil(hours))
    parts = []
    for hour in range(n_hours):
        night = hour >= 2 * n_hours // 3
        parts.append(
            _ecg_simulate_rrprocess(
                lfhfratio=0.7 if night else 1.5,
                hrmean=rng.uniform(52, 60) if night else rng.uniform(62, 80),
                hrstd=rng.uniform(2.0, 4.0) if night else rng.uniform(1.0, 3.0),
                sfrr=1,
                n=3600,
                rng=rng,
            )
        )
    tachogram = np.concatenate(parts)[: int(hours * 3600)]
    return beats_from_tachogram(np.asarray(tachogram, dtype=np.float64))
