"""Every page of every role at desktop and phone width, on a seeded clinic (weeks of data, a poor-signal
patient with a long name, a therapist with no patients, open and used links): each renders without a
console error, passes axe-core (no serious or critical finding) and fits the phone's width; a screenshot
of each is saved (test-artifacts/dashboard/pages/, or the folder in SOMATRACE_TEST_SCREENSHOTS, which is
how docs/screenshots/ is refreshed)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from .conftest import ARTIFACTS, POOR_SIGNAL_NAME, Clinic, Person, Tab, new_tab

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TZ = "Europe/Berlin"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
#: Screenshots stop after this many pixels of a long page (the audit log on a phone).
MAX_SHOT_PX = 4000
#: A page may not be wider than the phone's viewport by more than this (px): no sideways scrolling.
OVERFLOW_TOLERANCE_PX = 2


@dataclass(frozen=True)
class PageCase:
    name: str
    who: str | None  # a Clinic attribute holding the Person, or None for public pages
    route: Callable[[Clinic], str]
    then: Callable[[Tab], None] | None = None


def _hover_first_pin(tab: Tab) -> None:
    pin = tab.page.locator(".pin").first
    pin.hover()
    expect(tab.page.locator("#pin-details")).to_be_visible()


PAGES = (
    PageCase("login", None, lambda c: "#/login"),
    PageCase("link-invitation", None, lambda c: c.invite_path),
    PageCase("link-new-password", None, lambda c: c.password_path),
    PageCase("link-used", None, lambda c: c.used_invite_path),
    PageCase("therapist-patient-list", "therapist", lambda c: "#/patients"),
    PageCase("therapist-no-patients-yet", "empty_therapist", lambda c: "#/patients"),
    PageCase("therapist-add-patient", "therapist", lambda c: "#/patients/new"),
    PageCase(
        "therapist-timeline", "therapist", lambda c: f"#/patients/{c.alex_id}", _hover_first_pin
    ),
    PageCase("therapist-timeline-poor-signal", "therapist", lambda c: f"#/patients/{c.poor_id}"),
    PageCase("therapist-sessions", "therapist", lambda c: f"#/patients/{c.alex_id}/sessions"),
    PageCase(
        "therapist-record-medicine-session",
        "therapist",
        lambda c: f"#/patients/{c.alex_id}/sessions/new/medicine",
    ),
    PageCase(
        "therapist-schedule-integration",
        "therapist",
        lambda c: f"#/patients/{c.alex_id}/sessions/new/integration",
    ),
    PageCase(
        "therapist-edit-session",
        "therapist",
        lambda c: f"#/patients/{c.alex_id}/sessions/{c.medicine_session_id}/edit",
    ),
    PageCase(
        "therapist-login-straps-consent", "therapist", lambda c: f"#/patients/{c.alex_id}/access"
    ),
    PageCase(
        "therapist-invitation-open", "therapist", lambda c: f"#/patients/{c.newcomer_id}/access"
    ),
    PageCase(
        "therapist-day-zoom", "therapist", lambda c: f"#/patients/{c.alex_id}/day/{c.night_day}"
    ),
    PageCase(
        "therapist-session-report",
        "therapist",
        lambda c: f"#/patients/{c.alex_id}/sessions/{c.medicine_session_id}/report",
    ),
    PageCase(
        "therapist-questionnaires", "therapist", lambda c: f"#/patients/{c.alex_id}/questionnaires"
    ),
    PageCase(
        "therapist-questionnaires-safety-alert",
        "therapist",
        lambda c: f"#/patients/{c.poor_id}/questionnaires",
    ),
    PageCase("patient-home", "alex", lambda c: "#/me"),
    PageCase("patient-home-poor-signal", "poor", lambda c: "#/me"),
    PageCase("patient-edit-journal-note", "alex", lambda c: f"#/me/journal/{c.journal_entry_id}"),
    PageCase("patient-answer-questionnaire", "alex", lambda c: "#/me/questionnaires/phq9"),
    PageCase("admin-users", "admin", lambda c: "#/admin/users"),
    PageCase("admin-assignments", "admin", lambda c: "#/admin/assignments"),
    PageCase("admin-audit-log", "admin", lambda c: "#/admin/audit"),
    PageCase("admin-mail", "admin", lambda c: "#/admin/mail"),
    PageCase("researcher-cohort-and-export", "researcher", lambda c: "#/research"),
)


#: Pairs of neighbouring journal pins whose boxes overlap (their days), or an empty list.
_PIN_OVERLAPS_JS = """() => {
    const boxes = [...document.querySelectorAll('.pin')]
        .map(p => ({day: p.dataset.day, r: p.getBoundingClientRect()}))
        .sort((a, b) => a.r.left - b.r.left);
    const out = [];
    for (let i = 1; i < boxes.length; i++) {
        if (boxes[i].r.left < boxes[i - 1].r.right - 0.5) out.push([boxes[i - 1].day, boxes[i].day]);
    }
    return out;
}"""


def _shots_dir() -> Path:
    configured = os.environ.get("SOMATRACE_TEST_SCREENSHOTS")
    path = Path(configured) if configured else ARTIFACTS / "pages"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_renders_accessibly_at_every_width(
    clinic: Clinic, browser: Browser, width: str
) -> None:
    shots = _shots_dir()
    tabs: dict[str | None, Tab] = {}
    seen: list[str] = []
    try:
        for case in PAGES:
            tab = tabs.get(case.who)
            if tab is None:
                context = {
                    "viewport": WIDTHS[width],
                    "timezone_id": TZ,
                    "locale": "en-GB",
                }
                if width == "phone":
                    context |= {"is_mobile": True, "has_touch": True}
                tab = new_tab(browser, clinic.base_url, **context)
                if case.who is not None:
                    person: Person = getattr(clinic, case.who)
                    tab.login(person)
                    tab.page.wait_for_function(
                        "() => (document.body.dataset.ready || '') !== '#/login'"
                    )
                tabs[case.who] = tab
            route = case.route(clinic)
            tab.goto(route)
            expect(tab.page.locator("#main h1").first).to_be_visible()
            if case.then is not None:
                case.then(tab)
            tab.axe(f"{case.name} ({width})")
            # journal pins never cover each other (neighbouring days merge into one with a count)
            overlaps = tab.page.evaluate(_PIN_OVERLAPS_JS)
            assert not overlaps, (case.name, overlaps)
            # one date style, the browser's locale's: no ISO days or US short dates in the text
            text = tab.page.locator("#main").inner_text()
            odd = re.findall(
                r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2} (?:January|February"
                r"|March|April|June|July|August|September|October|November|December) \d{4}\b",
                text,
            )
            assert not odd, (case.name, odd[:5])
            if width == "phone":
                overflow = tab.page.evaluate(
                    "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= OVERFLOW_TOLERANCE_PX, (case.name, overflow)
            height = tab.page.evaluate("() => document.documentElement.scrollHeight")
            tab.page.screenshot(
                path=str(shots / f"{case.name}-{width}.png"),
                full_page=True,
                clip={
                    "x": 0,
                    "y": 0,
                    "width": WIDTHS[width]["width"],
                    "height": min(height, MAX_SHOT_PX),
                },
            )
            seen.append(case.name)
        # what the pages promise about the hard cases
        poor = tabs["therapist"]
        poor.goto(f"#/patients/{clinic.poor_id}")
        expect(poor.page.locator("#patient-name")).to_have_text(POOR_SIGNAL_NAME)
        for who, tab in tabs.items():
            # the used link's page is made from the API's refusal (410), as it should be
            tab.assert_no_console_errors(allowed=("status of 410",) if who is None else ())
    finally:
        for tab in tabs.values():
            tab.page.context.close()
    assert seen == [c.name for c in PAGES]


def test_the_patient_reads_in_words_what_the_therapist_reads_in_numbers(
    clinic: Clinic, browser: Browser
) -> None:
    """The same facts on both sides: the patient's lead sentence is the badge of the therapist's list, and
    each period after a session has the state of the therapist's session card; no statistics for the
    patient (no Δ, CI, effect size, ln RMSSD)."""
    context = {"viewport": WIDTHS["desktop"], "timezone_id": TZ, "locale": "en-GB"}
    therapist = new_tab(browser, clinic.base_url, **context)
    patient = new_tab(browser, clinic.base_url, **context)
    try:
        for who, pid in ((clinic.alex, clinic.alex_id), (clinic.poor, clinic.poor_id)):
            therapist.login(clinic.therapist)
            therapist.wait_ready("#/patients")
            row = therapist.page.locator(f"#patient-list tr[data-patient-id='{pid}']")
            badge = row.locator(".badge").first.get_attribute("class") or ""
            position = next(
                (p for p in ("above", "within", "below") if f"badge-{p}" in badge), "unknown"
            )
            therapist.goto(f"#/patients/{pid}")
            cards = {
                (
                    c.get_attribute("data-session-id"),
                    r.get_attribute("data-period"),
                ): r.get_attribute("data-state")
                for c in therapist.page.locator("#session-cards .session-card").all()
                for r in c.locator("tr[data-period]").all()
            }
            assert cards, "the therapist's page shows session cards"
            patient.login(who)
            patient.wait_ready("#/me")
            lead = patient.page.locator("#readings-summary")
            expect(lead).to_have_class(re.compile(f"position-{position}"))
            words = {
                "above": "higher than your usual range",
                "within": "within your usual range",
                "below": "lower than your usual range",
            }
            if position in words:
                expect(lead).to_contain_text(words[position])
            mine = {
                (
                    s.get_attribute("data-session-id"),
                    i.get_attribute("data-period"),
                ): i.get_attribute("data-state")
                for s in patient.page.locator("#my-sessions .my-session").all()
                for i in s.locator("li[data-period]").all()
            }
            assert mine and all(cards[k] == v for k, v in mine.items()), (mine, cards)
            text = patient.page.locator("main").inner_text()
            for jargon in ("ln RMSSD", "95 %", "CI", "Effect size", "Δ", "artifact share", "Holm"):
                assert jargon not in text, jargon
            patient.page.click("#logout")
            therapist.page.click("#logout")
        therapist.assert_no_console_errors()
        patient.assert_no_console_errors()
    finally:
        therapist.page.context.close()
        patient.page.context.close()


def test_the_researcher_is_told_why_an_export_is_refused_or_empty(
    clinic: Clinic, browser: Browser
) -> None:
    """Nothing is downloaded, and the page says why: a span the export rules refuse (named at the field,
    as the API would), days without recordings, and a patient who withdrew consent after the cohort
    was listed."""
    context = {"viewport": WIDTHS["phone"], "timezone_id": TZ, "locale": "en-GB"}
    researcher = new_tab(browser, clinic.base_url, accept_downloads=True, **context)
    patient = new_tab(browser, clinic.base_url, **context)
    downloads: list[object] = []
    researcher.page.on("download", lambda d: downloads.append(d))
    try:
        researcher.login(clinic.researcher)
        researcher.wait_ready("#/research")
        message = researcher.page.locator("#export-message")

        researcher.page.fill("#export-form-start", "2000-01-01")
        researcher.page.click("#export-form-submit")
        expect(researcher.page.locator("#export-form")).to_contain_text(
            re.compile(r"An export covers at most \d+ days")
        )

        researcher.page.fill("#export-form-start", "2020-01-01")
        researcher.page.fill("#export-form-end", "2020-01-31")
        researcher.page.click("#export-form-submit")
        expect(message).to_contain_text("Nothing to export")
        expect(message).to_contain_text("no recordings in these days")
        researcher.axe("export with nothing in it")

        # the cohort on the page still lists the patient who now withdraws consent on their own page
        rows = researcher.page.locator("#cohort-list tr[data-pseudonym]")
        expect(rows).to_have_count(1)
        pseudonym = rows.first.get_attribute("data-pseudonym")
        patient.login(clinic.alex)
        patient.wait_ready("#/me")
        patient.page.click("#consent-research")
        expect(patient.page.locator("#consent-research-state")).to_have_text("Off")
        researcher.page.fill("#export-form-start", "2026-01-01")
        researcher.page.fill("#export-form-end", "2026-12-31")
        researcher.page.uncheck(f"#include-{pseudonym}")
        researcher.page.click("#export-form-submit")
        expect(message).to_contain_text("Tick at least one patient")
        researcher.page.check(f"#include-{pseudonym}")
        researcher.page.click("#export-form-submit")
        expect(message).to_contain_text("Nothing to export")
        expect(message).to_contain_text("No patient has given research consent")
        researcher.axe("export after a withdrawal")
        assert downloads == []
        researcher.assert_no_console_errors()
        patient.assert_no_console_errors()
    finally:
        # consent again, as the other tests of this module found it
        if patient.page.locator("#consent-research-state").text_content() == "Off":
            patient.page.click("#consent-research")
            expect(patient.page.locator("#consent-research-state")).to_have_text("On")
            patient.page.click("#consent-journal")
            expect(patient.page.locator("#consent-journal-state")).to_have_text("On")
        researcher.page.context.close()
        patient.page.context.close()
