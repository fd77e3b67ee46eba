"""A clinic set up from nothing, in Chromium and only through pages, on a fresh ``somatrace serve`` process:
the admin creates a therapist and a researcher; the therapist adds a patient, invites them, pairs a strap,
records a medicine session and schedules an integration appointment; the patient accepts the invitation,
writes and edits a journal note and consents; the researcher finds the patient's pseudonym in the cohort
and downloads an export holding the patient's beats; the admin finds each of those actions in the audit
log. Only the strap (a device with the token the therapist's page made) and the first admin
(``somatrace user create``) use other ways in. Every page visited passes axe-core.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import psycopg
import pytest
from playwright.sync_api import Browser, expect

from .conftest import ARTIFACTS, Person, ServeProcess, Tab, new_tab

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TZ = "Europe/Berlin"
#: Beats the strap uploads: ten minutes of a calm morning reading.
N_BEATS = 600
ADMIN_EMAIL = "admin@clinic.example"
ADMIN_PASSWORD = "lantern orchard quietly 42"
THERAPIST_EMAIL = "thea.therapist@clinic.example"
RESEARCHER_EMAIL = "rhys.researcher@uni.example"
PATIENT_EMAIL = "pat.patient@mail.example"
STAFF_PASSWORD = "correct horse battery staple"
PATIENT_PASSWORD = "my own secret garden path"
PATIENT_NAME = "Pat Patient-Langford"


def _tab(browser: Browser, base_url: str, phone: bool = False) -> Tab:
    if phone:
        return new_tab(
            browser,
            base_url,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            timezone_id=TZ,
            locale="en-GB",
            accept_downloads=True,
        )
    return new_tab(
        browser,
        base_url,
        viewport={"width": 1280, "height": 900},
        timezone_id=TZ,
        locale="en-GB",
        accept_downloads=True,
    )


def _open(tab: Tab, hash_route: str) -> None:
    """Navigate within the app (as a click on a link does) and wait until the page has rendered."""
    tab.page.evaluate("h => { window.location.hash = h; }", hash_route)
    tab.wait_ready(hash_route)


def _link_path(url: str) -> str:
    """The hash route of a link shown on a page (``http://host/#/invite/stlink_...``)."""
    match = re.search(r"(#/(?:invite|password)/stlink_[A-Za-z0-9_-]+)", url)
    assert match, url
    return match.group(1)


def _set_password(tab: Tab, link_url: str, password: str, expected_home: str) -> None:
    route = _link_path(link_url)
    tab.page.goto(f"{tab.base_url}/{route}")
    tab.wait_ready(route)
    tab.axe("link page")
    tab.page.fill("#link-form-password", password)
    tab.page.fill("#link-form-password-confirm", password)
    tab.page.click("#link-form-submit")
    tab.wait_ready(expected_home)


def _morning_beats(day: date) -> list[dict[str, int]]:
    """A seeded ten-minute reading at 07:00 local time on ``day``: RR about 1 s with breathing."""
    rng = np.random.default_rng(11)
    start = datetime(day.year, day.month, day.day, 7, 0, tzinfo=ZoneInfo(TZ)).astimezone(UTC)
    t_ms = start.timestamp() * 1000
    beats = []
    for i in range(N_BEATS):
        rr_ms = 1000 + 60 * np.sin(2 * np.pi * i / 5.0) + rng.normal(0, 15)
        t_ms += rr_ms
        beats.append({"t_ms": round(t_ms), "rr_ticks": round(rr_ms * 1024 / 1000)})
    return beats


def _audit_summaries(tab: Tab) -> list[str]:
    """Every entry the filter matched: older pages are fetched with the page's own button."""
    more = tab.page.locator("#audit-more")
    while more.count():
        shown = tab.page.locator("#audit-list tbody tr").count()
        more.click()
        tab.page.wait_for_function(
            "n => document.querySelectorAll('#audit-list tbody tr').length > n"
            " || !document.querySelector('#audit-more')",
            arg=shown,
        )
    return tab.page.locator("#audit-list tbody td.summary span").all_inner_texts()


def test_a_clinic_set_up_from_nothing_in_the_browser(
    fresh_server: ServeProcess, browser: Browser
) -> None:
    base = fresh_server.base_url
    local_today = datetime.now(ZoneInfo(TZ)).date()
    yesterday = local_today - timedelta(days=1)
    medicine_day = local_today - timedelta(days=3)

    # --- the first admin, on the command line while the server runs ----------------------------
    made = fresh_server.cli(
        "user",
        "create",
        "--email",
        ADMIN_EMAIL,
        "--role",
        "admin",
        "--name",
        "Ada Admin",
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    assert "created admin" in made.stdout

    admin = _tab(browser, base)
    therapist = _tab(browser, base)
    patient = _tab(browser, base, phone=True)
    researcher = _tab(browser, base)
    tabs = (admin, therapist, patient, researcher)
    try:
        # --- admin: a therapist and a researcher, each with a link to set their own password ----
        admin.login(Person(ADMIN_EMAIL, ADMIN_PASSWORD))
        admin.wait_ready("#/admin/users")
        admin.axe("users")
        # the form checks in the browser, with the API's words, and keeps what was typed
        admin.page.fill("#account-form-display-name", "Dr. Thea Therapist")
        admin.page.fill("#account-form-email", "thea at clinic")
        admin.page.click("#account-form-submit")
        expect(admin.page.locator("#account-form-email-error")).to_have_text(
            "Enter an email address like name@example.org."
        )
        expect(admin.page.locator("#account-form-display-name")).to_have_value("Dr. Thea Therapist")
        admin.axe("users with an error")
        links = {}
        for name, email, role in (
            ("Dr. Thea Therapist", THERAPIST_EMAIL, "therapist"),
            ("Rhys Researcher", RESEARCHER_EMAIL, "researcher"),
        ):
            admin.page.fill("#account-form-display-name", name)
            admin.page.fill("#account-form-email", email)
            admin.page.select_option("#account-form-role", role)
            admin.page.click("#account-form-submit")
            expect(admin.page.locator("#setup-link")).to_contain_text(email)
            links[role] = admin.page.locator("#setup-link .link-url").inner_text()
            expect(admin.page.locator(f"#user-list tr[data-role='{role}']")).to_contain_text(email)
        expect(admin.page.locator("#user-list")).to_contain_text("waiting for the first sign-in")
        # what only the API can know comes back at its field, in words, and the form keeps its values
        admin.page.fill("#account-form-display-name", "Thea Again")
        admin.page.fill("#account-form-email", THERAPIST_EMAIL.upper())
        admin.page.click("#account-form-submit")
        expect(admin.page.locator("#account-form-email-error")).to_have_text(
            "An account with this email already exists."
        )
        expect(admin.page.locator("#account-form-display-name")).to_have_value("Thea Again")

        # --- therapist: sets a password, adds the patient, invites them, pairs a strap ----------
        _set_password(therapist, links["therapist"], STAFF_PASSWORD, "#/patients")
        expect(therapist.page.locator("#no-patients")).to_be_visible()
        therapist.axe("empty patient list")
        therapist.page.click("#add-patient")
        therapist.wait_ready("#/patients/new")
        expect(therapist.page.locator("#patient-form-timezone")).to_have_value(TZ)
        therapist.axe("add a patient")
        therapist.page.fill("#patient-form-display-name", PATIENT_NAME)
        therapist.page.click("#patient-form-submit")
        therapist.page.wait_for_function(
            "() => /#\\/patients\\/[0-9a-f-]{36}\\/access$/.test(document.body.dataset.ready || '')"
        )
        patient_id = therapist.page.evaluate("() => location.hash.split('/')[2]")
        header = therapist.page.locator("main p.muted").first.inner_text()
        pseudonym = re.search(r"ST-[A-Z0-9]{8}", header).group(0)  # type: ignore[union-attr]
        therapist.axe("login, straps and consent")
        therapist.page.fill("#invite-form-email", PATIENT_EMAIL)
        therapist.page.click("#invite-form-submit")
        expect(therapist.page.locator("#invite-link .qr")).to_be_visible()
        invite_url = therapist.page.locator("#invite-link .link-url").inner_text()
        expect(therapist.page.locator("#invite-list")).to_contain_text("waiting to be accepted")
        expect(therapist.page.locator("#consent-summary")).to_have_text(
            "Does not share anything for research."
        )
        therapist.page.click("#device-form-submit")
        command = therapist.page.locator("#pair-command").inner_text()
        device_token = re.search(r"--token (stdev_\S+)", command).group(1)  # type: ignore[union-attr]
        expect(therapist.page.locator("#pair-result .qr")).to_be_visible()
        therapist.axe("login, straps and consent with links")

        # --- therapist: a medicine session, then the integration appointment it suggests -------
        therapist.page.click("#tab-sessions")
        therapist.wait_ready(f"#/patients/{patient_id}/sessions")
        expect(therapist.page.locator("#no-sessions")).to_be_visible()
        therapist.page.click("#new-medicine")
        therapist.wait_ready(f"#/patients/{patient_id}/sessions/new/medicine")
        therapist.axe("record a medicine session")
        form = "#session-form"
        therapist.page.fill(f"{form}-started-at", f"{medicine_day.isoformat()}T10:00")
        therapist.page.fill(f"{form}-ended-at", f"{medicine_day.isoformat()}T12:30")
        therapist.page.click(f"{form}-submit")  # no medicine, no route yet: the form says so
        expect(therapist.page.locator(f"{form}-medicine-error")).to_have_text("Choose a medicine.")
        expect(therapist.page.locator(f"{form}-route-error")).to_have_text("Choose a route.")
        therapist.page.select_option(f"{form}-medicine", "ketamine")
        therapist.page.select_option(f"{form}-route", "im")
        therapist.page.fill(f"{form}-dose", "0.5")
        therapist.page.select_option(f"{form}-dose-unit", "mg/kg")
        therapist.page.fill(f"{form}-setting", "clinic room, eyeshades and music")
        therapist.page.fill(f"{form}-note", "Calm session; strong imagery in the second hour.")
        therapist.page.click(f"{form}-submit")
        therapist.wait_ready(f"#/patients/{patient_id}/sessions")
        medicine_row = therapist.page.locator("#sessions-list tr[data-kind='medicine']")
        expect(medicine_row).to_contain_text("Ketamine · Intramuscular (IM) · 0.5 mg/kg")
        expect(medicine_row).to_contain_text("No integration appointment within 3 days")
        therapist.axe("sessions")
        therapist.page.click("#new-integration")
        therapist.wait_ready(f"#/patients/{patient_id}/sessions/new/integration")
        expect(therapist.page.locator("#integration-suggestion")).to_contain_text("2 to 3 days")
        therapist.axe("schedule an integration appointment")
        therapist.page.click("#suggest-day-2")
        expect(therapist.page.locator(f"{form}-started-at")).to_have_value(
            f"{(medicine_day + timedelta(days=2)).isoformat()}T10:00"
        )
        therapist.page.click(f"{form}-submit")
        therapist.wait_ready(f"#/patients/{patient_id}/sessions")
        expect(therapist.page.locator("#sessions-list tr[data-kind='integration']")).to_have_count(
            1
        )
        expect(medicine_row).to_contain_text("Integration appointment")
        expect(medicine_row).not_to_contain_text("No integration appointment")

        # --- the strap uploads a morning reading with the token the therapist's page made -------
        beats = _morning_beats(yesterday)
        r = httpx.post(
            f"{base}/v1/ingest/beats",
            json={"batch_id": str(uuid.uuid4()), "beats": beats},
            headers={"Authorization": f"Bearer {device_token}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text

        # --- patient (phone): accepts the invitation, writes and edits a note, consents ---------
        route = _link_path(invite_url)
        patient.page.goto(f"{base}/{route}")
        patient.wait_ready(route)
        expect(patient.page.locator("#link-email")).to_have_text(PATIENT_EMAIL)
        patient.page.fill("#link-form-password", PATIENT_PASSWORD)
        patient.page.fill("#link-form-password-confirm", PATIENT_PASSWORD + "!")
        patient.page.click("#link-form-submit")
        expect(patient.page.locator("#link-form-password-confirm-error")).to_have_text(
            "The two passwords are not the same."
        )
        expect(patient.page.locator("#link-form-password")).to_have_value(PATIENT_PASSWORD)
        patient.axe("invitation with an error")
        patient.page.fill("#link-form-password-confirm", PATIENT_PASSWORD)
        patient.page.click("#link-form-submit")
        patient.wait_ready("#/me")
        expect(patient.page.locator("#patient-name")).to_contain_text(PATIENT_NAME)
        patient.axe("my page")
        note = "Slept badly, but the walk by the river helped."
        patient.page.fill("#journal-form-text", note)
        patient.page.fill("#journal-form-tags", "sleep, walk")
        patient.page.locator("#journal-form-mood").fill("6")
        patient.page.click("#journal-form-submit")
        expect(patient.page.locator("#status")).to_contain_text("saved")
        patient.wait_ready("#/me")
        entry = patient.page.locator("#journal-list .journal-entry").first
        expect(entry).to_contain_text(note)
        expect(entry).to_contain_text("mood 6/10")
        entry.get_by_role("link", name=re.compile("^Edit")).click()
        patient.page.wait_for_function(
            "() => /^#\\/me\\/journal\\/[0-9a-f-]{36}$/.test(document.body.dataset.ready || '')"
        )
        patient.axe("edit a journal note")
        edited = note + " Felt lighter in the evening."
        patient.page.fill("#journal-edit-form-text", edited)
        patient.page.click("#journal-edit-form-submit")
        patient.wait_ready("#/me")
        expect(patient.page.locator("#journal-list")).to_contain_text(edited)
        patient.page.click("#consent-research")
        expect(patient.page.locator("#status")).to_contain_text("shared for research")
        expect(patient.page.locator("#consent-research-state")).to_have_text("On")
        expect(patient.page.locator("#consent-journal")).to_be_enabled()
        patient.axe("my page after consent")
        # the invitation worked once
        stranger = _tab(browser, base, phone=True)
        try:
            stranger.page.goto(f"{base}/{route}")
            stranger.wait_ready(route)
            expect(stranger.page.locator("#link-error")).to_contain_text("already been used")
            stranger.axe("used link")
        finally:
            stranger.page.context.close()

        # --- therapist sees the consent the patient gave ----------------------------------------
        _open(therapist, f"#/patients/{patient_id}/access")
        expect(therapist.page.locator("#consent-summary")).to_contain_text(
            "Shares pseudonymised readings for research"
        )
        expect(therapist.page.locator("#login-state")).to_contain_text(PATIENT_EMAIL)

        # --- researcher: the pseudonym in the cohort, and an export with the patient's beats ----
        # (exports name a patient by a research pseudonym that no clinic page shows, migration 0081;
        # the test looks it up to know which row is the patient's)
        with psycopg.connect(fresh_server.db_url) as conn:
            found = conn.execute(
                "SELECT pseudonym FROM research_pseudonyms WHERE patient_id = %s", (patient_id,)
            ).fetchone()
        assert found is not None
        research_code = str(found[0])
        _set_password(researcher, links["researcher"], STAFF_PASSWORD, "#/research")
        row = researcher.page.locator(f"#cohort-list tr[data-pseudonym='{research_code}']")
        expect(row).to_have_count(1)
        cohort_text = researcher.page.locator("#cohort-list").inner_text()
        assert PATIENT_NAME not in cohort_text and pseudonym not in cohort_text
        researcher.axe("cohort and export")
        researcher.page.fill("#export-form-start", yesterday.isoformat())
        researcher.page.fill("#export-form-end", local_today.isoformat())
        with researcher.page.expect_download(timeout=120_000) as download_info:
            researcher.page.click("#export-form-submit")
        archive = download_info.value.path()
        expect(researcher.page.locator("#export-message")).to_contain_text("Downloaded")
        with zipfile.ZipFile(archive) as zf:
            rows = list(csv.DictReader(io.StringIO(zf.read("beats.csv").decode())))
            assert "data_dictionary.md" in zf.namelist()
        mine = [r for r in rows if r["pseudonym"] == research_code]
        assert len(mine) == N_BEATS
        assert [int(r["rr_ticks"]) for r in mine] == [b["rr_ticks"] for b in beats]
        assert PATIENT_NAME not in str(rows) and pseudonym not in str(rows)
        researcher.axe("after the export")

        # --- admin: each of those actions in the audit log --------------------------------------
        _open(admin, "#/admin/audit")
        admin.axe("audit log")
        admin.page.select_option("#audit-patient", pseudonym)
        admin.page.click("#audit-filter-submit")
        # the unfiltered list is on the page before the filter is applied: wait until only the
        # patient's entries are listed
        admin.page.wait_for_function(
            """p => {
                const cells = [...document.querySelectorAll('#audit-list tbody td.patient')];
                return cells.length > 0 && cells.every(c => c.textContent === p);
            }""",
            arg=pseudonym,
        )
        expect(admin.page.locator("#audit-list")).to_contain_text("exported the patient's data")
        summaries = _audit_summaries(admin)
        for expected in (
            f"added the patient {pseudonym}",
            f"invited the patient to a login ({PATIENT_EMAIL})",
            "made a strap pairing code",
            "recorded a medicine session",
            "recorded an integration appointment",
            "accepted the invitation and set a password",
            "wrote a journal note",
            "edited a journal note",
            "gave research consent",
            "exported the patient's data for research (csv)",
        ):
            assert expected in summaries, (expected, summaries)
        assert all(
            pseudonym == p
            for p in admin.page.locator("#audit-list tbody td.patient").all_inner_texts()
        )
        admin.page.select_option("#audit-patient", "")
        admin.page.select_option("#audit-action", "create_user")
        admin.page.click("#audit-filter-submit")
        expect(admin.page.locator("#audit-list")).to_contain_text(
            f"created the researcher account {RESEARCHER_EMAIL}"
        )
        expect(admin.page.locator("#audit-list")).to_contain_text(
            f"created the therapist account {THERAPIST_EMAIL}"
        )
        with admin.page.expect_download() as csv_info:
            admin.page.click("#audit-csv")
        audit_csv = list(csv.DictReader(io.StringIO(csv_info.value.path().read_text())))
        assert {r["summary"] for r in audit_csv} >= {
            f"created the therapist account {THERAPIST_EMAIL}",
            f"created the researcher account {RESEARCHER_EMAIL}",
        }
        assert all(r["action"] == "create_user" for r in audit_csv)
        admin.axe("audit log filtered")
        # the one refused request of the flow: the duplicate email the admin was told about
        admin.assert_no_console_errors(allowed=("status of 409",))
        for t in (therapist, patient, researcher):
            t.assert_no_console_errors()
    finally:
        for i, t in enumerate(tabs):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            t.page.screenshot(path=str(ARTIFACTS / f"clinic-flow-{i}.png"), full_page=True)
            t.page.context.close()
