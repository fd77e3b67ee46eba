"""The demo patients' questionnaires: PHQ-9, GAD-7 and PCL-5 answered on the standard protocol around
their simulated medicine sessions, with symptom courses that match their simulated HRV change (a
responder who reaches remission, a partial responder, a responder with one answer that raises a safety
alert), some points missed, and the newest ones left for the visitor to answer.

Pure planning (``plan_answers``) apart from storing (``seed_questionnaires``), which uses the API's own
scoring and storage (``api.instruments.store.record_response``) so alerts and their e-mails are real.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from psycopg.rows import dict_row

from api.db.queries import q
from api.instruments.definition import Instrument
from api.instruments.loader import Catalog, load_catalog
from api.instruments.schedules import ScheduledPoint, SessionRef, schedule
from api.instruments.store import record_response
from somatrace.demo.accounts import DemoPatient
from somatrace.demo.story import SimulatedPatient

#: Share of the largest drop reached at each point after a session (ketamine acts within a day; the
#: change consolidates over the following weeks).
_DROP_BY_POINT: Final[dict[str, float]] = {
    "day 1": 0.45,
    "day 2–3": 0.6,
    "day 7": 0.8,
    "day 14": 0.9,
    "day 28": 1.0,
}
#: Largest drop (share of baseline) after the first and the second medicine session, for a full responder.
_MAX_DROP: Final[tuple[float, float]] = (0.7, 0.85)
#: Simulated ln RMSSD shift after the first session that makes a full symptom responder.
_FULL_RESPONSE_SHIFT: Final[float] = 0.2
#: Baseline totals per patient (by seed) and instrument.
_BASELINES: Final[dict[int, dict[str, int]]] = {
    11: {"phq9": 17, "gad7": 13, "pcl5": 38},
    22: {"phq9": 15, "gad7": 11, "pcl5": 30},
    33: {"phq9": 19, "gad7": 15, "pcl5": 47},
}
_DEFAULT_BASELINE: Final[dict[str, int]] = {"phq9": 14, "gad7": 10, "pcl5": 30}
#: Share of points a patient leaves unanswered (by seed).
_SKIP_RATE: Final[dict[int, float]] = {11: 0.05, 22: 0.2, 33: 0.15}
#: The patient (by seed) whose newest answered PHQ-9 endorses item 9, and whose baseline did too.
_ALERT_SEED: Final[int] = 33
#: Points opened this recently are left for the visitor to answer.
_LEAVE_FOR_VISITOR: Final = timedelta(hours=18)


@dataclass(frozen=True)
class PlannedAnswer:
    instrument: str
    at: datetime
    answers: list[int]
    point: str


def _spread(inst: Instrument, total: int, rng: np.random.Generator, item9: int = 0) -> list[int]:
    """Item values adding up to ``total`` (clipped to what the items allow), item 9 of PHQ-9 fixed."""
    n = len(inst.items)
    top = [max(v) for v in inst.allowed_values]
    fixed = {8: item9} if inst.id == "phq9" else {}
    values = [fixed.get(i, 0) for i in range(n)]
    left = max(0, min(total, sum(top)) - sum(fixed.values()))
    free = [i for i in range(n) if i not in fixed]
    while left > 0:
        open_items = [i for i in free if values[i] < top[i]]
        if not open_items:
            break
        values[int(rng.choice(open_items))] += 1
        left -= 1
    return values


def _target(spec: DemoPatient, instrument: str, point: ScheduledPoint, order: int) -> float:
    """Expected total at ``point``: from the level the previous session left towards this session's."""
    base = _BASELINES.get(spec.seed, _DEFAULT_BASELINE)[instrument]
    if point.kind == "baseline":
        return float(base)
    strength = max(0.0, min(1.0, spec.ln_rmssd_shift_after[0] / _FULL_RESPONSE_SHIFT))
    level = [base * (1.0 - d * strength) for d in _MAX_DROP]
    before = float(base) if order == 0 else level[min(order, len(level)) - 1]
    after = level[min(order, len(level) - 1)]
    return before - (before - after) * _DROP_BY_POINT.get(point.label, 1.0)


