"""The demo's questionnaire answers: valid for their instruments, inside their protocol windows and in
the past, with a responder who reaches remission, a patient who does not respond, and one patient whose
answers raise safety alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.instruments.change import session_changes
from api.instruments.loader import load_catalog
from api.instruments.schedules import ResponseRef, SessionRef, schedule
from api.instruments.scoring import answer_problems, score
from somatrace.demo.accounts import PATIENTS, DemoPatient
from somatrace.demo.questionnaires import plan_answers
from somatrace.demo.seed import simulate

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
DAYS = 21  # a shorter story keeps the test fast; the same two sessions, a week apart


@pytest.fixture(scope="module")
def plans() -> dict[str, tuple[DemoPatient, object, list]]:
    catalog = load_catalog()
    out = {}
    for spec in PATIENTS:
        sim = simulate(spec, NOW, days=DAYS)
        out[spec.login.email] = (spec, sim, plan_answers(spec, sim, catalog, NOW))
    return out


def _changes(spec: DemoPatient, sim: object, planned: list) -> list:
    catalog = load_catalog()
    sessions = [SessionRef(f"s{i}", s.kind, s.started_at) for i, s in enumerate(sim.sessions)]  # type: ignore[attr-defined]
    responses = [
        ResponseRef(
            f"r{i}",
            a.instrument,
            a.at,
            sum(a.answers),
            score(catalog.instruments[a.instrument], a.answers).severity,
        )
        for i, a in enumerate(planned)
    ]
    points = schedule(
        catalog.default_protocol,
        sessions,
        responses,
        now=NOW,
        zone=ZoneInfo(spec.timezone),
        created_at=NOW - timedelta(days=DAYS + 1),
    )
    return session_changes(
        catalog.default_protocol, catalog.instruments, sessions, responses, points
    )


def test_answers_are_valid_past_and_on_schedule(plans: dict) -> None:
    catalog = load_catalog()
    for spec, sim, planned in plans.values():
        assert len(planned) >= 5, spec.display_name
        for a in planned:
            assert not answer_problems(catalog.instruments[a.instrument], a.answers)
            assert a.at < NOW
        assert {a.instrument for a in planned} == {"phq9", "gad7", "pcl5"}
        # every answer counts for a point of the protocol (none is outside a window)
        changes = _changes(spec, sim, planned)
        answered = sum(
            1 for c in changes for i in c.instruments for p in i.points if p.response is not None
        )
        baselines = {i.instrument for c in changes for i in c.instruments if i.baseline is not None}
        assert baselines == {"phq9", "gad7", "pcl5"}
        assert answered + 3 == len(planned), spec.display_name


def test_alex_responds_and_remits_sam_does_not(plans: dict) -> None:
    spec, sim, planned = plans["alex@demo.somatrace.org"]
    last = _changes(spec, sim, planned)[-1]
    phq = next(i for i in last.instruments if i.instrument == "phq9")
    assert phq.latest is not None and phq.latest.change is not None
    assert phq.latest.change.response is True and phq.latest.change.remission is True
    spec, sim, planned = plans["sam@demo.somatrace.org"]
    for c in _changes(spec, sim, planned):
        phq = next(i for i in c.instruments if i.instrument == "phq9")
        assert all(p.change is None or p.change.response is False for p in phq.points)


def test_one_patient_endorses_item_9(plans: dict) -> None:
    catalog = load_catalog()
    flagged = {
        email: [
            a
            for a in planned
            if a.instrument == "phq9" and score(catalog.instruments["phq9"], a.answers).safety_alert
        ]
        for email, (_, _, planned) in plans.items()
    }
    assert [email for email, hits in flagged.items() if hits] == ["robin@demo.somatrace.org"]
    robin = [a for a in plans["robin@demo.somatrace.org"][2] if a.instrument == "phq9"]
    assert flagged["robin@demo.somatrace.org"] == [
        robin[0],
        robin[-1],
    ]  # the baseline and the newest
