"""``/docs`` and ``/redoc`` in real Chromium against the real app: the vendored Swagger UI logs in
through "Authorize" (OAuth2 password form → bearer token), calls ``GET /v1/users/me`` with that token,
and neither page logs a console error or sends a request anywhere but the loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

from api.auth.passwords import hash_password

from ...conftest import fresh_database
from ..conftest import serve_app
from ..dashboard_browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "api_docs"
EMAIL = "docs-therapist@example.org"
PASSWORD = "docs-page-password-41"
#: The one outside address the Redoc bundle names: its logo (hard-coded, no option turns it off).
REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass
class Watched:
    """A page with every console error and uncaught exception it produced, and every request that
    reached the network layer for a host other than loopback (those are aborted, and fail the test;
    a request the page's CSP refuses never gets that far)."""

    page: Page
    errors: list[str] = field(default_factory=list)
    off_loopback: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def base_url(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(pg_admin_url, "somatrace_docs", migrated=True) as db_url:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO users (email, password_hash, role, display_name, password_set_at) "
                "VALUES (%s, %s, 'therapist', 'Dr. Docs', now())",
                (EMAIL, hash_password(PASSWORD)),
            )
        with serve_app(db_url, tmp_path_factory.mktemp("api-docs")) as url:
            yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    w = Watched(ctx.new_page())

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            w.errors.append(f"console: {msg.text} @ {msg.location.get('url', '')}")

    w.page.on("console", on_console)
    w.page.on("pageerror", lambda exc: w.errors.append(f"pageerror: {exc}"))

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK_HOSTS:
            route.continue_()
        else:
            w.off_loopback.append(route.request.url)
            route.abort()

    ctx.route("**/*", guard)
    w.page.set_default_timeout(30_000)
    try:
        yield w
    finally:
        ctx.close()


def test_docs_authorize_and_call_an_endpoint(base_url: str, watched: Watched) -> None:
    page = watched.page
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Somatrace" in page.inner_text(".swagger-ui .info .title")

    page.click(".scheme-container button.authorize")
    user_token = page.locator(".auth-container").filter(has_text="UserToken")
    user_token.locator("#oauth_username").fill(EMAIL)
    user_token.locator("#oauth_password").fill(PASSWORD)
    user_token.locator("button.modal-btn.authorize").click()
    user_token.locator("button.modal-btn", has_text="Logout").wait_for()  # logged in: token held
    user_token.locator("button.btn-done").click()

    summary = page.locator('.opblock-summary-path[data-path="/v1/users/me"]').first
    summary.click()
    block = page.locator(".opblock.is-open").filter(has=page.locator('[data-path="/v1/users/me"]'))
    block.locator("button.try-out__btn").click()
    with page.expect_request(lambda r: r.url == f"{base_url}/v1/users/me") as sent:
        block.locator("button.execute").click()
    assert sent.value.headers.get("authorization", "").startswith("Bearer ")
    status = block.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert EMAIL in block.locator(".live-responses-table .microlight").first.inner_text()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "docs-authorized-call.png"), full_page=False)
    assert watched.errors == []
    assert watched.off_loopback == []


def test_redoc_renders_offline(base_url: str, watched: Watched) -> None:
    page = watched.page
    page.goto(f"{base_url}/redoc")
    page.wait_for_selector("redoc h1")
    assert "Somatrace" in page.inner_text("redoc h1")
    page.get_by_text("/v1/users/me").first.wait_for(state="attached")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "redoc.png"), full_page=False)
    # Redoc's side menu always shows its maker's logo from their CDN; the page's CSP refuses it (and
    # the browser says so): that refusal is the offline guarantee, any other error fails the test.
    assert [e for e in watched.errors if REDOC_CDN_LOGO not in e] == []
    assert watched.off_loopback == []


def test_docs_pages_keep_scripts_to_self(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for path in ("/docs", "/redoc"):
            page = http.get(path)
            assert page.status_code == 200
            csp = page.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "script-src" not in csp  # scripts: 'self' only
            assert "<script>" not in page.text  # no inline script
        assert http.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
        assert http.get("/static/docs/swagger-init.js").status_code == 200
        missing = http.get("/docs/assets/core.py")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