def plan_answers(
    spec: DemoPatient, sim: SimulatedPatient, catalog: Catalog, now: datetime
) -> list[PlannedAnswer]:
    """What this demo patient answered, when: one answer per protocol point opened before ``now``,
    at a daytime hour inside its window, except the points they skipped and the newest ones."""
    rng = np.random.default_rng(spec.seed * 7919 + 12)
    zone = ZoneInfo(spec.timezone)
    sessions = [SessionRef(f"s{i}", s.kind, s.started_at) for i, s in enumerate(sim.sessions)]
    medicine = [s.id for s in sessions if s.kind == "medicine"]
    created = sim.segments[0][0] if sim.segments else now - timedelta(days=60)
    points = schedule(
        catalog.default_protocol, sessions, [], now=now, zone=zone, created_at=created
    )
    planned: list[PlannedAnswer] = []
    skip = _SKIP_RATE.get(spec.seed, 0.1)
    for p in points:
        if p.instrument not in catalog.instruments or p.opens_at > now - _LEAVE_FOR_VISITOR:
            continue
        if p.kind != "baseline" and rng.random() < skip:
            continue
        deadline = min(
            t for t in (p.due_by, p.closes_at, now - timedelta(hours=1)) if t is not None
        )
        start = (
            max(p.opens_at, deadline - timedelta(days=5)) if p.kind == "baseline" else p.opens_at
        )
        local_start = start.astimezone(zone)
        at = local_start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            hours=float(rng.uniform(8.0, 20.0))
        )
        if at < start:
            at = start + timedelta(minutes=float(rng.uniform(5, 60)))
        if at >= deadline:
            continue
        order = (
            medicine.index(str(p.session_id))
            if p.session_id in medicine and p.kind != "baseline"
            else 0
        )
        total = max(0, round(_target(spec, p.instrument, p, order) + float(rng.normal(0.0, 1.0))))
        inst = catalog.instruments[p.instrument]
        planned.append(
            PlannedAnswer(p.instrument, at.astimezone(zone), _spread(inst, total, rng), p.label)
        )
    if spec.seed == _ALERT_SEED:
        phq = [a for a in planned if a.instrument == "phq9"]
        for answer in (phq[0], phq[-1]) if phq else ():
            inst = catalog.instruments["phq9"]
            total = sum(answer.answers)
            answer.answers[:] = _spread(
                inst, max(total, 1), np.random.default_rng(spec.seed), item9=1
            )
    return sorted(planned, key=lambda a: a.at)


@dataclass(frozen=True)
class SeededQuestionnaires:
    responses: int
    alerts: list[uuid.UUID]


async def seed_questionnaires(
    conninfo: str,
    catalog: Catalog,
    *,
    patient_id: uuid.UUID,
    spec: DemoPatient,
    sim: SimulatedPatient,
    now: datetime,
    public_url: str | None = None,
) -> SeededQuestionnaires:
    """Store the patient's planned answers as theirs (scored and alerted like any answer)."""
    planned = plan_answers(spec, sim, catalog, now)
    alerts: list[uuid.UUID] = []
    conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True, row_factory=dict_row)
    async with conn:
        cur = await conn.execute(q("q_patient_login"), {"patient_id": patient_id})
        row = await cur.fetchone()
        user_id: Any = row["id"] if row else None
        async with conn.transaction():
            for answer in planned:
                recorded = await record_response(
                    conn,
                    catalog.instruments[answer.instrument],
                    answer.answers,
                    patient_id=patient_id,
                    at=answer.at,
                    source="patient",
                    entered_by=user_id,
                    public_url=public_url,
                )
                if recorded.alert_id is not None:
                    alerts.append(recorded.alert_id)
    return SeededQuestionnaires(len(planned), alerts)


class _Caller(Protocol):
    """The demo's JSON client (``somatrace.demo.seed.ApiCaller``)."""

    async def call(self, method: str, path: str, token: str, json: object | None = None) -> Any: ...


#: What the demo therapist wrote when acknowledging the older alert.
ACK_NOTE: Final[str] = (
    "Called Robin the same afternoon: safe, no plan or intent; reviewed the safety plan together "
    "and moved the integration appointment forward."
)


async def answer_questionnaires(
    api: _Caller,
    conninfo: str,
    *,
    patient_id: uuid.UUID,
    spec: DemoPatient,
    sim: SimulatedPatient,
    therapist_token: str,
    now: datetime,
) -> SeededQuestionnaires:
    """Demo step: the patient's past answers (stored as theirs), and the therapist's acknowledgement of
    every safety alert but the newest, which stays open on the list for the visitor to see."""
    seeded = await seed_questionnaires(
        conninfo, load_catalog(), patient_id=patient_id, spec=spec, sim=sim, now=now
    )
    for alert_id in seeded.alerts[:-1]:
        await api.call(
            "POST",
            f"/v1/patients/{patient_id}/safety-alerts/{alert_id}/acknowledge",
            therapist_token,
            {"note": ACK_NOTE},
        )
    return seeded
