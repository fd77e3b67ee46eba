"""Beat-time reconstruction: turns timestamp-less RR lists from notifications into beat times.

One continuous beat clock per strap, slewed gently toward the wall clock, never reordered; gaps
are recorded, never filled. The method is in firmware_notes/beat-time-reconstruction.md.
Parsing is left to ``collector.gatt``, strap filters to ``collector.quirks``, storage to the spool.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from collector.gatt import HeartRateMeasurement
from collector.quirks import GENERIC, StrapProfile, effective_contact, filter_rr
from wire import ticks_to_ms

__all__ = [
    "DEFAULT_GAIN_EARLY",
    "DEFAULT_GAIN_LATE",
    "DEFAULT_JUMP_MS",
    "DEFAULT_MAX_SLEW",
    "Beat",
    "BeatClock",
    "ClockOutput",
    "Gap",
]

logger = logging.getLogger(__name__)

#: Fraction of a *late* arrival error (arrival after the predicted last beat, e > 0) corrected per
#: notification. Late arrivals are expected — the last beat precedes its notification by 0..1 s
#: plus latency — so they are weak evidence and pull the clock forward slowly (~50 s).
DEFAULT_GAIN_LATE = 0.02
#: Fraction of an *early* arrival error (e < 0) corrected per notification. A beat cannot happen
#: after the notification reporting it arrived, so the clock is ahead: pull it back fast (~5 s).
#: The asymmetry makes the clock track the earliest arrivals rather than the average delay.
DEFAULT_GAIN_EARLY = 0.2
#: Largest correction per notification as a fraction of the notification's RR span: each interval
#: is stretched or shrunk by at most 2 %, enough to follow a strap clock off by 0.5 %.
DEFAULT_MAX_SLEW = 0.02
#: An arrival later than the clock's prediction by more than this means beats went missing
#: (notification period ~1 s + BLE latency jitter stay well below it).
DEFAULT_JUMP_MS = 2500.0


@dataclass(frozen=True, slots=True)
class Beat:
    """One heartbeat: epoch ms of the beat (end of its RR) and its RR in 1/1024 s."""

    t_ms: int
    rr_ticks: int

    @property
    def rr_ms(self) -> float:
        """RR interval in ms, exact."""
        return ticks_to_ms(self.rr_ticks)


@dataclass(frozen=True, slots=True)
class Gap:
    """Beats between two recorded beat times (epoch ms) may be missing.

    ``start_ms`` is the last beat before the break, or the first moment of the recording, and
    ``end_ms`` the first beat after it; the RR stored with the beat at ``end_ms`` is real but its
    predecessor was not recorded.
    """

    start_ms: int
    end_ms: int


@dataclass(slots=True)
class ClockOutput:
    """Result of one notification: new beats (strictly increasing), gaps, RR values dropped."""

    beats: list[Beat] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    dropped: int = 0
    #: Sensor contact as it should be shown (``None`` while unknown or unsupported).
    contact: bool | None = None


class BeatClock:
    """Reconstructs beat times for one strap connection after another.

    Parameters
    ----------
    profile:
        The strap's quirk profile (see ``collector.quirks.profile_for``); can be replaced on
        ``on_connect`` once Device Information has been read.
    resume_after_ms:
        Last beat time already stored (e.g. from the spool after a restart): new beats come
        strictly after it and a gap is recorded from it to the first new beat.
    gain_late, gain_early, max_slew, jump_ms:
        Loop gains, slew limit and jump threshold; the defaults are documented above.

    Notes
    -----
    Arrival ``W`` (wall ms) of a notification with RR values ``r1..rn`` is taken as the time of its
    last beat. On the first notification after a (re)connect the clock is anchored there and
    earlier beats follow by subtraction. Afterwards the clock advances by the RR values themselves;
    the error ``e = W - (last beat + sum r)`` is corrected by ``gain_late * e`` (``e > 0``) or
    ``gain_early * e`` (``e < 0``), clamped to
    ``max_slew * sum r`` and spread over the notification's intervals in proportion to their
    length, so beats never move backwards. ``e > jump_ms`` re-anchors the clock at ``W`` and
    records a gap.
    """

    def __init__(
        self,
        profile: StrapProfile = GENERIC,
        *,
        resume_after_ms: int | None = None,
        gain_late: float = DEFAULT_GAIN_LATE,
        gain_early: float = DEFAULT_GAIN_EARLY,
        max_slew: float = DEFAULT_MAX_SLEW,
        jump_ms: float = DEFAULT_JUMP_MS,
    ) -> None:
        self._profile = profile
        self._gain_late = gain_late
        self._gain_early = gain_early
        self._max_slew = max_slew
        self._jump_ms = jump_ms
        self._last_pos_ms: float | None = (
            None if resume_after_ms is None else float(resume_after_ms)
        )
        self._last_t_ms: int | None = resume_after_ms
        self._needs_anchor = True
        self._connected = False
        self._connect_wall_s: float | None = None
        self._last_error_ms = 0.0

    @property
    def profile(self) -> StrapProfile:
        """The strap profile in use."""
        return self._profile

    @property
    def connected(self) -> bool:
        """Whether the clock believes the strap is connected."""
        return self._connected

    @property
    def last_beat_ms(self) -> int | None:
        """Epoch ms of the last beat emitted (or the resume point), if any."""
        return self._last_t_ms

    @property
    def last_error_ms(self) -> float:
        """Arrival minus predicted last-beat time of the latest notification, in ms."""
        return self._last_error_ms

    def on_connect(self, wall_s: float, profile: StrapProfile | None = None) -> None:
        """Start of a connection at ``wall_s`` (epoch s); the next notification re-anchors."""
        if profile is not None:
            self._profile = profile
        self._connected = True
        self._connect_wall_s = wall_s
        self._needs_anchor = True

    def on_disconnect(self, wall_s: float) -> None:
        """The link dropped at ``wall_s``; beats until the next anchor are unknown (a gap)."""
        if self._connected:
            logger.info("strap disconnected at %.3f; next beats start after a gap", wall_s)
        self._connected = False
        self._needs_anchor = True

    def on_notification(self, m: HeartRateMeasurement, wall_s: float) -> ClockOutput:
        """Place the RR values of one notification that arrived at ``wall_s`` (epoch s).

        Returns
        -------
        ClockOutput
            New beats in strictly increasing time, gaps recorded at a re-anchor, and the number
            of RR values dropped as impossible or strap garbage.
        """
        if not self._connected:
            # A notification without on_connect: the link is evidently up.
            self.on_connect(wall_s)
        since_connect_s = wall_s - (
            self._connect_wall_s if self._connect_wall_s is not None else wall_s
        )
        filtered = filter_rr(self._profile, m.rr_ticks)
        out = ClockOutput(
            dropped=filtered.dropped,
            contact=effective_contact(self._profile, m, since_connect_s),
        )
        if not filtered.rr_ticks:
            return out
        rr_ms = [ticks_to_ms(t) for t in filtered.rr_ticks]
        span_ms = sum(rr_ms)
        arrival_ms = wall_s * 1000.0

        gap_from_ms: int | None = None
        if self._needs_anchor or self._last_pos_ms is None:
            gap_from_ms = self._last_t_ms
            positions = self._anchor(arrival_ms, rr_ms)
        else:
            error_ms = arrival_ms - (self._last_pos_ms + span_ms)
            self._last_error_ms = error_ms
            if error_ms > self._jump_ms:
                logger.info(
                    "arrival %.0f ms after the beat clock's prediction: re-anchoring with a gap",
                    error_ms,
                )
                gap_from_ms = self._last_t_ms
                positions = self._anchor(arrival_ms, rr_ms)
            else:
                if error_ms < -self._jump_ms:
                    logger.warning(
                        "beat clock %.0f ms ahead of the wall clock; slewing back, no reordering",
                        -error_ms,
                    )
                limit = self._max_slew * span_ms
                gain = self._gain_late if error_ms >= 0 else self._gain_early
                correction = max(-limit, min(limit, gain * error_ms))
                scale = 1.0 + correction / span_ms
                positions = []
                pos = self._last_pos_ms
                for r in rr_ms:
                    pos += r * scale
                    positions.append(pos)

        self._needs_anchor = False
        last_t = self._last_t_ms
        for ticks, pos in zip(filtered.rr_ticks, positions, strict=True):
            t_ms = round(pos)
            if last_t is not None and t_ms <= last_t:
                t_ms = last_t + 1
            out.beats.append(Beat(t_ms=t_ms, rr_ticks=ticks))
            last_t = t_ms
        if gap_from_ms is not None:
            out.gaps.append(Gap(start_ms=gap_from_ms, end_ms=out.beats[0].t_ms))
        self._last_pos_ms = positions[-1]
        self._last_t_ms = last_t
        return out

    def _anchor(self, arrival_ms: float, rr_ms: list[float]) -> list[float]:
        """Positions with the last beat at the arrival, never before the last recorded beat."""
        start = arrival_ms - sum(rr_ms)
        if self._last_pos_ms is not None and start < self._last_pos_ms:
            # The wall clock says these beats overlap recorded ones (clock stepped back, or a
            # resume point in the future): keep order by continuing after the last beat.
            start = self._last_pos_ms
        self._last_error_ms = 0.0
        positions = []
        pos = start
        for r in rr_ms:
            pos += r
            positions.append(pos)
        return positions
