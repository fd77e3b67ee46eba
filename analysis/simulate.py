"""Seeded, reproducible simulation of RR intervals and of a six-week patient record.

Builds physiologically shaped RR series (respiratory sinus arrhythmia, Mayer waves, 1/f drift,
circadian and sleep changes, ectopic and missed beats) and a patient timeline (wear segments,
sessions, journal) for tests, the demo and benchmarks; computing markers is left to
``analysis.windows``.

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

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from analysis.errors import AnalysisError

__all__ = [
    "SimJournal",
    "SimSession",
    "SimulatedPatient",
    "SimulationError",
    "TrueShift",
    "simulate_patient",
    "simulate_rr",
]

logger = logging.getLogger(__name__)

# Physiological clipping of simulated intervals (ms): 30–200 bpm.
SIM_RR_MIN_MS = 300.0
SIM_RR_MAX_MS = 2000.0
#: Ticks of the Bluetooth Heart Rate Measurement RR field per second.
TICKS_PER_S = 1024

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

# Patient-level variation.
_DAY_SD_LN_RMSSD = 0.15  # day-to-day SD of morning ln RMSSD (CV ~4 % at ln RMSSD ~3.7)
_DAY_AR1 = 0.3  # day-to-day autocorrelation of that noise
_FORGOTTEN_MORNING_RATE = 0.05  # worn days whose morning reading was skipped (night only)
_HR_PER_LN_RMSSD = -8.0  # bpm change of resting HR per unit change of ln RMSSD
_DAY_SD_HR_BPM = 1.5

State = Literal["rest", "circadian", "active"]


class SimulationError(AnalysisError):
    """Invalid simulation parameters (the offending parameter is in ``fields``)."""


@dataclass(frozen=True)
class SimSession:
    """A simulated medicine session or integration appointment (times tz-aware UTC)."""

    kind: Literal["medicine", "integration"]
    started_at: datetime
    ended_at: datetime
    note: str

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly representation (ISO 8601 times)."""
        return {
            "kind": self.kind,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "note": self.note,
        }


@dataclass(frozen=True)
class SimJournal:
    """A simulated journal entry: time (tz-aware UTC), text, tags, mood and body scales 0–10."""

    at: datetime
    text: str
    tags: tuple[str, ...]
    mood: int
    body: int

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly representation (ISO 8601 time)."""
        return {
            "at": self.at.isoformat(),
            "text": self.text,
            "tags": list(self.tags),
            "mood": self.mood,
            "body": self.body,
        }


@dataclass(frozen=True)
class TrueShift:
    """Ground truth of a simulated patient, per simulated day (index 0 = local date of ``start``).

    Attributes
    ----------
    baseline_ln_rmssd:
        The patient's resting (morning) ln RMSSD before any session, ln(ms).
    baseline_hr_bpm:
        The patient's resting heart rate before any session, bpm.
    medicine_days:
        Day indices of the medicine sessions.
    shift_after:
        ln RMSSD step added from the day after each medicine session (cumulative).
    shift_by_day:
        Total true ln RMSSD shift on each day (sum of the steps already applied).
    morning_ln_rmssd:
        Target ln RMSSD of each day's morning reading (baseline + shift + day-to-day noise);
        NaN on days without wear.
    missing_days:
        Day indices with no wear at all.
    day_sd_ln_rmssd:
        SD of the day-to-day noise, ln(ms).
    """

    baseline_ln_rmssd: float
    baseline_hr_bpm: float
    medicine_days: tuple[int, ...]
    shift_after: tuple[float, ...]
    shift_by_day: tuple[float, ...]
    morning_ln_rmssd: tuple[float, ...]
    missing_days: tuple[int, ...]
    day_sd_ln_rmssd: float

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly representation (NaN becomes None)."""
        return {
            "baseline_ln_rmssd": self.baseline_ln_rmssd,
            "baseline_hr_bpm": self.baseline_hr_bpm,
            "medicine_days": list(self.medicine_days),
            "shift_after": list(self.shift_after),
            "shift_by_day": list(self.shift_by_day),
            "morning_ln_rmssd": [None if np.isnan(v) else v for v in self.morning_ln_rmssd],
            "missing_days": list(self.missing_days),
            "day_sd_ln_rmssd": self.day_sd_ln_rmssd,
        }


