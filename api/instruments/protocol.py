"""Questionnaire protocols: when a patient answers which instrument, anchored on medicine sessions.

A clinic template (a file in ``protocols/``) gives every new patient their protocol; a therapist can
change one patient's. Turning a protocol into due dates is ``schedules``'s job.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.instruments.definition import ID_PATTERN, InstrumentId

#: Protocol file format this code reads.
PROTOCOL_FORMAT = 1
#: Furthest day after a session a point may lie.
MAX_POINT_DAY = 366

PointLabel = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaselinePoint(_Strict):
    """Answered before the first medicine session."""

    instruments: tuple[InstrumentId, ...] | None = Field(
        default=None, description="Instruments of this point; default: the protocol's"
    )
    window_days: int = Field(
        default=28, ge=1, le=365, description="Answers this many days before the session count"
    )


class SessionPoint(_Strict):
    """Answered on local calendar days ``from_day``..``to_day`` after each medicine session (day 1 =
    the day after)."""

    label: PointLabel
    from_day: int = Field(ge=0, le=MAX_POINT_DAY)
    to_day: int = Field(ge=0, le=MAX_POINT_DAY)
    before_integration: bool = Field(
        default=False,
        description="Due before an integration appointment that falls within these days",
    )
    instruments: tuple[InstrumentId, ...] | None = None


class MonthlyPoint(_Strict):
    """Repeats every ``every_days`` after the last session point until the next medicine session."""

    every_days: int = Field(default=30, ge=7, le=365)
    answer_within_days: int = Field(default=7, ge=1, le=60)
    instruments: tuple[InstrumentId, ...] | None = None


class Protocol(_Strict):
    """One protocol: a template file's content, or a patient's changed copy of one."""

    format: int = PROTOCOL_FORMAT
    id: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    instruments: tuple[InstrumentId, ...] = Field(min_length=1, max_length=20)
    baseline: BaselinePoint | None = None
    after_session: tuple[SessionPoint, ...] = Field(default=(), max_length=30)
    monthly: MonthlyPoint | None = None

    def baseline_instruments(self) -> tuple[str, ...]:
        if self.baseline is None:
            return ()
        return self.baseline.instruments or self.instruments

    def point_instruments(self, point: SessionPoint) -> tuple[str, ...]:
        return point.instruments or self.instruments

    def monthly_instruments(self) -> tuple[str, ...]:
        if self.monthly is None:
            return ()
        return self.monthly.instruments or self.instruments


def protocol_problems(protocol: Protocol, known: Collection[str]) -> list[tuple[str, str]]:
    """What is wrong with a protocol, as ``(field, message)`` pairs; ``known``: instrument ids."""
    problems: list[tuple[str, str]] = []
    if protocol.format != PROTOCOL_FORMAT:
        problems.append(("format", f"must be {PROTOCOL_FORMAT}"))

    def unknown(field: str, ids: tuple[str, ...] | None) -> None:
        if ids is None:
            return
        missing = [i for i in ids if i not in known]
        if missing:
            problems.append((field, f"unknown instrument(s) {missing}; known: {sorted(known)}"))
        if len(set(ids)) != len(ids):
            problems.append((field, "lists an instrument twice"))
        if not ids:
            problems.append((field, "must list at least one instrument (or be left out)"))

    unknown("instruments", protocol.instruments)
    if protocol.baseline is not None:
        unknown("baseline.instruments", protocol.baseline.instruments)
    if protocol.monthly is not None:
        unknown("monthly.instruments", protocol.monthly.instruments)
    labels: set[str] = set()
    previous_to = 0
    for n, point in enumerate(protocol.after_session, start=1):
        where = f"after_session.{n}"
        unknown(f"{where}.instruments", point.instruments)
        if point.to_day < point.from_day:
            problems.append((f"{where}.to_day", "must not be before from_day"))
        if point.from_day < 1:
            problems.append(
                (f"{where}.from_day", "must be 1 or later (day 1 is the day after the session)")
            )
        if n > 1 and point.from_day <= previous_to:
            problems.append(
                (
                    f"{where}.from_day",
                    f"must come after the previous point's to_day ({previous_to}); points may not overlap",
                )
            )
        previous_to = max(previous_to, point.to_day)
        if point.label in labels:
            problems.append((f"{where}.label", f"duplicate label {point.label!r}"))
        labels.add(point.label)
    if protocol.monthly is not None and not protocol.after_session:
        problems.append(("monthly", "monthly points follow the last after_session point; add one"))
    return problems
