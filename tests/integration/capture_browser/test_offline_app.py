"""Installable and offline (issue 13): the web app manifest and the service worker load, the patient's
page opens offline, and a journal note written offline is kept and sent when the network returns."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page

from api.middleware import CONTENT_SECURITY_POLICY

from .test_browser_reading import PHONE, Server, _login, axe, server, shot

__all__ = ["server"]  # the module's seeded server fixture

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    ctx = browser.new_context(viewport=PHONE)
    p = ctx.new_page()
    yield p
    ctx.close()


def test_manifest_and_service_worker_are_served_with_the_policy_that_allows_them(
    server: Server,
) -> None:
    with httpx.Client(base_url=server.base_url) as http:
        manifest = http.get("/static/manifest.webmanifest")
        assert manifest.status_code == 200
        assert manifest.headers["content-type"].startswith("application/manifest+json")
        doc = json.loads(manifest.text)
        assert doc["start_url"] == "/#/" and doc["display"] == "standalone"
        for icon in doc["icons"]:
            r = http.get(icon["src"])
            assert r.status_code == 200 and r.headers["content-type"].startswith(icon["type"])
        sw = http.get("/sw.js")
        assert sw.status_code == 200
        assert sw.headers["content-type"].startswith("text/javascript")
        assert sw.headers["cache-control"] == "no-cache"
        csp = sw.headers["content-security-policy"]
        assert csp == CONTENT_SECURITY_POLICY
        assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp
        index = http.get("/").text
        assert '<link rel="manifest" href="/static/manifest.webmanifest">' in index


def test_patient_page_opens_offline_and_a_note_written_offline_is_sent_later(
    page: Page, server: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, server)
    # the page registers the worker, which takes control and keeps what the page loaded
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
    manifest = page.evaluate(
        "() => fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["name"] == "Somatrace"
    # ... and reads the page's API answers again through it (body[data-offline-ready] once done)
    page.wait_for_function("() => document.body.dataset.offlineReady === '1'", timeout=30_000)
    # a second visit online: now every read goes through the worker (the first visit's list is
    # best effort: a read made while the worker was taking control may be missing from it)
    page.reload()
    page.wait_for_function("() => document.body.dataset.ready === '#/me'", timeout=60_000)

    page.context.set_offline(True)
    page.reload()
    page.wait_for_function("() => document.body.dataset.ready === '#/me'", timeout=60_000)
    assert page.locator("#patient-name").inner_text().startswith("Hello, Robin")
    assert page.locator("#journal-form").count() == 1
    assert page.locator("#record").count() == 1
    # the page came from the worker, not the network
    from_worker = page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].workerStart > 0"
    )
    assert from_worker
    text = "Written on the train, offline"
    page.fill("#journal-form textarea", text)
    page.click("#journal-form button[type=submit]")
    page.wait_for_selector("#status .notice-warn", timeout=30_000)
    assert "saved on this device" in page.locator("#status").inner_text()
    page.locator("#journal").scroll_into_view_if_needed()
    shot(page, "phone-offline-journal")
    axe(page, "patient page offline")
    stored = server.sql(
        "SELECT text FROM journal_entries WHERE patient_id = %(p)s", {"p": server.patient_id}
    )
    assert text not in [r["text"] for r in stored]

    page.context.set_offline(False)
    page.wait_for_selector("#status .notice-ok", timeout=30_000)
    assert "sent" in page.locator("#status").inner_text()
    stored = server.sql(
        "SELECT text FROM journal_entries WHERE patient_id = %(p)s", {"p": server.patient_id}
    )
    assert [r["text"] for r in stored].count(text) == 1
    assert errors == []