@dataclass(frozen=True, eq=False)
class SimulatedPatient:
    """A simulated patient record.

    Attributes
    ----------
    beats_t_ms:
        Epoch milliseconds (UTC) of each beat, i.e. the end of its RR interval; wear segments only,
        strictly increasing.
    rr_ticks:
        RR interval ending at each beat, in 1/1024 s (``round(rr_ms * 1024 / 1000)``). Within a
        segment, beat times are the segment start plus the cumulative sum of the ticks converted
        to ms and rounded, so ``diff(beats_t_ms)`` equals ``rr_ticks * 1000 / 1024`` within
        1 ms (rounding only, no drift).
    segment_start_index:
        Index of the first beat of each wear segment (recording gaps lie between segments).
    segments:
        (start, end) of each wear segment, tz-aware UTC (start = the segment's start instant,
        end = its last beat).
    sessions, journal:
        Medicine sessions, integration appointments and journal entries in time order.
    morning_readings:
        (start, end) of each still 5-minute morning reading, tz-aware UTC.
    true_shift:
        Ground truth (:class:`TrueShift`).
    tz:
        The patient's IANA time zone.
    local_days:
        Local date of each simulated day.
    """

    beats_t_ms: NDArray[np.int64]
    rr_ticks: NDArray[np.int32]
    segment_start_index: NDArray[np.int64]
    segments: list[tuple[datetime, datetime]]
    sessions: list[SimSession]
    journal: list[SimJournal]
    morning_readings: list[tuple[datetime, datetime]]
    true_shift: TrueShift
    tz: str
    local_days: tuple[date, ...] = field(default=())

    @property
    def rr_ms(self) -> NDArray[np.float64]:
        """RR intervals in ms (exactly ``rr_ticks * 1000 / 1024``)."""
        return self.rr_ticks.astype(np.float64) * (1000.0 / TICKS_PER_S)

    @property
    def beats_t_s(self) -> NDArray[np.float64]:
        """Beat times in epoch seconds."""
        return self.beats_t_ms.astype(np.float64) / 1000.0


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
    state: State,
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


def _segment_rr(
    duration_s: float,
    rng: np.random.Generator,
    *,
    state: State,
    start_hour_local: float,
    mean_hr_bpm: float,
    ln_rmssd: float,
    resp_rate_hz: float,
    lf_hz: float,
    ectopic_rate: float,
    missed_rate: float,
    extra_rate: float,
) -> NDArray[np.float64]:
    """RR intervals (ms) whose cumulative sum stays within ``duration_s`` (see module docstring)."""
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


def _check_rate(name: str, value: float) -> None:
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
    _check_rate("ectopic_rate", ectopic_rate)
    _check_rate("missed_rate", missed_rate)
    if start_hour_local is not None and not 0.0 <= start_hour_local <= 24.0:
        raise SimulationError(
            f"start_hour_local must be in [0, 24], got {start_hour_local}",
            parameter="start_hour_local",
        )
    rng = np.random.default_rng(seed)
    return _segment_rr(
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


# --------------------------------------------------------------------------------------------
# Patient timeline


@dataclass(frozen=True)
class _Piece:
    start: datetime  # UTC; ignored when chained
    duration_s: float
    state: State
    ln_rmssd: float
    hr_bpm: float
    chained: bool  # continue from the previous piece's last beat (no gap)


_JOURNAL_BANK: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Slept badly, woke at four and could not settle.", ("sleep",)),
    ("Tight chest on the way to work, eased after a walk.", ("body", "anxiety")),
    ("Calm evening, cooked with my sister.", ("calm", "family")),
    ("Vivid dream about the old house.", ("dream",)),
    ("Felt the breathing exercise land today, shoulders softer.", ("body", "calm")),
    ("Argument at work, heart racing for an hour.", ("work", "anxiety")),
    ("Long walk by the river, noticed the light.", ("calm",)),
    ("Tired but steady.", ("sleep", "body")),
)


