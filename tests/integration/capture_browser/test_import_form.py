"""The import form on the patient's page (issue 13 item 5): a file from a device the patient owns is
stored with its provenance, a second upload of it stores nothing, a file without times asks for a
start, and a file that cannot be read stores nothing; all said in plain words on the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ...unit.api_imports.samples import ALL, kubios_text
from .test_browser_reading import Server, _login, axe, server, shot
from .test_offline_app import page

__all__ = ["page", "server"]  # the phone-sized page and the module's seeded server fixtures

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _imported_beats(server: Server) -> int:
    """The patient's stored beats (this module's patient records nothing else meanwhile)."""
    rows = server.sql(
        "SELECT count(*) AS n FROM beats WHERE patient_id = %(pid)s", {"pid": server.patient_id}
    )
    return int(rows[0]["n"])


def _upload(page: Page, name: str, data: bytes, start: str | None = None) -> None:
    page.set_input_files(
        "#import-file", files=[{"name": name, "mimeType": "text/plain", "buffer": data}]
    )
    page.fill("#import-start", start or "")
    page.click("#import-submit")
    expect(page.locator("#import-submit")).to_have_text("Import the file", timeout=60_000)


def test_the_patient_imports_a_file_from_their_own_device(page: Page, server: Server) -> None:
    _login(page, server)
    expect(page.locator("#import-title")).to_be_visible()

    page.click("#import-submit")  # nothing chosen: the form says so and sends nothing
    expect(page.locator("#import-file-error")).to_have_text("Choose a file to import.")

    before = _imported_beats(server)
    elite = ALL["elite_hrv"]()
    _upload(page, elite.name, elite.data)
    expect(page.locator("#import-done")).to_contain_text(
        f"Stored {elite.beats:,} of {elite.beats:,} beats from Elite HRV"
    )
    assert _imported_beats(server) == before + elite.beats
    axe(page, "import done")
    shot(page, "import-form-done-phone")

    _upload(page, elite.name, elite.data)  # the same file again: nothing twice
    expect(page.locator("#import-done")).to_contain_text("Nothing new")
    assert _imported_beats(server) == before + elite.beats

    kubios = kubios_text()
    _upload(page, kubios.name, kubios.data)  # no times of its own and no start: nothing stored
    expect(page.locator("#import-file-error")).to_contain_text("Nothing was stored")
    expect(page.locator("#import-file-error")).to_contain_text("start")
    _upload(page, "broken.txt", b"RR (s)\n0.812\nnot a number\n", start="2026-03-05T07:10")
    expect(page.locator("#import-file-error")).to_contain_text("Nothing was stored")
    assert _imported_beats(server) == before + elite.beats
    axe(page, "import refused")
