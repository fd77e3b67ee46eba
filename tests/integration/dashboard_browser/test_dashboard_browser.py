"""The dashboard in a real Chromium against a real server and database: therapist and patient flows,
cross-patient refusal, screenshots in test-artifacts/dashboard/, and no console errors anywhere."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

# Fixture types live in this folder's conftest.py (not importable under importlib mode).
Dashboard = Any
Tab = Any

pytestmark = [pytest.mark.integration, pytest.mark.browser]

#: Chromium reports a refused API call as a console error; only the cross-patient test expects one.
#: The API answers 404 for another patient's id (it does not confirm that the patient exists).
REFUSED_RESOURCE = (
    "the server responded with a status of 403",
    "the server responded with a status of 404",
)


def _signed(value: float) -> str:
    text = f"{value:.2f}"
    return f"+{text}" if value > 0 else text


def test_therapist_list_timeline_pins_and_session_cards(tab: Tab, dashboard: Dashboard) -> None:
    tab.login(dashboard.therapist)
    tab.wait_ready("#/patients")
    rows = tab.page.locator("#patient-list tbody tr")
    expect(rows).to_have_count(2)
    expect(tab.page.locator("#patient-list")).to_contain_text("Alex Browser")
    expect(tab.page.locator("#patient-list")).to_contain_text("Blake Browser")
    # Blake has no data: the list says so instead of inventing a value.
    blake = tab.page.locator(f"tr[data-patient-id='{dashboard.patient_b_id}']")
    expect(blake).to_contain_text("no data")
    tab.shot("therapist-patient-list")
    dashboard.load_times_ms["patient list"] = tab.goto("#/patients")

    route = f"#/patients/{dashboard.patient_a_id}"
    tab.page.click(f"a.patient-link[data-patient-id='{dashboard.patient_a_id}']")
    tab.wait_ready(route)
    expect(tab.page.locator("#patient-name")).to_have_text("Alex Browser")

    # The chart draws one point per day with a daily ln RMSSD, as stored by the worker, except
    # poor-signal days (listed under it); good, fair and not-counted days are separate series.
    expected = dashboard.sql(
        "SELECT count(*) AS n FROM daily_values WHERE patient_id = %(p)s AND ln_rmssd IS NOT NULL"
        " AND quality NOT LIKE 'poor%%'",
        {"p": dashboard.patient_a_id},
    )[0]["n"]
    assert expected >= 10
    chart = tab.page.locator("#daily-chart")
    expect(chart).to_have_attribute("data-points", str(expected))
    drawn = tab.page.evaluate(
        "() => document.getElementById('daily-chart').plot.data.slice(1, 4)"
        ".reduce((n, s) => n + s.filter(v => v !== null).length, 0)"
    )
    assert drawn == expected
    # The text alternative lists the same days.
    table_rows = tab.page.locator("#daily-table tbody tr")
    assert table_rows.count() >= expected

    # Medicine sessions are flagged when no integration appointment follows within 3 days.
    sessions = dashboard.api(
        "GET", f"/v1/patients/{dashboard.patient_a_id}/sessions", dashboard.therapist
    )
    medicine = sorted(s["started_at"] for s in sessions if s["kind"] == "medicine")
    assert len(medicine) == 2
    expect(tab.page.locator("#integration-flags")).to_contain_text("No integration appointment")

    # Journal pins: one per day (or per group of neighbouring days), with every entry counted; a pin
    # shows its entries on hover.
    pins = tab.page.locator(".pin")
    counts = [int(c) for c in pins.evaluate_all("ps => ps.map(p => p.dataset.count)")]
    assert sum(counts) == len(dashboard.journal_texts)
    days = pins.evaluate_all("ps => ps.map(p => p.dataset.day)")
    assert len(days) == len(set(days))
    first = pins.first
    first.hover()
    details = tab.page.locator("#pin-details")
    expect(details).to_be_visible()
    label = first.get_attribute("aria-label") or ""
    shown = details.locator(".journal-text").all_inner_texts()
    assert len(shown) == counts[0] and all(t in dashboard.journal_texts for t in shown)
    assert shown[0][:60] in label
    # Pins stay over the plot, inside the chart's width.
    inside = tab.page.evaluate(
        """() => {
            const over = document.querySelector('#daily-chart .u-over').getBoundingClientRect();
            return [...document.querySelectorAll('.pin')].every(p => {
                const r = p.getBoundingClientRect();
                return r.left >= over.left - 1 && r.right <= over.right + 1;
            });
        }"""
    )
    assert inside

    # Each medicine session has a card with the API's numbers (or "insufficient data").
    cards = tab.page.locator("#session-cards .session-card")
    expect(cards).to_have_count(2)
    numbers_seen = 0
    for s in sessions:
        if s["kind"] != "medicine":
            continue
        result = dashboard.api(
            "GET",
            f"/v1/patients/{dashboard.patient_a_id}/sessions/{s['id']}/integration",
            dashboard.therapist,
        )
        card = tab.page.locator(f".session-card[data-session-id='{s['id']}']")
        for period in result["periods"]:
            row = card.locator(f"tr[data-period='{period['period']}']")
            expect(row).to_have_attribute("data-state", period["state"])
            if period["state"] == "verdict":
                expect(row.locator(".diff")).to_have_text(_signed(period["diff_ln_rmssd"]))
                expect(row.locator(".ci")).to_have_text(
                    f"{_signed(period['ci_low'])} to {_signed(period['ci_high'])}"
                )
                numbers_seen += 1
            else:  # no number that is not a verdict, and the reason instead
                expect(row.locator(".diff")).to_have_count(0)
                expect(row).to_contain_text(period["reason"].split(":")[0])
    assert numbers_seen >= 1
    tab.shot("therapist-timeline")
    dashboard.load_times_ms["patient timeline"] = tab.goto(route)

    # Zoom into the day with a whole night: 5-min windows and the RR tachogram.
    day_route = f"{route}/day/{dashboard.night_day}"
    dashboard.load_times_ms["day zoom"] = tab.goto(day_route)
    windows = int(tab.page.locator("#windows-chart").get_attribute("data-points") or 0)
    beats = int(tab.page.locator("#tachogram").get_attribute("data-points") or 0)
    assert windows >= 60  # a night of 5-min windows
    assert beats >= 15_000  # about six hours of beats
    tab.shot("therapist-day-zoom")

    # The printable report of the first medicine session.
    first_session = next(s for s in sessions if s["kind"] == "medicine")
    report = f"{route}/sessions/{first_session['id']}/report"
    dashboard.load_times_ms["session report"] = tab.goto(report)
    expect(tab.page.locator("#session-report")).to_contain_text("Baseline")
    expect(tab.page.locator("#session-report .session-card")).to_have_count(1)
    tab.page.emulate_media(media="print")
    expect(tab.page.locator(".topbar")).to_be_hidden()
    tab.shot("session-report-print")
    tab.page.emulate_media(media="screen")
    tab.assert_no_console_errors()
    print(f"\ndashboard load times (ms): {dashboard.load_times_ms}")


def test_patient_writes_journal_and_therapist_sees_it(
    make_tab: Callable[..., Tab], dashboard: Dashboard
) -> None:
    phone = make_tab(
        dashboard.base_url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    try:
        phone.login(dashboard.patient_a)
        phone.wait_ready("#/me")
        expect(phone.page.locator("#patient-name")).to_contain_text("Alex Browser")
        expect(phone.page.locator("#device-list")).to_contain_text("test strap")
        text = f"Felt calm after the walk {uuid.uuid4().hex[:8]}"
        phone.page.fill("#journal-form-text", text)
        phone.page.fill("#journal-form-tags", "walk, calm")
        phone.page.locator("#journal-form-mood").fill("7")
        phone.page.click("#journal-form-submit")
        expect(phone.page.locator("#status")).to_contain_text("saved")
        phone.wait_ready("#/me")
        rows = dashboard.sql(
            "SELECT id, text, tags, mood, body FROM journal_entries WHERE text = %(t)s", {"t": text}
        )
        entry_id = rows[0].pop("id")
        assert rows == [{"text": text, "tags": ["walk", "calm"], "mood": 7, "body": None}]
        # Device pairing shows the token once, in the command to run, and as a QR code.
        phone.page.click("#pair-form-submit")
        expect(phone.page.locator("#pair-command")).to_contain_text("somatrace pair")
        command = phone.page.locator("#pair-command").inner_text()
        assert re.search(r"--token stdev_\S+", command)
        expect(phone.page.locator("#pair-result svg.qr")).to_be_visible()
        phone.shot("patient-phone")
        phone.assert_no_console_errors()
    finally:
        phone.shot("patient-phone-last")

    therapist = make_tab(dashboard.base_url, viewport={"width": 1280, "height": 900})
    try:
        therapist.login(dashboard.therapist)
        therapist.wait_ready("#/patients")
        route = f"#/patients/{dashboard.patient_a_id}"
        therapist.goto(route)
        pin = therapist.page.locator(f".pin[data-journal-ids~='{entry_id}']")
        expect(pin).to_have_count(1)
        pin.focus()  # keyboard users reach pins with Tab; focus shows the details as hover does
        expect(therapist.page.locator("#pin-details")).to_contain_text(text)
        expect(therapist.page.locator("#journal-table")).to_contain_text(text)
        therapist.assert_no_console_errors()
    finally:
        therapist.shot("therapist-after-patient-note")


def test_patient_cannot_reach_another_patients_page(tab: Tab, dashboard: Dashboard) -> None:
    tab.login(dashboard.patient_a)
    tab.wait_ready("#/me")
    for route in (
        f"#/patients/{dashboard.patient_b_id}",
        f"#/patients/{dashboard.patient_b_id}/day/{dashboard.night_day}",
    ):
        tab.goto(route)
        expect(tab.page.locator("#forbidden")).to_be_visible()
        expect(tab.page.locator("#main")).not_to_contain_text("Blake Browser")
    # The therapist-only list is refused in the page itself (no request needed).
    tab.goto("#/patients")
    expect(tab.page.locator("#forbidden")).to_be_visible()
    tab.shot("patient-forbidden")
    # The API refused the requests (the page did not merely hide the data).
    assert any(r in e for e in tab.errors for r in REFUSED_RESOURCE)
    tab.assert_no_console_errors(allowed=REFUSED_RESOURCE)


def test_keyboard_only_login_and_navigation(tab: Tab, dashboard: Dashboard) -> None:
    tab.page.goto(f"{dashboard.base_url}/#/login")
    tab.wait_ready("#/login")
    tab.page.keyboard.type(dashboard.therapist.email)  # the email field has focus on load
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.type(dashboard.therapist.password)
    tab.page.keyboard.press("Enter")
    tab.wait_ready("#/patients")
    link = tab.page.locator(f"a.patient-link[data-patient-id='{dashboard.patient_a_id}']")
    link.focus()
    tab.page.keyboard.press("Enter")
    tab.wait_ready(f"#/patients/{dashboard.patient_a_id}")
    tab.assert_no_console_errors()


def test_a_form_by_keyboard_alone_with_its_errors(tab: Tab, dashboard: Dashboard) -> None:
    """Add a patient and invite them without a mouse: typing, Tab and Enter; an error moves the focus to
    its field, what was typed stays, and the fixed value goes through."""
    tab.login(dashboard.therapist)
    tab.wait_ready("#/patients")
    tab.goto("#/patients/new")
    focused = tab.page.evaluate("() => document.activeElement.id")
    assert focused == "patient-form-display-name"
    tab.page.keyboard.press("Enter")  # nothing typed: the form says what is missing, focus stays
    expect(tab.page.locator("#patient-form-display-name-error")).to_have_text(
        "Enter the patient's name."
    )
    assert tab.page.evaluate("() => document.activeElement.id") == "patient-form-display-name"
    tab.page.keyboard.type("Kim Keyboard")
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate("() => document.activeElement.id") == "patient-form-timezone"
    tab.page.keyboard.press("Control+A")
    tab.page.keyboard.type("Europe/Nowhere")
    tab.page.keyboard.press("Enter")
    expect(tab.page.locator("#patient-form-timezone-error")).to_contain_text(
        "time zone from the list"
    )
    assert tab.page.evaluate("() => document.activeElement.id") == "patient-form-timezone"
    expect(tab.page.locator("#patient-form-display-name")).to_have_value("Kim Keyboard")
    tab.page.keyboard.press("Control+A")
    tab.page.keyboard.type("Europe/Vienna")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_function(
        "() => /#\\/patients\\/[0-9a-f-]{36}\\/access$/.test(document.body.dataset.ready || '')"
    )
    tab.page.locator("#invite-form-email").focus()
    tab.page.keyboard.type("kim@")
    tab.page.keyboard.press("Enter")
    expect(tab.page.locator("#invite-form-email-error")).to_have_text(
        "Enter an email address like name@example.org."
    )
    tab.page.keyboard.type("example.org")
    tab.page.keyboard.press("Enter")
    expect(tab.page.locator("#invite-link .link-url")).to_contain_text("#/invite/stlink_")
    tab.assert_no_console_errors()


def _x_labels_overlap(tab: Tab, selector: str) -> list[str]:
    """Pairs of neighbouring x-axis labels of the chart at ``selector`` that would overlap."""
    return tab.page.evaluate(
        """(sel) => {
            const host = document.querySelector(sel);
            const u = host.plot;
            const axis = u.axes[0];
            const ctx = u.ctx;
            ctx.save();
            ctx.font = axis.font ? axis.font[0] : '12px system-ui';
            const xs = axis._splits.map((v) => u.valToPos(v, 'x'));
            const widths = axis._values.map((t) => ctx.measureText(String(t)).width / devicePixelRatio);
            ctx.restore();
            const bad = [];
            for (let i = 1; i < xs.length; i++) {
                if (!axis._values[i] || !axis._values[i - 1]) continue;
                if (xs[i] - xs[i - 1] < (widths[i] + widths[i - 1]) / 2) bad.push(`${axis._values[i - 1]} | ${axis._values[i]}`);
            }
            return bad;
        }""",
        selector,
    )


def test_day_charts_keep_to_their_day_and_their_labels_apart(
    make_tab: Callable[..., Tab], dashboard: Dashboard
) -> None:
    """A day with one 5-minute window draws that day (not years); time labels never overlap, also at
    phone width; legends show a dash until the cursor is on a point."""
    days = dashboard.sql(
        "SELECT day FROM daily_values WHERE patient_id = %(p)s AND n_windows BETWEEN 1 AND 2 "
        "ORDER BY day LIMIT 1",
        {"p": dashboard.patient_a_id},
    )
    assert days, "a day with a morning reading only"
    short_day = days[0]["day"].isoformat()
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        tab = make_tab(
            dashboard.base_url, viewport=viewport, timezone_id="Europe/Berlin", locale="en-GB"
        )
        tab.login(dashboard.therapist)
        tab.wait_ready("#/patients")
        for day in (short_day, dashboard.night_day):
            tab.goto(f"#/patients/{dashboard.patient_a_id}/day/{day}")
            span = tab.page.evaluate(
                "() => { const u = document.getElementById('windows-chart').plot;"
                " return [u.scales.x.min, u.scales.x.max]; }"
            )
            assert 0 < span[1] - span[0] <= 25 * 3600, (day, span)
            for chart in ("#windows-chart", "#tachogram"):
                assert _x_labels_overlap(tab, chart) == [], (day, chart, viewport)
        tab.goto(f"#/patients/{dashboard.patient_a_id}")
        legend = tab.page.locator("#daily-chart .u-legend").inner_text()
        assert "no data" not in legend and "–" in legend
        assert _x_labels_overlap(tab, "#daily-chart") == []
        tab.assert_no_console_errors()
