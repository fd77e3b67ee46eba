"""The demo's patient story: weeks of wear, medicine sessions, integration appointments and journal.

Seeded and reproducible; the RR intervals of each worn stretch come from ``analysis.simulate``. Used by
the demo, the integration tests and the benchmarks; it is a story about a person, not HRV math.
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
from numpy.typing import NDArray

from analysis.simulate import (
    SimState,
    SimulationError,
    simulate_segment_rr,
)
from wire import RR_TICKS_PER_S

__all__ = [
    "SimJournal",
    "SimSession",
    "SimulatedPatient",
    "SimulationError",
    "TrueShift",
    "simulate_patient",
]

logger = logging.getLogger(__name__)

# Patient-level variation.
_DAY_SD_LN_RMSSD = 0.15  # day-to-day SD of morning ln RMSSD (CV ~4 % at ln RMSSD ~3.7)
_DAY_AR1 = 0.3  # day-to-day autocorrelation of that noise
_FORGOTTEN_MORNING_RATE = 0.05  # worn days whose morning reading was skipped (night only)
_HR_PER_LN_RMSSD = -8.0  # bpm change of resting HR per unit change of ln RMSSD
_DAY_SD_HR_BPM = 1.5


#: Medicine, route, dose and setting of the simulated medicine sessions (IM ketamine in a clinic room).
MEDICINE_DETAILS: dict[str, object] = {
    "medicine": "ketamine",
    "route": "im",
    "dose": 0.75,
    "dose_unit": "mg/kg",
    "setting": "clinic room, eyeshades and music, therapist present",
}


@dataclass(frozen=True)
class SimSession:
    """A simulated medicine session or integration appointment (times tz-aware UTC)."""

    kind: Literal["medicine", "integration"]
    started_at: datetime
    ended_at: datetime
    note: str

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly representation (ISO 8601 times), as ``POST /v1/patients/{id}/sessions`` takes it:
        medicine sessions carry their structured fields (migration 0050)."""
        return {
            "kind": self.kind,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "note": self.note,
            **(MEDICINE_DETAILS if self.kind == "medicine" else {}),
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
        return self.rr_ticks.astype(np.float64) * (1000.0 / RR_TICKS_PER_S)

    @property
    def beats_t_s(self) -> NDArray[np.float64]:
        """Beat times in epoch seconds."""
        return self.beats_t_ms.astype(np.float64) / 1000.0


# --------------------------------------------------------------------------------------------
# Patient timeline


@dataclass(frozen=True)
class _Piece:
    start: datetime  # UTC; ignored when chained
    duration_s: float
    state: SimState
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
        rr = simulate_segment_rr(
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
        ticks = np.rint(rr * (RR_TICKS_PER_S / 1000.0)).astype(np.int32)
        ticks = ticks[ticks > 0]
        if ticks.size == 0:
            continue
        t_ms = origin_ms + np.rint(
            np.cumsum(ticks, dtype=np.int64) * (1000.0 / RR_TICKS_PER_S)
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
