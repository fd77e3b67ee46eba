"""Quality where change is judged (issue 10), in a real Chromium on the seeded clinic (weeks of data,
two medicine sessions, a poor-signal patient): the patient list shows how many days count before the
value; the timeline draws good and fair days differently and lists the poor ones it leaves out; every
session card and the printable report show each period's valid days out of possible (and needed), its
fair days and artifact share; the poor-signal patient's cards carry a caveat; a period not yet begun
says so; the numbers on the pages are the API's (``analysis.session_verdicts``); and a reading taken
today changes none of them."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, expect

from .conftest import Clinic, Person, Seeder, new_tab

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TZ = "Europe/Berlin"


def _api(clinic: Clinic, who: Person, path: str) -> Any:
    with httpx.Client(base_url=clinic.base_url, timeout=60) as http:
        token = http.post(
            "/v1/auth/token", data={"username": who.email, "password": who.password}
        ).json()["access_token"]
        r = http.get(path, headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return r.json()


def _days_words(period: dict[str, Any]) -> str:
    """What the card says a period rests on (``daysText`` in timeline.js)."""
    if not period["n_possible"]:
        return "no days in this period"
    if period["state"] == "not_reached":
        return f"{period['n_possible']} days ahead (a verdict needs {period['needed_days']} valid)"
    return (
        f"{period['n_days']} of {period['n_possible']} days valid (needs {period['needed_days']})"
    )


def test_quality_and_states_where_change_is_judged(clinic: Clinic, browser: Browser) -> None:
    tab = new_tab(
        browser,
        clinic.base_url,
        viewport={"width": 1280, "height": 900},
        timezone_id=TZ,
        locale="en-GB",
    )
    try:
        tab.login(clinic.therapist)
        tab.wait_ready("#/patients")
        # the list: how many of the 7 days count (and how many were fair) before the 7-day value
        for pid in (clinic.alex_id, clinic.poor_id):
            cell = tab.page.locator(f"#patient-list tr[data-patient-id='{pid}'] .badge-cell")
            if cell.count():
                text = cell.first.inner_text()
                quality = re.search(r"\d of 7 days", text)
                value = re.search(r"\d\.\d\d", text)
                assert quality and value and quality.start() < value.start(), text
        tab.shot("verdicts-patient-list")

        caveats_seen: list[str] = []
        not_begun = 0
        for pid, name in ((clinic.alex_id, "alex"), (clinic.poor_id, "poor")):
            timeline = _api(clinic, clinic.therapist, f"/v1/patients/{pid}/timeline")
            daily = timeline["daily"]
            tab.goto(f"#/patients/{pid}")
            chart = tab.page.locator("#daily-chart")
            fair = sum(1 for d in daily if d["counted"] and d["grade"] == "fair")
            poor = sum(1 for d in daily if d["grade"] == "poor")
            # good and fair days are separate series (filled and hollow points); poor days are not
            # drawn but listed
            expect(chart).to_have_attribute("data-fair", str(fair))
            expect(chart).to_have_attribute("data-poor", str(poor))
            series = tab.page.evaluate(
                "() => document.getElementById('daily-chart').plot.series.slice(1, 3)"
                ".map(s => s.label)"
            )
            assert "good" in series[0] and "fair" in series[1], series
            notes = tab.page.locator("#poor-days")
            if poor:
                expect(notes).to_contain_text(f"Poor-signal days, left out ({poor})")
            else:
                expect(notes).to_contain_text("No poor-signal days")

            sessions = _api(clinic, clinic.therapist, f"/v1/patients/{pid}/sessions")
            for s in (s for s in sessions if s["kind"] == "medicine"):
                result = _api(
                    clinic, clinic.therapist, f"/v1/patients/{pid}/sessions/{s['id']}/integration"
                )
                card = tab.page.locator(f".session-card[data-session-id='{s['id']}']")
                for period in result["periods"]:
                    row = card.locator(f"tr[data-period='{period['period']}']")
                    expect(row).to_have_attribute("data-state", period["state"])
                    days = row.locator("td.days")
                    expect(days).to_contain_text(_days_words(period))
                    q = period["quality"]
                    if period["n_days"]:
                        expect(days).to_contain_text(f"{q['n_fair']} fair")
                    else:
                        expect(days).not_to_contain_text("fair")
                    if q["artifact_share"] is not None:
                        expect(days).to_contain_text("artifacts")
                    if period["state"] == "not_reached":
                        expect(row).to_contain_text("not begun")
                        not_begun += 1
                    if q["caveat"]:
                        expect(row.locator(".caveat")).to_contain_text(q["caveat"])
                        expect(card.locator(".caveat-note")).to_contain_text(q["caveat"])
                        caveats_seen.append(f"{name}: {q['caveat']}")
            tab.shot(f"verdicts-timeline-{name}")

            # the printable report of the first session: baseline days, the same card, the caveat
            first = next(s for s in sessions if s["kind"] == "medicine")
            result = _api(
                clinic, clinic.therapist, f"/v1/patients/{pid}/sessions/{first['id']}/integration"
            )
            tab.goto(f"#/patients/{pid}/sessions/{first['id']}/report")
            report = tab.page.locator("#session-report")
            base = result["baseline"]
            if base["status"] == "ok":
                expect(report.locator("#report-baseline")).to_contain_text(
                    f"{base['n_days']} of {base['n_possible']} days valid"
                )
            for period in result["periods"]:
                row = report.locator(f"tr[data-period='{period['period']}']")
                expect(row).to_have_attribute("data-state", period["state"])
                expect(row.locator("td.days")).to_contain_text(_days_words(period))
                if period["quality"]["caveat"]:
                    expect(report.locator(".caveat-note")).to_contain_text(
                        period["quality"]["caveat"]
                    )
            tab.shot(f"verdicts-report-{name}")
        # the poor-signal patient's verdicts are read with care; the second session's last period
        # lies ahead
        assert any(c.startswith("poor:") for c in caveats_seen), caveats_seen
        assert not_begun >= 1
        tab.page.click("#logout")
        tab.login(clinic.poor)
        tab.wait_ready("#/me")
        # the same facts in plain words: a period with no days, and why nothing can be told yet
        words = tab.page.locator("#my-sessions li[data-period]").all_inner_texts()
        assert any("no days: your next medicine session came first" in w for w in words), words
        assert any("your usual range needs more usable readings" in w for w in words), words
        tab.shot("verdicts-patient-home-poor")
        tab.assert_no_console_errors()
    finally:
        tab.page.context.close()


def test_todays_partial_reading_changes_nothing(clinic: Clinic) -> None:
    """A reading taken today, much calmer than any day so far, goes through ingest and the worker:
    today's row shows its value, but the band, the badge, every earlier day and every session verdict
    stay exactly as they were (today never counts). The reading is a morning reading (6 min after
    04:00 local) or, shortly after midnight, 35 min of night."""
    now_local = datetime.now(ZoneInfo(TZ))
    midnight = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
    if now_local >= midnight + timedelta(hours=4, minutes=10):
        start = max(
            midnight + timedelta(hours=4),
            min(midnight + timedelta(hours=7), now_local - timedelta(minutes=10)),
        )
        beats_n = 330
    elif now_local >= midnight + timedelta(minutes=40):
        start, beats_n = midnight + timedelta(minutes=1), 1900
    else:
        pytest.skip("no whole reading fits into today before now (00:00-00:40 local)")

    def judged() -> tuple[Any, list[Any]]:
        timeline = _api(clinic, clinic.therapist, f"/v1/patients/{clinic.alex_id}/timeline")
        sessions = _api(clinic, clinic.therapist, f"/v1/patients/{clinic.alex_id}/sessions")
        integrations = [
            _api(
                clinic,
                clinic.therapist,
                f"/v1/patients/{clinic.alex_id}/sessions/{s['id']}/integration",
            )
            for s in sessions
            if s["kind"] == "medicine"
        ]
        return timeline, integrations

    before, verdicts_before = judged()
    seeder = Seeder(clinic.base_url, clinic.db_url)
    try:
        own = seeder.token(clinic.alex)
        device = seeder.post(f"/v1/patients/{clinic.alex_id}/devices", own, {"label": "2nd strap"})
        rng = np.random.default_rng(14)
        rr_ms = 1100.0 + rng.normal(0.0, 70.0, beats_n)  # ln RMSSD ≈ 4.6, far above the band
        t_ms = int(start.timestamp() * 1000) + np.cumsum(rr_ms).astype(np.int64)
        beats = [
            {"t_ms": int(t), "rr_ticks": round(r * 1024 / 1000)}
            for t, r in zip(t_ms, rr_ms, strict=True)
        ]
        seeder.post(
            "/v1/ingest/beats",
            {"Authorization": f"Bearer {device['token']}"},
            {"batch_id": str(uuid.uuid4()), "beats": beats},
        )
        seeder.analyse()
    finally:
        seeder.close()
    after, verdicts_after = judged()
    today = after["today"]
    assert before["today"] == today
    windows = _api(
        clinic,
        clinic.therapist,
        f"/v1/patients/{clinic.alex_id}/windows?start={today}T00:00:00Z",
    )
    assert windows, "the reading was analysed"
    assert after["band"] == before["band"]
    assert after["badge"] == before["badge"]
    assert [d for d in after["daily"] if d["day"] < today] == [
        d for d in before["daily"] if d["day"] < today
    ]
    (mine,) = [d for d in after["daily"] if d["day"] == today]
    assert mine["ln_rmssd"] is not None and mine["ln_rmssd"] > 4.2, mine  # the reading has a value
    assert not mine["counted"] and mine["exclusion"].startswith("today"), mine
    assert verdicts_after == verdicts_before