def _local_dt(day: date, hour: float, zone: ZoneInfo) -> datetime:
    minutes = round(hour * 60.0)
    return datetime.combine(day, time(0, 0), tzinfo=zone) + timedelta(minutes=minutes)


def _to_utc(dt: datetime) -> datetime:
    return dt.astimezone(ZoneInfo("UTC"))


def simulate_patient(
    *,
    seed: int,
    days: int = 42,
    start: datetime,
    tz: str = "Europe/Berlin",
    medicine_days: Sequence[int] = (14, 28),
    ln_rmssd_shift_after: Sequence[float] = (0.15, 0.10),
    wear: Literal["morning+night", "all_day"] = "morning+night",
    poor_quality: bool = False,
    missing_day_rate: float = 0.1,
) -> SimulatedPatient:
    """Simulate a patient's weeks of wear, sessions and journal around medicine sessions.

    Day ``d`` is the local date of ``start`` plus ``d`` days. On a worn day with
    ``wear="morning+night"`` the patient records a still 5-minute morning reading between
    06:50 and 07:15 (state "rest", ln RMSSD = baseline + true shift + day-to-day AR(1) noise;
    skipped on 5 % of days) and wears the strap overnight from about 22:30 to 06:00 (the
    circadian/sleep model; the night counts for the next local date and is only worn when that
    date is), with a 30–90 minute daytime recording on about a third of days (state "active").
    With ``wear="all_day"`` the recording is continuous over consecutive worn days and the
    morning reading is a 5-minute still stretch inside it. A missing day (probability
    ``missing_day_rate``, never a medicine day) has no beats on its local date. ln RMSSD
    steps up by ``ln_rmssd_shift_after[j]`` from the day after medicine session ``j``
    (cumulative); resting HR falls by 8 bpm per unit of ln RMSSD.

    Parameters
    ----------
    seed:
        Seed of the random generator (reproducible).
    days:
        Number of simulated days (1–400).
    start:
        Tz-aware start instant; segments before it are not generated.
    tz:
        The patient's IANA time zone (local clock for wear and sessions).
    medicine_days:
        Strictly increasing day indices of the medicine sessions (10:00 local, 2.5 h).
    ln_rmssd_shift_after:
        ln RMSSD step after each medicine session, one per session.
    wear:
        ``"morning+night"`` or ``"all_day"``.
    poor_quality:
        Many artefacts (2 % ectopic, 1.5 % missed, 1 % extra beats) and short dropouts at night.
    missing_day_rate:
        Probability that a day has no wear at all (0–0.9).

    Returns
    -------
    SimulatedPatient
        Beats (epoch ms, ticks), sessions, journal, morning readings and the ground truth.
        Integration appointments follow each medicine session after 2–3 days, except the last
        one, which is late (5 days) so that the dashboard can flag it.

    Raises
    ------
    SimulationError
        On invalid parameters.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise SimulationError("start must be timezone-aware", parameter="start")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SimulationError(f"unknown time zone {tz!r}", parameter="tz") from exc
    if not 1 <= days <= 400:
        raise SimulationError(f"days must be in [1, 400], got {days}", parameter="days")
    med = tuple(int(d) for d in medicine_days)
    shifts = tuple(float(s) for s in ln_rmssd_shift_after)
    if len(med) != len(shifts):
        raise SimulationError(
            "ln_rmssd_shift_after needs one value per medicine day",
            parameter="ln_rmssd_shift_after",
        )
    if any(not 0 <= d < days for d in med) or any(b <= a for a, b in itertools.pairwise(med)):
        raise SimulationError(
            f"medicine_days must be strictly increasing within [0, {days}), got {med}",
            parameter="medicine_days",
        )
    if any(not -1.0 <= s <= 1.0 for s in shifts):
        raise SimulationError(
            "each ln RMSSD shift must lie in [-1, 1]", parameter="ln_rmssd_shift_after"
        )
    if wear not in ("morning+night", "all_day"):
        raise SimulationError(f"unknown wear pattern {wear!r}", parameter="wear")
    if not 0.0 <= missing_day_rate <= 0.9:
        raise SimulationError(
            f"missing_day_rate must be in [0, 0.9], got {missing_day_rate}",
            parameter="missing_day_rate",
        )

    rng = np.random.default_rng(seed)
    utc = ZoneInfo("UTC")
    start_utc = start.astimezone(utc)
    day0 = start.astimezone(zone).date()
    local_days = tuple(day0 + timedelta(days=d) for d in range(days))

    base_ln = float(np.clip(rng.normal(3.7, 0.3), 2.9, 4.5))
    base_hr = float(np.clip(rng.normal(64.0, 6.0), 48.0, 85.0))
    shift_by_day = np.zeros(days)
    for d_med, s in zip(med, shifts, strict=True):
        shift_by_day[d_med + 1 :] += s
    noise = np.empty(days)
    innov_sd = _DAY_SD_LN_RMSSD * np.sqrt(1.0 - _DAY_AR1**2)
    noise[0] = rng.normal(0.0, _DAY_SD_LN_RMSSD)
    for d in range(1, days):
        noise[d] = _DAY_AR1 * noise[d - 1] + rng.normal(0.0, innov_sd)
    ln_day = base_ln + shift_by_day + noise
    hr_day = base_hr + _HR_PER_LN_RMSSD * (ln_day - base_ln) + rng.normal(0.0, _DAY_SD_HR_BPM, days)
    missing = rng.random(days) < missing_day_rate
    missing[list(med)] = False
    worn = ~missing

    ectopic_rate, missed_rate, extra_rate = (
        (0.02, 0.015, 0.01) if poor_quality else (0.002, 0.001, 0.0)
    )

    pieces: list[_Piece] = []
    morning_readings: list[tuple[datetime, datetime]] = []
    for d in range(days):
        if not worn[d]:
            continue
        day = local_days[d]
        ln_next = ln_day[d + 1] if d + 1 < days else ln_day[d]
        hr_next = hr_day[d + 1] if d + 1 < days else hr_day[d]
        morning_h = 7.0 + rng.uniform(-1.0 / 6.0, 0.25)
        if wear == "morning+night":
            m_start = _to_utc(_local_dt(day, morning_h, zone))
            if rng.random() >= _FORGOTTEN_MORNING_RATE:
                pieces.append(_Piece(m_start, 300.0, "rest", ln_day[d], hr_day[d], False))
            if rng.random() < 1.0 / 3.0:
                day_h = rng.uniform(12.0, 17.0)
                pieces.append(
                    _Piece(
                        _to_utc(_local_dt(day, day_h, zone)),
                        float(rng.uniform(1800.0, 5400.0)),
                        "active",
                        ln_day[d],
                        hr_day[d],
                        False,
                    )
                )
            if d + 1 >= days or not worn[d + 1]:
                continue  # the night belongs to the next local date, which has no wear
            night_start = _to_utc(_local_dt(day, 22.5 + rng.uniform(-0.4, 0.4), zone))
            # The night ends at least 35 min before the next morning reading (06:50 at the
            # earliest), so the reading stands alone.
            night_end_h = 6.0 + rng.uniform(-0.25, 0.25)
            night_end = _to_utc(_local_dt(day + timedelta(days=1), night_end_h, zone))
            night_s = (night_end - night_start).total_seconds()
            pieces.extend(_night_pieces(night_start, night_s, ln_next, hr_next, poor_quality, rng))
        else:
            midnight = _to_utc(_local_dt(day, 0.0, zone))
            m_start = _to_utc(_local_dt(day, morning_h, zone))
            chained = d > 0 and bool(worn[d - 1])
            pieces.append(
                _Piece(
                    midnight,
                    (m_start - midnight).total_seconds(),
                    "circadian",
                    ln_day[d],
                    hr_day[d],
                    chained,
                )
            )
            pieces.append(_Piece(m_start, 300.0, "rest", ln_day[d], hr_day[d], True))
            next_midnight = _to_utc(_local_dt(day + timedelta(days=1), 0.0, zone))
            rest_s = (next_midnight - m_start).total_seconds() - 300.0
            pieces.append(_Piece(m_start, rest_s, "active", ln_day[d], hr_day[d], True))

    t_parts: list[NDArray[np.int64]] = []
    tick_parts: list[NDArray[np.int32]] = []
    seg_starts: list[int] = []
    segments: list[tuple[datetime, datetime]] = []
    n_total = 0
    last_ms: int | None = None
    seg_open_start: datetime | None = None
    for piece in pieces:
        if piece.chained and last_ms is not None:
            origin_ms = last_ms
        else:
            origin_ms = round(piece.start.timestamp() * 1000.0)
            if origin_ms < round(start_utc.timestamp() * 1000.0) or (
                last_ms is not None and origin_ms <= last_ms
            ):
                continue
        origin_local = datetime.fromtimestamp(origin_ms / 1000.0, tz=utc).astimezone(zone)
        hour = origin_local.hour + origin_local.minute / 60.0 + origin_local.second / 3600.0
        rr = _segment_rr(
            piece.duration_s,
            rng,
            state=piece.state,
            start_hour_local=hour,
            mean_hr_bpm=float(np.clip(piece.hr_bpm, 30.0, 150.0)),
            ln_rmssd=float(piece.ln_rmssd),
            resp_rate_hz=float(np.clip(rng.normal(0.25, 0.02), 0.15, 0.35)),
            lf_hz=0.1,
            ectopic_rate=ectopic_rate,
            missed_rate=missed_rate,
            extra_rate=extra_rate,
        )
        ticks = np.rint(rr * (TICKS_PER_S / 1000.0)).astype(np.int32)
        ticks = ticks[ticks > 0]
        if ticks.size == 0:
            continue
        t_ms = origin_ms + np.rint(
            np.cumsum(ticks, dtype=np.int64) * (1000.0 / TICKS_PER_S)
        ).astype(np.int64)
        if not (piece.chained and last_ms is not None):
            if seg_open_start is not None and last_ms is not None:
                segments.append((seg_open_start, datetime.fromtimestamp(last_ms / 1000.0, tz=utc)))
            seg_starts.append(n_total)
            seg_open_start = datetime.fromtimestamp(origin_ms / 1000.0, tz=utc)
        if piece.state == "rest":
            morning_readings.append(
                (
                    datetime.fromtimestamp(origin_ms / 1000.0, tz=utc),
                    datetime.fromtimestamp(int(t_ms[-1]) / 1000.0, tz=utc),
                )
            )
        t_parts.append(t_ms)
        tick_parts.append(ticks)
        n_total += ticks.size
        last_ms = int(t_ms[-1])
    if seg_open_start is not None and last_ms is not None:
        segments.append((seg_open_start, datetime.fromtimestamp(last_ms / 1000.0, tz=utc)))

    beats_t_ms = np.concatenate(t_parts) if t_parts else np.zeros(0, dtype=np.int64)
    rr_ticks = np.concatenate(tick_parts) if tick_parts else np.zeros(0, dtype=np.int32)

    sessions = _sessions(med, local_days, zone, rng)
    journal = _journal(days, local_days, worn, shift_by_day, sessions, zone, rng)
    morning_ln = np.where(worn, ln_day, np.nan)
    truth = TrueShift(
        baseline_ln_rmssd=base_ln,
        baseline_hr_bpm=base_hr,
        medicine_days=med,
        shift_after=shifts,
        shift_by_day=tuple(float(v) for v in shift_by_day),
        morning_ln_rmssd=tuple(float(v) for v in morning_ln),
        missing_days=tuple(int(d) for d in np.flatnonzero(missing)),
        day_sd_ln_rmssd=_DAY_SD_LN_RMSSD,
    )
    logger.debug("simulated patient seed=%d: %d beats, %d segments", seed, n_total, len(segments))
    return SimulatedPatient(
        beats_t_ms=beats_t_ms,
        rr_ticks=rr_ticks,
        segment_start_index=np.asarray(seg_starts, dtype=np.int64),
        segments=segments,
        sessions=sessions,
        journal=journal,
        morning_readings=morning_readings,
        true_shift=truth,
        tz=tz,
        local_days=local_days,
    )


def _night_pieces(
    start: datetime,
    duration_s: float,
    ln_rmssd: float,
    hr_bpm: float,
    poor_quality: bool,
    rng: np.random.Generator,
) -> list[_Piece]:
    """One night of wear; poor quality splits it with 3–8 dropouts of 5–120 s."""
    if not poor_quality:
        return [_Piece(start, duration_s, "circadian", ln_rmssd, hr_bpm, False)]
    n_gaps = int(rng.integers(3, 9))
    cuts = np.sort(rng.uniform(600.0, duration_s - 600.0, n_gaps))
    gaps = rng.uniform(5.0, 120.0, n_gaps)
    pieces: list[_Piece] = []
    t0 = 0.0
    for cut, gap in zip(cuts, gaps, strict=True):
        if cut > t0 + 60.0:
            pieces.append(
                _Piece(
                    start + timedelta(seconds=t0), cut - t0, "circadian", ln_rmssd, hr_bpm, False
                )
            )
            t0 = cut + gap
    if duration_s > t0 + 60.0:
        pieces.append(
            _Piece(
                start + timedelta(seconds=t0), duration_s - t0, "circadian", ln_rmssd, hr_bpm, False
            )
        )
    return pieces


def _sessions(
    med: tuple[int, ...], local_days: tuple[date, ...], zone: ZoneInfo, rng: np.random.Generator
) -> list[SimSession]:
    out: list[SimSession] = []
    for i, d in enumerate(med):
        m_start = _to_utc(_local_dt(local_days[0] + timedelta(days=d), 10.0, zone))
        out.append(
            SimSession(
                "medicine",
                m_start,
                m_start + timedelta(hours=2, minutes=30),
                f"Ketamine-assisted session {i + 1}",
            )
        )
        late = i == len(med) - 1
        lag = 5 if late else int(rng.integers(2, 4))
        i_start = _to_utc(_local_dt(local_days[0] + timedelta(days=d + lag), 16.0, zone))
        note = f"Integration appointment after session {i + 1}"
        if late:
            note += f" (late: {lag} days after)"
        out.append(SimSession("integration", i_start, i_start + timedelta(hours=1), note))
    out.sort(key=lambda s: s.started_at)
    return out


def _journal(
    days: int,
    local_days: tuple[date, ...],
    worn: NDArray[np.bool_],
    shift_by_day: NDArray[np.float64],
    sessions: list[SimSession],
    zone: ZoneInfo,
    rng: np.random.Generator,
) -> list[SimJournal]:
    out: list[SimJournal] = []
    for d in range(days):
        if not worn[d] or rng.random() > 0.35:
            continue
        text, tags = _JOURNAL_BANK[int(rng.integers(len(_JOURNAL_BANK)))]
        at = _to_utc(_local_dt(local_days[d], float(rng.uniform(19.5, 21.5)), zone))
        lift = 8.0 * float(shift_by_day[d])
        mood = int(np.clip(round(rng.normal(5.0 + lift, 1.5)), 0, 10))
        body = int(np.clip(round(rng.normal(5.0 + lift, 1.5)), 0, 10))
        out.append(SimJournal(at, text, tags, mood, body))
    for s in sessions:
        at = s.ended_at + timedelta(hours=4)
        if s.kind == "medicine":
            text, tags = "After the session: heavy, tearful, then very quiet.", ("medicine",)
        else:
            text, tags = "Talked through the images from the session.", ("integration",)
        mood = int(np.clip(round(rng.normal(6.0, 1.5)), 0, 10))
        body = int(np.clip(round(rng.normal(6.0, 1.5)), 0, 10))
        out.append(SimJournal(at, text, tags, mood, body))
    out.sort(key=lambda j: j.at)
    return out
