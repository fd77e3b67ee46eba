"""The safety net in Chromium, end to end: a patient answers a PHQ-9 on a phone with item 9 = 1 (one
question per screen, answers kept across a reload), sees the crisis message at once; the therapist's
list shows the alert first; the real worker e-mails the therapist through a real SMTP server with no
health information; the therapist acknowledges with a note, which the audit log keeps. Pages pass
axe-core; screenshots go to test-artifacts/questionnaires."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from ..dashboard_browser.conftest import Tab, new_tab
from .conftest import CRISIS, Clinic

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "questionnaires"
#: PHQ-9 answers: item 9 ("Thoughts that you would be better off dead…") = 1, "Several days".
ANSWERS = [1, 2, 1, 1, 0, 1, 2, 0, 1]
LABELS = ["Not at all", "Several days", "More than half the days", "Nearly every day"]


def shot(tab: Tab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(tab: Tab, who: Any, home: str) -> None:
    tab.login(who)
    tab.wait_ready(home)


def choose(tab: Tab, item: int, value: int) -> None:
    tab.page.check(f"#q-phq9-{item}-{value}")


@pytest.fixture
def phone(clinic: Clinic, browser: Browser) -> Any:
    t = new_tab(
        browser,
        clinic.base_url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    yield t
    t.page.context.close()


@pytest.fixture
def desk(clinic: Clinic, browser: Browser) -> Any:
    t = new_tab(browser, clinic.base_url, viewport={"width": 1280, "height": 900})
    yield t
    t.page.context.close()


def test_item9_alert_from_answer_to_acknowledgement(clinic: Clinic, phone: Tab, desk: Tab) -> None:
    # --- the patient, on a phone -------------------------------------------------------------------
    login(phone, clinic.patient, "#/me")
    page = phone.page
    page.wait_for_selector("#questionnaires #due-list")
    assert page.locator("#questionnaires .reading-notice").is_visible()
    assert "may not read" in page.locator("#questionnaires .reading-notice").inner_text()
    assert page.locator("#journal-reading-notice").count() == 1
    shot(phone, "patient-due-phone")
    phone.axe("patient page")
    page.click("#answer-phq9")
    phone.wait_ready("#/me/questionnaires/phq9")
    assert page.locator("#question-progress").inner_text().startswith("Question 1 of 9")
    for item in range(4):
        choose(phone, item, ANSWERS[item])
        page.click("#question-next")
    assert page.locator("#question-progress").inner_text().startswith("Question 5 of 9")
    phone.axe("answer form, one question per screen")
    shot(phone, "patient-answering-phone")
    # a reload keeps the answers and the place
    page.reload()
    phone.wait_ready("#/me/questionnaires/phq9")
    assert page.locator("#draft-restored").is_visible()
    assert page.locator("#question-progress").inner_text() == "Question 5 of 9 · 4 answered"
    assert page.is_checked("#q-phq9-1-2")
    for item in range(4, 9):
        choose(phone, item, ANSWERS[item])
        if item < 8:
            page.click("#question-next")
    assert (
        page.locator("#question-9 legend")
        .inner_text()
        .endswith("Thoughts that you would be better off dead or of hurting yourself in some way")
    )
    page.click("#send-answers")
    crisis = page.wait_for_selector("#crisis-message")
    assert CRISIS in crisis.inner_text()
    assert (
        page.evaluate("() => document.activeElement && document.activeElement.id")
        == "crisis-message"
    )
    assert page.locator("#crisis-message").get_attribute("role") == "alert"
    shot(phone, "patient-crisis-message-phone")
    phone.axe("crisis message")
    [stored] = clinic.sql(
        "SELECT answers, total, source FROM questionnaire_responses WHERE patient_id = %(p)s AND source = 'patient'",
        {"p": clinic.patient_id},
    )
    assert stored["answers"] == ANSWERS and stored["total"] == sum(ANSWERS)
    # back on their page, the crisis message stays while the alert is open
    page.click("#back-to-me")
    phone.wait_ready("#/me")
    assert CRISIS in page.locator("#crisis-standing").inner_text()
    phone.assert_no_console_errors()

    # --- the e-mail, through the real worker and SMTP server -------------------------------------------
    clinic.run_worker()
    [mail] = clinic.smtp.inbox.to(clinic.therapist.email)
    body = mail.get_payload(decode=True).decode()
    text = f"{mail['Subject']}\n{body}".lower()
    pseudonym = clinic.sql(
        "SELECT pseudonym FROM patients WHERE id = %(p)s", {"p": clinic.patient_id}
    )[0]["pseudonym"]
    for secret in (
        "jordan",
        "answers",
        pseudonym.lower(),
        str(clinic.patient_id),
        "phq",
        "item 9",
        "dead",
        "hurting",
        "score",
        "safety",
        "alert",
        "suicid",
        "depress",
        str(sum(ANSWERS)) + " ",
    ):
        assert secret not in text, secret
    assert "https://clinic.example/#/patients" in body

    # --- the therapist -------------------------------------------------------------------------------
    login(desk, clinic.therapist, "#/patients")
    dpage = desk.page
    rows = dpage.locator("#patient-list tbody tr")
    assert rows.first.get_attribute("data-patient-id") == str(
        clinic.patient_id
    )  # created second, listed first
    assert "row-alert" in (rows.first.get_attribute("class") or "")
    assert "safety alert" in rows.first.inner_text()
    assert dpage.locator("#alert-banner").is_visible()
    shot(desk, "therapist-list-alert-first")
    desk.axe("patient list with an alert")
    rows.first.locator(".alert-link").click()
    desk.wait_ready(f"#/patients/{clinic.patient_id}/questionnaires")
    section = dpage.locator("#open-alerts")
    assert "Item 9" in section.inner_text()
    shot(desk, "therapist-questionnaires-alert")
    desk.axe("questionnaires page with an open alert")
    note = "Phoned Jordan at 10:05: safe tonight, safety plan reviewed, seen tomorrow at 9."
    form = section.locator("form.ack-form").first
    form.locator("button[type=submit]").click()
    assert form.locator(".field-error").inner_text() == "Please write what you did."
    form.locator("textarea").fill(note)
    form.locator("button[type=submit]").click()
    dpage.wait_for_selector("#acknowledged-alerts")
    assert dpage.locator("#open-alerts").count() == 0
    [audited] = clinic.sql(
        "SELECT actor_role, detail FROM audit_log WHERE action = 'acknowledge' AND patient_id = %(p)s",
        {"p": clinic.patient_id},
    )
    assert audited["actor_role"] == "therapist" and audited["detail"]["note"] == note
    desk.goto("#/patients")
    assert dpage.locator("#alert-banner").count() == 0
    assert "safety alert" not in dpage.locator("#patient-list tbody tr").first.inner_text()
    desk.assert_no_console_errors()


def test_therapist_sees_symptoms_beside_physiology_and_edits_the_protocol(
    clinic: Clinic, desk: Tab
) -> None:
    login(desk, clinic.therapist, "#/patients")
    desk.goto(f"#/patients/{clinic.patient_id}")
    page = desk.page
    page.wait_for_selector("#symptom-panel")
    assert page.locator("#symptom-chart-phq9").count() == 1
    card = page.locator("#session-cards .symptom-card").first
    assert "PHQ-9" in card.inner_text()
    shot(desk, "therapist-timeline-symptoms")
    desk.axe("timeline with the symptom panel")
    desk.goto(f"#/patients/{clinic.patient_id}/questionnaires")
    page.uncheck("#proto-s0-gad7")  # no GAD-7 on day 1
    page.click("#save-protocol")
    page.wait_for_function(
        "() => (document.querySelector('#protocol-source') || {}).textContent?.startsWith('Changed for this patient')"
    )
    assert not page.is_checked("#proto-s0-gad7")
    desk.assert_no_console_errors()


def test_another_patient_cannot_open_these_answers(clinic: Clinic, phone: Tab) -> None:
    login(phone, clinic.other, "#/me")
    phone.goto(f"#/patients/{clinic.patient_id}/questionnaires")
    assert phone.page.locator("#forbidden").is_visible()
    assert "Jordan" not in phone.page.locator("main").inner_text()
