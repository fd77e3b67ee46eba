"""Schedules from the standard template: windows anchored on medicine sessions in the patient's local
days, due/overdue/done/missed states, integration appointments, later sessions, monthly points, and
change per session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from api.instruments.change import session_changes
from api.instruments.loader import load_catalog
from api.instruments.protocol import Protocol
from api.instruments.schedules import ResponseRef, ScheduledPoint, SessionRef, due_list, schedule

BERLIN = ZoneInfo("Europe/Berlin")
SESSION = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)  # a Monday; DST starts 29 March
CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def standard() -> Protocol:
    return load_catalog().default_protocol


def local(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=BERLIN)


def run(
    now: datetime,
    sessions: list[SessionRef] | None = None,
    responses: list[ResponseRef] | None = None,
    protocol: Protocol | None = None,
) -> list[ScheduledPoint]:
    return schedule(
        protocol or standard(),
        [SessionRef("s1", "medicine", SESSION)] if sessions is None else sessions,
        responses or [],
        now=now,
        zone=BERLIN,
        created_at=CREATED,
    )


def find(points: list[ScheduledPoint], instrument: str, label: str) -> ScheduledPoint:
    return next(p for p in points if p.instrument == instrument and p.label == label)


def phq(at: datetime, total: int = 10, rid: str = "") -> ResponseRef:
    return ResponseRef(rid or f"r-{at.isoformat()}", "phq9", at, total, "moderate")


def test_windows_follow_the_session_in_local_days() -> None:
    points = run(local(2026, 3, 3, 8))
    base = find(points, "phq9", "baseline")
    assert base.opens_at == SESSION - timedelta(days=28)
    assert base.due_by == SESSION - timedelta(days=1) and base.closes_at == SESSION
    assert {p.instrument for p in points if p.label == "baseline"} == {"phq9", "gad7", "pcl5"}
    day1 = find(points, "phq9", "day 1")
    assert day1.opens_at == local(2026, 3, 3) and day1.due_by == local(2026, 3, 4)
    day23 = find(points, "phq9", "day 2–3")
    assert day23.opens_at == local(2026, 3, 4) and day23.due_by == local(2026, 3, 6)
    assert find(points, "phq9", "day 7").opens_at == local(2026, 3, 9)
    assert find(points, "phq9", "day 14").opens_at == local(2026, 3, 16)
    day28 = find(points, "phq9", "day 28")
    assert day28.opens_at == local(2026, 3, 30)  # local midnight after the switch to summer time
    assert day28.opens_at.utcoffset() == timedelta(hours=2)
    assert find(points, "pcl5", "day 28").opens_at == day28.opens_at
    assert not [p for p in points if p.instrument == "pcl5" and p.label == "day 7"]
    assert day1.reason == "day 1 after the medicine session on 2026-03-02"


def test_states_move_with_the_clock() -> None:
    assert find(run(local(2026, 2, 1)), "phq9", "baseline").state == "upcoming"
    assert find(run(local(2026, 2, 20)), "phq9", "baseline").state == "due"
    assert find(run(local(2026, 3, 1, 12)), "phq9", "baseline").state == "overdue"
    assert find(run(local(2026, 3, 2, 11)), "phq9", "baseline").state == "missed"
    assert find(run(local(2026, 3, 3, 23)), "phq9", "day 1").state == "due"
    assert find(run(local(2026, 3, 4, 1)), "phq9", "day 1").state == "missed"
    assert find(run(local(2026, 3, 5, 12)), "phq9", "day 2–3").state == "due"
    assert find(run(local(2026, 3, 6, 12)), "phq9", "day 2–3").state == "overdue"
    assert find(run(local(2026, 3, 10, 12)), "phq9", "day 7").state == "overdue"
    assert find(run(local(2026, 3, 16, 12)), "phq9", "day 7").state == "missed"


def test_answers_mark_points_done_and_the_due_list_hides_the_rest() -> None:
    responses = [
        phq(local(2026, 2, 25, 9), 18, "base-early"),
        phq(local(2026, 2, 28, 9), 17, "base"),
        phq(local(2026, 3, 4, 20), 12, "d2"),
    ]
    points = run(local(2026, 3, 5, 12), responses=responses)
    assert find(points, "phq9", "baseline").response.id == "base"  # the latest before the session
    assert find(points, "phq9", "day 1").state == "missed"
    assert find(points, "phq9", "day 2–3").response.id == "d2"
    due = due_list(points)
    assert {p.state for p in due} <= {"done", "due", "overdue"}
    assert [(p.instrument, p.label, p.state) for p in due if p.instrument == "phq9"] == [
        ("phq9", "baseline", "done"),
        ("phq9", "day 2–3", "done"),
    ]
    assert ("gad7", "day 2–3", "due") in [(p.instrument, p.label, p.state) for p in due]


def test_an_integration_appointment_moves_the_day_2_3_deadline() -> None:
    integration = local(2026, 3, 5, 14)
    sessions = [SessionRef("s1", "medicine", SESSION), SessionRef("i1", "integration", integration)]
    point = find(run(local(2026, 3, 5, 15), sessions), "phq9", "day 2–3")
    assert point.due_by == integration and point.state == "overdue"
    assert point.reason.endswith("before the integration appointment")
    # an appointment outside days 2–3 changes nothing
    late = [
        SessionRef("s1", "medicine", SESSION),
        SessionRef("i1", "integration", local(2026, 3, 9, 10)),
    ]
    assert find(run(local(2026, 3, 5, 15), late), "phq9", "day 2–3").due_by == local(2026, 3, 6)


def test_moving_the_session_moves_every_point() -> None:
    moved = SESSION + timedelta(days=3)
    points = run(local(2026, 3, 6, 8), [SessionRef("s1", "medicine", moved)])
    assert find(points, "phq9", "day 1").opens_at == local(2026, 3, 6)
    assert find(points, "phq9", "day 1").state == "due"
    assert find(points, "phq9", "baseline").closes_at == moved


def test_a_second_session_ends_the_first_series_and_starts_its_own() -> None:
    second = local(2026, 3, 12, 10)
    sessions = [SessionRef("s1", "medicine", SESSION), SessionRef("s2", "medicine", second)]
    points = run(local(2026, 3, 13, 9), sessions)
    first_labels = {p.label for p in points if p.session_id == "s1" and p.instrument == "phq9"}
    assert first_labels == {"baseline", "day 1", "day 2–3", "day 7"}
    assert find([p for p in points if p.session_id == "s1"], "phq9", "day 7").closes_at == second
    s2_day1 = next(
        p for p in points if p.session_id == "s2" and p.label == "day 1" and p.instrument == "phq9"
    )
    assert s2_day1.opens_at == local(2026, 3, 13) and s2_day1.state == "due"
    assert len([p for p in points if p.label == "baseline" and p.instrument == "phq9"]) == 1


def test_monthly_points_after_day_28() -> None:
    points = run(local(2026, 6, 1, 12))
    months = [p for p in points if p.kind == "monthly" and p.instrument == "phq9"]
    assert [(p.label, p.state) for p in months] == [
        ("month 1", "missed"),
        ("month 2", "due"),
        ("month 3", "upcoming"),
    ]
    assert months[0].opens_at == local(2026, 4, 29)  # day 28 + 30
    assert months[0].state == "missed" and months[1].state == "due"
    assert months[1].due_by == months[1].opens_at + timedelta(days=7)
    assert {p.instrument for p in points if p.label == "month 2"} == {"phq9", "gad7", "pcl5"}


def test_baseline_before_any_session_is_rolling() -> None:
    now = local(2026, 2, 20, 12)
    points = run(now, sessions=[])
    base = find(points, "phq9", "baseline")
    assert base.state == "due" and base.due_by is None and "none recorded yet" in base.reason
    assert base.opens_at == now - timedelta(days=28)
    assert find(run(now, [], [phq(now - timedelta(days=3))]), "phq9", "baseline").state == "done"
    assert find(run(now, [], [phq(now - timedelta(days=40))]), "phq9", "baseline").state == "due"


def test_change_per_session_uses_the_pre_session_baseline() -> None:
    second = local(2026, 4, 6, 10)
    sessions = [SessionRef("s1", "medicine", SESSION), SessionRef("s2", "medicine", second)]
    responses = [
        phq(local(2026, 2, 27, 9), 20, "base"),
        phq(local(2026, 3, 9, 9), 10, "d7"),
        phq(local(2026, 3, 30, 9), 4, "d28"),
        phq(local(2026, 4, 13, 9), 3, "s2d7"),
    ]
    points = run(local(2026, 4, 14, 9), sessions, responses)
    catalog = load_catalog()
    changes = session_changes(standard(), catalog.instruments, sessions, responses, points)
    assert [c.session_id for c in changes] == ["s1", "s2"]
    s1 = next(i for i in changes[0].instruments if i.instrument == "phq9")
    assert s1.baseline is not None and s1.baseline.response.id == "base"
    assert s1.baseline.source == "treatment_baseline" and s1.pre_session == s1.baseline.response
    by_label = {p.label: p for p in s1.points}
    assert by_label["day 7"].change is not None and by_label["day 7"].change.response is True
    assert by_label["day 7"].change.remission is False
    assert by_label["day 28"].change is not None and by_label["day 28"].change.remission is True
    assert by_label["day 1"].state == "missed" and by_label["day 1"].change is None
    assert s1.latest is not None and s1.latest.label == "day 28"
    s2 = next(i for i in changes[1].instruments if i.instrument == "phq9")
    assert s2.baseline is not None and s2.baseline.response.id == "base"  # the treatment baseline
    assert s2.pre_session is not None and s2.pre_session.id == "d28"  # the latest answer before s2
    s2d7 = next(p for p in s2.points if p.label == "day 7")
    assert s2d7.change is not None and s2d7.change.change == -17 and s2d7.change.remission is True
    assert s2d7.since_session == -1
    gad = next(i for i in changes[0].instruments if i.instrument == "gad7")
    assert gad.baseline is None and gad.latest is None


def test_without_a_baseline_the_pre_session_score_stands_in() -> None:
    second = local(2026, 4, 6, 10)
    sessions = [SessionRef("s1", "medicine", SESSION), SessionRef("s2", "medicine", second)]
    responses = [phq(local(2026, 3, 30, 9), 12, "d28"), phq(local(2026, 4, 13, 9), 5, "s2d7")]
    points = run(local(2026, 4, 14, 9), sessions, responses)
    changes = session_changes(standard(), load_catalog().instruments, sessions, responses, points)
    s1 = next(i for i in changes[0].instruments if i.instrument == "phq9")
    assert s1.baseline is None and s1.latest is not None and s1.latest.change is None
    s2 = next(i for i in changes[1].instruments if i.instrument == "phq9")
    assert s2.baseline is not None and s2.baseline.source == "pre_session"
    day7 = next(p for p in s2.points if p.label == "day 7")
    assert (
        day7.change is not None and day7.change.response is True and day7.change.remission is False
    )
