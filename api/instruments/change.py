"""Symptom change per medicine session: each scheduled point's score against the pre-session
baseline, with response and remission by the instrument's rules.

The pre-session baseline of a session is the patient's latest answer in the baseline window before
it (``baseline.window_days``, 28 by default); when a later session has none, the treatment baseline
(before the first session) stands in, and the summary says so. Pure: the schedule comes from
``schedules``.
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

BaselineSource = Literal["pre_session", "treatment_baseline"]
#: Baseline window when the protocol has no baseline point.
DEFAULT_BASELINE_WINDOW = timedelta(days=28)


@dataclass(frozen=True)
class Baseline:
    response: ResponseRef
    source: BaselineSource


@dataclass(frozen=True)
class PointChange:
    label: str
    kind: str
    opens_at: datetime
    state: PointState
    response: ResponseRef | None
    change: Change | None


@dataclass(frozen=True)
class InstrumentChange:
    instrument: str
    baseline: Baseline | None
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
    """Per medicine session (in time order) and instrument: baseline and each point's change.

    Instruments appear when the protocol schedules them after the session or the patient answered
    them before it; points that are upcoming or missed are listed without a change.
    """
    window = (
        timedelta(days=protocol.baseline.window_days)
        if protocol.baseline is not None
        else DEFAULT_BASELINE_WINDOW
    )
    medicine = sorted((s for s in sessions if s.kind == "medicine"), key=lambda s: s.started_at)
    out: list[SessionChange] = []
    treatment: dict[str, ResponseRef | None] = {}
    for k, session in enumerate(medicine):
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
            own = _latest_before(responses, name, session.started_at, window)
            if k == 0:
                treatment[name] = own
            baseline: Baseline | None = None
            if own is not None:
                baseline = Baseline(own, "pre_session")
            elif treatment.get(name) is not None:
                ref = treatment[name]
                assert ref is not None
                baseline = Baseline(ref, "treatment_baseline")
            rows = []
            for p in sorted((p for p in mine if p.instrument == name), key=lambda p: p.opens_at):
                delta = (
                    change(inst, baseline.response.total, p.response.total)
                    if baseline is not None and p.response is not None
                    else None
                )
                rows.append(PointChange(p.label, p.kind, p.opens_at, p.state, p.response, delta))
            per_instrument.append(InstrumentChange(name, baseline, tuple(rows)))
        out.append(SessionChange(session.id, session.started_at, tuple(per_instrument)))
    return out
