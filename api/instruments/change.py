"""Symptom change per medicine session: each scheduled point's score against the baseline, with
response and remission by the instrument's rules, and the change since the session itself.

The baseline is the protocol's baseline point: the patient's latest answer in the baseline window
(``baseline.window_days``, 28 days by default) before the first medicine session. Response (a drop of
at least 50 %) and remission are judged against it, as in ketamine treatment studies. Each session
also has its pre-session score (the latest answer in the same window before that session) and each
point the change since it. When there is no baseline answer, a session's pre-session score stands in
and the summary says so. Pure: the schedule comes from ``schedules``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from api.instruments.definition import Instrument
from api.instruments.protocol import Protocol
from api.instruments.schedules import PointState, ResponseRef, ScheduledPoint, SessionRef
from api.instruments.scoring import Change, change

BaselineSource = Literal["treatment_baseline", "pre_session"]
#: Baseline window when the protocol has no baseline point.
DEFAULT_BASELINE_WINDOW = timedelta(days=28)


@dataclass(frozen=True)
class Baseline:
    response: ResponseRef
    #: treatment_baseline: before the first medicine session; pre_session: before this one (stand-in).
    source: BaselineSource


@dataclass(frozen=True)
class PointChange:
    label: str
    kind: str
    opens_at: datetime
    state: PointState
    response: ResponseRef | None
    #: Against the baseline: change, response, remission.
    change: Change | None
    #: Points since the session's pre-session score (None without one).
    since_session: int | None


@dataclass(frozen=True)
class InstrumentChange:
    instrument: str
    baseline: Baseline | None
    pre_session: ResponseRef | None
    points: tuple[PointChange, ...]

    @property
    def latest(self) -> PointChange | None:
        """The most recent answered point (what a session card shows)."""
        done = [p for p in self.points if p.response is not None]
        return done[-1] if done else None


@dataclass(frozen=True)
class SessionChange:
    session_id: uuid.UUID | str
    started_at: datetime
    instruments: tuple[InstrumentChange, ...]


def _latest_before(
    responses: Sequence[ResponseRef], instrument: str, end: datetime, window: timedelta
) -> ResponseRef | None:
    inside = [r for r in responses if r.instrument == instrument and end - window <= r.at < end]
    return max(inside, key=lambda r: r.at) if inside else None


def session_changes(
    protocol: Protocol,
    instruments: Mapping[str, Instrument],
    sessions: Sequence[SessionRef],
    responses: Sequence[ResponseRef],
    points: Sequence[ScheduledPoint],
) -> list[SessionChange]:
    """Per medicine session (in time order) and instrument: baseline, pre-session score, and each
    point's change.

    Instruments appear when the protocol schedules them after the session or the patient answered
    them before it; points that are upcoming or missed are listed without a change.
    """
    window = (
        timedelta(days=protocol.baseline.window_days)
        if protocol.baseline is not None
        else DEFAULT_BASELINE_WINDOW
    )
    medicine = sorted((s for s in sessions if s.kind == "medicine"), key=lambda s: s.started_at)
    first_start = medicine[0].started_at if medicine else None
    out: list[SessionChange] = []
    for session in medicine:
        mine = [p for p in points if p.session_id == session.id and p.kind != "baseline"]
        names = list(dict.fromkeys(p.instrument for p in mine))
        for r in responses:
            if (
                r.instrument not in names
                and r.at < session.started_at
                and r.instrument in instruments
            ):
                names.append(r.instrument)
        per_instrument: list[InstrumentChange] = []
        for name in names:
            inst = instruments.get(name)
            if inst is None:
                continue
            treatment = (
                _latest_before(responses, name, first_start, window)
                if first_start is not None
                else None
            )
            pre = _latest_before(responses, name, session.started_at, window)
            baseline: Baseline | None = None
            if treatment is not None:
                baseline = Baseline(treatment, "treatment_baseline")
            elif pre is not None:
                baseline = Baseline(pre, "pre_session")
            rows = []
            for p in sorted((p for p in mine if p.instrument == name), key=lambda p: p.opens_at):
                answered = p.response
                rows.append(
                    PointChange(
                        label=p.label,
                        kind=p.kind,
                        opens_at=p.opens_at,
                        state=p.state,
                        response=answered,
                        change=(
                            change(inst, baseline.response.total, answered.total)
                            if baseline is not None and answered is not None
                            else None
                        ),
                        since_session=(
                            answered.total - pre.total
                            if pre is not None and answered is not None
                            else None
                        ),
                    )
                )
            per_instrument.append(InstrumentChange(name, baseline, pre, tuple(rows)))
        out.append(SessionChange(session.id, session.started_at, tuple(per_instrument)))
    return out
