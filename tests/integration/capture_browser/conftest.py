"""Browser fixtures for the page's capture code: Chromium with Web Bluetooth enabled and a static
site serving api/static (for tests that need no API)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from api.routes.dashboard import STATIC_DIR

from ..dashboard_browser.conftest import CHROMIUM, CHROMIUM_ARGS

#: Web Bluetooth is off on Linux unless this feature is enabled (/work/shared/notes/web-bluetooth.md).
WEB_BLUETOOTH_ARGS = [*CHROMIUM_ARGS, "--enable-features=WebBluetooth"]
BLANK = b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>t</title></head><body></body></html>"


@dataclass
class StaticSite:
    base_url: str

    def url(self, path: str) -> str:
        return self.base_url + path


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - http.server's own class attribute
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".json": "application/json",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, directory=str(STATIC_DIR.parent), **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        if self.path == "/blank.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(BLANK)))
            self.end_headers()
            self.wfile.write(BLANK)
            return
        if not self.path.startswith("/static/"):
            self.send_error(404)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def static_site() -> Iterator[StaticSite]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StaticSite(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    pw: Playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=WEB_BLUETOOTH_ARGS)
        try:
            yield b
        finally:
            b.close()
