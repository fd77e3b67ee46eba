"""Quality where change is judged (issue 10), in a real Chromium on the seeded clinic (weeks of data,
two medicine sessions, a poor-signal patient): the patient list shows how many days count before the
value; the timeline draws good and fair days differently and lists the poor ones it leaves out; every
session card and the printable report show each period's valid days out of possible (and needed), its
fair days and artifact share; the poor-signal patient's cards carry a caveat; a period not yet begun
says so; and the numbers on the pages are the API's (``analysis.session_verdicts``)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from .conftest import Clinic, Person, new_tab

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
        tab.assert_no_console_errors()
    finally:
        tab.page.context.close()
